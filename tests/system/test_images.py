#!/usr/bin/python3
"""System test of the images: deploy/build-images.sh builds
agentflow-signal and agentflow-node from deploy/Dockerfile.* with podman,
then what a user of the images observes.

- Both images run as the unprivileged user the Dockerfiles name, with the
  entry point, volumes, ports, variables and HEALTHCHECK they declare, and
  every library their binaries need resolves inside them.
- Each image is its Debian package installed with apt (the installed
  layout of a host): dpkg says agentflow-signal or agentflow-node is
  installed and owns the binaries (and the dashboard), the node's
  agentflow-healthcheck too; only the signal image's healthcheck, from
  the same build's install component, is no package's.
- The signal image adds to the Debian base exactly agentflow-signal and
  what it depends on, which covers the libraries its two binaries link:
  no node, no CLI, no gRPC, no SQLite.
- The node image holds the node, the CLI and the built dashboard, and no
  compiler or Node.js (they stay in the build stages).
- Running them on the host's network, every daemon bound to 127.0.0.1,
  with the certificates of `agentflow certs bundle` mounted read-only: the
  signal serves HTTPS; two nodes register with it and link to each other;
  `podman healthcheck run` finds all three healthy and the healthcheck
  fails when pointed elsewhere; /healthz and the dashboard answer; the CLI
  inside a node's container sees the mesh; the node keeps its data in a
  volume; node-2, given a tasks file and a services file mounted
  read-only and named by AGENTFLOW_TASKS and AGENTFLOW_SERVICES (as the
  Dockerfile's header says), lists the task, runs it, and runs the
  service.

Prints the build time and the images' sizes; the whole build log goes to
build/test-output/images/build.log.  Needs root (podman's store,
debootstrap), Debian's mirror and the npm registry.  On two cores a cold
build (base images included) takes about 6.5 minutes, a warm one 30 s."""

import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_deploy import BIN, SRC, bundle, clean_env, dockerfile, free_port  # noqa: E402

BUILD = os.path.join(SRC, "deploy", "build-images.sh")
# This run's own tag: it never replaces a developer's :local images nor
# another run's, and tearDownModule removes what this run built.
TAG = "test-%d" % os.getpid()
IMAGE = {kind: f"localhost/agentflow-{kind}:{TAG}" for kind in ("signal", "node")}
BASE = "localhost/debian:12-slim"
LOG_DIR = os.path.join(BIN, "..", "test-output", "images")
BUILD_TIMEOUT = 1500
READY_TIMEOUT = 30
CERTS = "/etc/agentflow/certs"
TASK = "hello"            # in node-2's mounted tasks file
TASK_ARGV = ["/usr/bin/echo", "hello from the tasks file"]
SERVICE = "idle"          # in node-2's mounted services file

# Without systemd, podman cannot schedule the periodic healthcheck and says
# so at every run and rm; `podman healthcheck run` still works.
NO_SYSTEMD = re.compile(r'^time="[^"]*" level=error msg="[^"]*unable to get '
                        r'systemd connection[^"]*"$')
# The slim base leaves out manual pages (as debian:12-slim does), so
# update-alternatives says it skips their links.
SLIM_MAN = re.compile(r"^update-alternatives: warning: skip creation of /usr/share/man/")

FLAGS = []        # podman run options from build-images.sh --run-flags
BUILD_SECONDS = None


DANGLING_BEFORE = set()   # untagged images there before this run's build


def dangling():
    # On a fresh machine podman is not there until build-images.sh
    # installs it: nothing of its can be there before the run either.
    if shutil.which("podman") is None:
        return set()
    r = podman("images", "-q", "--no-trunc", "--filter", "dangling=true", check=False)
    return set(r.stdout.split()) if r.returncode == 0 else set()


def setUpModule():
    global BUILD_SECONDS
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (podman's store, debootstrap)")
    DANGLING_BEFORE.update(dangling())
    os.makedirs(LOG_DIR, exist_ok=True)
    log = os.path.join(LOG_DIR, "build.log")
    start = time.monotonic()
    with open(log, "w") as f:
        r = subprocess.run(["bash", BUILD], stdout=f, stderr=subprocess.STDOUT,
                           env=clean_env(AGENTFLOW_IMAGE_TAG=TAG),
                           timeout=BUILD_TIMEOUT)
    BUILD_SECONDS = time.monotonic() - start
    with open(log) as f:
        text = f.read()
    if r.returncode != 0:
        raise AssertionError(f"build-images.sh: exit {r.returncode} "
                             f"(log {log}):\n{text[-4000:]}")
    warnings = [l for l in text.splitlines()
                if re.search(r"warning", l, re.I) and not SLIM_MAN.match(l)]
    if warnings:
        raise AssertionError(f"build-images.sh warned (log {log}):\n"
                             + "\n".join(warnings))
    FLAGS[:] = subprocess.run(["bash", BUILD, "--run-flags"], capture_output=True,
                              text=True, check=True, timeout=30).stdout.split()
    print(f"images built in {BUILD_SECONDS:.0f} s", flush=True)


def tearDownModule():
    """This run's two images, and the untagged ones its build left (the
    build stages); the base image and the builder image stay, as the
    cache the next build starts from."""
    for image in IMAGE.values():
        podman("rmi", "-f", image, check=False)
    left = dangling() - DANGLING_BEFORE
    if left:
        podman("rmi", *sorted(left), check=False)


def podman(*args, timeout=120, check=True):
    r = subprocess.run(["podman", *args], capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stderr}")
    return r


def unexpected_stderr(text):
    return [l for l in text.splitlines() if l.strip() and not NO_SYSTEMD.match(l)]


def inspect(image):
    return json.loads(podman("image", "inspect", image).stdout)[0]


def in_image(image, script, user=None):
    """Runs a shell script in a throwaway container of image, without
    network, as the image's user or user; returns its stdout."""
    r = podman("run", *FLAGS, "--rm", "--network", "none", "--no-healthcheck",
               *(["--user", user] if user else []),
               "--entrypoint", "/bin/sh", image, "-c", script)
    return r.stdout


def package_depends(image, package):
    """The names in package's Depends field, inside image."""
    field = in_image(image, f"dpkg-query -W -f '${{Depends}}' {package}")
    return [re.sub(r"\s*\(.*", "", alt).strip()
            for dep in field.split(",") for alt in dep.split("|")]


def size_mib(image):
    return inspect(image)["Size"] / 1048576


class Contents(unittest.TestCase):
    def test_sizes(self):
        base = size_mib(BASE)
        sizes = {kind: size_mib(IMAGE[kind]) for kind in IMAGE}
        print(f"\n{BASE}: {base:.1f} MiB")
        for kind, mib in sizes.items():
            print(f"{IMAGE[kind]}: {mib:.1f} MiB ({mib - base:+.1f} MiB over the base)")
        # The signal image is the base and a few small libraries.
        self.assertLess(sizes["signal"] - base, 8, sizes)

    def test_configuration_is_the_dockerfiles(self):
        for kind, image in IMAGE.items():
            with self.subTest(kind=kind):
                want = dockerfile(kind)
                info = inspect(image)
                config = info["Config"]
                self.assertEqual(config["User"], want["USER"])
                self.assertEqual(config["Entrypoint"], json.loads(want["ENTRYPOINT"]))
                self.assertEqual(set(config["Volumes"]), set(json.loads(want["VOLUME"])))
                self.assertEqual({int(p.split("/")[0]) for p in config["ExposedPorts"]},
                                 want["EXPOSE"])
                env = dict(e.split("=", 1) for e in config["Env"])
                for k, v in want["ENV"].items():
                    self.assertEqual(env.get(k), v, k)
                test = json.loads(want["HEALTHCHECK"].split("CMD", 1)[1])
                # An OCI image would have dropped it.
                self.assertEqual(info["Healthcheck"]["Test"], ["CMD", *test])

    def test_unprivileged_user(self):
        for kind, image in IMAGE.items():
            with self.subTest(kind=kind):
                out = in_image(image, "id -u; id -g; getent passwd agentflow")
                uid, gid, passwd = out.splitlines()
                self.assertEqual((uid, gid), ("10001", "10001"))
                self.assertTrue(passwd.endswith(":/usr/sbin/nologin"), passwd)

    def test_libraries_resolve(self):
        for kind, image in IMAGE.items():
            with self.subTest(kind=kind):
                out = in_image(image, "ldd /usr/bin/agentflow*")
                self.assertIn("libc.so.6", out)
                self.assertNotIn("not found", out)

    def test_signal_image_is_the_signal_alone(self):
        out = in_image(IMAGE["signal"], """
            ls /usr/bin | grep agentflow
            echo --
            for lib in $(ldd /usr/bin/agentflow-* | awk '/=> \\// { print $3 }' | sort -u); do
              # dpkg knows a library by the path its package installed.
              dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
                echo "unowned:$lib"
            done | cut -d: -f1 | sort -u
            echo --
            dpkg-query -W -f '${Package}\\n' | sort
            echo --
            find / -xdev \\( -name 'libgrpc*' -o -name 'libsqlite3*' -o -name 'libabsl*' \\)""",
            user="root")
        binaries, linked, packages, forbidden = (
            p.split() for p in out.split("--\n"))
        self.assertEqual(binaries, ["agentflow-healthcheck", "agentflow-signal"])
        self.assertEqual(forbidden, [])
        self.assertNotIn("unowned", linked)
        base = set(in_image(BASE, "dpkg-query -W -f '${Package}\\n'").split())
        depends = set(package_depends(IMAGE["signal"], "agentflow-signal"))
        added = set(packages) - base
        self.assertEqual(added, {"agentflow-signal"} | (depends - base))
        self.assertLessEqual(set(linked) - base, depends)

    def test_images_are_their_packages(self):
        owned = {"signal": ["/usr/bin/agentflow-signal"],
                 "node": ["/usr/bin/agentflow-node", "/usr/bin/agentflow",
                          "/usr/bin/agentflow-healthcheck",
                          "/usr/share/agentflow/web/index.html"]}
        for kind, image in IMAGE.items():
            with self.subTest(kind=kind):
                package = "agentflow-" + kind
                out = in_image(image, f"""
                    dpkg-query -W -f '${{Status}}\\n' {package}
                    echo --
                    dpkg -S {' '.join(owned[kind])} | cut -d: -f1 | sort -u""")
                status, owners = out.split("--\n")
                self.assertEqual(status.strip(), "install ok installed")
                self.assertEqual(owners.split(), [package])
        # The signal's package cannot own it as well (deploy/CMakeLists.txt).
        out = in_image(IMAGE["signal"], "test -x /usr/bin/agentflow-healthcheck && "
                       "{ dpkg -S /usr/bin/agentflow-healthcheck 2>/dev/null || echo unowned; }")
        self.assertEqual(out.strip(), "unowned")

    def test_node_image_has_node_cli_and_dashboard(self):
        out = in_image(IMAGE["node"], """
            ls /usr/bin | grep agentflow
            echo --
            cat /usr/share/agentflow/web/index.html
            echo --
            cd /usr/share/agentflow/web && find . -type f | sort
            echo --
            for p in cc gcc cmake node npm; do command -v "$p" || true; done""",
            user="root")
        binaries, index, files, tools = out.split("--\n")
        self.assertEqual(binaries.split(),
                         ["agentflow", "agentflow-healthcheck", "agentflow-node"])
        self.assertIn("<title>AgentFlow</title>", index)
        referenced = re.findall(r'(?:src|href)="\./(assets/[^"]+)"', index)
        self.assertTrue(referenced, index)
        for asset in referenced:
            self.assertIn("./" + asset, files.split())
        self.assertEqual(tools.strip(), "")


class Running(unittest.TestCase):
    """A signal and two nodes in containers on the host's network."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="agentflow-images-")
        cls.names = []
        try:
            cls.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for name in reversed(cls.names):
            # -v: the anonymous volumes of the images' VOLUMEs go too.
            podman("rm", "-f", "-v", "-t", "10", name, check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def start(cls):
        certs = os.path.join(cls.tmp, "certs")
        bundle(certs, ["node-1", "node-2"])
        for f in os.listdir(certs):
            if f.endswith(".key"):   # readable by the images' user only
                os.chown(os.path.join(certs, f), 10001, 10001)
        cls.sport = free_port()
        cls.start_container("signal", IMAGE["signal"],
                {"AGENTFLOW_LISTEN": f"127.0.0.1:{cls.sport}",
                 "AGENTFLOW_TLS_CERT": f"{CERTS}/signal.crt",
                 "AGENTFLOW_TLS_KEY": f"{CERTS}/signal.key"},
                {f: f for f in ("ca.crt", "ca.crl", "signal.crt", "signal.key")})
        # node-2's tasks and services, as the Dockerfile's header says:
        # files mounted read-only, named by their variables.
        work = {}
        for kind, doc in (("tasks", {TASK: {"command": TASK_ARGV}}),
                          ("services", {SERVICE: {"command": ["/usr/bin/sleep", "infinity"]}})):
            path = os.path.join(cls.tmp, f"{kind}.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            os.chmod(path, 0o644)
            work[path] = (f"AGENTFLOW_{kind.upper()}", f"/etc/agentflow/{kind}.json")
        cls.api = {}
        for node in ("node-1", "node-2"):
            cls.api[node] = free_port()
            env = {"AGENTFLOW_LISTEN": f"127.0.0.1:{free_port()}",
                   "AGENTFLOW_API": f"127.0.0.1:{cls.api[node]}",
                   "AGENTFLOW_SIGNAL": f"https://localhost:{cls.sport}",
                   "AGENTFLOW_SIGNAL_CA": f"{CERTS}/ca.crt"}
            mounts = {}
            if node == "node-2":
                for path, (var, inside) in work.items():
                    env[var] = inside
                    mounts[path] = inside
            cls.start_container(node, IMAGE["node"], env,
                    {"ca.crt": "ca.crt", "ca.crl": "ca.crl",
                     f"{node}.crt": "node.crt", f"{node}.key": "node.key"}, mounts)
        deadline = time.monotonic() + READY_TIMEOUT
        for short in ("signal", "node-1", "node-2"):
            while True:
                name = cls.container(short)
                r = podman("healthcheck", "run", name, check=False)
                if r.returncode == 0:
                    break
                state = json.loads(podman("inspect", name).stdout)[0]["State"]
                if not state["Running"] or time.monotonic() > deadline:
                    logs = podman("logs", name, check=False)
                    raise AssertionError(f"{name} not healthy: {r.stdout}{r.stderr}\n"
                                         f"state {state['Status']}\n{logs.stderr}")
                time.sleep(0.5)

    @classmethod
    def container(cls, short):
        return f"agentflow-test-{os.getpid()}-{short}"

    @classmethod
    def start_container(cls, short, image, env, certs, mounts=None):
        name = cls.container(short)
        args = ["run", *FLAGS, "-d", "--name", name, "--network", "host"]
        for k, v in env.items():
            args += ["-e", f"{k}={v}"]
        for host, inside in certs.items():
            args += ["-v", f"{os.path.join(cls.tmp, 'certs', host)}:{CERTS}/{inside}:ro"]
        for host, inside in (mounts or {}).items():
            args += ["-v", f"{host}:{inside}:ro"]
        cls.names.append(name)
        r = podman(*args, image)
        extra = unexpected_stderr(r.stderr)
        if extra:
            raise AssertionError(f"podman run {name}: " + "\n".join(extra))

    def in_container(self, short, *argv, check=True):
        return podman("exec", self.container(short), *argv, check=check)

    def test_healthy_and_unprivileged(self):
        for short in ("signal", "node-1", "node-2"):
            with self.subTest(container=short):
                name = self.container(short)
                self.assertEqual(podman("healthcheck", "run", name, check=False).returncode, 0)
                status = podman("inspect", "--format", "{{.State.Health.Status}}", name)
                self.assertEqual(status.stdout.strip(), "healthy")
                users = podman("top", name, "huser").stdout.split()[1:]
                self.assertTrue(users, name)
                self.assertEqual(set(users), {"10001"})

    def test_healthcheck_fails_elsewhere(self):
        r = podman("exec", "-e", f"AGENTFLOW_API=127.0.0.1:{free_port()}",
                   self.container("node-1"), "agentflow-healthcheck", "node", check=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)

    def test_signal_serves_https_on_loopback(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.tmp, "certs", "ca.crt"))
        c = http.client.HTTPSConnection("localhost", self.sport, context=ctx, timeout=10)
        c.request("GET", "/healthz")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.read())["status"], "ok")
        c.close()
        log = podman("logs", self.container("signal")).stderr
        listening = [json.loads(l) for l in log.splitlines() if '"listening"' in l]
        self.assertEqual([(l["address"], l["scheme"]) for l in listening],
                         [("127.0.0.1", "https")])

    def get(self, node, path, token=None):
        c = http.client.HTTPConnection("127.0.0.1", self.api[node], timeout=10)
        c.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def test_dashboard_and_api(self):
        status, body = self.get("node-1", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["node_id"], "node-1")
        status, body = self.get("node-1", "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>AgentFlow</title>", body)
        asset = re.search(rb'src="\./(assets/[^"]+\.js)"', body).group(1).decode()
        self.assertEqual(self.get("node-1", "/" + asset)[0], 200)
        self.assertEqual(self.get("node-1", "/metrics")[0], 401)
        tokens = json.loads(self.in_container("node-1", "cat", "/var/lib/agentflow/tokens.json").stdout)
        self.assertEqual(self.get("node-1", "/metrics", tokens["read"])[0], 200)

    def test_cli_in_the_container_sees_the_mesh(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            doc = json.loads(self.in_container("node-1", "agentflow", "status", "--json").stdout)
            remote = {r["node_id"]: r for r in doc["remote"]}
            if remote.get("node-2", {}).get("link", {}).get("state") == "up":
                break
            self.assertLess(time.monotonic(), deadline, doc)
            time.sleep(0.5)
        self.assertEqual(doc["local"]["node_id"], "node-1")
        self.assertTrue(doc["local"]["signal"]["reachable"])
        self.assertEqual(remote["node-2"]["member"], "alive")

    def test_mounted_tasks_and_services(self):
        token = json.loads(self.in_container("node-2", "cat",
                           "/var/lib/agentflow/tokens.json").stdout)["read"]
        status, body = self.get("node-2", "/api/definitions", token)
        self.assertEqual(status, 200, body)
        tasks = {t["name"]: t for t in json.loads(body)["tasks"]}
        self.assertEqual(tasks[TASK]["command"], TASK_ARGV)
        # The CLI in the container runs it, as the image's user.
        r = self.in_container("node-2", "agentflow", "run", "node-2", TASK)
        self.assertIn("hello from the tasks file", r.stdout)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            status, body = self.get("node-2", "/api/services/" + SERVICE, token)
            if status == 200 and json.loads(body)["state"] == "running":
                break
            self.assertLess(time.monotonic(), deadline, (status, body))
            time.sleep(0.5)
        # node-1 has neither.
        token1 = json.loads(self.in_container(
            "node-1", "cat", "/var/lib/agentflow/tokens.json").stdout)["read"]
        status, body = self.get("node-1", "/api/definitions", token=token1)
        self.assertNotIn(TASK, [t["name"] for t in json.loads(body)["tasks"]])
        status, body = self.get("node-1", "/api/services", token1)
        self.assertEqual(status, 200, body)
        self.assertNotIn(SERVICE, [s.get("name") for s in json.loads(body)["services"]
                                   if s.get("node") == "node-1"])

    def test_data_in_a_volume_and_certificates_read_only(self):
        info = json.loads(podman("inspect", self.container("node-1")).stdout)[0]
        mounts = {m["Destination"]: m for m in info["Mounts"]}
        self.assertEqual(mounts["/var/lib/agentflow"]["Type"], "volume")
        self.assertFalse(mounts[f"{CERTS}/node.key"]["RW"])
        out = self.in_container("node-1", "stat", "-c", "%u %a %n",
                        "/var/lib/agentflow/tokens.json",
                        "/var/lib/agentflow/agentflow.db").stdout.splitlines()
        self.assertEqual(out[0], "10001 600 /var/lib/agentflow/tokens.json")
        self.assertTrue(out[1].startswith("10001 "), out)
        r = self.in_container("node-1", "sh", "-c", f": > {CERTS}/node.key", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Read-only file system", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
