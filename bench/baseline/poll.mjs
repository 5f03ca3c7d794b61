// Baseline: PostEverywhere's own polling example (webhooks page, "Current Workaround:
// Polling"), as a Node script a user would run or paste into actions/github-script. Only the
// response path is adapted (`data.results`, the documented envelope) so it works at all.
const API_KEY = process.env.POSTEVERYWHERE_API_KEY;
const BASE_URL = process.env.POSTEVERYWHERE_BASE_URL ?? "https://app.posteverywhere.ai/api/v1";
const POLL_INTERVAL = Number(process.env.POLL_INTERVAL ?? 10) * 1000;
const TIMEOUT = Number(process.env.TIMEOUT ?? 300) * 1000;

async function waitForResults(postId, timeoutMs = TIMEOUT) {
  const startTime = Date.now();
  const pollInterval = POLL_INTERVAL;
  while (Date.now() - startTime < timeoutMs) {
    const response = await fetch(`${BASE_URL}/posts/${postId}/results`, {
      headers: { Authorization: `Bearer ${API_KEY}` },
    });
    const data = await response.json();
    const allComplete = data.data.results.every(
      (d) => d.status === "published" || d.status === "failed"
    );
    if (allComplete) {
      return data.data;
    }
    await new Promise((resolve) => setTimeout(resolve, pollInterval));
  }
  throw new Error(`Timed out waiting for post ${postId} results`);
}

const results = await waitForResults(process.env.POST_ID);
for (const dest of results.results) {
  if (dest.status === "published") {
    console.log(`Published to ${dest.platform}: ${dest.platform_post_url}`);
  } else {
    console.log(`Failed on ${dest.platform}: ${dest.error}`);
  }
}
