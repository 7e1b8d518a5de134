// The console when the disk under the browser's profile is full: a real file system (a small
// tmpfs mounted for the test, so it needs root; skipped where mounting is not allowed) that
// Chromium's IndexedDB runs out of.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { newTempDir } from "../temp-dir.js";
import { hasChromium, launchChromium } from "./chromium.js";
import { openDb, ready, runInfo, shown } from "./console-ui.js";
import { buildConsole, filesOf, serveStatic } from "./static-server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const disk = newTempDir("tenantlite-full-disk-");

/** Mounts a 48 MB tmpfs at `disk`; false where that is not allowed (not root, no tmpfs). */
function mountSmallDisk(): boolean {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", disk], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const mounted = hasChromium && process.platform === "linux" && mountSmallDisk();

/** Fills the disk up to `leaveKiB` of free space. */
function fill(leaveKiB: number): void {
  const free = Number(execFileSync("df", ["-k", "--output=avail", disk]).toString().split("\n")[1]);
  writeFileSync(join(disk, "filler"), Buffer.alloc(Math.max(0, free - leaveKiB) * 1024));
}

const count = async (page: Page): Promise<string> => {
  await runInfo(page, "SELECT count(*) AS n FROM t;");
  return (await page.locator("#results table tbody td").first().textContent())?.trim() ?? "";
};

describe.skipIf(!mounted)("console on a full disk", () => {
  afterAll(() => {
    try {
      execFileSync("umount", [disk], { stdio: "ignore" });
    } catch {
      // Left mounted only if a browser still holds it; the temp dir's sweep reports it.
    }
    rmSync(disk, { recursive: true, force: true });
  });

  it("a write or an import the browser cannot store is refused with STORAGE_WRITE_FAILED and not kept; with room again writes go on, and a reload finds every acknowledged row", async () => {
    const dist = buildConsole(root, "full-disk");
    const host = await serveStatic(filesOf(dist));
    const profile = join(disk, "profile");
    mkdirSync(profile);
    const browser = await launchChromium(undefined, profile);
    try {
      const page = await browser.context.newPage();
      await page.goto(`${host.url}/`);
      await ready(page);
      const form = page.locator("#create-db");
      await form.locator('input[name="name"]').fill("big");
      await form.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator("#tenant-name").textContent()).toBe("big");
      // A database of ~1 MB, to export for the import below.
      const setup =
        "CREATE TABLE t (i INTEGER, b BLOB); CREATE TABLE pad AS SELECT randomblob(1000000) AS b;";
      expect(await runInfo(page, setup)).toMatch(/^2 statements ·/);
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export .db" }).click(),
      ]);
      const file = join(disk, "big.db");
      await download.saveAs(file);

      fill(2500);
      let acknowledged = 0;
      let refused = "";
      for (let i = 1; i <= 20 && refused === ""; i++) {
        const info = await runInfo(page, `INSERT INTO t VALUES (${i}, randomblob(400000));`);
        if (/stopped at an error/.test(info)) refused = await shown(page.locator("#results"));
        else acknowledged++;
      }
      expect(refused).toMatch(/STORAGE_WRITE_FAILED/);
      expect(refused).toMatch(
        /saving database "big" failed, so the write was not kept: the database is back at its last saved state \(check that the browser allows this site more storage and the disk has free space, then retry\)/,
      );
      expect(refused).not.toMatch(/data directory/);
      // The refused write is not there; the database answers reads.
      expect(await count(page)).toBe(String(acknowledged));

      // An import that cannot be stored is refused the same way, and no database is left of it.
      // (A refused save frees what it had written: fill what is left.)
      rmSync(join(disk, "filler"));
      fill(200);
      const imports = page.locator("#import-db");
      await imports.getByLabel("SQLite file").setInputFiles(file);
      await imports.getByLabel("As database").fill("imported");
      await imports.getByRole("button", { name: "Import" }).click();
      await expect
        .poll(() => shown(page.locator("body")))
        .toMatch(
          /STORAGE_WRITE_FAILED: could not write to the browser's storage \(\w+\): check that the browser allows this site more storage/,
        );
      expect(await shown(page.locator("#db-list"))).not.toMatch(/imported/);

      // Room again: writes go on, on the same page.
      rmSync(join(disk, "filler"));
      expect(await runInfo(page, "INSERT INTO t VALUES (100, randomblob(10));")).toMatch(
        /^1 statement ·/,
      );
      await page.reload();
      await ready(page);
      await openDb(page, "big");
      expect(await count(page)).toBe(String(acknowledged + 1));
      expect(await shown(page.locator("#db-list"))).not.toMatch(/imported/);
    } finally {
      await browser.close();
      await host.close();
    }
  }, 120_000);
});
