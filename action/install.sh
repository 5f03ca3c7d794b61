#!/usr/bin/env bash
# Finds the posteverywhere-wait binary for this runner and writes its path to $GITHUB_OUTPUT
# (`path=…`, `source=tool-cache|release|source-build`). In order:
#   1. the tool cache (RUNNER_TOOL_CACHE/posteverywhere-wait/<version>/<arch>), for a release ref;
#   2. the release asset for the action's ref, verified against the release's SHA256SUMS
#      (a mismatch is a hard error), then stored in the tool cache;
#   3. `cargo build --release --locked` of the action's own source (branches, commits that are
#      not a release, local `uses: ./`, platforms without an asset), with a notice.
#
# Environment (set by action.yml; all optional when run by hand):
#   PEW_ACTION_REF, PEW_ACTION_REPOSITORY  github.action_ref / github.action_repository
#   GITHUB_ACTION_PATH                     the action's source (default: this script's ..)
#   RUNNER_OS, RUNNER_ARCH                 Linux|macOS|Windows, X64|ARM64 (default: uname)
#   RUNNER_TOOL_CACHE, RUNNER_TEMP         where to cache / build
#   POSTEVERYWHERE_WAIT_DOWNLOAD_URL       release mirror: <url>/<tag>/<asset> (default:
#                                          https://github.com/<repo>/releases/download)
# Downloads go through action/fetch.sh (curl, GNU wget or busybox wget).
# Works with bash 3.2 (macOS) and Git Bash (Windows). Sourcing it defines the functions only.
set -euo pipefail

PEW_TOOL=posteverywhere-wait
PEW_DEFAULT_REPO=posteverywhere-wait/posteverywhere-wait

pew_say() { printf '%s: %s\n' "$PEW_TOOL" "$*" >&2; }

# shellcheck source=action/fetch.sh
. "$(dirname "${BASH_SOURCE[0]}")/fetch.sh"

# Workflow-command data escaping (% first, then CR and LF).
pew_escape() {
  local s=$1
  s=${s//%/%25}
  s=${s//$'\r'/%0D}
  s=${s//$'\n'/%0A}
  printf '%s' "$s"
}

pew_notice() { printf '::notice title=%s::%s\n' "$PEW_TOOL" "$(pew_escape "$*")" >&2; }
pew_warn() { printf '::warning title=%s::%s\n' "$PEW_TOOL" "$(pew_escape "$*")" >&2; }
pew_die() {
  printf '::error title=%s::%s\n' "$PEW_TOOL" "$(pew_escape "$*")" >&2
  exit 1
}

# A path the shell can use: Git Bash gets D:\a\_temp as /d/a/_temp.
pew_posix_path() {
  if [ -n "$1" ] && command -v cygpath >/dev/null 2>&1; then
    cygpath -u "$1"
  else
    printf '%s' "$1"
  fi
}

# Rust target triple for RUNNER_OS/RUNNER_ARCH; fails for platforms without a release asset.
pew_target() {
  case "$1/$2" in
    Linux/X64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64) echo aarch64-unknown-linux-musl ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    # Windows on Arm runs the x64 build under emulation.
    Windows/X64 | Windows/ARM64) echo x86_64-pc-windows-msvc ;;
    *) return 1 ;;
  esac
}

pew_runner_os() {
  if [ -n "${RUNNER_OS:-}" ]; then
    echo "$RUNNER_OS"
    return
  fi
  case "$(uname -s)" in
    Linux) echo Linux ;;
    Darwin) echo macOS ;;
    MINGW* | MSYS* | CYGWIN*) echo Windows ;;
    *) uname -s ;;
  esac
}

pew_runner_arch() {
  if [ -n "${RUNNER_ARCH:-}" ]; then
    echo "$RUNNER_ARCH"
    return
  fi
  case "$(uname -m)" in
    x86_64 | amd64) echo X64 ;;
    aarch64 | arm64) echo ARM64 ;;
    *) uname -m ;;
  esac
}

# Release asset file name for a target triple.
pew_asset() {
  case "$1" in
    *-windows-*) echo "$PEW_TOOL-$1.zip" ;;
    *) echo "$PEW_TOOL-$1.tar.gz" ;;
  esac
}

pew_exe() {
  case "$1" in
    *-windows-*) echo "$PEW_TOOL.exe" ;;
    *) echo "$PEW_TOOL" ;;
  esac
}

# The [package] version in a Cargo.toml.
pew_cargo_version() {
  awk '
    /^\[/ { in_pkg = ($0 == "[package]") }
    in_pkg && /^version[ \t]*=/ {
      sub(/^version[ \t]*=[ \t]*"/, ""); sub(/".*/, ""); print; exit
    }' "$1"
}

pew_is_sha() {
  case "$1" in
    *[!0-9a-f]*) return 1 ;;
  esac
  [ "${#1}" -eq 40 ]
}

# Is REF a release tag for VERSION? v1.2.3 for 1.2.3, or the moving v1 / v1.2 tags.
pew_ref_is_release() {
  local ref=$1 version=$2 nums
  [ "$ref" = "v$version" ] && return 0
  nums=${ref#v}
  [ "$nums" != "$ref" ] || return 1
  case "$nums" in
    '' | *[!0-9.]* | .* | *. | *..*) return 1 ;;
  esac
  case "$version" in
    "$nums".*) return 0 ;;
  esac
  return 1
}

pew_sha256() {
  local out
  if command -v sha256sum >/dev/null 2>&1; then
    out=$(sha256sum "$1")
  elif command -v shasum >/dev/null 2>&1; then
    out=$(shasum -a 256 "$1")
  elif command -v openssl >/dev/null 2>&1; then
    out=$(openssl dgst -sha256 -r "$1")
  else
    pew_die "no sha256sum, shasum or openssl to verify the download"
  fi
  out=${out%% *}
  out=${out#\\}
  printf '%s' "$out" | tr '[:upper:]' '[:lower:]'
}

# The expected hash of NAME in a SHA256SUMS file ("<hex>  <name>" or "<hex> *<name>").
pew_expected_sum() {
  tr -d '\r' <"$1" | awk -v name="$2" '$2 == name || $2 == "*" name { print tolower($1); exit }'
}

pew_extract() {
  local archive=$1 dest=$2
  case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$dest" ;;
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$archive" -d "$dest"
      elif command -v powershell >/dev/null 2>&1 && command -v cygpath >/dev/null 2>&1; then
        # shellcheck disable=SC2016 # PowerShell expands $env:…, not bash
        PEW_ZIP=$(cygpath -w "$archive") PEW_DEST=$(cygpath -w "$dest") powershell -NoLogo -NoProfile \
          -NonInteractive -Command 'Expand-Archive -LiteralPath $env:PEW_ZIP -DestinationPath $env:PEW_DEST -Force'
      else
        pew_die "no unzip or powershell to extract $archive"
      fi
      ;;
    *) pew_die "unknown archive type: $archive" ;;
  esac
}

pew_emit() {
  local path=$1 source=$2
  case "$path" in
    *$'\n'* | *$'\r'*) pew_die "the binary path contains a line break" ;;
  esac
  pew_say "using $path ($source)"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf 'path=%s\nsource=%s\n' "$path" "$source" >>"$GITHUB_OUTPUT"
  fi
}

# Tries the tool cache, then the release. Sets PEW_FOUND (empty when the release or the
# asset is missing: the caller then builds from source). Always returns 0, so that `set -e`
# stays in force inside (a function called as a condition runs without it).
pew_from_release() {
  local base=$1 tag=$2 version=$3 target=$4 arch=$5 commit=$6
  local asset exe tmp expected actual got dir
  PEW_FOUND=""
  asset=$(pew_asset "$target")
  exe=$(pew_exe "$target")

  # 1. tool cache
  if [ -n "$PEW_CACHE" ]; then
    dir="$PEW_CACHE/$PEW_TOOL/$version/$arch"
    if [ -f "$dir.complete" ] && [ -x "$dir/$exe" ]; then
      if [ -z "$commit" ] || [ "$(cat "$dir/COMMIT" 2>/dev/null || true)" = "$commit" ]; then
        PEW_FOUND="$dir/$exe"
        PEW_FOUND_SOURCE=tool-cache
        return 0
      fi
    fi
  fi

  # 2. release asset, verified
  tmp=$(mktemp -d "$PEW_TEMP/$PEW_TOOL-dl.XXXXXX")
  pew_say "downloading $asset of $tag from $base"
  if ! pew_fetch "$base/$tag/SHA256SUMS" "$tmp/SHA256SUMS"; then
    pew_say "release $tag has no SHA256SUMS"
    rm -rf "$tmp"
    return 0
  fi
  if [ -n "$commit" ]; then
    if ! pew_fetch "$base/$tag/COMMIT" "$tmp/COMMIT"; then
      pew_say "release $tag has no COMMIT file, so commit $commit cannot be matched to it"
      rm -rf "$tmp"
      return 0
    fi
    got=$(tr -d ' \r\n' <"$tmp/COMMIT")
    if [ "$got" != "$commit" ]; then
      pew_say "commit $commit is not the commit of release $tag ($got)"
      rm -rf "$tmp"
      return 0
    fi
  fi
  expected=$(pew_expected_sum "$tmp/SHA256SUMS" "$asset")
  if [ -z "$expected" ]; then
    pew_say "SHA256SUMS of $tag lists no $asset"
    rm -rf "$tmp"
    return 0
  fi
  case "$expected" in
    *[!0-9a-f]*) pew_die "SHA256SUMS of $tag has a malformed entry for $asset" ;;
  esac
  [ "${#expected}" -eq 64 ] || pew_die "SHA256SUMS of $tag has a malformed entry for $asset"
  if ! pew_fetch "$base/$tag/$asset" "$tmp/$asset"; then
    pew_say "release $tag has no asset $asset"
    rm -rf "$tmp"
    return 0
  fi
  actual=$(pew_sha256 "$tmp/$asset")
  if [ "$actual" != "$expected" ]; then
    pew_die "checksum mismatch for $asset of $tag: SHA256SUMS says $expected, the download is $actual. Refusing to use it."
  fi
  mkdir "$tmp/x"
  pew_extract "$tmp/$asset" "$tmp/x"
  if [ ! -f "$tmp/x/$exe" ] || [ -L "$tmp/x/$exe" ]; then
    pew_die "$asset of $tag does not contain $exe"
  fi
  chmod +x "$tmp/x/$exe"
  got=$("$tmp/x/$exe" --version 2>&1) || pew_die "the downloaded $exe does not run here ($target): $got"
  [ "$got" = "$PEW_TOOL $version" ] || pew_die "the downloaded $exe reports '$got', expected '$PEW_TOOL $version'"

  # 3. install: into the tool cache if it is writable, else into the temp dir
  dir=""
  if [ -n "$PEW_CACHE" ] && mkdir -p "$PEW_CACHE/$PEW_TOOL/$version" 2>/dev/null; then
    dir="$PEW_CACHE/$PEW_TOOL/$version/$arch"
    rm -rf "$dir" "$dir.complete"
    mkdir "$dir" 2>/dev/null || dir=""
  fi
  if [ -z "$dir" ]; then
    dir="$PEW_TEMP/$PEW_TOOL/$version/$arch"
    rm -rf "$dir"
    mkdir -p "$dir"
  fi
  mv "$tmp/x/$exe" "$dir/$exe"
  if [ -n "$commit" ]; then
    printf '%s\n' "$commit" >"$dir/COMMIT"
  fi
  : >"$dir.complete"
  rm -rf "$tmp"
  PEW_FOUND="$dir/$exe"
  PEW_FOUND_SOURCE=release
}

pew_build_from_source() {
  local src=$1 why=$2 target_dir exe cargo c
  pew_notice "No release binary for this ref ($why): building posteverywhere-wait from source with cargo. This is the slow path (1-3 minutes); use a release tag such as @v1 to get a prebuilt binary."
  cargo=""
  if command -v cargo >/dev/null 2>&1; then
    cargo=cargo
  else
    for c in "${CARGO_HOME:-${HOME:-}/.cargo}/bin/cargo" "${HOME:-}/.cargo/bin/cargo"; do
      if [ -x "$c" ]; then
        cargo=$c
        break
      fi
    done
  fi
  [ -n "$cargo" ] || pew_die "cargo is not installed, so the action cannot be built from source ($why). Use a release tag (e.g. @v1), or install Rust before this step."
  [ -f "$src/Cargo.toml" ] || pew_die "no Cargo.toml in $src: cannot build from source"
  target_dir="$PEW_TEMP/$PEW_TOOL-build"
  echo "::group::cargo build --release --locked ($PEW_TOOL)" >&2
  "$cargo" build --release --locked --manifest-path "$src/Cargo.toml" --target-dir "$target_dir" >&2 ||
    pew_die "cargo build failed"
  echo "::endgroup::" >&2
  exe="$target_dir/release/$PEW_TOOL"
  if [ -f "$exe.exe" ]; then
    exe="$exe.exe"
  fi
  [ -x "$exe" ] || pew_die "cargo build did not produce $exe"
  PEW_FOUND=$exe
  PEW_FOUND_SOURCE='source-build'
}

pew_main() {
  local src ref repo os arch target version path_ref rest base why label
  PEW_FOUND=""
  PEW_FOUND_SOURCE=""

  src=$(pew_posix_path "${GITHUB_ACTION_PATH:-}")
  if [ -z "$src" ]; then
    src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  fi
  PEW_CACHE=$(pew_posix_path "${RUNNER_TOOL_CACHE:-}")
  PEW_TEMP=$(pew_posix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")
  PEW_TEMP=${PEW_TEMP%/}
  mkdir -p "$PEW_TEMP"

  ref=${PEW_ACTION_REF:-}
  repo=${PEW_ACTION_REPOSITORY:-}
  # github.action_ref is not promised for composite actions (actions/runner#2473): the
  # runner's checkout layout, <work>/_actions/<owner>/<repo>/<ref>, also says it.
  rest=$(printf '%s' "${GITHUB_ACTION_PATH:-}" | tr '\134' '/')
  case "$rest" in
    */_actions/*/*/*)
      rest=${rest##*/_actions/}
      path_ref=${rest#*/*/}
      case "$path_ref" in
        */* | '') ;;
        *)
          [ -n "$ref" ] || ref=$path_ref
          [ -n "$repo" ] || repo=${rest%/"$path_ref"}
          ;;
      esac
      ;;
  esac
  repo=${repo:-$PEW_DEFAULT_REPO}

  os=$(pew_runner_os)
  arch=$(pew_runner_arch)
  version=""
  if [ -f "$src/Cargo.toml" ]; then
    version=$(pew_cargo_version "$src/Cargo.toml")
  fi

  why=""
  if ! target=$(pew_target "$os" "$arch"); then
    why="no release asset for $os/$arch"
  elif [ -z "$version" ]; then
    why="no version in $src/Cargo.toml"
  elif [ -z "$ref" ]; then
    why="a local action (uses: ./) or an unknown ref"
  fi

  if [ -z "$why" ]; then
    base=${POSTEVERYWHERE_WAIT_DOWNLOAD_URL:-https://github.com/$repo/releases/download}
    base=${base%/}
    case "$target" in
      x86_64-*) label=x64 ;;
      *) label=arm64 ;;
    esac
    if pew_ref_is_release "$ref" "$version"; then
      pew_from_release "$base" "v$version" "$version" "$target" "$label" ""
      why="release v$version has no $(pew_asset "$target")"
    elif pew_is_sha "$ref"; then
      pew_from_release "$base" "v$version" "$version" "$target" "$label" "$ref"
      why="commit $ref is not the commit of release v$version"
    else
      why="ref '$ref' is not a release tag of version $version"
    fi
    if [ -n "$PEW_FOUND" ]; then
      pew_emit "$PEW_FOUND" "$PEW_FOUND_SOURCE"
      return 0
    fi
  fi

  pew_build_from_source "$src" "$why"
  pew_emit "$PEW_FOUND" "$PEW_FOUND_SOURCE"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  pew_main
fi
