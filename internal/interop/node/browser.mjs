// Checks the demo's page (GET /) in Debian's headless Chromium, driven by
// playwright-core.
//
// Usage: node browser.mjs HOST:PORT SCREENSHOT.png
//
// The page's script opens /ws with subprotocol chat and sends "Hello evhttpd".
// The check waits for the echo in #log, clicks "Trigger async", waits for
// "Async data", asserts from #status that the browser negotiated
// permessage-deflate and subprotocol chat, and saves a screenshot. Prints one
// line per check and exits 0 only if every check passed.
import { withPage } from "./chromium.mjs";

function check(cond, what) {
  if (!cond) {
    console.log("FAIL", what);
    process.exitCode = 1;
    throw new Error(what);
  }
  console.log("ok  ", what);
}

const [addr, screenshot] = process.argv.slice(2);
await withPage(async (page, ctx) => {
  page.on("response", (r) => {
    if (r.status() >= 400) console.log("page response:", r.status(), r.url());
  });

  const resp = await page.goto(`http://${addr}/`);
  check(resp.status() === 200, `GET / status ${resp.status()}`);
  const log = page.locator("#log");
  await log.filter({ hasText: "received: Hello evhttpd" }).waitFor();
  check(true, "echo shown: received: Hello evhttpd");

  await page.click("#async");
  await log.filter({ hasText: "received: Async data" }).waitFor();
  check(true, "Trigger async clicked: received: Async data");

  const status = await page.locator("#status").textContent();
  console.log("#status:", status);
  check(status.includes("subprotocol chat"), "subprotocol chat negotiated by the browser");
  check(status.includes("permessage-deflate"), "permessage-deflate negotiated by the browser");

  await page.screenshot({ path: screenshot, fullPage: true });
  check(true, `screenshot saved to ${screenshot}`);
  console.log(`${ctx.browser()?.version() ?? "chromium"}: all checks passed`);
});
