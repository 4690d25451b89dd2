// Opens a page in Debian's headless Chromium (chromium.mjs) and waits for
// each expected text to appear, in order, in the page's #log.
//
// Usage: node page.mjs URL TEXT [TEXT...]
//
// Prints one line per check and the final #log; exits 0 only if every text
// appeared within the timeout.
import { withPage } from "./chromium.mjs";

const [url, ...texts] = process.argv.slice(2);
await withPage(async (page) => {
  const logText = () => page.locator("#log").textContent().catch(() => "");
  try {
    const resp = await page.goto(url);
    if (resp.status() !== 200) {
      throw new Error(`GET ${url} status ${resp.status()}`);
    }
    let from = 0;
    for (const text of texts) {
      // In order: each text must appear after the previous one.
      await page.waitForFunction(
        ([t, i]) => document.getElementById("log").textContent.indexOf(t, i) >= 0,
        [text, from],
      );
      from = (await logText()).indexOf(text, from) + text.length;
      console.log("ok  ", JSON.stringify(text));
    }
  } catch (e) {
    console.log("FAIL", e.message);
    process.exitCode = 1;
  }
  console.log("#log:", JSON.stringify(await logText()));
});
