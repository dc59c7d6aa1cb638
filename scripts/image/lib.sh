# shellcheck shell=bash
# Shared by scripts/test-image.sh and the scripts beside this file: a daemonless podman whose
# storage, base images and tools live in the cache (never in the repository), set up from
# Debian's packages. Sourced after scripts/lib/common.sh, never run.

IMAGE_CACHE="$KPROXY_CACHE_DIR/image"
# The name docker/Dockerfile's FROM resolves to; the base image is made locally under it.
BASE_IMAGE=docker.io/library/node:24-slim
# The image docker/compose.yaml runs Kafka from; a stand-in is made from the harness's jars.
KAFKA_IMAGE=docker.io/apache/kafka:4.1.1
# iptables: netavark sets up the bridge network docker/compose.yaml's services share with it
# (without it podman-compose fails with "netavark: No such file or directory").
APT_PACKAGES=(podman buildah runc fuse-overlayfs slirp4netns uidmap netavark aardvark-dns iptables debootstrap curl)

# Installs the container tools from Debian's packages when one is missing.
ensure_container_tools() {
  local missing=()
  if command -v dpkg-query >/dev/null; then
    for pkg in "${APT_PACKAGES[@]}"; do
      [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
    done
  else
    for cmd in podman buildah runc debootstrap curl; do
      command -v "$cmd" >/dev/null || missing+=("$cmd")
    done
  fi
  [ "${#missing[@]}" = 0 ] && return
  command -v apt-get >/dev/null ||
    die "missing ${missing[*]}, and there is no apt-get to install ${APT_PACKAGES[*]} with"
  [ "$(id -u)" = 0 ] || die "missing ${missing[*]}: install ${APT_PACKAGES[*]} (needs root)"
  log "installing ${APT_PACKAGES[*]} with apt-get (missing: ${missing[*]})"
  apt-get update -qq >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${APT_PACKAGES[@]}" >&2 || die "apt-get install ${APT_PACKAGES[*]} failed"
}

# The OCI runtime podman is told to use: runc behind a wrapper that drops `process.rlimits`
# from the container's config before runc applies them. Where the process may not raise
# RLIMIT_NOFILE (no CAP_SYS_RESOURCE, as in some sandboxes), runc otherwise fails every
# container with `setrlimit RLIMIT_NOFILE: Operation not permitted`; the container then simply
# inherits the limits podman itself runs with. Written into the cache with absolute paths,
# because podman and conmon call the runtime with an environment of their own.
runtime_wrapper() {
  local wrapper="$IMAGE_CACHE/bin/runc-without-rlimits"
  local node runc
  node="$(command -v node)"
  runc="$(command -v runc)" || die "runc is not installed"
  mkdir -p "$IMAGE_CACHE/bin"
  cp "$KPROXY_ROOT/scripts/image/drop-rlimits.mjs" "$IMAGE_CACHE/bin/drop-rlimits.mjs"
  sed -e "s|@NODE@|$node|" -e "s|@RUNC@|$runc|" -e "s|@FILTER@|$IMAGE_CACHE/bin/drop-rlimits.mjs|" \
    "$KPROXY_ROOT/scripts/image/runc-without-rlimits.in" >"$wrapper.tmp"
  chmod 755 "$wrapper.tmp"
  mv "$wrapper.tmp" "$wrapper"
  echo "$wrapper"
}

# Sets PODMAN (an array: podman with the cache's storage and the wrapped runtime) and makes
# sure podman works at all. Dies, loudly, when it cannot.
setup_podman() {
  ensure_container_tools
  local runroot=/run/kafka-proxy/podman
  mkdir -p "$runroot" 2>/dev/null || runroot="$IMAGE_CACHE/podman/run"
  mkdir -p "$IMAGE_CACHE/podman/storage" "$runroot"
  PODMAN=(podman --root "$IMAGE_CACHE/podman/storage" --runroot "$runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend file
    --runtime "$(runtime_wrapper)")
  "${PODMAN[@]}" info >/dev/null 2>"$IMAGE_CACHE/podman-info.err" ||
    die "podman does not work here: $(cat "$IMAGE_CACHE/podman-info.err")"
}

# A TCP port free on 127.0.0.1 right now.
free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# Milliseconds since the epoch, for the figures the scripts print.
now_ms() { date +%s%3N; }
