// Opens a page in Debian's headless Chromium, driven by playwright-core,
// and waits for each expected text to appear, in order, in the page's #log.
//
// Usage: node page.mjs URL TEXT [TEXT...]
//
// Prints one line per check and the final #log; exits 0 only if every text
// appeared within the timeout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [url, ...texts] = process.argv.slice(2);
const timeout = 30000;
const profile = mkdtempSync(join(tmpdir(), "evhttpd-chromium-"));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  timeout,
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
  const resp = await page.goto(url);
  if (resp.status() !== 200) {
    console.log("FAIL", `GET ${url} status ${resp.status()}`);
    process.exitCode = 1;
  } else {
    const log = page.locator("#log");
    let from = 0;
    for (const text of texts) {
      // In order: each text must appear after the previous one.
      await page.waitForFunction(
        ([t, i]) => document.getElementById("log").textContent.indexOf(t, i) >= 0,
        [text, from],
      );
      from = (await log.textContent()).indexOf(text, from) + text.length;
      console.log("ok  ", JSON.stringify(text));
    }
  }
  console.log("#log:", JSON.stringify(await page.locator("#log").textContent()));
} catch (e) {
  console.log("FAIL", e.message);
  console.log("#log:", JSON.stringify(await ctx.pages()[0]?.locator("#log").textContent().catch(() => "")));
  process.exitCode = 1;
} finally {
  await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
