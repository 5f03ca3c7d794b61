#!/usr/bin/env bash
# Baseline: the polling loop users write by hand from PostEverywhere's guide ("Polling
# Example" on the webhooks page): GET /posts/{id}/results every 10 s until every destination
# is published or failed, give up after 5 minutes, print one line per destination. Only the
# response path is adapted (`.data.results`, the documented envelope) so it works at all.
set -u
BASE="${POSTEVERYWHERE_BASE_URL:-https://app.posteverywhere.ai/api/v1}"
INTERVAL="${POLL_INTERVAL:-10}"
TIMEOUT="${TIMEOUT:-300}"
deadline=$(( $(date +%s%3N) + ${TIMEOUT%.*} * 1000 ))
while (( $(date +%s%3N) < deadline )); do
  body=$(curl -sS -H "Authorization: Bearer $POSTEVERYWHERE_API_KEY" "$BASE/posts/$POST_ID/results")
  if echo "$body" | jq -e '.data.results | all(.status == "published" or .status == "failed")' >/dev/null; then
    echo "$body" | jq -r '.data.results[] | if .status == "published"
      then "Published to \(.platform): \(.platform_post_url)"
      else "Failed on \(.platform): \(.error)" end'
    exit 0
  fi
  sleep "$INTERVAL"
done
echo "Timed out waiting for post $POST_ID results" >&2
exit 1
