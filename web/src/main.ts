/**
 * The tenantlite browser console. Served by `tenantlite dev` it works on the server's databases
 * (Platform API + Hrana, server-place.ts) by default, with the browser's own tenants (IndexedDB,
 * the library's createBrowserPlatform: one engine per origin in a worker, shared by every console
 * tab) a click away; from a static host or offline, on the browser's tenants
 * only. An SQL editor per database with paged results, CSV/JSON export and a history; a table
 * browser; schema migrations with a preview and per-child progress; attach; export/import.
 */
import { type BrowserPlatform, createBrowserPlatform, TenantliteError } from "tenantlite/browser";
import { DatabaseBrowser } from "./browse.js";
import { byId, h } from "./dom.js";
import { download } from "./export.js";
import { pagedResult } from "./grid.js";
import { checkNameField } from "./names.js";
import { splitScript } from "./parse-client.js";
import { BrowserPlace, ConsoleError, type DbRow, type JobView, type Place } from "./place.js";
import { previewMigration, sweepScratch } from "./preview.js";
import { runScript, type StatementOutcome } from "./run-script.js";
import { createSampleData, SAMPLE, SAMPLE_QUERY } from "./sample.js";
import { type Probe, probeServer, ServerPlace, TOKEN_KEY } from "./server-place.js";

const el = {
  status: byId("status"),
  sample: byId<HTMLButtonElement>("sample"),
  placeSwitch: byId("place"),
  placeServer: byId<HTMLButtonElement>("place-server"),
  placeBrowser: byId<HTMLButtonElement>("place-browser"),
  tokenForm: byId<HTMLFormElement>("token-form"),
  token: byId<HTMLInputElement>("api-token"),
  createDb: byId<HTMLFormElement>("create-db"),
  dbFilter: byId<HTMLInputElement>("db-filter"),
  dbList: byId("db-list"),
  dbCount: byId("db-count"),
  createGroup: byId<HTMLFormElement>("create-group"),
  groupList: byId("group-list"),
  importDb: byId<HTMLFormElement>("import-db"),
  welcome: byId("welcome"),
  tenant: byId("tenant"),
  tenantName: byId("tenant-name"),
  tenantType: byId("tenant-type"),
  tenantMeta: byId("tenant-meta"),
  tenantNote: byId("tenant-note"),
  tenantProtect: byId("tenant-protect"),
  allowAttach: byId<HTMLInputElement>("allow-attach"),
  exportBtn: byId<HTMLButtonElement>("export"),
  deleteBtn: byId<HTMLButtonElement>("delete"),
  editor: byId<HTMLFormElement>("editor"),
  sql: byId<HTMLTextAreaElement>("sql"),
  run: byId<HTMLButtonElement>("run"),
  runInfo: byId("run-info"),
  history: byId("history-list"),
  migration: byId("migration"),
  migSql: byId<HTMLTextAreaElement>("mig-sql"),
  migPreview: byId<HTMLButtonElement>("mig-preview"),
  migRun: byId<HTMLButtonElement>("mig-run"),
  migProgress: byId<HTMLProgressElement>("mig-progress"),
  migText: byId("mig-text"),
  migReport: byId("mig-report"),
  migError: byId("mig-error"),
  migChildren: byId<HTMLTableSectionElement>("mig-children"),
  results: byId("results"),
  schema: byId("schema"),
  browseRefresh: byId<HTMLButtonElement>("browse-refresh"),
  toast: byId("toast"),
  confirm: byId<HTMLDialogElement>("delete-group"),
  confirmTitle: byId("dg-title"),
  confirmText: byId("dg-text"),
  confirmLabel: byId("dg-label"),
  confirmName: byId<HTMLInputElement>("dg-name"),
  confirmOk: byId<HTMLButtonElement>("dg-confirm"),
  confirmCancel: byId<HTMLButtonElement>("dg-cancel"),
};

/** Where the shown databases live. */
let place: Place;
let browserPlace: BrowserPlace | undefined;
let serverPlace: ServerPlace | undefined;
let serverState: Probe = "none";
let databases: DbRow[] = [];
let groups: string[] = [];
let current: DbRow | undefined;
/** Per place and database: alias → attached database, so rerunning a script keeps its ATTACH. */
const attachments = new Map<string, Map<string, string>>();
const browser = new DatabaseBrowser(el.schema, (e) => toast(messageOf(e), true));
/** The migration text last previewed with success, for the open parent ("" = none). */
let previewed = "";

// ── helpers ─────────────────────────────────────────────────────────────

function messageOf(e: unknown): string {
  if (e instanceof TenantliteError) return `${e.code}: ${e.detail}`;
  if (e instanceof Error && typeof (e as { code?: unknown }).code === "string") {
    return `${(e as unknown as { code: string }).code}: ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
function toast(text: string, bad = false): void {
  el.toast.textContent = text;
  el.toast.classList.toggle("bad", bad);
  el.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.toast.hidden = true), bad ? 8000 : 3500);
}

/** Runs `action` with `button` disabled; failures become an error toast. */
async function act(button: HTMLButtonElement | null, action: () => Promise<void>): Promise<void> {
  if (button !== null) button.disabled = true;
  try {
    await action();
  } catch (e) {
    toast(messageOf(e), true);
  } finally {
    if (button !== null) button.disabled = false;
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function setStatus(text?: string): void {
  const where =
    place?.kind === "server"
      ? "on the server"
      : `in IndexedDB · ${navigator.onLine ? "online" : "offline"}${
          navigator.serviceWorker?.controller ? " · works offline" : ""
        }`;
  el.status.textContent = text ?? `${plural(databases.length, "database")} ${where}`;
}

function typeLabel(info: DbRow): string {
  return info.type === "schema" ? "schema parent" : info.type === "child" ? "child" : "regular";
}

/** Job states as words (sqld's names stay in the title). */
const JOB_WORDS: Record<string, string> = {
  WaitingDryRun: "dry run",
  DryRunSuccess: "dry run passed",
  DryRunFailure: "dry run failed",
  WaitingRun: "applying",
  RunSuccess: "done",
  RunFailure: "failed",
};
function jobWord(status: string): string {
  return JOB_WORDS[status] ?? status;
}

function attachmentsOf(name: string): Map<string, string> {
  const key = `${place.kind}:${name}`;
  const m = attachments.get(key) ?? new Map<string, string>();
  attachments.set(key, m);
  return m;
}

function forget(name: string): void {
  place.forget(name);
  attachments.delete(`${place.kind}:${name}`);
}

// ── places ──────────────────────────────────────────────────────────────

const PLACE_KEY = "tenantlite.place";

function renderPlaceSwitch(): void {
  el.placeSwitch.hidden = serverState === "none";
  el.placeServer.setAttribute("aria-pressed", String(place.kind === "server"));
  el.placeBrowser.setAttribute("aria-pressed", String(place.kind === "browser"));
  // The token field, only where the server asks for one (it runs with --auth) or one was given.
  el.tokenForm.hidden =
    place.kind !== "server" || (serverState !== "auth" && !sessionStorage.getItem(TOKEN_KEY));
  el.sample.disabled = place.kind !== "browser";
  el.sample.title =
    place.kind === "browser" ? "" : "Sample data is built in this browser: switch to This browser";
  const welcome = el.welcome.querySelector("p")!;
  welcome.textContent =
    place.kind === "server"
      ? "These are the databases of the tenantlite server that serves this page, through its Platform API and Hrana — what @tursodatabase/api and @libsql/client see. Your browser's own databases are under This browser."
      : "Every database lives in your browser (IndexedDB) and keeps working offline. Create one on the left, or press Sample data for a demo SaaS: a schema parent saas-schema with 50 tenant children and a shared catalog they can attach.";
}

let browserEngine: Promise<BrowserPlatform> | undefined;

/**
 * The origin's engine, shared with the other console tabs (the leader tab runs it in a worker;
 * see README "Tabs and the worker engine"). The IndexedDB name is the one the console always used,
 * so tenants made before open as they were. Writes are answered once IndexedDB saved them
 * (strict durability: the console used to ask for relaxed).
 */
function browserPlatform(): Promise<BrowserPlatform> {
  browserEngine ??= createBrowserPlatform({
    dbName: "tenantlite-console",
    workerUrl: new URL("engine-worker.js", document.baseURI),
    wasmUrl: new URL("sql-wasm-browser.wasm", document.baseURI),
  });
  browserEngine.catch(() => {
    browserEngine = undefined;
  });
  return browserEngine;
}

async function usePlace(kind: "server" | "browser"): Promise<void> {
  if (kind === "server" && serverPlace === undefined) return;
  localStorage.setItem(PLACE_KEY, kind);
  if (kind === "browser" && browserPlace === undefined) {
    setStatus("Loading SQLite…");
    const platform = await browserPlatform();
    browserPlace = new BrowserPlace(platform);
    browserPlace.onLost = (db) => attachments.delete(`browser:${db}`);
    // Scratch copies a preview left when its tab closed mid-run (preview.ts).
    void sweepScratch(platform).catch(() => undefined);
  }
  const next = kind === "server" ? serverPlace! : browserPlace!;
  if (next !== place) {
    place = next;
    showTenant(undefined);
  }
  renderPlaceSwitch();
  await refresh();
}

// ── lists ───────────────────────────────────────────────────────────────

async function refresh(): Promise<void> {
  try {
    databases = await place.databases();
    groups = await place.groups();
  } catch (e) {
    databases = [];
    groups = [];
    renderDatabases();
    renderGroups();
    setStatus(messageOf(e));
    throw e;
  }
  if (current !== undefined) {
    current = databases.find((d) => d.id === current!.id);
    if (current === undefined) showTenant(undefined);
    else renderTenantHead();
  }
  renderDatabases();
  renderGroups();
  renderSelects();
  setStatus();
}

function renderDatabases(): void {
  const filter = el.dbFilter.value.trim().toLowerCase();
  const shown = filter ? databases.filter((d) => d.name.includes(filter)) : databases;
  el.dbCount.textContent = `(${databases.length})`;
  el.dbList.replaceChildren(
    ...shown.map((d) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            "aria-current": d.id === current?.id ? "true" : "false",
            "data-db": d.name,
            onclick: () => openTenant(d.name),
          },
          h("span", { class: "name" }, d.name),
          d.allowAttach && h("span", { class: "badge attach" }, "attach"),
          d.deleteProtection && h("span", { class: "badge protect" }, "protected"),
          d.type !== "regular" && h("span", { class: `badge ${d.type}` }, typeLabel(d)),
        ),
      ),
    ),
  );
  if (shown.length === 0) {
    el.dbList.append(h("li", { class: "muted" }, databases.length ? "No match" : "None yet"));
  }
}

function renderGroups(): void {
  el.groupList.replaceChildren(
    ...groups.map((g) => {
      const count = databases.filter((d) => d.group === g).length;
      const isDefault = g === place.defaultGroup;
      return h(
        "li",
        null,
        h("span", null, g, " ", h("span", { class: "muted" }, `${count} db`)),
        h(
          "button",
          {
            type: "button",
            class: "link danger",
            "aria-label": `Delete group ${g}…`,
            disabled: isDefault,
            title: isDefault
              ? "The default group cannot be deleted: databases created without a group go there"
              : undefined,
            onclick: (e) =>
              act(e.currentTarget as HTMLButtonElement, async () => {
                const text =
                  count === 0
                    ? `Group "${g}" holds no databases.`
                    : `This deletes group "${g}" and its ${plural(count, "database")}, with all their data. It cannot be undone.`;
                if (!(await confirmName("group", g, text, "Delete group"))) return;
                for (const d of databases.filter((x) => x.group === g)) forget(d.name);
                await place.deleteGroup(g);
                toast(`Group ${g} deleted`);
                await refresh();
              }),
          },
          "Delete group…",
        ),
      );
    }),
  );
}

/**
 * Asks for a name to be typed before a deletion that takes more than one database with it (a
 * group, a schema parent with its children): a click on the wrong row, or a confirm dialog
 * answered by habit, must not delete them.
 */
function confirmName(
  what: "group" | "database",
  name: string,
  text: string,
  action: string,
): Promise<boolean> {
  const dialog = el.confirm;
  el.confirmTitle.textContent = `Delete ${what}`;
  el.confirmText.textContent = text;
  el.confirmLabel.textContent = `Type the ${what}'s name to confirm`;
  el.confirmOk.textContent = action;
  el.confirmName.value = "";
  el.confirmName.placeholder = name;
  el.confirmOk.disabled = true;
  el.confirmName.oninput = () => {
    el.confirmOk.disabled = el.confirmName.value !== name;
  };
  dialog.returnValue = "";
  el.confirmCancel.onclick = () => dialog.close("cancel");
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "delete" && el.confirmName.value === name),
      { once: true },
    );
    dialog.showModal();
    el.confirmName.focus();
  });
}

function fillSelect(select: HTMLSelectElement, options: string[], empty: string): void {
  const keep = select.value;
  select.replaceChildren(
    ...(options.length
      ? options.map((o) => h("option", { value: o }, o))
      : [h("option", { value: "" }, empty)]),
  );
  if (options.includes(keep)) select.value = keep;
}

function renderSelects(): void {
  const form = el.createDb.elements;
  fillSelect(form.namedItem("group") as HTMLSelectElement, groups, "no groups");
  const parents = databases.filter((d) => d.type === "schema").map((d) => d.name);
  fillSelect(form.namedItem("parent") as HTMLSelectElement, parents, "no schema parent yet");
}

// ── one tenant ──────────────────────────────────────────────────────────

function defaultSql(info: DbRow): string {
  if (info.type === "child" && info.parent === SAMPLE.schema) return SAMPLE_QUERY;
  if (info.type === "child") {
    return "SELECT type, name, sql FROM sqlite_schema;\n-- DDL is refused on a child: change the schema on its parent";
  }
  if (info.type === "schema") {
    return "SELECT type, name, sql FROM sqlite_schema;\n-- writes here run as a migration on every child";
  }
  return "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes (body) VALUES ('hello from ' || sqlite_version());\nSELECT * FROM notes;";
}

function showTenant(info: DbRow | undefined): void {
  current = info;
  el.tenant.hidden = info === undefined;
  el.welcome.hidden = info !== undefined;
  if (info === undefined) {
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    renderDatabases();
    return;
  }
  history.replaceState(null, "", `#db=${encodeURIComponent(info.name)}`);
  el.sql.value = localStorage.getItem(`tenantlite.sql.${info.id}`) ?? defaultSql(info);
  el.results.replaceChildren();
  el.runInfo.textContent = "";
  el.migration.hidden = info.type !== "schema";
  resetMigration();
  renderTenantHead();
  renderDatabases();
  renderHistory();
  void browser.show(place.session(info.name));
}

function resetMigration(): void {
  el.migChildren.replaceChildren();
  el.migProgress.value = 0;
  el.migProgress.classList.remove("failed");
  el.migText.textContent = "";
  el.migReport.replaceChildren();
  el.migError.hidden = true;
  previewed = "";
  el.migRun.disabled = true;
}

function renderTenantHead(): void {
  const info = current!;
  el.tenantName.textContent = info.name;
  el.tenantType.textContent = typeLabel(info);
  el.tenantType.className = `badge ${info.type}`;
  const where = place.kind === "server" ? "on the server" : "in this browser";
  el.tenantMeta.textContent = `group ${info.group} · ${where}${
    info.createdAt ? ` · created ${new Date(info.createdAt).toLocaleString()}` : ""
  }`;
  el.allowAttach.checked = info.allowAttach;
  const children = databases.filter((d) => d.parent === info.name).length;
  el.tenantProtect.hidden = !info.deleteProtection;
  el.deleteBtn.disabled = info.deleteProtection;
  el.deleteBtn.title = info.deleteProtection
    ? "Delete protection is on (configuration delete_protection): switch it off first"
    : "";
  el.deleteBtn.textContent =
    info.type === "schema" && children > 0 ? "Delete parent and children…" : "Delete database…";
  el.tenantNote.textContent = info.deleteProtection
    ? "Delete protection is on: this database cannot be deleted until its configuration's delete_protection is switched off."
    : info.type === "child"
      ? `Schema child of ${info.parent}: its schema changes only through a migration of the parent (DDL here is refused).`
      : info.type === "schema"
        ? `Schema parent of ${plural(children, "child", "children")}: DDL here is applied to every child, all or none.`
        : info.allowAttach
          ? `Other databases may attach this one read-only: ATTACH "${info.name}" AS alias.`
          : "A regular database. Tick “Let other databases attach it” to let other databases read it with ATTACH.";
}

function openTenant(name: string): void {
  const info = databases.find((d) => d.name === name);
  if (info === undefined) toast(`No database named ${name}`, true);
  else showTenant(info);
}

// ── editor, results, history ────────────────────────────────────────────

function historyKey(info: DbRow): string {
  return `tenantlite.history.${place.kind}.${info.id}`;
}

function readHistory(info: DbRow): string[] {
  try {
    const list = JSON.parse(sessionStorage.getItem(historyKey(info)) ?? "[]") as unknown;
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === "string") : [];
  } catch {
    return [];
  }
}

function remember(info: DbRow, script: string): void {
  const list = [script, ...readHistory(info).filter((s) => s !== script)].slice(0, 30);
  sessionStorage.setItem(historyKey(info), JSON.stringify(list));
  renderHistory();
}

function renderHistory(): void {
  const info = current;
  const list = info === undefined ? [] : readHistory(info);
  el.history.replaceChildren(
    ...list.map((script) =>
      h(
        "li",
        null,
        h(
          "button",
          {
            type: "button",
            class: "link mono",
            title: script.slice(0, 2000),
            onclick: () => {
              el.sql.value = script;
              el.sql.focus();
            },
          },
          script.replace(/\s+/g, " ").slice(0, 120),
        ),
      ),
    ),
  );
  if (list.length === 0) el.history.append(h("li", { class: "muted" }, "Nothing run yet"));
}

async function runEditor(): Promise<void> {
  const info = current;
  if (info === undefined || el.run.disabled) return;
  const script = el.sql.value;
  localStorage.setItem(`tenantlite.sql.${info.id}`, script);
  remember(info, script);
  el.run.disabled = true;
  el.runInfo.textContent = "Running…";
  const t0 = performance.now();
  try {
    const outcomes = await runScript(place.session(info.name), script, attachmentsOf(info.name));
    renderResults(outcomes, info.name);
    const failed = outcomes.some((o) => o.error !== undefined);
    el.runInfo.textContent = `${plural(outcomes.length, "statement")}${
      failed ? ", stopped at an error" : ""
    } · ${(performance.now() - t0).toFixed(1)} ms`;
    if (outcomes.some((o) => o.result !== undefined && o.result.columns.length === 0)) {
      void browser.show(place.session(info.name));
    }
  } catch (e) {
    el.runInfo.textContent = "";
    toast(messageOf(e), true);
  } finally {
    el.run.disabled = false;
  }
}

function renderResults(outcomes: StatementOutcome[], db: string): void {
  el.results.replaceChildren(
    ...outcomes.map((o, i) => {
      const head = h(
        "header",
        null,
        h("span", null, `#${i + 1} · line ${o.at.line}`),
        h("code", null, o.sql.split("\n")[0]!),
        h("span", null, o.error ? o.error.code : `${o.ms.toFixed(1)} ms`),
      );
      if (o.error !== undefined) {
        const at = o.error.at;
        return h(
          "figure",
          { class: "result error", role: "alert" },
          head,
          h("p", { class: "msg" }, o.error.message),
          h(
            "p",
            { class: "where" },
            `at line ${at.line}, column ${at.column} `,
            h(
              "button",
              {
                type: "button",
                class: "link",
                onclick: () => {
                  el.sql.focus();
                  el.sql.setSelectionRange(at.offset, at.offset + 1);
                },
              },
              "Show in editor",
            ),
          ),
        );
      }
      if (o.note !== undefined) {
        return h("figure", { class: "result" }, head, h("p", { class: "muted" }, o.note));
      }
      const rs = o.result!;
      const body = rs.columns.length
        ? pagedResult(rs, `${db}-${i + 1}`)
        : h("p", { class: "muted" }, rs.rowsAffected ? `${rs.rowsAffected} row(s) changed` : "OK");
      return h("figure", { class: "result" }, head, body);
    }),
  );
}

// ── migrations ──────────────────────────────────────────────────────────

function renderJob(job: JobView): void {
  el.migProgress.max = Math.max(1, job.children);
  el.migProgress.value = job.done;
  el.migText.textContent = `${jobWord(job.status)} · ${job.done} of ${plural(job.children, "child", "children")}`;
  el.migChildren.replaceChildren(
    ...job.progress.map((p) =>
      h(
        "tr",
        null,
        h("td", null, p.namespace),
        h("td", { class: `st-${p.status}`, title: p.status }, jobWord(p.status)),
        h("td", null, p.error ?? ""),
      ),
    ),
  );
}

function migrationStatements(): Promise<string[]> {
  return splitScript(el.migSql.value);
}

async function previewCurrent(): Promise<void> {
  const info = current;
  if (info?.type !== "schema") return;
  const statements = await migrationStatements();
  if (statements.length === 0) {
    toast("Write the migration's statements first", true);
    return;
  }
  const text = el.migSql.value;
  el.migReport.replaceChildren(h("p", { class: "muted" }, "Previewing…"));
  const bytes = await place.exportDatabase(info.name);
  const result = await previewMigration(await browserPlatform(), bytes, statements);
  const children = (await place.databases()).filter((d) => d.parent === info.name).length;
  const how =
    place.kind === "server"
      ? `Preview run in this browser's engine on a scratch copy of ${info.name} exported from the server just now (the server has no dry-run-only route); the server's parent and children are unchanged.`
      : `Preview run on a scratch copy of ${info.name} in this browser's engine; the parent and its children are unchanged.`;
  el.migReport.replaceChildren(
    h("p", { class: "muted" }, how),
    result.error
      ? h(
          "p",
          { class: "bad" },
          `Statement ${result.error.statement} fails on the parent's copy: ${result.error.message}. Applying it would change nothing.`,
        )
      : h(
          "div",
          null,
          h(
            "p",
            null,
            `Schema change (sqlite_schema before → after): ${
              result.changes.length === 0 ? "none" : ""
            }`,
          ),
          result.changes.length > 0 &&
            h("ul", { class: "diff" }, ...result.changes.map((c) => h("li", { class: "mono" }, c))),
          result.sql.length > 0 &&
            h(
              "details",
              { class: "schema-sql" },
              h("summary", null, "sqlite_schema before → after"),
              ...result.sql.map((o) =>
                h(
                  "div",
                  null,
                  h("strong", null, o.key),
                  h("pre", { class: "before" }, o.before ?? "(absent)"),
                  h("pre", { class: "after" }, o.after ?? "(absent)"),
                ),
              ),
            ),
          ...result.warnings.map((w) => h("p", { class: "warn" }, `⚠ ${w}`)),
          h(
            "p",
            null,
            `Applying it runs on the parent and ${plural(children, "child", "children")} (each child is dry-run first; all or none).`,
          ),
        ),
  );
  if (result.error === undefined) {
    previewed = text;
    el.migRun.disabled = false;
    el.migRun.title = "";
    el.migRun.textContent = `Apply to parent and ${plural(children, "child", "children")}`;
  }
}

async function runMigration(): Promise<void> {
  const info = current;
  if (info?.type !== "schema") return;
  if (el.migSql.value !== previewed) {
    toast("Preview the migration first", true);
    return;
  }
  const statements = await migrationStatements();
  // An earlier toast must not sit over this migration's progress.
  el.toast.hidden = true;
  el.migProgress.value = 0;
  el.migProgress.classList.remove("failed");
  el.migError.hidden = true;
  el.migText.textContent = "Starting…";
  el.migChildren.replaceChildren();
  const job = await place.migrate(info.name, statements, renderJob);
  renderJob(job);
  const ok = job.status === "RunSuccess";
  el.migProgress.classList.toggle("failed", !ok);
  if (ok) {
    el.migText.textContent = `Applied to the parent and ${plural(job.children, "child", "children")}`;
    toast(`Migration ${job.job_id} applied to ${plural(job.children, "child", "children")}`);
    void browser.show(place.session(info.name));
  } else {
    // The child whose step failed carries SQLite's error; the others were "aborted" with it.
    const named = /namespace `([^`]+)`/.exec(job.error ?? "")?.[1];
    const failed = job.progress.filter((p) =>
      named !== undefined ? p.namespace === named : p.error !== null && p.error !== "aborted",
    );
    for (const row of el.migChildren.rows) {
      row.classList.toggle(
        "culprit",
        failed.some((f) => f.namespace === row.cells[0]?.textContent),
      );
    }
    // The bar fills, red, with the children that were dealt with (each failed or was aborted).
    el.migProgress.value = job.progress.filter((p) => /Success|Failure/.test(p.status)).length;
    el.migText.textContent = `${jobWord(job.status)} — nothing was changed`;
    el.migError.hidden = false;
    el.migError.textContent = `Migration failed${
      failed.length ? ` on ${failed.map((p) => p.namespace).join(", ")}` : ""
    }: ${job.error ?? failed[0]?.error ?? "see the table"}. Nothing was changed.`;
  }
  previewed = "";
  el.migRun.disabled = true;
}

// ── forms and buttons ───────────────────────────────────────────────────

function wire(): void {
  el.editor.addEventListener("submit", (e) => {
    e.preventDefault();
    void runEditor();
  });
  el.sql.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      void runEditor();
    }
  });
  el.migSql.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      el.migPreview.click();
    }
  });
  el.migSql.addEventListener("input", () => {
    el.migRun.disabled = el.migSql.value !== previewed || previewed === "";
  });
  el.migPreview.addEventListener("click", () => act(el.migPreview, previewCurrent));
  el.migRun.addEventListener("click", () => {
    el.migRun.disabled = true;
    runMigration().catch((e) => {
      el.migProgress.classList.add("failed");
      el.migError.hidden = false;
      el.migError.textContent = messageOf(e);
    });
  });
  el.dbFilter.addEventListener("input", renderDatabases);
  el.browseRefresh.addEventListener("click", () => {
    if (current !== undefined) void browser.show(place.session(current.name));
  });

  el.placeServer.addEventListener("click", () => act(el.placeServer, () => usePlace("server")));
  el.placeBrowser.addEventListener("click", () => act(el.placeBrowser, () => usePlace("browser")));
  el.token.value = sessionStorage.getItem(TOKEN_KEY) ?? "";
  el.tokenForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const token = el.token.value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    void act(el.tokenForm.querySelector("button"), async () => {
      await refresh();
      toast("Token accepted");
    });
  });

  const nameOk = checkNameField(el.createDb.elements.namedItem("name") as HTMLInputElement);
  const groupOk = checkNameField(byId<HTMLInputElement>("group-name"));
  const importOk = checkNameField(el.importDb.elements.namedItem("name") as HTMLInputElement);

  const typeSelect = el.createDb.elements.namedItem("type") as HTMLSelectElement;
  const parentField = el.createDb.querySelector<HTMLElement>(".parent-field")!;
  typeSelect.addEventListener("change", () => {
    parentField.hidden = typeSelect.value !== "child";
  });
  el.createDb.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!nameOk()) return;
    const form = new FormData(el.createDb);
    const name = String(form.get("name")).trim();
    const type = String(form.get("type")) as "regular" | "schema" | "child";
    const group = String(form.get("group") ?? "") || undefined;
    const parent = String(form.get("parent") ?? "") || undefined;
    void act(el.createDb.querySelector("button"), async () => {
      await place.createDatabase(name, {
        type,
        allowAttach: form.get("allow_attach") !== null,
        ...(group ? { group } : {}),
        ...(parent ? { parent } : {}),
      });
      el.createDb.reset();
      parentField.hidden = true;
      await refresh();
      openTenant(name);
      toast(`Created ${name}`);
    });
  });

  el.createGroup.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!groupOk()) return;
    const name = String(new FormData(el.createGroup).get("name")).trim();
    void act(el.createGroup.querySelector("button"), async () => {
      await place.createGroup(name);
      el.createGroup.reset();
      await refresh();
      toast(`Group ${name} created`);
    });
  });

  el.importDb.addEventListener("submit", (e) => {
    e.preventDefault();
    const form = new FormData(el.importDb);
    const file = form.get("file");
    const name = String(form.get("name")).trim();
    void act(el.importDb.querySelector("button"), async () => {
      if (!(file instanceof File) || file.size === 0) {
        throw new ConsoleError("FILE_MISSING", "Pick a SQLite file to import");
      }
      if (!importOk()) return;
      await place.importDatabase(name, new Uint8Array(await file.arrayBuffer()));
      el.importDb.reset();
      await refresh();
      openTenant(name);
      toast(`Imported ${file.name} as ${name}`);
    });
  });

  el.allowAttach.addEventListener("change", () => {
    const info = current;
    if (info === undefined) return;
    const allow = el.allowAttach.checked;
    void act(null, async () => {
      try {
        await place.setAllowAttach(info.name, allow);
      } finally {
        await refresh();
      }
      toast(allow ? `${info.name} may now be attached` : `${info.name} may no longer be attached`);
    });
  });

  el.exportBtn.addEventListener("click", () =>
    act(el.exportBtn, async () => {
      const info = current!;
      const bytes = await place.exportDatabase(info.name);
      download(`${info.name}.db`, bytes as Uint8Array<ArrayBuffer>, "application/vnd.sqlite3");
    }),
  );

  el.deleteBtn.addEventListener("click", () =>
    act(el.deleteBtn, async () => {
      const info = current!;
      if (info.deleteProtection) return;
      const children = databases.filter((d) => d.parent === info.name);
      if (info.type === "schema" && children.length > 0) {
        const text = `"${info.name}" is the schema parent of ${plural(children.length, "child", "children")}. This deletes the children first, then the parent, with all their data. It cannot be undone.`;
        if (!(await confirmName("database", info.name, text, "Delete parent and children"))) {
          return;
        }
        // Checked on a fresh list: protection may have been switched on since it was read.
        const fresh = (await place.databases()).filter((d) => d.parent === info.name);
        const guarded = fresh.find((c) => c.deleteProtection);
        if (guarded !== undefined) {
          throw new ConsoleError(
            "DATABASE_PROTECTED",
            `child "${guarded.name}" has delete protection on: nothing was deleted; switch it off first`,
          );
        }
        for (const c of fresh) {
          forget(c.name);
          await place.deleteDatabase(c.name);
        }
      } else if (!confirm(`Delete database "${info.name}" and all its data?`)) {
        return;
      }
      forget(info.name);
      await place.deleteDatabase(info.name);
      showTenant(undefined);
      await refresh();
      toast(`Deleted ${info.name}`);
    }).then(() => {
      if (current !== undefined) renderTenantHead();
    }),
  );

  el.sample.addEventListener("click", () =>
    act(el.sample, async () => {
      if (browserPlace === undefined || place !== browserPlace) return;
      try {
        await createSampleData(browserPlace.platform, (text) => setStatus(text));
      } finally {
        await refresh();
      }
      openTenant(SAMPLE.child(1));
      toast("Sample data ready: saas-schema with 50 children, and a shared catalog");
    }),
  );

  addEventListener("online", () => setStatus());
  addEventListener("offline", () => setStatus());
  addEventListener("hashchange", () => {
    const name = decodeURIComponent(/^#db=(.+)$/.exec(location.hash)?.[1] ?? "");
    if (name && name !== current?.name) openTenant(name);
  });
}

// ── start ───────────────────────────────────────────────────────────────

async function start(): Promise<void> {
  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    navigator.serviceWorker.register("sw.js").catch(() => undefined);
  }
  wire();
  // Read before a place opens: opening one clears the address's #db=….
  const wanted = /^#db=(.+)$/.exec(location.hash)?.[1];
  try {
    serverState = await probeServer(document.baseURI, sessionStorage.getItem(TOKEN_KEY));
    if (serverState !== "none") {
      serverPlace = new ServerPlace(document.baseURI, () => sessionStorage.getItem(TOKEN_KEY));
      serverPlace.onLost = (db) => attachments.delete(`server:${db}`);
    }
    const wantBrowser = serverState === "none" || localStorage.getItem(PLACE_KEY) === "browser";
    try {
      await usePlace(wantBrowser ? "browser" : "server");
    } catch (e) {
      // A server that wants a token: the console opens on it and says so.
      if (place === undefined) throw e;
      toast(messageOf(e), true);
    }
  } catch (e) {
    setStatus(`Could not start: ${messageOf(e)}`);
    throw e;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("form button:disabled")) {
    b.disabled = false;
  }
  renderPlaceSwitch();
  if (serverState === "auth" && !sessionStorage.getItem(TOKEN_KEY)) el.token.focus();
  if (wanted !== undefined) openTenant(decodeURIComponent(wanted));
  document.documentElement.classList.remove("opening");
  document.documentElement.dataset.ready = "true";
  performance.mark("tenantlite-ready");
  navigator.serviceWorker?.ready.then(
    () => setStatus(),
    () => undefined,
  );
}

void start();
