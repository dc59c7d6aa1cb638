#!/usr/bin/env bash
# `pnpm bench`: the proxy next to a direct kafkajs producer, from one run. Installs dependencies,
# builds the server, starts a broker of its own (stopped on exit, whatever happens) unless
# KAFKA_BROKERS is set, and runs apps/server/bench/compare.mjs with the arguments given, e.g.
# `pnpm bench --clients 16`. Everything listens on 127.0.0.1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

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
