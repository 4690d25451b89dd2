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
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

function check(cond, what) {
  if (!cond) {
    console.log("FAIL", what);
    process.exitCode = 1;
    throw new Error(what);
  }
  console.log("ok  ", what);
}

const [addr, screenshot] = process.argv.slice(2);
const timeout = 30000;
// A fresh profile for every run, removed afterwards.
const profile = mkdtempSync(join(tmpdir(), "evhttpd-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  timeout,
  // Without the background-networking flags Chromium keeps trying hosts
  // that a closed network refuses.
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(timeout);
  page.on("console", (m) => console.log("page console:", m.type(), m.text()));
  page.on("pageerror", (e) => console.log("page error:", e.message));
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
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
