#!/usr/bin/env bash
# Builds the two images from deploy/Dockerfile.signal and
# deploy/Dockerfile.node with Debian 12's podman, on a machine with neither
# a Docker daemon nor a container registry: the Debian base image is made
# here with debootstrap from the mirror this machine's apt uses, and the
# Node.js image of the dashboard's build stage from that base, Debian's
# nodejs and npm, and node@22 from the npm registry (as
# scripts/install-deps.sh does on the host).  Both are kept in podman's
# store and made again only with --rebuild-base.
#
# Usage (as root, from anywhere): bash deploy/build-images.sh [--rebuild-base]
#        bash deploy/build-images.sh --run-flags    (prints them, see below)
#
# Makes localhost/agentflow-signal:local and localhost/agentflow-node:local
# (AGENTFLOW_IMAGE_TAG instead of "local"), built for uid:gid
# AGENTFLOW_UID:AGENTFLOW_GID (default 10001:10001), and prints their
# sizes.  Installs podman, runc and debootstrap with apt when missing.
#
# Every podman command here runs with runc, because crun 1.8 refuses a
# host whose cgroup v2 hierarchy holds a controller next to v1 ones (a
# "hybrid" host), and with explicit ulimits no higher than this process's
# own, because podman's default of 1048576 open files cannot be granted
# without CAP_SYS_RESOURCE.  --run-flags prints those options for
# `podman run` (podman run $(bash deploy/build-images.sh --run-flags) ...).
set -euo pipefail
cd "$(dirname "$0")/.."

suite=bookworm
base_image=localhost/debian:12-slim
node_image=localhost/agentflow-build-node:22
tag=${AGENTFLOW_IMAGE_TAG:-local}
uid=${AGENTFLOW_UID:-10001}
gid=${AGENTFLOW_GID:-10001}
rebuild_base=0
print_flags=0
for arg in "$@"; do
  case $arg in
    --rebuild-base) rebuild_base=1 ;;
    --run-flags) print_flags=1 ;;
    *) echo "usage: $0 [--rebuild-base | --run-flags]" >&2; exit 2 ;;
  esac
done

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu)
pid_max=$(cat /proc/sys/kernel/pid_max)
# podman lowers its own process limit to pid_max.
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ]; then nofile=1048576; fi
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
podman_flags=(--runtime runc)
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
if [ "$print_flags" = 1 ]; then
  echo "${podman_flags[*]} ${limits[*]}"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-images: run as root (debootstrap and podman's store need it)" >&2
  exit 1
fi

missing=()
for p in podman runc debootstrap; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-images: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

pm() { podman "${podman_flags[@]}" "$@"; }

# "URI SUITE COMPONENTS..." for every enabled deb source of $suite (and
# $suite-updates, $suite-security) in this machine's apt configuration,
# one-line (*.list) or deb822 (*.sources).
debian_sources() {
  {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [ -f "$f" ] || continue
      sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
        awk '$1 == "deb" && NF >= 3 { c = ""; for (i = 4; i <= NF; i++) c = c " " $i; print $2, $3 c }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      awk 'BEGIN { RS = ""; FS = "\n" }
           {
             split("", v); key = ""
             for (i = 1; i <= NF; i++) {
               if ($i ~ /^#/) continue
               if ($i ~ /^[ \t]/) { if (key != "") v[key] = v[key] " " $i; continue }
               if (match($i, /^[A-Za-z0-9-]+:/)) {
                 key = tolower(substr($i, 1, RLENGTH - 1)); v[key] = substr($i, RLENGTH + 1)
               }
             }
             if (tolower(v["enabled"]) ~ /no/ || v["types"] !~ /(^|[ \t])deb([ \t]|$)/) next
             nu = split(v["uris"], u, " "); ns = split(v["suites"], s, " ")
             nc = split(v["components"], c, " "); comps = ""
             for (k = 1; k <= nc; k++) comps = comps " " c[k]
             for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j] comps
           }' "$f"
    done
  } | awk -v s="$suite" '$2 == s || $2 == s "-updates" || $2 == s "-security"'
}

work=$(mktemp -d /var/tmp/agentflow-images.XXXXXX)
# --one-file-system: never into a /proc or /sys a failed debootstrap left
# mounted in the root it was making.
trap 'rm -rf --one-file-system "$work"' EXIT

make_base() {
  local sources mirror root=$work/rootfs
  sources=$(debian_sources)
  mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$sources")
  if [ -z "$mirror" ]; then
    echo "build-images: no '$suite' source in /etc/apt/sources.list*: debootstrap needs a Debian 12 mirror" >&2
    exit 1
  fi
  echo "== base image $base_image (debootstrap --variant=minbase $suite from this machine's mirror)" >&2
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # The machine's sources (updates and security too), deb822.
  rm -f "$root/etc/apt/sources.list"
  while read -r uri s comps; do
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: %s\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n' \
      "$uri" "$s" "$comps"
  done <<<"$sources" >"$root/etc/apt/sources.list.d/debian.sources"
  # Slim: no documentation, manual pages or translations (copyright files
  # stay), no downloaded packages or package lists left in a layer, no
  # service started by a package's installation.
  cat >"$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
  cat >"$root/etc/apt/apt.conf.d/slim" <<'EOF'
APT::Keep-Downloaded-Packages "false";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq >/dev/null && apt-get clean' \
    >"$work/upgrade.log" 2>&1 || { tail -20 "$work/upgrade.log" >&2; exit 1; }
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,info,groff,lintian,locale}/* \
    "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log "$root"/var/log/apt/*
  # debootstrap copied this machine's resolver and name.
  : >"$root/etc/resolv.conf"
  echo localhost >"$root/etc/hostname"
  tar -C "$root" --numeric-owner -c . |
    pm import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase $suite" - "$base_image" >/dev/null
  rm -rf --one-file-system "$root"
}

make_node_image() {
  local ctx=$work/node-context
  echo "== build image $node_image (Node.js 22 for the dashboard's build stage)" >&2
  mkdir -p "$ctx/ca"
  # The certificate authorities this machine adds to Debian's (a proxy in
  # front of the npm registry, for one): npm in the build stage trusts
  # what the host trusts.  Only the dashboard's built files leave that
  # stage, so they reach no image that is shipped.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ctx/ca/"
  fi
  cat >"$ctx/Containerfile" <<'EOF'
ARG DEBIAN_IMAGE
FROM ${DEBIAN_IMAGE}
COPY ca/ /usr/local/share/ca-certificates/
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates nodejs npm \
 && update-ca-certificates \
 && npm install -g node@22 --no-audit --no-fund --loglevel=error \
 && node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
 && rm -rf /var/lib/apt/lists/* /root/.npm
EOF
  pm build --network host "${limits[@]}" --build-arg "DEBIAN_IMAGE=$base_image" \
    -t "$node_image" "$ctx"
}

if [ "$rebuild_base" = 1 ]; then
  # Untag rather than remove: images built on them keep their layers.
  for image in "$node_image" "$base_image"; do
    if pm image exists "$image"; then pm untag "$image"; fi
  done
fi
start=$SECONDS
pm image exists "$base_image" || { make_base; echo "build-images: $base_image made in $((SECONDS - start)) s" >&2; }
start=$SECONDS
pm image exists "$node_image" || { make_node_image; echo "build-images: $node_image made in $((SECONDS - start)) s" >&2; }

for kind in signal node; do
  echo "== image localhost/agentflow-$kind:$tag (deploy/Dockerfile.$kind)" >&2
  start=$SECONDS
  args=(--build-arg "DEBIAN_IMAGE=$base_image"
        --build-arg "AGENTFLOW_UID=$uid" --build-arg "AGENTFLOW_GID=$gid")
  [ "$kind" = signal ] || args+=(--build-arg "NODE_IMAGE=$node_image")
  # --format docker: an OCI image has no HEALTHCHECK.  --network host:
  # apt and npm reach the network without a bridge and firewall rules
  # made on the host for the build.
  pm build --format docker --network host "${limits[@]}" "${args[@]}" \
    -f "deploy/Dockerfile.$kind" -t "localhost/agentflow-$kind:$tag" .
  echo "build-images: agentflow-$kind built in $((SECONDS - start)) s" >&2
done

for kind in signal node; do
  size=$(pm image inspect --format '{{.Size}}' "localhost/agentflow-$kind:$tag")
  echo "localhost/agentflow-$kind:$tag $size bytes ($(((size + 524288) / 1048576)) MiB)"
done
echo "build-images: run them with: podman run ${podman_flags[*]} ${limits[*]} ..." >&2
