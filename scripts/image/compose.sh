# shellcheck shell=bash
# docker/compose.yaml brought up for real with podman-compose (PyPI, pinned, in a virtualenv in
# the cache), on a stand-in for apache/kafka made from the test harness's Kafka jars
# (scripts/image/kafka/). Sourced by scripts/test-image.sh after scripts/image/lib.sh and
# setup_podman; uses its ok/die/log/step.
#
# Two things podman does not do on this machine are done by this script instead, and said so:
#   - podman runs a container's health check on a schedule through systemd timers; without
#     systemd nothing runs it, so a loop here runs `podman healthcheck run` (the compose file's
#     own check) at the compose file's interval;
#   - podman-compose waits for `depends_on: condition: service_healthy` with
#     `podman wait --condition=healthy`, which podman only has from 4.6 (Debian 12 ships 4.3):
#     it warns and starts the proxy right away. The proxy must then become ready on its own
#     once Kafka is healthy, which is checked.

PODMAN_COMPOSE_REQUIREMENTS=(podman-compose==1.6.0 python-dotenv==1.2.4 PyYAML==6.0.4)
KAFKA_TOOLS_JAR=org.apache.kafka:kafka-tools:4.1.1

ensure_podman_compose() {
  local dir="$IMAGE_CACHE/podman-compose-1.6.0"
  if [ ! -x "$dir/bin/podman-compose" ]; then
    log "installing ${PODMAN_COMPOSE_REQUIREMENTS[*]} into $dir"
    rm -rf "$dir"
    python3 -m venv "$dir" >&2 && "$dir/bin/pip" install -q --disable-pip-version-check \
      "${PODMAN_COMPOSE_REQUIREMENTS[@]}" >&2 || { rm -rf "$dir"; die "could not install podman-compose"; }
  fi
  PODMAN_COMPOSE="$dir/bin/podman-compose"
  # podman-compose runs `podman`: this one, with the cache's storage and the wrapped runtime.
  printf '#!/bin/sh\nexec %s "$@"\n' "$(printf '%q ' "${PODMAN[@]}")" >"$IMAGE_CACHE/bin/podman"
  chmod 755 "$IMAGE_CACHE/bin/podman"
}

# The stand-in for apache/kafka:4.1.1, cached under a key of its inputs.
make_kafka_image() {
  local libs="$KPROXY_CACHE_DIR/kafka-4.1.1/libs"
  [ -f "$libs/.complete" ] || die "no Kafka jars in $libs (scripts/kafka.sh up fetches them)"
  local tools="$IMAGE_CACHE/kafka-tools-4.1.1"
  if [ ! -f "$tools/.complete" ]; then
    log "fetching $KAFKA_TOOLS_JAR (kafka-broker-api-versions.sh, for the health check) with Maven"
    mkdir -p "$tools"
    mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$KAFKA_TOOLS_JAR" -DoutputDirectory="$tools" >&2 || die "could not fetch $KAFKA_TOOLS_JAR"
    touch "$tools/.complete"
  fi
  local key
  key="$( (ls "$libs" "$tools"; cat "$KPROXY_ROOT"/scripts/image/kafka/Containerfile "$KPROXY_ROOT"/scripts/image/kafka/bin/*) | sha256sum | cut -c1-16)"
  if "${PODMAN[@]}" image exists "$KAFKA_IMAGE" &&
    [ "$("${PODMAN[@]}" image inspect --format '{{index .Labels "kafka-proxy.standin"}}' "$KAFKA_IMAGE")" = "$key" ]; then
    log "Kafka stand-in $KAFKA_IMAGE is up to date"
    return
  fi
  local debian=localhost/kafka-proxy/debian:bookworm
  "${PODMAN[@]}" import "$IMAGE_CACHE/debootstrap-bookworm-minbase.tar" "$debian" >/dev/null ||
    die "could not import the debootstrap root file system"
  local context
  context="$(mktemp -d "$IMAGE_CACHE/kafka-context.XXXXXX")"
  cp -r "$KPROXY_ROOT/scripts/image/kafka/." "$context/"
  mkdir -p "$context/libs"
  cp "$libs"/*.jar "$tools"/*.jar "$context/libs/"
  cp "$KPROXY_ROOT/scripts/kafka/log4j2.properties" "$context/"
  log "building the Kafka stand-in $KAFKA_IMAGE (Java from Debian's packages)"
  "${PODMAN[@]}" build --format docker --network host --build-arg DEBIAN_IMAGE="$debian" \
    --label "kafka-proxy.standin=$key" -t "$KAFKA_IMAGE" "$context" >"$IMAGE_CACHE/kafka-build.log" 2>&1 ||
    { rm -rf "$context"; die "building the Kafka stand-in failed: $(tail -20 "$IMAGE_CACHE/kafka-build.log")"; }
  rm -rf "$context"
}

compose_down() {
  [ -z "${HEALTH_TICKER:-}" ] || kill "$HEALTH_TICKER" 2>/dev/null
  HEALTH_TICKER=""
  [ "${#COMPOSE[@]}" = 0 ] || KAFKA_PROXY_TOKEN=x "${COMPOSE[@]}" down "$@" >>"$IMAGE_CACHE/compose.log" 2>&1
}
COMPOSE=()

compose_test() {
  ensure_podman_compose
  make_kafka_image
  local project="kafka-proxy-test-$$"
  local port
  port=$(free_port)
  if (exec 3<>/dev/tcp/127.0.0.1/9094) 2>/dev/null; then
    die "127.0.0.1:9094, which docker/compose.yaml publishes Kafka on, is in use"
  fi
  local token="compose-test-token-$$"
  # Globals: the EXIT trap uses them after this function has returned.
  COMPOSE=("$PODMAN_COMPOSE" --podman-path "$IMAGE_CACHE/bin/podman" -p "$project" -f docker/compose.yaml)
  HEALTH_TICKER=""
  local url="http://127.0.0.1:$port"
  # The status the run ends with, kept before compose_down's own replaces it in $?.
  trap 'status=$?; compose_down -v -t 30; finish "$status"' EXIT
  export KAFKA_PROXY_TOKEN="$token" KAFKA_PROXY_PUBLISH="127.0.0.1:$port"
  : >"$IMAGE_CACHE/compose.log"

  # compose_up [--build]
  compose_up() {
    local up_started
    up_started=$(now_ms)
    "${COMPOSE[@]}" --podman-build-args "--format docker --network host" up -d "$@" \
      >>"$IMAGE_CACHE/compose.log" 2>&1 || die "podman-compose up failed: $(tail -20 "$IMAGE_CACHE/compose.log")"
    if grep -q "Ignored kafka condition check" "$IMAGE_CACHE/compose.log"; then
      log "podman-compose did not wait for service_healthy (podman $(podman --version | cut -d' ' -f3) < 4.6)"
    fi
    # What systemd's timers would do: run each container's health check at the compose interval.
    (
      set +e
      while sleep 5; do
        for c in $("${PODMAN[@]}" ps -q --filter "label=io.podman.compose.project=$project"); do
          "${PODMAN[@]}" healthcheck run "$c" >/dev/null 2>&1
        done
      done
    ) &
    HEALTH_TICKER=$!
    local kafka_container
    kafka_container=$("${PODMAN[@]}" ps -q --filter "label=io.podman.compose.project=$project" \
      --filter "label=com.docker.compose.service=kafka")
    [ -n "$kafka_container" ] || die "podman-compose started no kafka container"
    local health=""
    for _ in $(seq 1 120); do
      health=$("${PODMAN[@]}" inspect --format '{{.State.Health.Status}}' "$kafka_container")
      [ "$health" = healthy ] && break
      sleep 1
    done
    [ "$health" = healthy ] || die "Kafka did not become healthy by the compose health check: $health"
    ok "compose: Kafka healthy by the compose file's health check after $((($(now_ms) - up_started) / 1000)) s"
    local ready=""
    for _ in $(seq 1 600); do
      if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ]; then ready=1 && break; fi
      sleep 0.1
    done
    [ -n "$ready" ] || die "the proxy is not ready on the published $url: $("${PODMAN[@]}" logs "${project}_kafka-proxy_1" 2>&1 | tail -20)"
    ok "compose: the proxy answers /readyz 200 on the published port, $((($(now_ms) - up_started) / 1000)) s after up"
  }

  compose_up --build
  local topic="compose-test-$$"
  local reply
  reply=$(curl -sS -X POST -H "x-kafka-proxy-token: $token" "$url/topic/$topic")
  [ "$reply" = "Topic changed to $topic" ] || die "the topic change answered '$reply'"
  reply=$(printf '\016\000\000\000This is a test' |
    curl -sS -H "x-kafka-proxy-token: $token" -H 'content-type: application/octet-stream' \
      --data-binary @- "$url/")
  [ "$reply" = "1 messages received" ] || die "the push answered '$reply'"
  KAFKA_BROKERS=127.0.0.1:9094 check expect "$topic" 'This is a test'
  ok "compose: a push through the proxy is read back from Kafka's host port 9094"

  compose_down -t 30
  compose_up
  reply=$(curl -sS -H "x-kafka-proxy-token: $token" "$url/topic")
  [ "$reply" = "{\"topic\":\"$topic\"}" ] || die "after down and up the default topic is $reply, not $topic"
  ok "compose: the default topic survives down and up in the topic-cache volume"
}
