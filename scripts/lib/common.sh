# shellcheck shell=bash
# Shared by the scripts in scripts/: where caches live and how pnpm is found.
# Sourced, never run. Everything it creates lives outside the repository.

KPROXY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KPROXY_CACHE_DIR="${KPROXY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-proxy}"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$KPROXY_ROOT/package.json")"

log() { printf '[kafka-proxy] %s\n' "$*" >&2; }
die() { printf '[kafka-proxy] error: %s\n' "$*" >&2; exit 1; }

require_node() {
  command -v node >/dev/null || die "Node.js 20.19+ is required (node not found)"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    die "Node.js 20.19+ is required (found $(node --version))"
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
