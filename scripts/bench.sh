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

# The broker's log in memory (tmpfs), when there is room: on a shared machine the disk stalls for
# tens to hundreds of milliseconds now and then, which every phase would wait for alike and which
# would set the open-loop tail instead of the proxy. Each phase's topic is deleted once checked and
# the broker keeps at most 256 MiB per partition, so a run holds about 1.5 GiB at its peak.
# KAFKA_BENCH_STORAGE=disk keeps it on disk (`${TMPDIR:-/tmp}`, as the tests do).
bench_storage() {
  local shm=/dev/shm free_kib
  [ "${KAFKA_BENCH_STORAGE:-memory}" = memory ] || return 0
  [ -d "$shm" ] && [ -w "$shm" ] || return 0
  free_kib="$(df -Pk "$shm" | awk 'NR == 2 { print $4 }')"
  [ "${free_kib:-0}" -ge $((8 * 1024 * 1024)) ] || return 0
  awk '/^MemAvailable:/ { exit !($2 >= 8 * 1024 * 1024) }' /proc/meminfo 2>/dev/null || return 0
  echo "$shm/kafka-proxy-bench-$$"
}

if [ -z "${KAFKA_BROKERS:-}" ]; then
  name="bench-$$"
  state="$(bench_storage)"
  if [ -n "$state" ]; then
    export KPROXY_STATE_DIR="$state"
    mkdir -p "$state"
    cat >"$state/bench.properties" <<'PROPS'
log.retention.bytes=268435456
log.segment.bytes=134217728
log.retention.check.interval.ms=2000
log.segment.delete.delay.ms=1000
PROPS
    # A file of the caller's own broker properties comes after these, so it still decides.
    [ -z "${KAFKA_SERVER_PROPERTIES:-}" ] || cat "$KAFKA_SERVER_PROPERTIES" >>"$state/bench.properties"
    export KAFKA_SERVER_PROPERTIES="$state/bench.properties"
    export KPROXY_BENCH_BROKER_LOG="in memory ($state; KAFKA_BENCH_STORAGE=disk for the disk)"
  else
    export KPROXY_BENCH_BROKER_LOG="on disk (${TMPDIR:-/tmp}/kafka-proxy)"
  fi
  trap 'bash scripts/kafka.sh down --name "$name" >/dev/null 2>&1 || true; [ -z "$state" ] || rm -rf "$state"' EXIT
  trap 'exit 130' INT TERM
  log "starting a broker ($name)"
  eval "$(bash scripts/kafka.sh up --name "$name" --owner-pid $$)"
  export KAFKA_BROKERS
fi

# `pnpm bench -- --clients 8` passes the `--` through; compare.mjs drops it.
node apps/server/bench/compare.mjs "$@"
