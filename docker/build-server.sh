#!/usr/bin/env bash
# Builds the server and assembles a self-contained directory that runs with `node dist/main.js`:
# package.json, dist/, production node_modules (no dev dependencies, no sources, no tests) and the
# container health check. docker/Dockerfile runs exactly this, and so does the test that starts
# the result outside Docker ("the image's build output" in apps/server/test/deploy.test.ts), so
# what is tested is what ships.
#
#   docker/build-server.sh [--no-build] OUT_DIR
#
# --no-build skips the install and the build, for callers that just built (the test suite runs
# after `turbo run build`, and rebuilding there would rewrite dist/ under the other tests' feet).
set -euo pipefail

# shellcheck source=../scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/common.sh"

build=1
if [ "${1:-}" = "--no-build" ]; then
  build=0
  shift
fi
out="${1:?usage: docker/build-server.sh [--no-build] OUT_DIR}"
if [ -e "$out" ] && [ -n "$(ls -A "$out")" ]; then
  die "$out exists and is not empty"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
staging="$(mktemp -d "${out%/}.staging.XXXXXX")"
trap 'rm -rf "$staging"' EXIT

ensure_pnpm
cd "$KPROXY_ROOT"
if [ "$build" = 1 ]; then
  log "installing dependencies from the lockfile"
  pnpm install --frozen-lockfile --prefer-offline --reporter=append-only >&2
  log "building @kproxy/server and what it depends on"
  pnpm exec turbo run build --filter '@kproxy/server...' --output-logs=errors-only >&2
fi
[ -f apps/server/dist/main.js ] || die "apps/server/dist/main.js is missing: build the server first"
log "collecting production dependencies"
# --legacy: the workspace does not inject its packages, so pnpm 10's default deploy refuses.
pnpm --filter @kproxy/server deploy --legacy --prod "$staging/app" >&2

mv "$staging/app/package.json" "$staging/app/dist" "$staging/app/node_modules" "$out/"
find "$out/dist" \( -name '*.test.*' -o -name '*.tsbuildinfo' \) -delete
cp "$KPROXY_ROOT/docker/healthcheck.mjs" "$out/healthcheck.mjs"
log "server ready in $out (start it with: node dist/main.js)"
