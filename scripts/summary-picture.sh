#!/usr/bin/env bash
# Makes docs/summary.png, the README's picture of a job summary, from a real run: the demo
# (publish a post with a picture to three simulated accounts, one re-queue, wait) writes
# its summary; GitHub's renderer (cmark-gfm, with the extensions GitHub uses) turns it into
# HTML; headless Chromium takes the screenshot. Also writes docs/summary.md, the Markdown
# it was made from: .ci/run fails when the summary the binary writes no longer matches it,
# which is the sign to run this script again.
#
# Needs: cargo, cmark-gfm, chromium (Debian packages cmark-gfm, chromium).
# Usage: scripts/summary-picture.sh [--check]   (--check: only compare docs/summary.md)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --quiet --locked
bin="${CARGO_TARGET_DIR:-target}/debug/posteverywhere-wait"

# The demo's run, its summary written to a file; timings vary, so they are normalised.
env -i PATH="$PATH" TMPDIR="$work" POSTEVERYWHERE_SUMMARY_FILE="$work/summary.md" "$bin" --demo >/dev/null || true
sed -E 's/waited [0-9.]+s/waited 2.4s/' "$work/summary.md" >"$work/normal.md"

if [ "${1:-}" = "--check" ]; then
  if ! diff -u docs/summary.md "$work/normal.md"; then
    echo "The job summary changed: run scripts/summary-picture.sh to re-make docs/summary.png and docs/summary.md." >&2
    exit 1
  fi
  echo "docs/summary.md matches the summary the binary writes"
  exit 0
fi

cp "$work/normal.md" docs/summary.md
{
  cat <<'HTML'
<!doctype html>
<meta charset="utf-8">
<style>
  body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: #1f2328;
         margin: 0; padding: 24px 32px; background: #fff; width: 960px; }
  h2 { font-size: 20px; border-bottom: 1px solid #d1d9e0; padding-bottom: 6px; }
  h3 { font-size: 16px; }
  table { border-collapse: collapse; margin: 12px 0; }
  th, td { border: 1px solid #d1d9e0; padding: 5px 12px; }
  th { background: #f6f8fa; font-weight: 600; }
  tr:nth-child(2n) td { background: #f6f8fa; }
  code { background: #eff1f3; padding: 2px 5px; border-radius: 6px; font-size: 85%; }
  blockquote { margin: 0; padding: 0 14px; color: #59636e; border-left: 4px solid #d1d9e0; }
  a { color: #0969da; text-decoration: none; }
</style>
<div class="markdown-body">
HTML
  cmark-gfm --unsafe -e table -e autolink -e tagfilter -e strikethrough docs/summary.md
  echo "</div>"
} >"$work/summary.html"

chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$work/profile" \
  --window-size=1024,660 --screenshot="$work/shot.png" "file://$work/summary.html" >/dev/null 2>&1
cp "$work/shot.png" docs/summary.png
echo "wrote docs/summary.png and docs/summary.md"
