#!/usr/bin/env bash
# `pnpm bench`: the proxy measured against Kafka's own ProducerPerformance and a direct producer,
# from one run on one broker (apps/server/bench/README.md). Installs dependencies and wrk (the
# HTTP load generator, from the system's packages when it is missing), builds the server, starts a
# broker of its own (stopped on exit, whatever happens) unless KAFKA_BROKERS is set, and runs
# apps/server/bench/compare.mjs with the arguments given, e.g. `pnpm bench --seconds 20`.
# Everything listens on 127.0.0.1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

require_wrk() {
  command -v wrk >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing wrk (apt-get install wrk)"
    { apt-get update -qq && apt-get install -y -qq wrk; } >&2 || die "could not install wrk with apt-get"
    return
  fi
  die "wrk is needed: install it (Debian/Ubuntu: apt-get install wrk, macOS: brew install wrk)"
}

require_wrk
install_deps
log "building the server"
pnpm exec turbo run build --filter=@kproxy/server --output-logs=errors-only >&2 ||
  die "build failed (see above)"

if [ -z "${KAFKA_BROKERS:-}" ]; then
  name="bench-$$"
  trap 'bash scripts/kafka.sh down --name "$name" >/dev/null 2>&1 || true' EXIT
  trap 'exit 130' INT TERM
  log "starting a broker ($name)"
  eval "$(bash scripts/kafka.sh up --name "$name" --owner-pid $$)"
  export KAFKA_BROKERS
fi

# `pnpm bench -- --clients 8` passes the `--` through; compare.mjs drops it.
node apps/server/bench/compare.mjs "$@"
