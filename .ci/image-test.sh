#!/usr/bin/env bash
# Builds the real Dockerfile the way release.yml does (--build-arg BINARY=release, the
# release binary at dist/linux-amd64/) with podman, in a container storage of its own, and
# checks that the image
#   1. holds the same bytes as the release binary (SHA-256 of the file copied out of it);
#   2. runs it as its entrypoint (--version);
#   3. runs it the GitLab way: entrypoint cleared, the script run by sh, the binary on PATH.
# The base image (busybox:1.37-musl) cannot be pulled here, so a stand-in made from
# Debian's busybox-static takes its name in that private storage (and nowhere else). The
# source-build stage (rust:alpine) cannot be pulled either: release builds skip it, and
# hadolint checks it (validate.sh).
#
# PEW_BIN: the x86_64 musl binary. Unset: built with cargo into the default target dir.
# Needs podman, runc and busybox (ship.sh installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOL=posteverywhere-wait

# shellcheck source=.ci/lib/musl_bin.sh
. "$ROOT/.ci/lib/musl_bin.sh"
BIN=$(musl_bin "$ROOT")
VERSION=$("$BIN" --version | awk '{print $2}')

# shellcheck source=.ci/lib/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
same() { [ "$1" = "$2" ]; }
sha() { sha256sum "$1" | awk '{print $1}'; }

W=$(mktemp -d "${TMPDIR:-/tmp}/pew-image-test.XXXXXX")
P=(podman --root "$W/storage" --runroot "$W/run" --storage-driver vfs)
IMAGE=localhost/$TOOL-image-test:latest
cleanup() {
  "${P[@]}" rm -a -f >/dev/null 2>&1 || true
  "${P[@]}" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT

# The build context as release.yml has it: the repository and the release binary.
mkdir -p "$W/ctx/dist/linux-amd64" "$W/base/bin"
cp -R "$ROOT/Dockerfile" "$ROOT/.dockerignore" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$ROOT/build.rs" "$ROOT/layout" "$ROOT/src" "$W/ctx/"
cp "$BIN" "$W/ctx/dist/linux-amd64/$TOOL"

# The stand-in base: busybox and its applet links, nothing else.
cp "$(command -v busybox)" "$W/base/bin/busybox"
for a in $(busybox --list); do
  [ "$a" = busybox ] || ln -s busybox "$W/base/bin/$a"
done
tar -C "$W/base" -c . | "${P[@]}" import --quiet - docker.io/library/busybox:1.37-musl >/dev/null

echo "-- podman build --build-arg BINARY=release"
"${P[@]}" build --quiet --pull=never --platform linux/amd64 --build-arg BINARY=release --tag "$IMAGE" "$W/ctx" >/dev/null
"${P[@]}" create --name pew-image-test "$IMAGE" >/dev/null
"${P[@]}" cp pew-image-test:/usr/local/bin/$TOOL "$W/from-image"
check "the image's binary is the release binary, byte for byte (sha256 $(sha "$BIN" | cut -c1-16)…)" \
  same "$(sha "$W/from-image")" "$(sha "$BIN")"

# As in container-test.sh: runc and lower ulimits where podman's defaults cannot run.
if ! "${P[@]}" run --rm --network none "$IMAGE" --version >/dev/null 2>&1; then
  printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]\n[engine]\nruntime = "runc"\n' \
    >"$W/containers.conf"
  export CONTAINERS_CONF="$W/containers.conf"
fi
check "entrypoint: --version" same "$("${P[@]}" run --rm --network none "$IMAGE" --version)" "$TOOL $VERSION"
rc=0
"${P[@]}" run --rm --network none --entrypoint "" -e POSTEVERYWHERE_SIMULATE=published "$IMAGE" \
  sh -c "$TOOL" >"$W/gitlab.out" 2>&1 || rc=$?
check "GitLab way (entrypoint cleared, sh -c $TOOL): exit 0" same "$rc" 0
check "GitLab way: 3/3 published" grep -q "published — 3/3 published" "$W/gitlab.out"
if [ "$fails" -gt 0 ]; then sed 's/^/  | /' "$W/gitlab.out"; fi

printf 'image-test: %d passed, %d failed\n' "$passes" "$fails"
[ "$fails" -eq 0 ]
