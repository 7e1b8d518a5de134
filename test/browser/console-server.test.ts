import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/node/server.js";
import { hasChromium, launchChromium, type TestBrowser } from "./chromium.js";
import { openDb, ready, runSql, shown } from "./console-ui.js";
import { buildConsole, filesOf, serveStatic } from "./static-server.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const artifacts = `${root}test/artifacts`;

async function downloaded(page: Page, button: Locator): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent("download"), button.click()]);
  return readFileSync((await file.path())!, "utf8");
}

describe.skipIf(!hasChromium)("console on the server's databases", () => {
  let server: RunningServer;
  let dist: string;
  let browser: TestBrowser;
  let page: Page;
  let api: string;
  const pageErrors: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}/${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(res.status, `${method} ${path}`).toBe(200);
    return res.json() as Promise<Record<string, unknown>>;
  };
  const client = (db: string) => createClient({ url: `${server.url}/dev/${db}/` });
  const serverNames = async () =>
    ((await call("GET", "databases")).databases as { Name: string }[]).map((d) => d.Name);
  const listed = () =>
    page
      .locator("#db-list button[data-db]")
      .evaluateAll((els) => els.map((e) => e.getAttribute("data-db")!));

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    dist = buildConsole(root, "server");
    server = await startServer({ port: 0, memory: true, consoleDir: dist });
    api = `${server.url}/v1/organizations/local`;
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${server.url}/`);
    await ready(page);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  it("opens on the server's databases; a database created in the console is seen by @libsql/client", async () => {
    expect(await page.locator("#place").isVisible()).toBe(true);
    expect(await page.locator("#place-server").getAttribute("aria-pressed")).toBe("true");
    expect(await page.locator("#status").textContent()).toMatch(/on the server/);
    const form = page.locator("#create-db");
    await form.locator('input[name="name"]').fill("from-console");
    await form.locator('button[type="submit"]').click();
    await expect.poll(serverNames).toContain("from-console");
    await openDb(page, "from-console");
    expect(
      await runSql(
        page,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\nINSERT INTO notes (body) VALUES ('written in the console');",
      ),
    ).toMatch(/1 row\(s\) changed/);
    const rs = await client("from-console").execute("SELECT body FROM notes");
    expect(rs.rows.map((r) => r.body)).toEqual(["written in the console"]);
    // The browser's own tenants are a click away, and do not include the server's.
    await page.locator("#place-browser").click();
    await expect.poll(() => page.locator("#status").textContent()).toMatch(/in IndexedDB/);
    expect(await listed()).not.toContain("from-console");
    await page.locator("#place-server").click();
    await expect.poll(listed).toContain("from-console");
  });

  it("shows what @libsql/client wrote: tables with columns and counts, rows 100 a page, results 500 a page, CSV and JSON", async () => {
    await call("POST", "databases", { name: "big" });
    const c = client("big");
    await c.batch(
      [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL, note TEXT)",
        "CREATE INDEX items_by_label ON items (label)",
        "CREATE VIEW odd AS SELECT id FROM items WHERE id % 2 = 1",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 620) INSERT INTO items (id, label, note) SELECT i, 'item ' || i, CASE WHEN i = 3 THEN 'has, a comma and \"quotes\"' END FROM n",
      ],
      "write",
    );
    await page.getByLabel("Filter databases").fill("");
    await page.reload();
    await ready(page);
    await openDb(page, "big");
    const objects = page.getByRole("list", { name: "Tables and views" });
    await expect.poll(() => shown(objects)).toMatch(/items\s+table\s+3 columns · 620 rows/);
    expect(await shown(objects)).toMatch(/odd\s+view\s+1 column/);
    await objects.locator('[data-object="items"] summary').click();
    const items = await shown(objects.locator('[data-object="items"]'));
    expect(items).toMatch(/label\s+TEXT · not null/);
    expect(items).toMatch(/id\s+INTEGER · primary key/);
    expect(items).toMatch(/items_by_label/);
    await page.getByRole("button", { name: "Browse rows of items" }).click();
    const rows = page.locator("#table-rows");
    await expect.poll(() => shown(rows)).toMatch(/rows 1–100 of 620/);
    expect(await page.locator("#table-rows tbody tr").count()).toBe(100);
    await rows.getByRole("button", { name: "Next ›" }).click();
    await expect.poll(() => shown(rows)).toMatch(/rows 101–200 of 620/);
    expect(await page.locator("#table-rows tbody tr td").first().textContent()).toBe("101");

    const out = await runSql(page, "SELECT id, label, note FROM items ORDER BY id;");
    expect(out).toMatch(/620 rows · 500 a page/);
    expect(out).toMatch(/rows 1–500 of 620/);
    expect(await page.locator("#results tbody tr").count()).toBe(500);
    await page.locator("#results").getByRole("button", { name: "Next ›" }).click();
    await expect.poll(() => shown(page.locator("#results"))).toMatch(/rows 501–620 of 620/);
    expect(await page.locator("#results tbody tr").count()).toBe(120);
    expect(await page.locator("#results tbody tr td").first().textContent()).toBe("501");

    const csv = await downloaded(page, page.getByRole("button", { name: "Download CSV" }));
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("id,label,note");
    expect(lines[1]).toBe("1,item 1,");
    expect(lines[3]).toBe('3,item 3,"has, a comma and ""quotes"""');
    expect(lines).toHaveLength(622); // header, 620 rows, the empty string after the last CRLF
    const json = JSON.parse(
      await downloaded(page, page.getByRole("button", { name: "Download JSON" })),
    ) as Record<string, unknown>[];
    expect(json).toHaveLength(620);
    expect(json[2]).toEqual({ id: 3, label: "item 3", note: 'has, a comma and "quotes"' });
    expect(json[619]).toEqual({ id: 620, label: "item 620", note: null });

    // The query history of this tab.
    await page.locator("#history summary").click();
    expect(await shown(page.locator("#history-list"))).toMatch(/SELECT id, label, note FROM items/);
  });

  it("previews a migration on an exported copy: the COLUM typo shows as a column named COLUM, with the number of children, and nothing is applied", async () => {
    await call("POST", "databases", { name: "app-schema", is_schema: true });
    await client("app-schema").execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)");
    await call("POST", "databases", { name: "app-1", schema: "app-schema" });
    await call("POST", "databases", { name: "app-2", schema: "app-schema" });
    await page.reload();
    await ready(page);
    await openDb(page, "app-schema");
    const apply = page.locator("#mig-run");
    expect(await apply.isDisabled()).toBe(true);
    await page.locator("#mig-sql").fill("ALTER TABLE t ADD COLUM plan TEXT");
    await page.getByRole("button", { name: "Preview" }).click();
    const report = page.locator("#mig-report");
    await expect.poll(() => shown(report)).toMatch(/Applying it runs on the parent and 2 children/);
    const text = await shown(report);
    expect(text).toMatch(/~ table t: \+ column COLUM plan TEXT/);
    expect(text).toMatch(/misspelt COLUMN/);
    await report.locator(".schema-sql summary").click();
    expect(await report.locator(".schema-sql pre.before").textContent()).toBe(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)",
    );
    expect(await report.locator(".schema-sql pre.after").textContent()).toBe(
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, COLUM plan TEXT)",
    );
    expect(text).toMatch(
      /in this browser's engine on a scratch copy of app-schema exported from the server/,
    );
    // Nothing applied: the server's parent and child still have two columns.
    const cols = await client("app-1").execute("SELECT name FROM pragma_table_info('t')");
    expect(cols.rows.map((r) => r.name)).toEqual(["id", "v"]);
    expect(await apply.isDisabled()).toBe(false);
    expect(await apply.textContent()).toBe("Apply to parent and 2 children");
    // Editing the text asks for a new preview.
    await page
      .locator("#mig-sql")
      .fill("ALTER TABLE t ADD COLUMN plan TEXT;\nCREATE INDEX t_plan ON t (plan);");
    expect(await apply.isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => shown(report)).toMatch(/\+ column plan TEXT[\s\S]*\+ index t_plan/);
    const jobs = async () =>
      (
        (await (await fetch(`${server.url}/dev/app-schema/v1/jobs`)).json()) as {
          migrations: unknown[];
        }
      ).migrations.length;
    const jobsBefore = await jobs();
    await apply.click();
    await expect
      .poll(() => page.locator("#mig-text").textContent(), { timeout: 30_000 })
      .toMatch(/Applied to the parent and 2 children/);
    expect(await page.locator("#mig-children tr td:nth-child(2)").allTextContents()).toEqual([
      "done",
      "done",
    ]);
    const after = await client("app-2").execute("SELECT name FROM pragma_table_info('t')");
    expect(after.rows.map((r) => r.name)).toEqual(["id", "v", "plan"]);
    // Both statements were one migration job on the server (one transaction).
    expect(await jobs()).toBe(jobsBefore + 1);
    const planIdx = await client("app-1").execute(
      "SELECT name FROM sqlite_schema WHERE type = 'index'",
    );
    expect(planIdx.rows.map((r) => r.name)).toEqual(["t_plan"]);
  });

  it("a failed migration names its child, keeps the per-child table in view and turns the bar red", async () => {
    await client("app-2").batch(["INSERT INTO t (v) VALUES (7)", "INSERT INTO t (v) VALUES (7)"]);
    await page.locator("#mig-sql").fill("CREATE UNIQUE INDEX t_v ON t (v)");
    await page.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => shown(page.locator("#mig-report"))).toMatch(/\+ index t_v/);
    await page.locator("#mig-run").click();
    const error = page.locator("#mig-error");
    await expect.poll(() => error.isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await error.textContent()).toMatch(/Migration failed on app-2: .*UNIQUE/);
    const bar = page.locator("#mig-progress");
    expect(await bar.getAttribute("class")).toMatch(/failed/);
    expect(await bar.evaluate((b) => (b as HTMLProgressElement).value)).toBe(2);
    expect(await bar.evaluate((b) => getComputedStyle(b).accentColor)).toBe(
      await page.evaluate(() => {
        const probe = document.createElement("span");
        probe.style.color = "var(--danger)";
        document.body.append(probe);
        const c = getComputedStyle(probe).color;
        probe.remove();
        return c;
      }),
    );
    const statuses = await page.locator("#mig-children tr td:nth-child(2)").allTextContents();
    expect(statuses).toEqual(["failed", "failed"]);
    const culprit = page.locator("#mig-children tr.culprit");
    expect(await culprit.count()).toBe(1);
    expect(await shown(culprit)).toMatch(/app-2\s+failed\s+.*UNIQUE constraint failed: t\.v/);
    expect(await shown(page.locator("#mig-children"))).toMatch(/app-1\s+failed\s+aborted/);
    for (const s of statuses) expect(s).not.toMatch(/[A-Z][a-z]+[A-Z]/);
    // No toast covers the per-child table.
    const table = await page.locator(".mig-table").boundingBox();
    const toast = page.locator("#toast");
    if (await toast.isVisible()) {
      const t = (await toast.boundingBox())!;
      const overlap =
        t.x < table!.x + table!.width &&
        table!.x < t.x + t.width &&
        t.y < table!.y + table!.height &&
        table!.y < t.y + t.height;
      expect(overlap).toBe(false);
    }
    await page.locator("#migration").scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${artifacts}/console-server-migration-failed.png` });
    const idx = await client("app-1").execute(
      "SELECT name FROM sqlite_schema WHERE type = 'index'",
    );
    expect(idx.rows.map((r) => r.name)).toEqual(["t_plan"]);
  });

  it("a delete-protected database shows it, and Delete is disabled with the reason", async () => {
    await call("POST", "databases", { name: "keep-me" });
    await call("PATCH", "databases/keep-me/configuration", { delete_protection: true });
    await page.reload();
    await ready(page);
    await openDb(page, "keep-me");
    expect(await page.locator("#tenant-protect").isVisible()).toBe(true);
    const del = page.locator("#delete");
    expect(await del.isDisabled()).toBe(true);
    expect(await del.getAttribute("title")).toMatch(/delete protection is on/i);
    expect(await page.locator("#tenant-note").textContent()).toMatch(/delete_protection/);
    await openDb(page, "from-console");
    expect(await del.isDisabled()).toBe(false);
    expect(await del.textContent()).toBe("Delete database…");
  });

  it("deletes a schema parent with children only once its name is typed", async () => {
    await openDb(page, "app-schema");
    const del = page.locator("#delete");
    expect(await del.textContent()).toBe("Delete parent and children…");
    const dialog = page.getByRole("dialog");
    const input = page.getByLabel("Type the database's name to confirm");
    const confirm = page.getByRole("button", { name: "Delete parent and children", exact: true });
    await del.click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toMatch(/schema parent of 2 children/);
    await input.fill("app-schem");
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Cancel" }).click();
    expect(await serverNames()).toEqual(expect.arrayContaining(["app-schema", "app-1", "app-2"]));
    // A protected child stops it before anything is deleted (app-1 would go first).
    await call("PATCH", "databases/app-2/configuration", { delete_protection: true });
    await del.click();
    await input.fill("app-schema");
    await confirm.click();
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toMatch(/DATABASE_PROTECTED: child "app-2" has delete protection on: nothing was deleted/);
    expect(await serverNames()).toEqual(expect.arrayContaining(["app-schema", "app-1", "app-2"]));
    await call("PATCH", "databases/app-2/configuration", { delete_protection: false });
    await page.reload();
    await ready(page);
    await del.click();
    await input.fill("app-schema");
    await confirm.click();
    await expect.poll(serverNames).not.toContain("app-schema");
    const names = await serverNames();
    expect(names).not.toContain("app-1");
    expect(names).not.toContain("app-2");
    expect(names).toContain("keep-me");
  });

  it("adds and deletes a server group (its name typed), exports a database and imports it back", async () => {
    await page.getByLabel("New group name").fill("eu");
    await page.getByRole("button", { name: "Add group" }).click();
    const groups = async () =>
      ((await call("GET", "groups")).groups as { name: string }[]).map((g) => g.name);
    await expect.poll(groups).toContain("eu");
    await page.getByRole("button", { name: "Delete group eu…" }).click();
    await page.getByLabel("Type the group's name to confirm").fill("eu");
    await page.getByRole("button", { name: "Delete group", exact: true }).click();
    await expect.poll(groups).not.toContain("eu");

    await openDb(page, "from-console");
    const [file] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export .db" }).click(),
    ]);
    const path = (await file.path())!;
    expect(readFileSync(path).subarray(0, 15).toString()).toBe("SQLite format 3");
    await page.locator('#import-db input[name="file"]').setInputFiles(path);
    await page.locator('#import-db input[name="name"]').fill("from-console-copy");
    await page.getByRole("button", { name: "Import" }).click();
    await expect.poll(serverNames).toContain("from-console-copy");
    const rs = await client("from-console-copy").execute("SELECT body FROM notes");
    expect(rs.rows.map((r) => r.body)).toEqual(["written in the console"]);
  });

  it("checks names as they are typed, with the rule next to the field", async () => {
    const input = page.locator('#create-db input[name="name"]');
    await input.fill("Acme Co");
    const rule = page.locator("#create-db .rule");
    expect(await rule.textContent()).toMatch(/“A”, space, “C” not allowed: lowercase letters/);
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    const before = await serverNames();
    await page.locator('#create-db button[type="submit"]').click();
    expect(await serverNames()).toEqual(before);
    await page.locator('#import-db input[name="name"]').fill("imported");
    await page.getByRole("button", { name: "Import" }).click();
    await expect
      .poll(() => page.locator("#toast").textContent())
      .toBe("FILE_MISSING: Pick a SQLite file to import");
    expect(await serverNames()).toEqual(before);
    await input.fill("acme-co");
    expect(await rule.textContent()).toBe(
      "Lowercase letters, digits and dashes; at most 64; no dash first or last.",
    );
    await input.fill("");
  });

  it("saves screenshots at 1280×800 and 390×844, light and dark", async () => {
    await openDb(page, "big");
    await runSql(page, "SELECT id, label, note FROM items WHERE id BETWEEN 1 AND 8;");
    await page.locator('[data-object="items"] summary').click();
    await page.getByRole("button", { name: "Browse rows of items" }).click();
    await expect.poll(() => shown(page.locator("#table-rows"))).toMatch(/rows 1–100 of 620/);
    await page.evaluate(() => {
      document.getElementById("toast")!.hidden = true;
    });
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: `${artifacts}/console-server-${scheme}.png` });
      const phone = await browser.context.newPage();
      await phone.emulateMedia({ colorScheme: scheme });
      await phone.setViewportSize({ width: 390, height: 844 });
      await phone.goto(`${server.url}/#db=big`);
      await ready(phone);
      await expect.poll(() => phone.locator("#tenant-name").textContent()).toBe("big");
      expect(await phone.locator("#tenant").isVisible()).toBe(true);
      await phone.screenshot({ path: `${artifacts}/console-server-phone-${scheme}.png` });
      const overflow = await phone.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await phone.close();
    }
    await page.emulateMedia({ colorScheme: "light" });
    expect(readdirSync(artifacts)).toEqual(
      expect.arrayContaining(["console-server-light.png", "console-server-phone-dark.png"]),
    );
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)("console on a server with --auth", () => {
  it("says a 401 needs the API token, then works with the pasted one (kept in sessionStorage)", async () => {
    const dist = buildConsole(root, "auth");
    const server = await startServer({
      port: 0,
      memory: true,
      consoleDir: dist,
      auth: true,
      apiToken: "console-test-token",
    });
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/`);
      await ready(page);
      expect(await page.locator("#place").isVisible()).toBe(true);
      await expect
        .poll(() => page.locator("#toast").textContent())
        .toMatch(/UNAUTHORIZED: The server asks for an API token \(401/);
      expect(await page.locator("#status").textContent()).not.toMatch(/console-test-token/);
      await page.getByLabel("API token").fill("wrong-token");
      await page.getByRole("button", { name: "Use" }).click();
      await expect
        .poll(() => page.locator("#toast").textContent())
        .toMatch(/refused the API token \(401\)/);
      expect(await page.locator("#toast").textContent()).not.toMatch(/wrong-token/);
      await page.getByLabel("API token").fill("console-test-token");
      await page.getByRole("button", { name: "Use" }).click();
      await expect.poll(() => page.locator("#status").textContent()).toMatch(/on the server/);
      expect(await page.evaluate(() => sessionStorage.getItem("tenantlite.api-token"))).toBe(
        "console-test-token",
      );
      // Hrana through a database token minted with the API token.
      await openDb(page, "default");
      expect(await runSql(page, "SELECT 40 + 2 AS answer;")).toMatch(/42/);
    } finally {
      await browser.close();
      await server.close();
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasChromium)("console from a static host", () => {
  it("has no server switch and works on the browser's tenants, with a migration preview in the browser's engine", async () => {
    const dist = buildConsole(root, "static");
    const files = filesOf(dist);
    const host = await serveStatic(files);
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(`${host.url}/`);
      await ready(page);
      expect(await page.locator("#place").isVisible()).toBe(false);
      expect(await page.locator("#status").textContent()).toMatch(/in IndexedDB/);
      const form = page.locator("#create-db");
      await form.locator('input[name="name"]').fill("shop-schema");
      await form.locator('select[name="type"]').selectOption("schema");
      await form.locator('button[type="submit"]').click();
      await expect.poll(() => page.locator("#tenant-name").textContent()).toBe("shop-schema");
      await page.locator("#mig-sql").fill("CREATE TABLE t (id INTEGER PRIMARY KEY)");
      await page.getByRole("button", { name: "Preview" }).click();
      await expect
        .poll(() => shown(page.locator("#mig-report")))
        .toMatch(/\+ table t \(id INTEGER\)/);
      await page.locator("#mig-run").click();
      await expect
        .poll(() => page.locator("#mig-text").textContent())
        .toMatch(/Applied to the parent and 0 children/);
      await page.locator("#mig-sql").fill("ALTER TABLE t ADD COLUM plan TEXT");
      await page.getByRole("button", { name: "Preview" }).click();
      const report = page.locator("#mig-report");
      await expect.poll(() => shown(report)).toMatch(/\+ column COLUM plan TEXT/);
      expect(await shown(report)).toMatch(/scratch copy of shop-schema in this browser's engine/);
      expect(
        await page.evaluate(async () => {
          const r = await fetch("v1/organizations/local/databases");
          return r.status;
        }),
      ).toBe(404);
    } finally {
      await browser.close();
      await host.close();
      rmSync(dist, { recursive: true, force: true });
    }
  });
});
