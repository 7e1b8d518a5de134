/** What the console's browser tests do on its page: wait for it, open a database, run SQL. */
import type { Locator, Page } from "playwright-core";
import { expect } from "vitest";

/** The text as rendered (table cells apart), which is what a reader sees. */
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's layout-aware innerText is the point
export const shown = (l: Locator): Promise<string> => l.innerText();

/** Waits until the console has started (`html[data-ready]`). */
export async function ready(page: Page, timeoutMs = 30_000): Promise<void> {
  await page.waitForSelector("html[data-ready]", { timeout: timeoutMs });
}

/** Opens database `name` from the sidebar. */
export async function openDb(page: Page, name: string): Promise<void> {
  await page.locator(`#db-list button[data-db="${name}"]`).click();
  await expect.poll(() => page.locator("#tenant-name").textContent()).toBe(name);
}

/**
 * Types `sql` into the editor, runs it with Ctrl+Enter and waits for the run's summary line;
 * returns that line ("1 statement · 2.1 ms", …).
 */
export async function runInfo(page: Page, sql: string): Promise<string> {
  await page.evaluate(() => {
    document.getElementById("run-info")!.textContent = "";
  });
  const editor = page.getByRole("textbox", { name: /^SQL ·/ });
  await editor.fill(sql);
  await editor.press("Control+Enter");
  await page.waitForFunction(
    () => /statement/.test(document.getElementById("run-info")?.textContent ?? ""),
    undefined,
    { timeout: 30_000 },
  );
  return (await page.locator("#run-info").textContent()) ?? "";
}

/** Runs `sql` in the editor (see {@link runInfo}) and returns the results' text. */
export async function runSql(page: Page, sql: string): Promise<string> {
  await runInfo(page, sql);
  return shown(page.locator("#results"));
}
