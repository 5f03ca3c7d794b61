# Downloads for action/install.sh (sourced by it; uses its pew_say, pew_warn and pew_die),
# the same way with curl, GNU wget or busybox wget, whichever the runner or the job's
# container has (in that order):
#   - plain HTTP only to a loopback mirror; a redirect is followed only to https: curl and
#     GNU wget are never let follow one (the script reads Location and decides); busybox
#     wget cannot be stopped from following, so the redirects it reports (-S) are checked
#     and a download that went through plain HTTP is discarded;
#   - a missing file (HTTP 404 or 410) is told apart from a failure (no answer, or any other
#     status): no answer, 408, 429 and 5xx are retried twice, 2 s apart (PEW_RETRY_DELAY:
#     the pause, for tests), then every failure is a hard error;
#   - busybox wget built without certificate validation says so; that is passed on as a
#     warning, since then only the SHA256SUMS check stands between the runner and the network;
#   - URLs in messages lose their query (a redirect's signed URL carries one).
# Works with bash 3.2 (macOS) and Git Bash (Windows).
# shellcheck shell=bash

PEW_DOWNLOADER=""
PEW_TLS_WARNED=""

# Sets PEW_DOWNLOADER to the downloader this machine has: curl, gnu-wget, or wget (busybox
# or another minimal one). Not in a subshell: a missing downloader must stop the script.
pew_pick_downloader() {
  [ -z "$PEW_DOWNLOADER" ] || return 0
  if command -v curl >/dev/null 2>&1; then
    PEW_DOWNLOADER=curl
  elif command -v wget >/dev/null 2>&1; then
    case "$(wget --version 2>/dev/null || true)" in
      "GNU Wget"*) PEW_DOWNLOADER=gnu-wget ;;
      *) PEW_DOWNLOADER=wget ;;
    esac
  else
    pew_die "neither curl nor wget is installed: cannot download the release"
  fi
}

# The URL a Location header points to, from the URL that answered with it.
pew_resolve() {
  local base=$1 location=$2 scheme rest
  scheme=${base%%://*}
  rest=${base#*://}
  case "$location" in
    *://*) printf '%s' "$location" ;;
    //*) printf '%s:%s' "$scheme" "$location" ;;
    /*) printf '%s://%s%s' "$scheme" "${rest%%/*}" "$location" ;;
    *)
      base=${base%%\?*}
      printf '%s/%s' "${base%/*}" "$location"
      ;;
  esac
}

# The last HTTP status and Location in a wget -S log (its header lines start with 2 spaces).
pew_log_status() { awk '/^  HTTP\/[0-9.]+ [0-9][0-9][0-9]/ { s = $2 } END { print s }' "$1"; }
pew_log_location() { awk 'tolower($1) == "location:" { l = $2 } END { print l }' "$1" | tr -d '\r'; }

# Busybox wget follows redirects itself: did any hop it took use plain http? Prints it.
pew_log_http_hop() {
  awk -v url="$2" '
    BEGIN { scheme = url; sub(/:\/\/.*/, "", scheme) }
    tolower($1) == "location:" {
      loc = $2; sub(/\r$/, "", loc)
      if (loc ~ /^[A-Za-z][A-Za-z0-9+.-]*:\/\//) { scheme = loc; sub(/:\/\/.*/, "", scheme) }
      if (tolower(scheme) != "https") { print loc; exit }
    }' "$1"
}

# One request for URL into OUT. Sets PEW_CODE (the HTTP status; empty when none came or the
# transfer broke), PEW_LOCATION (its Location) and PEW_ERROR (what the downloader said).
pew_get_once() {
  local url=$1 out=$2 log="$2.log" rc=0 res=""
  PEW_CODE=""
  PEW_LOCATION=""
  case "$PEW_DOWNLOADER" in
    curl)
      res=$(curl -sS --proto '=https,http' --connect-timeout 20 --max-time 300 -o "$out" \
        -w '%{http_code} %{redirect_url}' "$url" 2>"$log") || rc=$?
      PEW_CODE=${res%% *}
      PEW_LOCATION=${res#* }
      [ "$PEW_CODE" != 000 ] || PEW_CODE=""
      ;;
    gnu-wget)
      wget -q -S --max-redirect=0 --tries=1 --timeout=30 -O "$out" "$url" 2>"$log" || rc=$?
      PEW_CODE=$(pew_log_status "$log")
      PEW_LOCATION=$(pew_log_location "$log")
      ;;
    wget)
      # Busybox: no --max-redirect, and -T only in some builds; timeout(1) bounds it instead.
      if command -v timeout >/dev/null 2>&1; then
        timeout 300 wget -q -S -O "$out" "$url" 2>"$log" || rc=$?
      else
        wget -q -S -O "$out" "$url" 2>"$log" || rc=$?
      fi
      PEW_CODE=$(pew_log_status "$log")
      PEW_LOCATION=$(pew_log_location "$log")
      ;;
  esac
  if [ "$rc" -eq 0 ]; then
    PEW_CODE=${PEW_CODE:-200}
  else
    case "$PEW_CODE" in 2??) PEW_CODE="" ;; esac # a transfer that broke off is no success
  fi
  PEW_ERROR=$(grep -v '^  ' "$log" | grep -v '^ *$' | tail -n 1 || true)
  if [ -z "$PEW_ERROR" ]; then
    case "$PEW_DOWNLOADER/$rc" in
      gnu-wget/4) PEW_ERROR="wget: network failure" ;;
      gnu-wget/5) PEW_ERROR="wget: TLS certificate verification failed" ;;
      *) PEW_ERROR="$PEW_DOWNLOADER exit $rc" ;;
    esac
  fi
}

# Downloads URL to FILE: 0 on success, 10 when the server says the file does not exist,
# a hard error for anything else (after retries).
pew_fetch() {
  local url=$1 out=$2 tries hops=0 hop
  case "$url" in
    https://*) ;;
    http://127.0.0.1[:/]* | http://localhost[:/]* | http://\[::1\][:/]*) ;;
    *) pew_die "refusing to download over plain HTTP from a non-loopback host: $url" ;;
  esac
  pew_pick_downloader
  while :; do
    tries=1
    pew_get_once "$url" "$out"
    while [ "$tries" -lt 3 ]; do
      case "$PEW_CODE" in
        '' | 408 | 429 | 5??) ;;
        *) break ;;
      esac
      pew_say "download of ${url%%\?*} failed (${PEW_CODE:+HTTP $PEW_CODE: }$PEW_ERROR); retrying in ${PEW_RETRY_DELAY:-2} s"
      sleep "${PEW_RETRY_DELAY:-2}"
      tries=$((tries + 1))
      pew_get_once "$url" "$out"
    done
    if [ "$PEW_DOWNLOADER" = wget ]; then
      if grep -q 'TLS certificate validation not implemented' "$out.log" && [ -z "$PEW_TLS_WARNED" ]; then
        PEW_TLS_WARNED=1
        pew_warn "This busybox wget does not verify TLS certificates, so the release download is checked only against SHA256SUMS from the same server: that catches corruption, not an attacker on the network. Install curl in the job's image for a verified download."
      fi
      hop=$(pew_log_http_hop "$out.log" "$url")
      [ -z "$hop" ] || pew_die "refusing a redirect to plain HTTP (${hop%%\?*}) while downloading $1: the download was discarded"
    fi
    case "$PEW_CODE" in
      200) return 0 ;;
      404 | 410) return 10 ;;
      301 | 302 | 303 | 307 | 308)
        [ "$PEW_DOWNLOADER" != wget ] && [ -n "$PEW_LOCATION" ] ||
          pew_die "download failed (HTTP $PEW_CODE, redirect not followed: $PEW_ERROR): ${url%%\?*}"
        hops=$((hops + 1))
        [ "$hops" -le 5 ] || pew_die "download failed (more than 5 redirects): $1"
        url=$(pew_resolve "$url" "$PEW_LOCATION")
        case "$url" in
          https://*) ;;
          *) pew_die "refusing a redirect to plain HTTP (${url%%\?*}) while downloading $1" ;;
        esac
        ;;
      '') pew_die "download failed ($PEW_ERROR): ${url%%\?*}" ;;
      *) pew_die "download failed (HTTP $PEW_CODE): ${url%%\?*}" ;;
    esac
  done
}
