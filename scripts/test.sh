#!/usr/bin/env bash
# The whole check, as CI runs it (`npm test`): installs what the repository needs, checks
# formatting, builds, typechecks and lints every workspace, starts ONE real Kafka broker for the
# run, runs every workspace's tests against it, stops the broker whatever happens, and ends with
# a line `N passed, N failed, N skipped` totalled over all workspaces.
#
# Needs Java 17+ and Maven (or KAFKA_HOME) on the machine; nothing else.
# KAFKA_BROKERS already set: those brokers are used and no broker is started.
#
#   scripts/test.sh           the whole check (`npm test`)
#   scripts/test.sh --unit    only each workspace's unit tests (`npm run test:unit`): no broker,
#                             no formatting or lint; CI runs it on the other Node.js lines
#                             (KPROXY_NODE=22 / 26: require_node fetches that line if needed)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

started=$SECONDS
KAFKA_NAME="test-$$"
REPORT=.turbo/vitest-report.json # relative to each workspace
broker_started=""

stop_broker() {
  if [ -n "$broker_started" ]; then
    broker_started=""
    bash scripts/kafka.sh down --name "$KAFKA_NAME" || log "could not stop Kafka cluster '$KAFKA_NAME'"
  fi
}
trap stop_broker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { log "== $*"; }
reports() { find . \( -name node_modules -o -name .git \) -prune -o -path "*/$REPORT" -type f "$@"; }
vitest_args=(--reporter=default --reporter=json --outputFile.json="$REPORT" --passWithNoTests)

require_node
step "Node.js $(node --version) at $(command -v node)"

step "installing dependencies"
install_deps

if [ "${1:-}" = "--unit" ]; then
  step "unit tests on Node.js $(node --version)"
  reports -exec rm -f {} +
  status=0
  pnpm exec turbo run test:unit --concurrency=1 --continue -- "${vitest_args[@]}" >&2 || status=$?
  log "finished in $((SECONDS - started)) s on Node.js $(node --version)"
  reports -print | node scripts/test-summary.mjs "$status"
  exit
fi

step "checking formatting (prettier --check .)"
pnpm exec prettier --check . >&2 || die "formatting check failed: run 'pnpm format' and commit the result"

step "build, typecheck, lint"
pnpm exec turbo run build typecheck lint --output-logs=errors-only >&2 ||
  die "build, typecheck or lint failed (see above)"

step "Kubernetes schema tools (kubernetes-validate, kustomize)"
eval "$(bash scripts/k8s-tools.sh)"
export KPROXY_KUBERNETES_VALIDATE KPROXY_KUSTOMIZE

if [ -n "${KAFKA_BROKERS:-}" ]; then
  step "using the Kafka brokers in KAFKA_BROKERS=$KAFKA_BROKERS"
else
  step "starting Kafka"
  broker_started=1
  eval "$(bash scripts/kafka.sh up --name "$KAFKA_NAME" --owner-pid $$)"
  [ -n "${KAFKA_BROKERS:-}" ] || die "scripts/kafka.sh did not report the broker's address"
fi
export KAFKA_BROKERS

step "tests"
reports -exec rm -f {} +
status=0
# One workspace at a time: the machines this runs on have two cores and the tests share a broker.
# --continue runs every workspace even after one fails, so the summary covers them all.
pnpm exec turbo run test --concurrency=1 --continue -- "${vitest_args[@]}" >&2 || status=$?

stop_broker

log "finished in $((SECONDS - started)) s on Node.js $(node --version)"
reports -print | node scripts/test-summary.mjs "$status"
