# Shared by the .ci test scripts: counters and one-line results. Source it, then call
# `ok`, `bad` or `check DESCRIPTION COMMAND...`; `$passes` and `$fails` hold the counts.
# shellcheck shell=bash
fails=0
passes=0
ok() {
  passes=$((passes + 1))
  printf '  ok    %s\n' "$*"
}
bad() {
  fails=$((fails + 1))
  printf '  FAIL  %s\n' "$*"
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
