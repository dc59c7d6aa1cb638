#!/usr/bin/env bash
# `npm run test:image`: builds docker/Dockerfile as it is, with podman (no Docker daemon), and
# runs the image the way production does, against a real Kafka broker:
#   - installs podman and friends from Debian's packages when they are missing (root), and makes
#     the FROM image locally when the registry has none (scripts/image/base-image.sh, cached);
#   - builds with `podman build --format docker` (so HEALTHCHECK is kept), printing the time and
#     the image size;
#   - starts the container read-only, as uid 1000, with every capability dropped, and checks:
#     /readyz 200 (printing the start-to-ready time), a curl push is read back from Kafka,
#     `podman healthcheck run` says healthy, and `podman stop` in the middle of a push exits 0
#     with every acknowledged message in Kafka;
#   - then brings docker/compose.yaml up with podman-compose (scripts/image/compose.sh).
# Fails loudly, never skips: a machine where this cannot run fails it. Everything it makes lives
# in the cache (~/.cache/kafka-proxy/image); the broker and the containers are always removed.
#
#   scripts/test-image.sh [--no-compose]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=image/lib.sh
source "$KPROXY_ROOT/scripts/image/lib.sh"
# shellcheck source=image/base-image.sh
source "$KPROXY_ROOT/scripts/image/base-image.sh"
# shellcheck source=image/compose.sh
source "$KPROXY_ROOT/scripts/image/compose.sh"
cd "$KPROXY_ROOT"

compose=1
[ "${1:-}" = "--no-compose" ] && compose=0

started=$SECONDS
tag="localhost/kafka-proxy:test-$$"
container="kafka-proxy-test-$$"
volume="kafka-proxy-test-cache-$$"
kafka_name="image-$$"
broker_started=""

cleanup() {
  set +e
  if [ "${#PODMAN[@]}" -gt 0 ]; then
    "${PODMAN[@]}" rm -f -t 0 "$container" >/dev/null 2>&1
    "${PODMAN[@]}" volume rm -f "$volume" >/dev/null 2>&1
    "${PODMAN[@]}" rmi -f "$tag" >/dev/null 2>&1
    # The build stage is not kept: each source change makes a new one anyway.
    "${PODMAN[@]}" image prune -f >/dev/null 2>&1
  fi
  stop_broker
}
stop_broker() {
  if [ -n "$broker_started" ]; then
    broker_started=""
    bash scripts/kafka.sh down --name "$kafka_name" >&2 || log "could not stop Kafka cluster '$kafka_name'"
  fi
}
# Each check that passed is counted; the last line is `N passed, N failed, 0 skipped` like the
# other test commands' (the first failed check ends the run: 1 failed).
passed=0
ok() {
  passed=$((passed + 1))
  log "ok: $*"
}
finish() {
  local status=$1
  cleanup
  if [ "$status" = 0 ]; then echo "$passed passed, 0 failed, 0 skipped"; else echo "$passed passed, 1 failed, 0 skipped"; fi
  exit "$status"
}
PODMAN=()
trap 'finish $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { log "== image: $*"; }

KPROXY_NODE=24 require_node
log "Node.js $(node --version) at $(command -v node)"
install_deps
setup_podman

step "base image $BASE_IMAGE"
make_base_image

step "podman build -f docker/Dockerfile"
build_started=$(now_ms)
"${PODMAN[@]}" build --format docker --network host -f docker/Dockerfile -t "$tag" . \
  >"$IMAGE_CACHE/build.log" 2>&1 || die "podman build failed: $(tail -30 "$IMAGE_CACHE/build.log")"
build_ms=$(($(now_ms) - build_started))
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$tag")
base_size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$BASE_IMAGE")
user=$("${PODMAN[@]}" image inspect --format '{{.Config.User}}' "$tag")
healthcheck=$("${PODMAN[@]}" image inspect --format '{{.Config.Healthcheck.Test}}' "$tag")
[ "$user" = "1000:1000" ] || die "the image runs as '$user', expected 1000:1000"
[ "$healthcheck" = "[CMD node healthcheck.mjs]" ] || die "the image's health check is '$healthcheck'"
ok "docker/Dockerfile built in $((build_ms / 1000)) s; image $((size / 1000000)) MB, of which the base $((base_size / 1000000)) MB"

step "a Kafka broker"
broker_started=1
eval "$(bash scripts/kafka.sh up --name "$kafka_name" --owner-pid $$)"
[ -n "${KAFKA_BROKERS:-}" ] || die "scripts/kafka.sh did not report the broker's address"
export KAFKA_BROKERS
# --no-warnings: kafkajs trips a TimeoutNegativeWarning on Node 24, noise here.
check() { node --no-warnings scripts/image/kafka-check.mjs "$@"; }

step "the container: read-only, uid 1000, no capabilities"
topic="image-test-$$"
stop_topic="image-stop-$$"
check create "$topic"
check create "$stop_topic"
port=$(free_port)
token="image-test-token-$$"
url="http://127.0.0.1:$port"
# The harness's broker advertises 127.0.0.1, so the container shares the host's network.
run_started=$(now_ms)
"${PODMAN[@]}" run -d --name "$container" --network host \
  --read-only --user 1000:1000 --cap-drop ALL --security-opt no-new-privileges \
  -v "$volume:/var/lib/kafka-proxy" \
  -e KAFKA_PROXY_TOKEN="$token" -e KAFKA_PROXY_KAFKA_SERVER="$KAFKA_BROKERS" \
  -e KAFKA_PROXY_TOPIC="$topic" -e KAFKA_PROXY_PORT="$port" -e KAFKA_PROXY_SHUTDOWN_TIMEOUT=20 \
  "$tag" >/dev/null 2>"$IMAGE_CACHE/run.err" || die "podman run failed: $(cat "$IMAGE_CACHE/run.err")"
# Without systemd podman cannot schedule the periodic health check (it says so on stderr);
# `podman healthcheck run` below runs the image's check itself.
ready=""
for _ in $(seq 1 300); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; then
    ready=$(($(now_ms) - run_started))
    break
  fi
  [ "$("${PODMAN[@]}" inspect --format '{{.State.Running}}' "$container")" = true ] ||
    die "the container exited: $("${PODMAN[@]}" logs "$container" 2>&1 | tail -20)"
  sleep 0.1
done
[ -n "$ready" ] || die "/readyz did not answer 200 within 30 s: $("${PODMAN[@]}" logs "$container" 2>&1 | tail -20)"
ok "/readyz 200 after $ready ms"

in_container() { "${PODMAN[@]}" exec "$container" "$@"; }
[ "$(in_container id -u)" = 1000 ] || die "the server does not run as uid 1000"
caps=$(in_container sed -n 's/^CapEff:\t//p' /proc/1/status)
[ "$caps" = 0000000000000000 ] || die "the server has capabilities $caps"
if in_container touch /app/written 2>/dev/null; then die "the root file system is writable"; fi
ok "runs as uid 1000, without capabilities, on a read-only root file system"

reply=$(printf '\016\000\000\000This is a test' |
  curl -sS -H "x-kafka-proxy-token: $token" -H 'content-type: application/octet-stream' \
    --data-binary @- "$url/")
[ "$reply" = "1 messages received" ] || die "the push answered '$reply'"
check expect "$topic" 'This is a test'
ok "a curl push is in Kafka"
# The topic cache lives in the volume, the only writable place.
reply=$(curl -sS -X POST -H "x-kafka-proxy-token: $token" "$url/topic/$stop_topic")
[ "$reply" = "Topic changed to $stop_topic" ] || die "the topic change answered '$reply'"
[ "$(in_container cat /var/lib/kafka-proxy/topic)" = "$stop_topic" ] || die "the topic cache was not written"
ok "the topic cache is written to the volume"

# Exit 0 is healthy (podman 4.3 prints nothing then); the container's state records the result.
"${PODMAN[@]}" healthcheck run "$container" >&2 || die "podman healthcheck run: unhealthy"
health=$("${PODMAN[@]}" inspect --format '{{.State.Health.Status}}' "$container")
[ "$health" = healthy ] || die "after podman healthcheck run the container is '$health'"
ok "podman healthcheck run: $health"

check push-and-stop "$url" "$token" "$stop_topic" -- "${PODMAN[@]}" stop -t 30 "$container"
code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$container")
[ "$code" = 0 ] || die "the server exited $code on podman stop: $("${PODMAN[@]}" logs "$container" 2>&1 | tail -20)"
ok "podman stop during a push: exit 0, every acknowledged message in Kafka"
"${PODMAN[@]}" rm "$container" >/dev/null

# One broker at a time: compose brings its own.
stop_broker

if [ "$compose" = 1 ]; then
  step "docker/compose.yaml"
  compose_test "$tag"
fi

log "image: build $((build_ms / 1000)) s, image $((size / 1000000)) MB, start to ready $ready ms, all in $((SECONDS - started)) s"
