#!/usr/bin/env bash
# Runs a real Apache Kafka cluster (KRaft, no ZooKeeper, no Docker) on 127.0.0.1 for the tests and
# for local development. Details and troubleshooting: docs/kafka-harness.md.
#
#   scripts/kafka.sh up [--nodes N] [--name NAME] [--owner-pid PID]
#   scripts/kafka.sh down [--name NAME]
#   scripts/kafka.sh status [--name NAME | --all]
#   scripts/kafka.sh stop-node ID [--kill] [--name NAME]
#   scripts/kafka.sh start-node ID [--name NAME]
#   scripts/kafka.sh fetch
#   scripts/kafka.sh perf-test ARGS...   Kafka's own ProducerPerformance (kafka-producer-perf-test)
#
# `up` and `status` print `KAFKA_BROKERS=127.0.0.1:PORT[,...]` on stdout, so `eval "$(...)"` works;
# everything else goes to stderr. Clusters are told apart by NAME (default `dev`); each has its own
# ports and its own state directory, so any number of them can run side by side.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

SCRIPT="$KPROXY_ROOT/scripts/kafka.sh"
KAFKA_DIR="$KPROXY_ROOT/scripts/kafka"
KAFKA_VERSION="${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_DIR/pom.xml")}"
STATE_BASE="${TMPDIR:-/tmp}"
STATE_BASE="${KPROXY_STATE_DIR:-${STATE_BASE%/}/kafka-proxy}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
JVM_OPTS="${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true}"
# Large enough for the server's biggest message (16 MiB by default) plus batch overhead.
MAX_MESSAGE_BYTES="${KAFKA_MAX_MESSAGE_BYTES:-20971520}"

usage() {
  sed -n '5,10s/^#  //p' "$SCRIPT" >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Small helpers

now_ms() {
  if [ -n "${EPOCHREALTIME:-}" ]; then
    local t="${EPOCHREALTIME/[.,]/}"
    echo "${t%???}"
  else
    echo "$(($(date +%s) * 1000))"
  fi
}

seconds_since() { # START_MS -> "12.3"
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' "$((ms / 1000))" "$((ms % 1000 / 100))"
}

# Locks are directories (mkdir is atomic everywhere, flock is not on macOS). A lock whose holder
# died is taken over.
HELD_LOCKS=()
acquire_lock() { # DIR [TIMEOUT_S]
  local lock="$1" deadline=$((SECONDS + ${2:-300})) holder
  while ! mkdir "$lock" 2>/dev/null; do
    holder="$(cat "$lock/pid" 2>/dev/null || true)"
    if [ -n "$holder" ] && ! kill -0 "$holder" 2>/dev/null; then
      rm -rf "$lock"
      continue
    fi
    [ "$SECONDS" -lt "$deadline" ] || die "timed out waiting for $lock (held by pid ${holder:-?})"
    sleep 0.2
  done
  echo "$$" >"$lock/pid"
  HELD_LOCKS+=("$lock")
}

release_lock() { # DIR
  rm -rf "$1"
  local kept=() l
  for l in ${HELD_LOCKS[@]+"${HELD_LOCKS[@]}"}; do [ "$l" = "$1" ] || kept+=("$l"); done
  HELD_LOCKS=(${kept[@]+"${kept[@]}"})
}

# Set while `up` has started processes that are not yet a working cluster: any exit before it is
# cleared (an error, Ctrl-C) stops them and removes their state.
STARTING=""
on_exit() {
  local status=$?
  if [ -n "$STARTING" ]; then
    log "start-up of cluster '$NAME' did not finish; stopping what was started"
    stop_nodes TERM 5 $(seq 1 "$NODES") || true
    [ -n "${KAFKA_KEEP_STATE:-}" ] || rm -rf "$DIR"
  fi
  local l
  for l in ${HELD_LOCKS[@]+"${HELD_LOCKS[@]}"}; do rm -rf "$l"; done
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

require_java() {
  JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  command -v "$JAVA" >/dev/null ||
    die "Java 17+ is needed to run Kafka: '$JAVA' not found (install a JDK or set JAVA_HOME)"
  local version
  version="$("$JAVA" -version 2>&1 | sed -n 's/.* version "\([0-9]*\).*/\1/p' | head -n 1)"
  [ "${version:-0}" -ge 17 ] 2>/dev/null ||
    die "Java 17+ is needed to run Kafka, found: $("$JAVA" -version 2>&1 | head -n 1)"
}

# The readiness probe uses kafkajs from tools/testkit; install the workspace if it is missing.
require_probe() {
  require_node
  if ! (cd "$KPROXY_ROOT/tools/testkit" && node -e "require.resolve('kafkajs')") 2>/dev/null; then
    log "kafkajs (used to check that Kafka serves clients) is not installed; installing dependencies"
    install_deps
  fi
}

# Sets LIBS to a directory of Kafka's jars: $KAFKA_HOME/libs, or a cache filled from Maven Central.
kafka_libs() {
  home_libs "kafka_2.13-*.jar" && return
  LIBS="$KPROXY_CACHE_DIR/kafka-$KAFKA_VERSION/libs"
  fetch_jars "$KAFKA_DIR/pom.xml" "$LIBS" "kafka_2.13-$KAFKA_VERSION.jar" "broker jars"
}

# Sets LIBS to a directory holding Kafka's tools (kafka-producer-perf-test's ProducerPerformance):
# $KAFKA_HOME/libs, or a cache of its own filled from Maven Central.
kafka_tools_libs() {
  home_libs "kafka-tools-[0-9]*.jar" && return
  LIBS="$KPROXY_CACHE_DIR/kafka-tools-$KAFKA_VERSION/libs"
  fetch_jars "$KAFKA_DIR/tools-pom.xml" "$LIBS" "kafka-tools-$KAFKA_VERSION.jar" "tools jars"
}

# With KAFKA_HOME set: LIBS=$KAFKA_HOME/libs, which must hold a jar matching GLOB. Else false.
home_libs() { # GLOB
  [ -n "${KAFKA_HOME:-}" ] || return 1
  LIBS="$KAFKA_HOME/libs"
  compgen -G "$LIBS/$1" >/dev/null || die "KAFKA_HOME=$KAFKA_HOME has no libs/$1"
}

fetch_jars() { # POM DIR EXPECTED_JAR WHAT
  local pom="$1" libs="$2" expected="$3" what="$4"
  [ -f "$libs/.complete" ] && return
  command -v mvn >/dev/null ||
    die "Maven is needed to download Kafka $KAFKA_VERSION (or set KAFKA_HOME to a Kafka distribution)"
  local home
  home="$(dirname "$libs")"
  mkdir -p "$home"
  acquire_lock "$home/.lock" 900
  if [ ! -f "$libs/.complete" ]; then
    local tmp="$libs.partial-$$" start
    start="$(now_ms)"
    log "downloading Kafka $KAFKA_VERSION ($what from Maven Central) into $libs"
    rm -rf "$tmp"
    # sed drops the colour resets that Maven 3.8 prints even when quiet.
    if ! mvn -q -B -f "$pom" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
      sed 's/\x1b\[[0-9;]*m//g' >&2; then
      rm -rf "$tmp"
      die "could not download Kafka $KAFKA_VERSION with Maven (see its output above)"
    fi
    [ -f "$tmp/$expected" ] || die "Maven did not bring $expected"
    touch "$tmp/.complete"
    rm -rf "$libs"
    mv "$tmp" "$libs"
    log "downloaded Kafka $KAFKA_VERSION $what in $(seconds_since "$start") s"
  fi
  release_lock "$home/.lock"
}

# ---------------------------------------------------------------------------------------------
# Cluster state: $DIR/cluster.env (sourced), $DIR/node-ID/{server.properties,data,kafka.log,pid}

set_cluster() { # NAME
  case "$1" in
  '' | *[!A-Za-z0-9._-]* | . | ..) die "invalid cluster name '$1' (use letters, digits, . _ -)" ;;
  esac
  NAME="$1"
  DIR="$STATE_BASE/$NAME"
  LOCK="$STATE_BASE/$NAME.lock"
}

load_cluster() { # -> 0 when the cluster has state
  [ -f "$DIR/cluster.env" ] || return 1
  # shellcheck disable=SC1091
  source "$DIR/cluster.env"
}

nth() { # INDEX(1-based) "WORD WORD ..."
  echo "$2" | cut -d ' ' -f "$1"
}

node_pid() { # ID -> prints the pid when that node's JVM is running
  local pidfile="$DIR/node-$1/pid" pid
  [ -f "$pidfile" ] || return 1
  pid="$(cat "$pidfile")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # The pid must still be our JVM, not a recycled pid.
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
  *"$DIR/node-$1/server.properties"*) echo "$pid" ;;
  *) return 1 ;;
  esac
}

running_count() {
  local n=0 i
  for i in $(seq 1 "$NODES"); do node_pid "$i" >/dev/null && n=$((n + 1)); done
  echo "$n"
}

# Every port that the other clusters' state files claim, running or not.
reserved_ports() {
  local env
  for env in "$STATE_BASE"/*/cluster.env; do
    if [ ! -f "$env" ] || [ "$env" = "$DIR/cluster.env" ]; then continue; fi
    (
      # shellcheck disable=SC1090
      source "$env"
      echo "$BROKER_PORTS $CONTROLLER_PORTS"
    )
  done
}

# Chooses the ports (KAFKA_PORT / KAFKA_CONTROLLER_PORT give the first node's, the others follow)
# and records the cluster, under a lock shared by all clusters so that none picks another's ports.
allocate_cluster() {
  acquire_lock "$STATE_BASE/.ports.lock" 60
  local ports i reserved
  reserved="$(reserved_ports | tr '\n' ' ')"
  # shellcheck disable=SC2086
  ports="$(node "$KAFKA_DIR/ports.mjs" pick $((2 * NODES)) $reserved)" || die "could not pick free ports"
  BROKER_PORTS="" CONTROLLER_PORTS=""
  for i in $(seq 1 "$NODES"); do
    if [ -n "${KAFKA_PORT:-}" ]; then
      BROKER_PORTS="$BROKER_PORTS $((KAFKA_PORT + i - 1))"
    else
      BROKER_PORTS="$BROKER_PORTS $(nth "$i" "$ports")"
    fi
    if [ -n "${KAFKA_CONTROLLER_PORT:-}" ]; then
      CONTROLLER_PORTS="$CONTROLLER_PORTS $((KAFKA_CONTROLLER_PORT + i - 1))"
    else
      CONTROLLER_PORTS="$CONTROLLER_PORTS $(nth "$((NODES + i))" "$ports")"
    fi
  done
  BROKER_PORTS="${BROKER_PORTS# }" CONTROLLER_PORTS="${CONTROLLER_PORTS# }"
  local taken
  # shellcheck disable=SC2086
  if ! taken="$(node "$KAFKA_DIR/ports.mjs" check $BROKER_PORTS $CONTROLLER_PORTS)"; then
    die "port $taken is already in use (check KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  fi
  KAFKA_BROKERS=""
  for i in $BROKER_PORTS; do KAFKA_BROKERS="$KAFKA_BROKERS,127.0.0.1:$i"; done
  KAFKA_BROKERS="${KAFKA_BROKERS#,}"
  CLUSTER_ID="$(node -e "
    const { randomBytes } = require('node:crypto');
    let id;
    do id = randomBytes(16).toString('base64url'); while (id.startsWith('-'));
    console.log(id);")"
  mkdir -p "$DIR"
  cat >"$DIR/cluster.env" <<EOF
NODES=$NODES
KAFKA_VERSION_RUN='$KAFKA_VERSION'
LIBS='$LIBS'
CLUSTER_ID='$CLUSTER_ID'
BROKER_PORTS='$BROKER_PORTS'
CONTROLLER_PORTS='$CONTROLLER_PORTS'
KAFKA_BROKERS='$KAFKA_BROKERS'
EOF
  release_lock "$STATE_BASE/.ports.lock"
}

write_node_config() { # ID
  local id="$1" nd="$DIR/node-$1" voters="" i rf min_isr
  rf=$((NODES < 3 ? NODES : 3))
  min_isr=$((rf > 1 ? 2 : 1))
  for i in $(seq 1 "$NODES"); do voters="$voters,$i@127.0.0.1:$(nth "$i" "$CONTROLLER_PORTS")"; done
  mkdir -p "$nd/data"
  cat >"$nd/server.properties" <<EOF
# Written by scripts/kafka.sh for cluster '$NAME', node $id of $NODES.
process.roles=broker,controller
node.id=$id
controller.quorum.voters=${voters#,}
listeners=PLAINTEXT://127.0.0.1:$(nth "$id" "$BROKER_PORTS"),CONTROLLER://127.0.0.1:$(nth "$id" "$CONTROLLER_PORTS")
advertised.listeners=PLAINTEXT://127.0.0.1:$(nth "$id" "$BROKER_PORTS")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$nd/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
message.max.bytes=$MAX_MESSAGE_BYTES
replica.fetch.max.bytes=$MAX_MESSAGE_BYTES
EOF
  if [ "$NODES" -gt 1 ]; then
    cat >>"$nd/server.properties" <<EOF
# Fence a stopped node after 3 s instead of 9 s, so failover tests stay short.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
EOF
  fi
  if [ -n "${KAFKA_SERVER_PROPERTIES:-}" ]; then
    printf '# From KAFKA_SERVER_PROPERTIES=%s\n' "$KAFKA_SERVER_PROPERTIES" >>"$nd/server.properties"
    cat "$KAFKA_SERVER_PROPERTIES" >>"$nd/server.properties"
  fi
}

format_storage() {
  local i pids="" failed=""
  for i in $(seq 1 "$NODES"); do
    "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$DIR/log4j2.properties" -cp "$LIBS/*" \
      kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$DIR/node-$i/server.properties" \
      >"$DIR/node-$i/format.log" 2>&1 &
    pids="$pids $!"
  done
  i=0
  for pid in $pids; do
    i=$((i + 1))
    wait "$pid" || failed="$failed $i"
  done
  if [ -n "$failed" ]; then
    for i in $failed; do tail -n 20 "$DIR/node-$i/format.log" >&2; done
    die "formatting the storage of node(s)$failed failed"
  fi
}

start_node_process() { # ID
  local nd="$DIR/node-$1" detach=""
  command -v setsid >/dev/null && detach=setsid
  rm -f "$nd/pid"
  # The wrapper writes its own pid, then becomes the JVM: the pid file is the JVM's whatever
  # setsid does. Its own session keeps it out of the caller's Ctrl-C and terminal hang-up.
  # Every descriptor is redirected on the subshell itself, so nothing keeps the caller's stdout
  # open (a caller reading `up`'s output would otherwise wait for the broker to exit).
  # shellcheck disable=SC2016,SC2086
  (
    cd "$nd"
    exec $detach bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-node "$nd/pid" \
      "$JAVA" $HEAP_OPTS $JVM_OPTS -Dlog4j2.configurationFile="$DIR/log4j2.properties" \
      -Dkafka.logs.dir="$nd/logs" -cp "$LIBS/*" kafka.Kafka "$nd/server.properties"
  ) >>"$nd/kafka.log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 50); do
    [ -s "$nd/pid" ] && return 0
    sleep 0.1
  done
  die "node $1 did not start (see $nd/kafka.log)"
}

# Waits until each listed node logged that it started (after byte OFFSET of its log), then until
# the cluster serves clients with EXPECTED brokers. Returns 2 when a node could not bind its port.
wait_ready() { # DEADLINE_S "ID:OFFSET ..." EXPECTED
  local deadline="$1" expected="$3" entry id offset
  for entry in $2; do
    id="${entry%%:*}" offset="${entry#*:}"
    local log="$DIR/node-$id/kafka.log"
    until tail -c "+$((offset + 1))" "$log" 2>/dev/null | grep -q 'Kafka Server started'; do
      if ! node_pid "$id" >/dev/null; then
        tail -n 30 "$log" >&2 || true
        log "node $id of cluster '$NAME' exited during start-up (log: $log)"
        grep -q 'Address already in use' "$log" && return 2
        return 1
      fi
      if [ "$SECONDS" -ge "$deadline" ]; then
        tail -n 30 "$log" >&2 || true
        log "node $id of cluster '$NAME' did not start within ${START_TIMEOUT}s (log: $log)"
        return 1
      fi
      sleep 0.2
    done
  done
  local left_ms=$(((deadline - SECONDS) * 1000))
  [ "$left_ms" -gt 1000 ] || left_ms=1000
  # kafkajs 2.2.4 on Node >= 23 arms a timer with a negative delay and Node warns of it on every
  # start-up (tulios/kafkajs#1751); Node runs it after 1 ms, which is what kafkajs means.
  node --disable-warning=TimeoutNegativeWarning "$KAFKA_DIR/probe.mjs" "$KAFKA_BROKERS" "$expected" "$left_ms" ||
    return 1
}

# Stops nodes: SIGNAL (TERM = controlled shutdown, KILL = crash), then SIGKILL after TIMEOUT_S.
stop_nodes() { # SIGNAL TIMEOUT_S ID...
  local signal="$1" timeout="$2" id pid deadline
  shift 2
  for id in "$@"; do
    if pid="$(node_pid "$id")"; then kill -s "$signal" "$pid" 2>/dev/null || true; fi
  done
  deadline=$((SECONDS + timeout))
  for id in "$@"; do
    while pid="$(node_pid "$id")"; do
      if [ "$SECONDS" -ge "$deadline" ]; then
        log "node $id (pid $pid) did not stop within ${timeout}s; killing it"
        kill -s KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.1
    done
    rm -f "$DIR/node-$id/pid"
  done
}

start_watchdog() { # OWNER_PID
  local detach=""
  command -v setsid >/dev/null && detach=setsid
  (exec $detach bash "$SCRIPT" _watch --name "$NAME" --owner-pid "$1") >/dev/null 2>&1 </dev/null &
  echo "$!" >"$DIR/watchdog.pid"
}

stop_watchdog() {
  local pid
  pid="$(cat "$DIR/watchdog.pid" 2>/dev/null)" || return 0
  [ "$pid" != "$$" ] || return 0
  case "$(ps -p "$pid" -o args= 2>/dev/null)" in
  *"_watch --name $NAME "*) kill "$pid" 2>/dev/null || true ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_up() {
  case "$NODES" in [1-9]) ;; *) die "--nodes must be 1 to 9, got '$NODES'" ;; esac
  mkdir -p "$STATE_BASE"
  acquire_lock "$LOCK"
  local wanted="$NODES"
  if load_cluster; then
    local running
    running="$(running_count)"
    if [ "$running" -eq "$NODES" ]; then
      [ "$wanted" -eq "$NODES" ] ||
        die "cluster '$NAME' is already running with $NODES node(s); 'down' it first"
      log "cluster '$NAME' is already running ($NODES node(s), state in $DIR)"
      echo "KAFKA_BROKERS=$KAFKA_BROKERS"
      return
    fi
    log "cluster '$NAME' has $running of $NODES node(s) running; starting it afresh"
    stop_nodes TERM "$STOP_TIMEOUT" $(seq 1 "$NODES")
    stop_watchdog
    rm -rf "$DIR"
  fi
  NODES="$wanted"
  require_java
  require_probe
  kafka_libs

  local start attempt=1 status i
  start="$(now_ms)"
  while :; do
    allocate_cluster
    STARTING=1
    cp "$KAFKA_DIR/log4j2.properties" "$DIR/log4j2.properties"
    for i in $(seq 1 "$NODES"); do write_node_config "$i"; done
    log "starting Kafka $KAFKA_VERSION cluster '$NAME': $NODES node(s) at $KAFKA_BROKERS"
    format_storage
    local waits=""
    for i in $(seq 1 "$NODES"); do
      start_node_process "$i"
      waits="$waits $i:0"
    done
    status=0
    wait_ready "$((SECONDS + START_TIMEOUT))" "$waits" "$NODES" || status=$?
    [ "$status" -ne 0 ] || break
    stop_nodes TERM 5 $(seq 1 "$NODES")
    STARTING=""
    if [ "$status" -eq 2 ] && [ -z "${KAFKA_PORT:-}${KAFKA_CONTROLLER_PORT:-}" ] && [ "$attempt" -lt 3 ]; then
      log "a port was taken meanwhile; trying other ports"
      rm -rf "$DIR"
      attempt=$((attempt + 1))
      continue
    fi
    [ -n "${KAFKA_KEEP_STATE:-}" ] || rm -rf "$DIR"
    die "Kafka cluster '$NAME' did not become ready"
  done
  STARTING=""
  [ -z "$OWNER_PID" ] || start_watchdog "$OWNER_PID"
  log "Kafka $KAFKA_VERSION cluster '$NAME' ($NODES node(s)) ready in $(seconds_since "$start") s; logs in $DIR"
  echo "KAFKA_BROKERS=$KAFKA_BROKERS"
}

cmd_down() {
  [ -d "$STATE_BASE" ] || {
    log "no Kafka cluster named '$NAME' is running"
    return
  }
  acquire_lock "$LOCK"
  if ! load_cluster; then
    rm -rf "$DIR"
    log "no Kafka cluster named '$NAME' is running"
    return
  fi
  local start
  start="$(now_ms)"
  stop_watchdog
  stop_nodes TERM "$STOP_TIMEOUT" $(seq 1 "$NODES")
  if [ -n "${KAFKA_KEEP_STATE:-}" ]; then
    log "stopped Kafka cluster '$NAME' in $(seconds_since "$start") s; state kept in $DIR"
    rm -f "$DIR/cluster.env"
  else
    rm -rf "$DIR"
    log "stopped Kafka cluster '$NAME' in $(seconds_since "$start") s and removed its data"
  fi
}

cmd_status() {
  if [ -n "$ALL" ]; then
    local env found=""
    for env in "$STATE_BASE"/*/cluster.env; do
      [ -f "$env" ] || continue
      found=1
      (
        set_cluster "$(basename "$(dirname "$env")")"
        load_cluster
        log "$NAME: $(running_count) of $NODES node(s) running, KAFKA_BROKERS=$KAFKA_BROKERS"
      )
    done
    [ -n "$found" ] || log "no Kafka cluster is running (state dir $STATE_BASE)"
    return
  fi
  if ! load_cluster; then
    log "no Kafka cluster named '$NAME' is running"
    exit 3
  fi
  local i pid running=0
  log "cluster '$NAME': Kafka ${KAFKA_VERSION_RUN}, $NODES node(s), state in $DIR"
  for i in $(seq 1 "$NODES"); do
    if pid="$(node_pid "$i")"; then
      running=$((running + 1))
      log "  node $i: running (pid $pid), broker 127.0.0.1:$(nth "$i" "$BROKER_PORTS"), controller 127.0.0.1:$(nth "$i" "$CONTROLLER_PORTS")"
    else
      log "  node $i: stopped, broker 127.0.0.1:$(nth "$i" "$BROKER_PORTS")"
    fi
  done
  echo "KAFKA_BROKERS=$KAFKA_BROKERS"
  [ "$running" -eq "$NODES" ] || exit 1
}

node_arg() { # -> validated node id in NODE_ID
  load_cluster || die "no Kafka cluster named '$NAME' is running"
  case "$NODE_ID" in
  [1-9]) [ "$NODE_ID" -le "$NODES" ] || die "cluster '$NAME' has nodes 1 to $NODES, not $NODE_ID" ;;
  *) die "usage: $0 $COMMAND ID [--name NAME] (ID is a node id, 1 to 9)" ;;
  esac
}

cmd_stop_node() {
  acquire_lock "$LOCK"
  node_arg
  if ! node_pid "$NODE_ID" >/dev/null; then
    log "node $NODE_ID of cluster '$NAME' is not running"
    return
  fi
  local start
  start="$(now_ms)"
  stop_nodes "$SIGNAL" "$STOP_TIMEOUT" "$NODE_ID"
  log "stopped node $NODE_ID of cluster '$NAME' (SIG$SIGNAL) in $(seconds_since "$start") s"
}

cmd_start_node() {
  acquire_lock "$LOCK"
  node_arg
  if node_pid "$NODE_ID" >/dev/null; then
    log "node $NODE_ID of cluster '$NAME' is already running"
    return
  fi
  require_java
  local start offset
  start="$(now_ms)"
  offset="$(wc -c <"$DIR/node-$NODE_ID/kafka.log" | tr -d ' ')"
  start_node_process "$NODE_ID"
  wait_ready "$((SECONDS + START_TIMEOUT))" "$NODE_ID:$offset" "$(running_count)" ||
    die "node $NODE_ID of cluster '$NAME' did not rejoin (log: $DIR/node-$NODE_ID/kafka.log)"
  log "node $NODE_ID of cluster '$NAME' rejoined in $(seconds_since "$start") s"
}

# Stops the cluster once OWNER_PID is gone, so a test run that was killed leaves nothing behind.
cmd_watch() {
  trap - TERM INT # `down` ends the watchdog with SIGTERM: die at once, not after the sleep
  [ -d "$DIR" ] || exit 0
  echo "$$" >"$DIR/watchdog.pid"
  while kill -0 "$OWNER_PID" 2>/dev/null; do sleep 2; done
  [ "$(cat "$DIR/watchdog.pid" 2>/dev/null)" = "$$" ] || exit 0
  exec bash "$SCRIPT" down --name "$NAME"
}

COMMAND="${1:-}"
[ -n "$COMMAND" ] || usage
shift
NODES=1
ALL=""
OWNER_PID=""
SIGNAL=TERM
NODE_ID=""
set_cluster dev
PERF_ARGS=()
if [ "$COMMAND" = perf-test ]; then
  PERF_ARGS=("$@") # ProducerPerformance's own options, passed through untouched
  set --
fi
while [ $# -gt 0 ]; do
  case "$1" in
  --nodes) NODES="${2:?--nodes needs a number}" && shift ;;
  --nodes=*) NODES="${1#*=}" ;;
  --name) set_cluster "${2:?--name needs a value}" && shift ;;
  --name=*) set_cluster "${1#*=}" ;;
  --owner-pid) OWNER_PID="${2:?--owner-pid needs a pid}" && shift ;;
  --all) ALL=1 ;;
  --kill) SIGNAL=KILL ;;
  -h | --help) usage ;;
  -*) die "unknown option $1" ;;
  *)
    [ -z "$NODE_ID" ] || die "unexpected argument $1"
    NODE_ID="$1"
    ;;
  esac
  shift
done

case "$COMMAND" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
stop-node) cmd_stop_node ;;
start-node) cmd_start_node ;;
fetch)
  require_java
  kafka_libs
  log "Kafka jars: $LIBS"
  ;;
perf-test)
  require_java
  kafka_tools_libs
  exec "$JAVA" -Xms256m -Xmx512m -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    -cp "$LIBS/*" org.apache.kafka.tools.ProducerPerformance "${PERF_ARGS[@]}"
  ;;
_watch) cmd_watch ;;
-h | --help | help) usage ;;
*) die "unknown command '$COMMAND'" ;;
esac
