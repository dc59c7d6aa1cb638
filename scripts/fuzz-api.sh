#!/usr/bin/env bash
# Opt-in API fuzzing (not part of `npm test`): runs schemathesis against the server's own
# `GET /openapi.json`, with every check, in positive and negative mode, bounded examples and a fixed
# seed. Installs schemathesis into a virtualenv under $KPROXY_CACHE_DIR, builds the server, starts a
# broker and a server of its own on 127.0.0.1 (both stopped on exit, whatever happens), and exits
# with schemathesis's status. Extra arguments go to `st run`, e.g. `scripts/fuzz-api.sh -n 1000`.
#
#   FUZZ_PYTHON            Python for the virtualenv (default: python3.13, python3.12, python3)
#   FUZZ_MAX_EXAMPLES      test cases per operation and phase (default 300)
#   FUZZ_SEED              hypothesis seed (default 1)
#   SCHEMATHESIS_VERSION   pinned so runs are comparable (default 4.32.5)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$KPROXY_ROOT"

SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-300}"
SEED="${FUZZ_SEED:-1}"
TOKEN="fuzz-$$-$RANDOM$RANDOM"
TOPIC="fuzz-default"

# CPython 3.11.7 crashes inside hypothesis during schemathesis's coverage phase ("AST constructor
# recursion depth mismatch"), so a newer Python is preferred when there is one.
python="${FUZZ_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3; do
    if "$candidate" -c "import venv" >/dev/null 2>&1; then
      python="$candidate"
      break
    fi
  done
fi
[ -n "$python" ] || die "Python 3 is needed (set FUZZ_PYTHON)"
venv="$KPROXY_CACHE_DIR/schemathesis-$SCHEMATHESIS_VERSION-$("$python" -c 'import sys; print("py%d.%d" % sys.version_info[:2])')"
if [ ! -x "$venv/bin/st" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION" >&2 ||
    die "could not install schemathesis"
fi

install_deps
log "building the server"
pnpm exec turbo run build --filter=@kproxy/server --output-logs=errors-only >&2 ||
  die "build failed (see above)"

name="fuzz-api-$$"
server_pid=""
workdir="$(mktemp -d "${TMPDIR:-/tmp}/kproxy-fuzz.XXXXXX")"
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  bash scripts/kafka.sh down --name "$name" >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting a broker ($name)"
eval "$(bash scripts/kafka.sh up --name "$name" --owner-pid $$)"
export KAFKA_BROKERS

(cd apps/server && node --input-type=module -e "
  import { Kafka } from 'kafkajs';
  const admin = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: 0 }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: '$TOPIC' }], waitForLeaders: true });
  await admin.disconnect();
") || die "could not create topic $TOPIC"

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
base="http://127.0.0.1:$port"
log "starting the server on $base (log: $workdir/server.log)"
KAFKA_PROXY_TOKEN="$TOKEN" KAFKA_PROXY_KAFKA_SERVER="$KAFKA_BROKERS" KAFKA_PROXY_TOPIC="$TOPIC" \
  KAFKA_PROXY_HOST=127.0.0.1 KAFKA_PROXY_PORT="$port" LOG_LEVEL=warn \
  apps/server/dist/main.js >"$workdir/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  if node -e "fetch('$base/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || die "the server exited: $(tail -n 20 "$workdir/server.log")"
  sleep 0.2
done

# positive_data_acceptance is left out: the body schema cannot express length-prefixed framing, so
# random bytes are rightly refused (400 truncated_frame, 413 message_too_large) and would all be
# reported. Every other check runs, on generated valid and invalid data.
log "running schemathesis (max $MAX_EXAMPLES examples per operation, seed $SEED)"
status=0
# From the work directory: schemathesis keeps a `.schemathesis/` cache in its working directory.
(cd "$workdir" && "$venv/bin/st" run "$base/openapi.json" \
  --header "x-kafka-proxy-token: $TOKEN" \
  --checks all --exclude-checks positive_data_acceptance \
  --mode all --continue-on-failure \
  --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 2 \
  --request-timeout 15 --generation-database none \
  "$@") || status=$?

if ! kill -0 "$server_pid" 2>/dev/null; then
  log "the server died during the run: $(tail -n 20 "$workdir/server.log")"
  status=1
elif grep -q '"level":"\(error\|fatal\)"' "$workdir/server.log"; then
  log "the server logged errors:"
  grep '"level":"\(error\|fatal\)"' "$workdir/server.log" | head -n 20 >&2
  status=1
fi
exit "$status"
