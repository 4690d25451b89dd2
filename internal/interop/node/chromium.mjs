// Debian's headless Chromium for the interop scripts, driven by
// playwright-core instead of a browser build of its own: a fresh profile
// for every run, removed afterwards, and the page's console and errors
// printed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const timeout = 30000;

// withPage runs fn(page, ctx) on a new page and closes the browser after.
export async function withPage(fn) {
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
    return await fn(page, ctx);
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
