#!/usr/bin/env bash
# The fault suite (`npm run test:faults`): real brokers stopped, killed and restarted, and the
# real proxy killed and restarted, each under concurrent HTTP load, each read back from Kafka and
# counted (docs/faults.md). Builds what it needs, starts its own two clusters (one node, and
# three nodes), runs apps/server's faults vitest config against them, stops them whatever
# happens, and ends with a line `N passed, N failed, N skipped`.
#
# Needs Java 17+ and Maven (or KAFKA_HOME), like scripts/test.sh. It never uses KAFKA_BROKERS:
# the scenarios stop and kill brokers, so they only run on clusters of their own.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

started=$SECONDS
REPORT=apps/server/.turbo/vitest-faults-report.json
clusters=()
out="$(mktemp -d)"

stop_clusters() {
  local name
  for name in ${clusters[@]+"${clusters[@]}"}; do
    bash scripts/kafka.sh down --name "$name" || log "could not stop Kafka cluster '$name'"
  done
  clusters=()
  rm -rf "$out"
}
trap stop_clusters EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_node
log "== Node.js $(node --version) at $(command -v node)"

log "== installing dependencies"
install_deps

log "== build"
pnpm exec turbo run build --output-logs=errors-only >&2 || die "build failed (see above)"

# Both clusters start at once (their start-up is mostly waiting); each is stopped by the trap, or
# by kafka.sh's watchdog should this script be killed.
log "== starting Kafka: one node and three nodes"
pids=()
for nodes in 1 3; do
  name="faults-$$-$nodes"
  clusters+=("$name")
  bash scripts/kafka.sh up --nodes "$nodes" --name "$name" --owner-pid $$ >"$out/$nodes.env" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || die "a Kafka cluster did not start (see above)"; done
for nodes in 1 3; do
  brokers="$(sed -n 's/^KAFKA_BROKERS=//p' "$out/$nodes.env")"
  [ -n "$brokers" ] || die "scripts/kafka.sh did not report the brokers of the $nodes-node cluster"
  export "KPROXY_FAULTS_CLUSTER_$nodes=faults-$$-$nodes" "KPROXY_FAULTS_BROKERS_$nodes=$brokers"
done

log "== fault scenarios"
rm -f "$REPORT"
status=0
(cd apps/server && pnpm exec vitest run --config vitest.faults.config.ts \
  --reporter=default --reporter=json --outputFile.json=".turbo/${REPORT##*/}") >&2 || status=$?

stop_clusters

log "finished in $((SECONDS - started)) s on Node.js $(node --version)"
{ [ ! -f "$REPORT" ] || echo "$REPORT"; } | node scripts/test-summary.mjs "$status"
