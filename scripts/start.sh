#!/usr/bin/env bash
# `npm start`: installs dependencies, builds every workspace, brings up a local Kafka broker
# (cluster name `dev`, or KAFKA_CLUSTER_NAME) that stays up until it is stopped, and runs the proxy
# in the foreground against it with a generated development token, printing a curl line that
# works when pasted. Ctrl-C stops the proxy (gracefully); the broker keeps running. Running it
# again reuses the broker that is already up. KAFKA_PROXY_PORT (8080), KAFKA_PROXY_HOST
# (127.0.0.1: the printed token must not open the proxy to the network), KAFKA_PROXY_TOPIC
# (kafka-proxy-dev) and KAFKA_PROXY_TOKEN override the defaults; KAFKA_PROXY_KAFKA_SERVER runs it
# against that Kafka instead of a local broker.
#
#   scripts/start.sh [--no-build]
#
# --no-build skips the install and the build (the tests run it after `turbo run build`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

name="${KAFKA_CLUSTER_NAME:-dev}"

if [ "${1:-}" != "--no-build" ]; then
  install_deps
  log "building"
  pnpm exec turbo run build --output-logs=errors-only >&2 || die "build failed (see above)"
fi

if [ -n "${KAFKA_PROXY_KAFKA_SERVER:-}" ]; then
  KAFKA_BROKERS="$KAFKA_PROXY_KAFKA_SERVER"
  log "using Kafka at $KAFKA_BROKERS (KAFKA_PROXY_KAFKA_SERVER)"
else
  eval "$(bash scripts/kafka.sh up --name "$name")"
  cat >&2 <<MSG

Kafka is running: KAFKA_BROKERS=$KAFKA_BROKERS
  use it from a shell:  export KAFKA_BROKERS=$KAFKA_BROKERS
  status:               scripts/kafka.sh status --name $name
  stop it:              scripts/kafka.sh down --name $name
MSG
fi

port="${KAFKA_PROXY_PORT:-8080}"
host="${KAFKA_PROXY_HOST:-127.0.0.1}"
# Where this script and the printed commands reach the proxy: loopback when it listens everywhere.
case "$host" in
  0.0.0.0 | :: | '[::]') reach=127.0.0.1 ;;
  *:*) reach="[$host]" ;;
  *) reach="$host" ;;
esac
topic="${KAFKA_PROXY_TOPIC:-kafka-proxy-dev}"
token="${KAFKA_PROXY_TOKEN:-dev-$(node -e 'process.stdout.write(require("node:crypto").randomBytes(18).toString("base64url"))')}"
mkdir -p "$KPROXY_CACHE_DIR"
log "starting kafka-proxy on $host port $port (logs below)"
# Its own process group, so Ctrl-C reaches only this script, which forwards exactly one SIGTERM (a
# second signal would make the proxy skip its graceful shutdown).
set -m
KAFKA_PROXY_TOKEN="$token" KAFKA_PROXY_KAFKA_SERVER="$KAFKA_BROKERS" KAFKA_PROXY_PORT="$port" \
  KAFKA_PROXY_HOST="$host" \
  KAFKA_PROXY_TOPIC="$topic" KAFKA_FLUSHER_TOPIC_CACHE="$KPROXY_CACHE_DIR/dev-topic" \
  apps/server/dist/main.js &
proxy=$!
set +m
# Ctrl-C and `kill` reach the proxy as SIGTERM: it finishes requests and flushes before exiting.
trap 'kill -TERM "$proxy" 2>/dev/null || true' INT TERM

ready=""
for _ in $(seq 1 100); do
  kill -0 "$proxy" 2>/dev/null || break
  # Bounded: whatever else holds the port may accept and never answer.
  if node -e "fetch('http://$reach:$port/readyz', { signal: AbortSignal.timeout(1000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  if ! kill -0 "$proxy" 2>/dev/null; then
    status=0
    wait "$proxy" || status=$?
    # 3: the proxy could not listen; its log line above says why.
    [ "$status" != 3 ] || die "kafka-proxy cannot listen on $host port $port: set KAFKA_PROXY_PORT to a free port (KAFKA_PROXY_PORT=8081 npm start), or KAFKA_PROXY_HOST to an address of this machine"
    die "kafka-proxy exited with status $status before it became ready (see its log above)"
  fi
  kill -TERM "$proxy" 2>/dev/null || true
  die "kafka-proxy did not become ready on $host port $port within 20 s"
fi

# The body is one frame: a 4-byte little-endian length (14 = \016) and "This is a test".
cat >&2 <<MSG

kafka-proxy is ready at http://$reach:$port (default topic $topic)
  development token:  $token
  push a message:     printf '\\016\\000\\000\\000This is a test' | curl -sS -H 'x-kafka-proxy-token: $token' -H 'content-type: application/octet-stream' --data-binary @- http://$reach:$port/
  current topic:      curl -sS -H 'x-kafka-proxy-token: $token' http://$reach:$port/topic
  stop the proxy:     Ctrl-C

MSG
status=0
wait "$proxy" || status=$?
# A trapped signal ends the first wait early (status > 128); the second one gets the proxy's own
# exit status once its graceful shutdown is done.
if [ "$status" -gt 128 ]; then
  status=0
  wait "$proxy" || status=$?
fi
exit "$status"
