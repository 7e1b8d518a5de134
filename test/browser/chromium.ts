// Real Chromium for the browser tests and the benchmark: Debian's `chromium` driven by
// playwright-core (never a downloaded browser), one fresh profile directory per launch.
import { existsSync, rmSync } from "node:fs";
import { type BrowserContext, chromium } from "playwright-core";
import { newTempDir } from "../temp-dir.js";

/** Where Chromium is: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether the browser tests can run here. */
export const hasChromium = existsSync(CHROMIUM_PATH);

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with its own profile; `close()` ends it, `relaunch()` restarts it on the same profile. */
export interface TestBrowser {
  context: BrowserContext;
  readonly profile: string;
  relaunch(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** `profile`: the profile directory to use (default: a fresh temp dir); `close()` removes it. */
export async function launchChromium(
  viewport: { width: number; height: number } = { width: 1280, height: 800 },
  profile: string = newTempDir("tenantlite-chromium-"),
): Promise<TestBrowser> {
  const launch = () =>
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ARGS,
      viewport,
      acceptDownloads: true,
      timeout: 30_000,
    });
  const browser: TestBrowser = {
    context: await launch(),
    profile,
    async relaunch() {
      await browser.context.close();
      browser.context = await launch();
      return browser.context;
    },
    async close() {
      await browser.context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
  return browser;
}
