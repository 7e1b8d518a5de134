// The browser console in Chromium: deleting a group asks for its name to be typed (the button
// says "Delete group…", unlike a database's "Delete"), cancelling or a wrong name deletes
// nothing, and the default group offers no delete at all.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { hasChromium, launchChromium, type TestBrowser } from "./chromium.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe.skipIf(!hasChromium)("console: deleting a group", () => {
  let server: RunningServer;
  const tempDir = useTempDirs("tenantlite-web-groups-", { scope: "file" });
  let dist: string;
  let browser: TestBrowser;
  let page: Page;
  const dialogs: string[] = [];

  beforeAll(async () => {
    dist = tempDir();
    execFileSync(process.execPath, ["scripts/build-web.mjs", "--quiet", "--out", dist], {
      cwd: root,
    });
    server = await startServer({ port: 0, memory: true, consoleDir: dist });
    browser = await launchChromium();
    page = await browser.context.newPage();
    // A native confirm() would be answered here: the group deletion must not rely on one.
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector("html[data-ready]", { timeout: 20_000 });
    // The browser's own tenants (served by tenantlite dev, the console opens on the server's).
    await page.getByRole("button", { name: "This browser" }).click();
    await page.waitForFunction(() =>
      /IndexedDB/.test(document.getElementById("status")?.textContent ?? ""),
    );
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const groupList = async () => (await page.locator("#group-list").textContent()) ?? "";
  const dbNames = () =>
    page
      .locator("#db-list button[data-db]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-db")));

  it("asks for the group's name; cancel and a wrong name delete nothing; the right name deletes it with its databases", async () => {
    await page.getByLabel("New group name").fill("scratch");
    await page.getByRole("button", { name: "Add group" }).click();
    await expect.poll(groupList).toMatch(/scratch/);
    const form = page.locator("#create-db");
    await form.locator('input[name="name"]').fill("in-scratch");
    await form.locator('select[name="group"]').selectOption("scratch");
    await form.locator('button[type="submit"]').click();
    await expect.poll(dbNames).toContain("in-scratch");

    const button = page.getByRole("button", { name: "Delete group scratch…" });
    expect(await button.textContent()).toBe("Delete group…");
    const dialog = page.getByRole("dialog");
    const input = page.getByLabel("Type the group's name to confirm");
    const confirm = page.getByRole("button", { name: "Delete group", exact: true });

    // Cancel.
    await button.click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toMatch(/group "scratch" and its 1 database/);
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await groupList()).toMatch(/scratch/);

    // A wrong name keeps the button disabled; Enter does not delete; Escape closes.
    await button.click();
    await input.fill("scratc");
    expect(await confirm.isDisabled()).toBe(true);
    await input.press("Enter");
    await input.press("Escape");
    await expect.poll(() => dialog.isVisible()).toBe(false);
    expect(await groupList()).toMatch(/scratch/);
    expect(await dbNames()).toContain("in-scratch");

    // The right name.
    await button.click();
    await input.fill("scratch");
    expect(await confirm.isDisabled()).toBe(false);
    await confirm.click();
    await expect.poll(groupList).not.toMatch(/scratch/);
    await expect.poll(dbNames).not.toContain("in-scratch");
    expect(dialogs).toEqual([]);
  });

  it("offers no delete for the default group", async () => {
    const button = page.getByRole("button", { name: "Delete group default…" });
    expect(await button.isDisabled()).toBe(true);
    expect(await button.getAttribute("title")).toMatch(/default group cannot be deleted/);
  });
});
