#!/usr/bin/python3
"""System test of deploy/: the compose files, the Dockerfiles, the
healthcheck and the certificates they expect, checked against the real
binaries (their --help and their behaviour), without Docker itself.

What a user relies on: `docker-compose config` accepts both files; every
certificate a compose file mounts is one `agentflow certs bundle` makes,
for the right node, read-only, at the path the image's configuration
points to; every AGENTFLOW_* variable the files set is one the binary
reads; the ports the images expose and the compose files publish are the
binaries' defaults; and the images' HEALTHCHECK answers healthy against a
real signal and node configured exactly as the compose file configures
them, with the bundle's certificates."""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("AGENTFLOW_BIN", "build/bin")
SRC = os.environ.get("AGENTFLOW_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE = os.path.join(SRC, "docker-compose.yml")
HOME = os.path.join(SRC, "deploy", "docker-compose.home.yml")
DOCKERFILE = {"node": os.path.join(SRC, "deploy", "Dockerfile.node"),
              "signal": os.path.join(SRC, "deploy", "Dockerfile.signal")}
BINARY = {"node": "agentflow-node", "signal": "agentflow-signal"}
CERTS_IN_IMAGE = "/etc/agentflow/certs/"
DOCKER_COMPOSE = shutil.which("docker-compose")


def clean_env(**extra):
    """The environment without AGENTFLOW_* (a developer's own settings
    must not change what the files mean), plus extra."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AGENTFLOW_")}
    env.update(extra)
    return env


def help_table(kind):
    """{flag: (env, default or None)} from the binary's --help."""
    out = subprocess.run([os.path.join(BIN, BINARY[kind]), "--help"],
                         capture_output=True, text=True, timeout=30).stdout
    table = {}
    for m in re.finditer(r"^  --([a-z-]+)(?: VALUE)?\n      .*\n"
                         r"      env (AGENTFLOW_[A-Z_]+)(?:, default (.*))?$",
                         out, re.M):
        default = m.group(3)
        table[m.group(1)] = (m.group(2), "" if default == '""' else default)
    return table


def help_texts(kind):
    """{flag: its meaning as --help prints it}."""
    out = subprocess.run([os.path.join(BIN, BINARY[kind]), "--help"],
                         capture_output=True, text=True, timeout=30).stdout
    return {m.group(1): m.group(2) for m in re.finditer(
        r"^  --([a-z-]+)(?: VALUE)?\n      (.*)\n      env ", out, re.M)}


def port_of(hostport):
    return int(hostport.rsplit(":", 1)[1])


def dockerfile(kind):
    """The final stage of a Dockerfile: ENV, EXPOSE, HEALTHCHECK, USER,
    ENTRYPOINT, VOLUME (continuation lines joined)."""
    with open(DOCKERFILE[kind]) as f:
        text = re.sub(r"\\\n", " ", f.read())
    lines = [l.strip() for l in text.splitlines()
             if l.strip() and not l.strip().startswith("#")]
    final = [i for i, l in enumerate(lines) if l.upper().startswith("FROM ")][-1]
    stage = {"ENV": {}, "EXPOSE": set(), "HEALTHCHECK": None, "USER": None,
             "ENTRYPOINT": None, "VOLUME": None, "FROM": lines[final].split()[1]}
    for l in lines[final + 1:]:
        word, _, rest = l.partition(" ")
        word = word.upper()
        if word == "ENV":
            for k, v in re.findall(r"(\w+)=(\S+)", rest):
                stage["ENV"][k] = v
        elif word == "EXPOSE":
            stage["EXPOSE"] |= {int(p.split("/")[0]) for p in rest.split()}
        elif word in ("HEALTHCHECK", "USER", "ENTRYPOINT", "VOLUME"):
            stage[word] = rest.strip()
    return stage


def compose_config(path, **env):
    if DOCKER_COMPOSE is None:
        raise unittest.SkipTest("docker-compose is not installed "
                                "(scripts/install-deps.sh installs it)")
    import yaml   # python3-yaml comes with Debian's docker-compose
    r = subprocess.run([DOCKER_COMPOSE, "-f", path, "config"],
                       capture_output=True, text=True, timeout=60,
                       env=clean_env(**env), cwd=SRC)
    if r.returncode != 0:
        raise AssertionError(f"docker-compose -f {path} config: {r.stderr}")
    return yaml.safe_load(r.stdout)


def kind_of(service):
    dockerfile_path = service.get("build", {}).get("dockerfile", "")
    for kind in ("node", "signal"):
        if dockerfile_path.endswith("Dockerfile." + kind):
            return kind
    raise AssertionError(f"service builds no AgentFlow image: {service}")


def bind_mounts(service):
    """[(source, target, read_only)] of the service's bind mounts."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, dict):
            if v.get("type") == "bind":
                out.append((v["source"], v["target"], v.get("read_only", False)))
            continue
        parts = v.split(":")
        if parts[0].startswith("/"):
            out.append((parts[0], parts[1], len(parts) > 2 and "ro" in parts[2]))
    return out


def published(service):
    """[(host_ip or "", host_port, container_port)]."""
    out = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            out.append((p.get("host_ip", ""), int(p["published"]), int(p["target"])))
        else:
            parts = str(p).split("/")[0].split(":")
            ip = parts[0] if len(parts) == 3 else ""
            out.append((ip, int(parts[-2]), int(parts[-1])))
    return out


def bundle(directory, nodes, *extra):
    r = subprocess.run([os.path.join(BIN, "agentflow"), "certs", "bundle",
                        "--dir", directory, *extra, *nodes],
                       capture_output=True, text=True, timeout=60,
                       env=clean_env())
    if r.returncode != 0:
        raise AssertionError(f"bundle {nodes}: {r.stderr}")


def slurp(path):
    with open(path) as f:
        return f.read()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ComposeFiles(unittest.TestCase):
    def test_config_is_valid(self):
        for path in (COMPOSE, HOME):
            with self.subTest(path=path):
                if DOCKER_COMPOSE is None:
                    self.skipTest("docker-compose is not installed "
                                  "(scripts/install-deps.sh installs it)")
                r = subprocess.run([DOCKER_COMPOSE, "-f", path, "config", "-q"],
                                   capture_output=True, text=True, timeout=60,
                                   env=clean_env(), cwd=SRC)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stderr.strip(), "")   # no warnings either

    def check_certificates(self, config, names):
        """Every certificate mounted is a file bundle made, for the right
        owner, read-only, where the container's configuration looks."""
        tmp = tempfile.mkdtemp(prefix="agentflow-deploy-")
        self.addCleanup(shutil.rmtree, tmp)
        bundle(tmp, names)
        made = set(os.listdir(tmp))
        for name, svc in config["services"].items():
            kind = kind_of(svc)
            env = dict(dockerfile(kind)["ENV"])
            env.update({k: str(v) for k, v in svc.get("environment", {}).items()})
            certs = {t: s for s, t, ro in bind_mounts(svc)
                     if t.startswith(CERTS_IN_IMAGE)}
            for source, target, ro in bind_mounts(svc):
                if not target.startswith(CERTS_IN_IMAGE):
                    continue
                self.assertTrue(ro, f"{name}: {target} is not read-only")
                self.assertEqual(os.path.basename(os.path.dirname(source)),
                                 "certs", source)
                self.assertIn(os.path.basename(source), made,
                              f"{name} mounts {source}, which bundle does not make")
            own = "signal" if kind == "signal" else name
            wanted = {"AGENTFLOW_CA": "ca.crt", "AGENTFLOW_CRL": "ca.crl"}
            if kind == "node":
                wanted.update(AGENTFLOW_CERT=own + ".crt", AGENTFLOW_KEY=own + ".key")
            else:
                wanted.update(AGENTFLOW_TLS_CERT="signal.crt",
                              AGENTFLOW_TLS_KEY="signal.key")
            for var, file in wanted.items():
                self.assertIn(var, env, f"{name}: {var} is not set")
                self.assertIn(env[var], certs,
                              f"{name}: {var}={env[var]} is not mounted")
                self.assertEqual(os.path.basename(certs[env[var]]), file,
                                 f"{name}: {var}")
            # No container sees a key that is not its own.
            keys = {os.path.basename(s) for s in certs.values() if s.endswith(".key")}
            self.assertEqual(keys, {own + ".key"}, name)
            if kind == "node" and env.get("AGENTFLOW_SIGNAL_CA", "").startswith(CERTS_IN_IMAGE):
                self.assertEqual(os.path.basename(certs[env["AGENTFLOW_SIGNAL_CA"]]),
                                 "ca.crt", name)
        return tmp

    def test_local_mesh_mounts_what_bundle_makes(self):
        config = compose_config(COMPOSE)
        nodes = sorted(n for n, s in config["services"].items()
                       if kind_of(s) == "node")
        self.assertEqual(len(nodes), 3)
        self.assertEqual(sum(kind_of(s) == "signal"
                             for s in config["services"].values()), 1)
        tmp = self.check_certificates(config, nodes)
        # The nodes dial the signal by its service name, which its
        # certificate must carry.
        for n in nodes:
            env = config["services"][n]["environment"]
            self.assertEqual(env["AGENTFLOW_SIGNAL"], "https://signal:7000")
        r = subprocess.run(["openssl", "verify", "-CAfile",
                            os.path.join(tmp, "ca.crt"), "-verify_hostname",
                            "signal", os.path.join(tmp, "signal.crt")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_home_node_mounts_what_bundle_makes(self):
        config = compose_config(HOME, AGENTFLOW_NODE="home-7",
                                AGENTFLOW_ADVERTISE="home7.example.net:50051")
        svc = config["services"]["node"]
        env = svc["environment"]
        self.assertEqual(env["AGENTFLOW_SIGNAL"], "https://signal.example.org:7000")
        self.assertEqual(env["AGENTFLOW_ADVERTISE"], "home7.example.net:50051")
        # The service is "node" but its certificate is the one named.
        config["services"] = {"home-7": svc}
        self.check_certificates(config, ["home-7"])
        # Without a name it still resolves to a file bundle would make.
        default = compose_config(HOME)["services"]["node"]
        self.assertIn("home-1.crt", " ".join(s for s, _, _ in bind_mounts(default)))

    def test_environment_names_are_flags(self):
        """A misspelt variable would be ignored silently by the binary."""
        for path in (COMPOSE, HOME):
            for name, svc in compose_config(path)["services"].items():
                kind = kind_of(svc)
                known = {env for env, _ in help_table(kind).values()}
                for var in svc.get("environment", {}):
                    self.assertIn(var, known, f"{path}: {name}: {var}")
        for kind in ("node", "signal"):
            known = {env for env, _ in help_table(kind).values()}
            for var in dockerfile(kind)["ENV"]:
                if var.startswith("AGENTFLOW_"):
                    self.assertIn(var, known, f"Dockerfile.{kind}: {var}")

    def test_published_ports(self):
        node = help_table("node")
        api_port = port_of(node["api"][1])
        mesh_port = port_of(node["listen"][1])
        local = compose_config(COMPOSE)["services"]
        dash = [p for s in local.values() for p in published(s)]
        # One dashboard, on the host's loopback, at the API's port.
        self.assertEqual(dash, [("127.0.0.1", api_port, api_port)])
        home = compose_config(HOME)["services"]["node"]
        ports = published(home)
        self.assertIn(("127.0.0.1", api_port, api_port), ports)
        self.assertIn(("", mesh_port, mesh_port), ports)   # for the router
        self.assertEqual(len(ports), 2)
        # What is published is what the node listens on in its container.
        for svc in list(local.values()) + [home]:
            if kind_of(svc) != "node":
                continue
            env = dict(dockerfile("node")["ENV"])
            env.update(svc.get("environment", {}))
            for _, _, target in published(svc):
                listening = [env["AGENTFLOW_API"], env["AGENTFLOW_LISTEN"]]
                self.assertIn(f"0.0.0.0:{target}", listening)


class Dockerfiles(unittest.TestCase):
    def test_exposed_ports_are_the_defaults(self):
        node, signal = help_table("node"), help_table("signal")
        n, s = dockerfile("node"), dockerfile("signal")
        self.assertEqual(n["EXPOSE"], {port_of(node["listen"][1]),
                                       port_of(node["api"][1])})
        self.assertEqual(s["EXPOSE"], {port_of(signal["listen"][1])})
        # In a container the daemons listen on every interface, at the
        # default ports.
        self.assertEqual(n["ENV"]["AGENTFLOW_LISTEN"],
                         "0.0.0.0:%d" % port_of(node["listen"][1]))
        self.assertEqual(n["ENV"]["AGENTFLOW_API"],
                         "0.0.0.0:%d" % port_of(node["api"][1]))
        self.assertEqual(s["ENV"]["AGENTFLOW_LISTEN"],
                         "0.0.0.0:%d" % port_of(signal["listen"][1]))

    def test_images_run_unprivileged_with_volumes(self):
        for kind in ("node", "signal"):
            d = dockerfile(kind)
            self.assertEqual(d["USER"], "agentflow", kind)
            self.assertIn(CERTS_IN_IMAGE.rstrip("/"), d["VOLUME"], kind)
            self.assertIn(BINARY[kind], d["ENTRYPOINT"], kind)
            self.assertTrue(d["FROM"].endswith("DEBIAN_IMAGE}")
                            or d["FROM"].startswith("debian:12"), d["FROM"])
        node = dockerfile("node")
        self.assertIn(node["ENV"]["AGENTFLOW_DATA_DIR"], node["VOLUME"])
        # Each image is its package, made by cpack for /usr in the build
        # stage (as test_package.py makes it) and installed with dpkg in
        # the final one, after apt installed what its Depends name
        # (deploy/deb-needs.sh): the installed layout, the libraries from
        # its Depends.
        for kind in ("node", "signal"):
            text = re.sub(r"\\\n\s*", " ", slurp(DOCKERFILE[kind]))
            self.assertRegex(text, r"-DCMAKE_INSTALL_PREFIX=/usr\b")
            self.assertRegex(text, r"\bcpack -G DEB\b[^\n]*CPACK_COMPONENTS_ALL=" + kind)
            self.assertRegex(text, r"deb-needs\.sh /debs/agentflow-%s_\*\.deb Depends" % kind)
            self.assertRegex(text, r"\bapt-get install\b[^\n]*\$\(cat /tmp/debs/needs\)")
            self.assertRegex(text, r"\bdpkg -i /tmp/debs/agentflow-%s_\*\.deb" % kind)
            self.assertNotRegex(text, r"COPY --from=build [^\n]*/bin/agentflow-%s\b" % kind)
            # The healthcheck from the same CMake build, never compiled by
            # hand: the node's package carries it, the signal image takes
            # it from the install component healthcheck.
            self.assertRegex(text, r"cmake --build [^\n]*\bagentflow-healthcheck\b")
            self.assertNotRegex(text, r"\bcc [^\n]*healthcheck\.c")
        self.assertNotRegex(slurp(DOCKERFILE["node"]), r"COPY --from=build [^\n]*healthcheck")
        self.assertRegex(slurp(DOCKERFILE["signal"]),
                         r"cmake --install /build --component healthcheck")

    def test_healthchecks_ask_healthz_at_the_defaults(self):
        with open(os.path.join(SRC, "deploy", "healthcheck.c")) as f:
            src = f.read()
        self.assertIn("/healthz", src)
        node, signal = help_table("node"), help_table("signal")
        self.assertIn('env_or("%s", "%s")' % node["api"], src)
        self.assertIn('env_or("%s", "%s")' % signal["listen"], src)
        self.assertIn('"%s"' % signal["tls-cert"][0], src)
        for kind in ("node", "signal"):
            hc = dockerfile(kind)["HEALTHCHECK"]
            self.assertRegex(hc, r'CMD \["/usr/bin/agentflow-healthcheck", "%s"\]'
                             % kind)


class ConfigurationDoc(unittest.TestCase):
    """docs/configuration.md lists every flag of both binaries with its
    variable, default and meaning exactly as --help prints them, and
    nothing else."""

    def test_tables_match_help(self):
        doc = slurp(os.path.join(SRC, "docs", "configuration.md"))
        sections = re.split(r"^## ", doc, flags=re.M)
        for kind in ("node", "signal"):
            section = next(x for x in sections if x.startswith(BINARY[kind]))
            rows = {}
            for m in re.finditer(r"^\| `--([a-z-]+)(?: VALUE)?` \| `(AGENTFLOW_[A-Z_]+)` "
                                 r"\| ([^|]+) \|", section, re.M):
                d = m.group(3).strip()
                rows[m.group(1)] = (m.group(2), None if d == "none" else
                                    "" if d == "empty" else d.strip("`"))
            self.assertEqual(rows, help_table(kind), kind)
            texts = {m.group(1): m.group(2) for m in re.finditer(
                r"^\| `--([a-z-]+)(?: VALUE)?` \| `AGENTFLOW_[A-Z_]+` \| [^|]+ \| (.*) \|$",
                section, re.M)}
            self.assertEqual(texts, help_texts(kind), kind)


class Healthcheck(unittest.TestCase):
    """The images' HEALTHCHECK program against a real signal and node,
    configured by the compose file's and the images' variables (container
    paths mapped to a bundle directory), with the bundle's certificates."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="agentflow-hc-")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp)

    def healthcheck(self):
        """The program CMake builds (deploy/CMakeLists.txt), the one the
        package agentflow-node installs and the images run."""
        hc = os.path.join(BIN, "agentflow-healthcheck")
        self.assertTrue(os.access(hc, os.X_OK), hc + " not built")
        return hc

    def container_env(self, kind, service, mounts, **over):
        """The image's ENV, then the service's environment, with every
        container path replaced by the host file mounted there."""
        env = dict(dockerfile(kind)["ENV"])
        env.update({k: str(v) for k, v in service.get("environment", {}).items()})
        for k, v in list(env.items()):
            if v in mounts:
                env[k] = mounts[v]
        env.update(over)
        return env

    def check(self, hc, arg, env):
        return subprocess.run([hc, arg], capture_output=True, text=True,
                              timeout=30, env=clean_env(**env))

    def test_healthcheck_against_real_daemons(self):
        hc = self.healthcheck()
        config = compose_config(COMPOSE)["services"]
        certs = os.path.join(self.tmp, "certs")
        bundle(certs, ["node-1", "node-2", "node-3"])

        def mounts(svc):
            return {t: os.path.join(certs, os.path.basename(s))
                    for s, t, _ in bind_mounts(svc)}

        sport, mport, aport = free_port(), free_port(), free_port()
        senv = self.container_env("signal", config["signal"],
                                  mounts(config["signal"]),
                                  AGENTFLOW_LISTEN=f"127.0.0.1:{sport}")
        # Not up yet: unhealthy, with the reason.
        r = self.check(hc, "signal", senv)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect", r.stderr)
        log = open(os.path.join(self.tmp, "signal.log"), "w")
        self.addCleanup(log.close)
        self.procs.append(subprocess.Popen([os.path.join(BIN, "agentflow-signal")],
                                           env=clean_env(**senv), stderr=log))
        nenv = self.container_env(
            "node", config["node-1"], mounts(config["node-1"]),
            AGENTFLOW_LISTEN=f"127.0.0.1:{mport}",
            AGENTFLOW_API=f"0.0.0.0:{aport}",
            AGENTFLOW_DATA_DIR=os.path.join(self.tmp, "data"),
            # "signal" resolves only inside the compose network.
            AGENTFLOW_SIGNAL=f"https://localhost:{sport}")
        nlog = open(os.path.join(self.tmp, "node.log"), "w")
        self.addCleanup(nlog.close)
        self.procs.append(subprocess.Popen([os.path.join(BIN, "agentflow-node")],
                                           env=clean_env(**nenv), stderr=nlog))
        deadline = time.time() + 20
        while True:
            rs, rn = self.check(hc, "signal", senv), self.check(hc, "node", nenv)
            if rs.returncode == 0 and rn.returncode == 0:
                break
            for p in self.procs:
                self.assertIsNone(p.poll(), slurp(log.name) + slurp(nlog.name))
            self.assertLess(time.time(), deadline, rs.stderr + rn.stderr)
            time.sleep(0.2)
        # HTTPS was used because the compose file gives the signal its
        # certificate; the node registered with it over HTTPS, verifying it
        # with the mounted ca.crt.
        self.assertTrue(senv["AGENTFLOW_TLS_CERT"].endswith("signal.crt"))
        deadline = time.time() + 20
        while "registered with signal" not in slurp(nlog.name):
            self.assertLess(time.time(), deadline, slurp(nlog.name))
            time.sleep(0.2)
        # A plain-HTTP probe of an HTTPS signal is not healthy: the mode
        # follows the configuration.
        plain = dict(senv)
        del plain["AGENTFLOW_TLS_CERT"]
        self.assertEqual(self.check(hc, "signal", plain).returncode, 1)
        # Another path or a token-protected route is not 200.
        r = self.check(hc, f"http://127.0.0.1:{aport}/metrics", {})
        self.assertEqual(r.returncode, 1)
        self.assertIn("401", r.stderr)
        # A stopped daemon is unhealthy.
        self.procs[1].terminate()
        self.procs[1].wait(10)
        self.assertEqual(self.check(hc, "node", nenv).returncode, 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
