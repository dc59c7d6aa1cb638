#!/usr/bin/env bash
# `npm start`: installs dependencies, builds every workspace and brings up a local Kafka broker
# (cluster name `dev`, or KAFKA_CLUSTER_NAME) that stays up until it is stopped. Running it again
# reuses the broker that is already up.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

name="${KAFKA_CLUSTER_NAME:-dev}"

install_deps
log "building"
pnpm exec turbo run build --output-logs=errors-only >&2 || die "build failed (see above)"

eval "$(bash scripts/kafka.sh up --name "$name")"
cat <<MSG

Kafka is running: KAFKA_BROKERS=$KAFKA_BROKERS
  use it from a shell:  export KAFKA_BROKERS=$KAFKA_BROKERS
  status:               scripts/kafka.sh status --name $name
  stop it:              scripts/kafka.sh down --name $name
MSG
