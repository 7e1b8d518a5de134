// The browser console end to end in Chromium, served by the real Node server: groups, databases
// of each type, SQL with errors and positions, sample data, a migration over 50 children, DDL
// refused on a child, attach + join, export/import, delete; then reload, browser restart and
// offline reload, checking data and schema survived. Screenshots go to test/artifacts/.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { useTempDirs } from "../helpers.js";
import { launchChromium, type TestBrowser } from "./chromium.js";
import { openDb, ready, runSql, shown } from "./console-ui.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const artifacts = `${root}test/artifacts`;

async function dbNames(page: Page): Promise<string[]> {
  return page
    .locator("#db-list button[data-db]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-db")!));
}

describe("browser console in Chromium", () => {
  let server: RunningServer;
  const tempDir = useTempDirs("tenantlite-web-", { scope: "file" });
  let dist: string;
  let browser: TestBrowser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Each test file builds its own copy: parallel builds into web/dist would race.
    dist = tempDir();
    execFileSync(process.execPath, ["scripts/build-web.mjs", "--quiet", "--out", dist], {
      cwd: root,
    });
    mkdirSync(artifacts, { recursive: true });
    server = await startServer({ port: 0, memory: true, consoleDir: dist });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => void d.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("loads at / and becomes ready; the browser's own tenants are a click away from the server's", async () => {
    await page.goto(`${server.url}/`);
    await ready(page);
    expect(await page.locator("#place-server").getAttribute("aria-pressed")).toBe("true");
    // The choice is remembered (localStorage): reloads and restarts below stay in the browser.
    await page.getByRole("button", { name: "This browser" }).click();
    await expect
      .poll(() => page.locator("#status").textContent())
      .toMatch(/0 databases in IndexedDB/);
  });

  it("creates a group and a regular database in it, runs SQL with Ctrl+Enter", async () => {
    await page.getByLabel("New group name").fill("team");
    await page.getByRole("button", { name: "Add group" }).click();
    await expect.poll(() => shown(page.locator("#group-list"))).toMatch(/team/);

    const form = page.locator("#create-db");
    await form.getByLabel("Name").fill("notes");
    await form.locator('select[name="group"]').selectOption("team");
    await form.getByRole("button", { name: "Create database" }).click();
    await expect.poll(() => page.locator("#tenant-name").textContent()).toBe("notes");

    const out = await runSql(
      page,
      "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes (body) VALUES ('first'), ('second');\nSELECT id, body FROM notes ORDER BY id;",
    );
    expect(out).toMatch(/2 row\(s\) changed/);
    expect(await shown(page.locator("#results table").last())).toMatch(/1\s+first\s+2\s+second/);
    expect(await page.locator("#tenant-meta").textContent()).toMatch(/group team/);
  });

  it("searches libSQL vectors with the engine in the page (vector index, vector_top_k)", async () => {
    const out = await runSql(
      page,
      "CREATE TABLE docs (id INTEGER PRIMARY KEY, emb F32_BLOB(3));\nCREATE INDEX docs_idx ON docs (libsql_vector_idx(emb));\nINSERT INTO docs (emb) VALUES (vector('[1,0,0]')), (vector('[0,1,0]')), (vector('[0.9,0.1,0]'));\nSELECT id, vector_extract(emb) AS v FROM vector_top_k('docs_idx', vector('[1,0,0]'), 2) JOIN docs USING (id);",
    );
    expect(out).toMatch(/3 row\(s\) changed/);
    expect(await shown(page.locator("#results table").last())).toMatch(
      /1\s+\[1,0,0\]\s+3\s+\[0\.9,0\.1,0\]/,
    );
  });

  it("shows syntax errors with line and column, and runtime errors at their statement", async () => {
    const syntax = await runSql(page, "SELECT 1;\n  SELEC 2;");
    expect(syntax).toMatch(/SQL_PARSE_ERROR/);
    expect(syntax).toMatch(/near "SELEC": syntax error/);
    expect(syntax).toMatch(/at line 2, column 3/);
    const runtime = await runSql(page, "SELECT 1;\nSELECT missing_col FROM notes;");
    expect(runtime).toMatch(/no such column: missing_col/);
    expect(runtime).toMatch(/at line 2, column 8/);
    expect(await page.locator("#results .error").count()).toBe(1);
  });

  it("creates a schema parent and a child through the form", async () => {
    const form = page.locator("#create-db");
    await form.getByLabel("Name").fill("shop-schema");
    await form.locator('select[name="type"]').selectOption("schema");
    await form.getByRole("button", { name: "Create database" }).click();
    await expect.poll(() => page.locator("#tenant-type").textContent()).toBe("schema parent");
    await runSql(page, "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT)");

    await form.getByLabel("Name").fill("shop-1");
    await form.locator('select[name="type"]').selectOption("child");
    await form.locator('select[name="parent"]').selectOption("shop-schema");
    await form.getByRole("button", { name: "Create database" }).click();
    await expect.poll(() => page.locator("#tenant-type").textContent()).toBe("child");
    const out = await runSql(page, "SELECT name FROM sqlite_schema WHERE type = 'table'");
    expect(out).toMatch(/items/);
  });

  it("builds the sample SaaS: a schema parent with 50 children and a shared catalog", async () => {
    await page.getByRole("button", { name: "Sample data" }).click();
    await expect
      .poll(() => page.locator("#tenant-name").textContent(), { timeout: 60_000 })
      .toBe("tenant-01");
    const names = await dbNames(page);
    expect(names).toContain("catalog");
    expect(names).toContain("saas-schema");
    expect(names.filter((n) => /^tenant-\d\d$/.test(n))).toHaveLength(50);
    const out = await runSql(page, await page.locator("#sql").inputValue());
    expect(out).toMatch(/Business|Team|Free|Enterprise/);
  });

  it("previews, then migrates the schema parent: the progress bar and every child reach done", async () => {
    await openDb(page, "saas-schema");
    await expect.poll(() => page.locator("#migration").isVisible()).toBe(true);
    await page
      .getByLabel("Statements applied to this parent and every child", { exact: false })
      .fill(
        "ALTER TABLE users ADD COLUMN country TEXT;\nCREATE INDEX users_by_country ON users (country);",
      );
    await page.getByRole("button", { name: "Preview" }).click();
    await expect
      .poll(() => shown(page.locator("#mig-report")))
      .toMatch(
        /~ table users: \+ column country TEXT[\s\S]*\+ index users_by_country[\s\S]*parent and 50 children/,
      );
    await page.getByRole("button", { name: "Apply to parent and 50 children" }).click();
    await expect
      .poll(() => page.locator("#mig-text").textContent(), { timeout: 60_000 })
      .toMatch(/Applied to the parent and 50 children/);
    const bar = await page.locator("#mig-progress").evaluate((p) => ({
      value: (p as HTMLProgressElement).value,
      max: (p as HTMLProgressElement).max,
    }));
    expect(bar).toEqual({ value: 50, max: 50 });
    const statuses = await page.locator("#mig-children tr td:nth-child(2)").allTextContents();
    expect(statuses).toHaveLength(50);
    expect(new Set(statuses)).toEqual(new Set(["done"]));
    await page.screenshot({ path: `${artifacts}/console-migration.png` });
  });

  it("refuses DDL on a child and shows the new column there", async () => {
    await openDb(page, "tenant-07");
    const refused = await runSql(page, "CREATE TABLE sneaky (x);");
    expect(await page.locator("#results .error").count()).toBe(1);
    expect(refused).toMatch(/schema|DDL/i);
    const cols = await runSql(page, "SELECT name FROM pragma_table_info('users') ORDER BY cid;");
    expect(cols).toMatch(/country/);
  });

  it("enables attach on a tenant and joins across tenants on one connection", async () => {
    await openDb(page, "tenant-03");
    const before = await runSql(page, 'ATTACH "notes" AS n;');
    expect(before).toMatch(/ATTACH_FORBIDDEN/);

    await openDb(page, "notes");
    await page.getByLabel("Let other databases attach it").check();
    await expect.poll(() => page.locator("#tenant-note").textContent()).toMatch(/may attach/);

    await openDb(page, "tenant-03");
    const out = await runSql(
      page,
      'ATTACH "notes" AS n;\nSELECT u.name, n2.body FROM users AS u JOIN n.notes AS n2 ON n2.id = 1 ORDER BY u.id LIMIT 1;',
    );
    expect(out).toMatch(/first/);
    expect(await page.locator("#results .error").count()).toBe(0);
    // The attachment lives on the tab's connection: a later run still sees it.
    expect(await runSql(page, "SELECT count(*) AS c FROM n.notes;")).toMatch(/\b2\b/);
    // Running the same script again keeps the attachment instead of failing on the alias.
    const again = await runSql(
      page,
      'ATTACH "notes" AS n;\nSELECT body FROM n.notes ORDER BY id LIMIT 1;',
    );
    expect(again).toMatch(/attached as n already/);
    expect(again).toMatch(/first/);
  });

  it("exports a tenant as a .db file and imports it as a new one", async () => {
    await openDb(page, "tenant-03");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export .db" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("tenant-03.db");
    const file = `${artifacts}/tenant-03.db`;
    await download.saveAs(file);
    expect(readFileSync(file).subarray(0, 15).toString()).toBe("SQLite format 3");

    const form = page.locator("#import-db");
    await form.getByLabel("SQLite file").setInputFiles(file);
    await form.getByLabel("As database").fill("imported-03");
    await form.getByRole("button", { name: "Import" }).click();
    await expect.poll(() => page.locator("#tenant-name").textContent()).toBe("imported-03");
    const out = await runSql(
      page,
      "SELECT count(*) AS users, max(country IS NULL) AS nulls FROM users;",
    );
    expect(out).toMatch(/users\s+nulls\s+\d+\s+1/);
  });

  it("deletes a database and a group", async () => {
    await openDb(page, "imported-03");
    await page.getByRole("button", { name: "Delete database…", exact: true }).click();
    await expect.poll(() => dbNames(page)).not.toContain("imported-03");
    expect(await page.locator("#tenant").isHidden()).toBe(true);

    await page.getByLabel("New group name").fill("scratch");
    await page.getByRole("button", { name: "Add group" }).click();
    await expect.poll(() => shown(page.locator("#group-list"))).toMatch(/scratch/);
    await page.getByRole("button", { name: "Delete group scratch…" }).click();
    await page.getByLabel("Type the group's name to confirm").fill("scratch");
    await page.getByRole("button", { name: "Delete group", exact: true }).click();
    await expect.poll(() => shown(page.locator("#group-list"))).not.toMatch(/scratch/);
  });

  it("saves screenshots at 1280×800 and at phone width", async () => {
    await openDb(page, "tenant-01");
    await runSql(page, await page.locator("#sql").inputValue());
    await page.screenshot({ path: `${artifacts}/console.png` });
    const phone = await browser.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${server.url}/#db=saas-schema`);
    await ready(phone);
    await phone.screenshot({ path: `${artifacts}/console-phone.png`, fullPage: false });
    const overflow = await phone.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.close();
  });

  async function checkSurvived(p: Page): Promise<void> {
    const names = await dbNames(p);
    expect(names).toContain("notes");
    expect(names).toContain("shop-1");
    expect(names).not.toContain("imported-03");
    expect(names.filter((n) => n.startsWith("tenant-"))).toHaveLength(50);
    await openDb(p, "tenant-42");
    expect(await runSql(p, "SELECT name FROM pragma_table_info('users') ORDER BY cid;")).toMatch(
      /country/,
    );
    expect(await runSql(p, "SELECT name FROM sqlite_schema WHERE type = 'index';")).toMatch(
      /users_by_country/,
    );
    await openDb(p, "notes");
    expect(await runSql(p, "SELECT body FROM notes ORDER BY id;")).toMatch(/first\s+second/);
    expect(
      await runSql(p, "SELECT id FROM vector_top_k('docs_idx', vector('[0,1,0.1]'), 1);"),
    ).toMatch(/\b2\b/);
    expect(await p.getByLabel("Let other databases attach it").isChecked()).toBe(true);
    expect(await shown(p.locator("#group-list"))).toMatch(/team/);
  }

  it("keeps data and schema across a reload", async () => {
    await page.reload();
    await ready(page);
    await checkSurvived(page);
  });

  it("keeps data and schema across a browser restart", async () => {
    const context = await browser.relaunch();
    page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${server.url}/`);
    await ready(page);
    await checkSurvived(page);
  });

  it("starts with the network off after the first load (service worker)", async () => {
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await browser.context.setOffline(true);
    try {
      await page.reload();
      await ready(page);
      await expect.poll(() => page.locator("#status").textContent()).toMatch(/offline/);
      await checkSurvived(page);
    } finally {
      await browser.context.setOffline(false);
    }
    expect(pageErrors).toEqual([]);
  });
});
