# Shared by the image scripts: `musl_bin ROOT` prints the x86_64 musl release binary's path,
# PEW_BIN when set, else built with cargo into the default target dir.
# shellcheck shell=bash
musl_bin() {
  if [ -n "${PEW_BIN:-}" ]; then
    printf '%s\n' "$PEW_BIN"
    return
  fi
  (cd "$1" && cargo build --release --locked --target x86_64-unknown-linux-musl >&2)
  printf '%s\n' "${CARGO_TARGET_DIR:-$1/target}/x86_64-unknown-linux-musl/release/posteverywhere-wait"
}
