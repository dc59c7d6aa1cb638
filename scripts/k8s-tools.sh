#!/usr/bin/env bash
# The tools apps/server/test/deploy.test.ts checks deploy/kubernetes with, installed into the
# cache at pinned versions when missing, and printed as lines to eval:
#   KPROXY_KUBERNETES_VALIDATE=...  kubernetes-validate (PyPI), which ships the Kubernetes JSON
#                                   schemas, in a virtualenv: offline validation, --strict
#   KPROXY_KUSTOMIZE=...            kustomize (the Go module kubectl kustomize embeds), built
#                                   with the machine's Go from the Go module proxy
# scripts/test.sh runs this before the tests; the test runs it itself when the variables are unset.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

VALIDATE_VERSION=1.37.0
# kubernetes-validate's own dependencies, pinned as well.
VALIDATE_REQUIREMENTS=(
  "kubernetes-validate==$VALIDATE_VERSION" attrs==26.1.0 importlib_resources==7.1.0
  jsonschema==4.26.0 jsonschema-specifications==2025.9.1 packaging==26.4 PyYAML==6.0.4
  referencing==0.37.0 rpds-py==2026.9.1 typing_extensions==4.16.0
)
# v5.8.3 needs Go 1.27; v5.8.2 builds with the Go of this kind of machine.
KUSTOMIZE_VERSION=5.8.2

validate_dir="$KPROXY_CACHE_DIR/kubernetes-validate-$VALIDATE_VERSION"
if [ ! -x "$validate_dir/bin/kubernetes-validate" ]; then
  command -v python3 >/dev/null || die "python3 is needed for kubernetes-validate"
  log "installing kubernetes-validate $VALIDATE_VERSION into $validate_dir"
  rm -rf "$validate_dir"
  python3 -m venv "$validate_dir" >&2 || die "python3 -m venv failed"
  "$validate_dir/bin/pip" install -q --disable-pip-version-check "${VALIDATE_REQUIREMENTS[@]}" >&2 ||
    { rm -rf "$validate_dir"; die "pip could not install kubernetes-validate $VALIDATE_VERSION"; }
fi

kustomize_dir="$KPROXY_CACHE_DIR/kustomize-$KUSTOMIZE_VERSION"
if [ ! -x "$kustomize_dir/bin/kustomize" ]; then
  command -v go >/dev/null || die "Go is needed to build kustomize $KUSTOMIZE_VERSION"
  log "building kustomize $KUSTOMIZE_VERSION into $kustomize_dir (once; about two minutes)"
  GOBIN="$kustomize_dir/bin" GOPATH="$KPROXY_CACHE_DIR/go" GOTOOLCHAIN=local \
    go install "sigs.k8s.io/kustomize/kustomize/v5@v$KUSTOMIZE_VERSION" >&2 ||
    die "could not build kustomize $KUSTOMIZE_VERSION"
fi

echo "KPROXY_KUBERNETES_VALIDATE=$validate_dir/bin/kubernetes-validate"
echo "KPROXY_KUSTOMIZE=$kustomize_dir/bin/kustomize"
