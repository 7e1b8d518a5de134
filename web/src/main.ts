/**
 * The tenantlite browser console: tenants in IndexedDB, an SQL editor per tenant, schema
 * migrations with per-child progress, attach, export/import. Imports only `tenantlite/browser`.
 */
import {
  type Connection,
  createPlatform,
  type DatabaseInfo,
  type GroupInfo,
  IdbStorage,
  type MigrationJob,
  type Platform,
  type ResultSet,
  splitStatements,
  TenantliteError,
  type Value,
} from "tenantlite/browser";
import { byId, h } from "./dom.js";
import { runScript, type StatementOutcome } from "./run-script.js";
import { createSampleData, SAMPLE, SAMPLE_QUERY } from "./sample.js";

const MAX_ROWS_SHOWN = 500;

const el = {
  status: byId("status"),
  sample: byId<HTMLButtonElement>("sample"),
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
  allowAttach: byId<HTMLInputElement>("allow-attach"),
  exportBtn: byId<HTMLButtonElement>("export"),
  deleteBtn: byId<HTMLButtonElement>("delete"),
  editor: byId<HTMLFormElement>("editor"),
  sql: byId<HTMLTextAreaElement>("sql"),
  run: byId<HTMLButtonElement>("run"),
  runInfo: byId("run-info"),
  migration: byId("migration"),
  migSql: byId<HTMLTextAreaElement>("mig-sql"),
  migRun: byId<HTMLButtonElement>("mig-run"),
  migProgress: byId<HTMLProgressElement>("mig-progress"),
  migText: byId("mig-text"),
  migChildren: byId("mig-children"),
  results: byId("results"),
  toast: byId("toast"),
  deleteGroup: byId<HTMLDialogElement>("delete-group"),
  deleteGroupText: byId("dg-text"),
  deleteGroupName: byId<HTMLInputElement>("dg-name"),
  deleteGroupConfirm: byId<HTMLButtonElement>("dg-confirm"),
  deleteGroupCancel: byId<HTMLButtonElement>("dg-cancel"),
};

let platform: Platform;
let databases: DatabaseInfo[] = [];
let groups: GroupInfo[] = [];
let current: DatabaseInfo | undefined;
/** One connection per opened tenant, kept for the page's life so ATTACH lasts across runs. */
const connections = new Map<string, Connection>();
/** Per connection: alias → attached database, so rerunning a script keeps its ATTACH. */
const attachments = new Map<string, Map<string, string>>();

// ── helpers ─────────────────────────────────────────────────────────────

function messageOf(e: unknown): string {
  if (e instanceof TenantliteError) return `${e.code}: ${e.detail}`;
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

function setStatus(text?: string): void {
  el.status.textContent =
    text ??
    `${databases.length} database${databases.length === 1 ? "" : "s"} in IndexedDB · ${
      navigator.onLine ? "online" : "offline"
    }${navigator.serviceWorker?.controller ? " · works offline" : ""}`;
}

function typeLabel(info: DatabaseInfo): string {
  return info.type === "schema" ? "schema parent" : info.type === "child" ? "child" : "regular";
}

function connection(name: string): Connection {
  let conn = connections.get(name);
  if (conn === undefined || conn.closed) {
    conn = platform.connect(name);
    connections.set(name, conn);
    attachments.set(name, new Map());
  }
  return conn;
}

function dropConnection(name: string): void {
  connections.get(name)?.close();
  connections.delete(name);
  attachments.delete(name);
}

// ── lists ───────────────────────────────────────────────────────────────

async function refresh(): Promise<void> {
  const all: DatabaseInfo[] = [];
  for (let after: string | undefined; ; ) {
    const page = await platform.listDatabases(after === undefined ? {} : { after });
    all.push(...page);
    if (page.length < 1000) break;
    after = page[page.length - 1]!.name;
  }
  databases = all;
  groups = await platform.listGroups();
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
          d.config.allow_attach && h("span", { class: "badge attach" }, "attach"),
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
      const count = databases.filter((d) => d.group === g.name).length;
      const isDefault = g.name === platform.defaultGroupName;
      return h(
        "li",
        null,
        h("span", null, g.name, " ", h("span", { class: "muted" }, `${count} db`)),
        h(
          "button",
          {
            type: "button",
            class: "link danger",
            "aria-label": `Delete group ${g.name}…`,
            disabled: isDefault,
            title: isDefault
              ? "The default group cannot be deleted: databases created without a group go there"
              : undefined,
            onclick: (e) =>
              act(e.currentTarget as HTMLButtonElement, async () => {
                if (!(await confirmGroupName(g.name, count))) return;
                for (const d of databases.filter((x) => x.group === g.name)) dropConnection(d.name);
                await platform.deleteGroup(g.name, { cascade: true });
                toast(`Group ${g.name} deleted`);
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
 * Asks for the group's name to be typed before it is deleted with its databases (a click on the
 * wrong row, or a confirm dialog answered by habit, must not delete a whole group).
 */
function confirmGroupName(name: string, count: number): Promise<boolean> {
  const dialog = el.deleteGroup;
  el.deleteGroupText.textContent =
    count === 0
      ? `Group "${name}" holds no databases.`
      : `This deletes group "${name}" and its ${count} database${count === 1 ? "" : "s"}, with all their data. It cannot be undone.`;
  el.deleteGroupName.value = "";
  el.deleteGroupName.placeholder = name;
  el.deleteGroupConfirm.disabled = true;
  el.deleteGroupName.oninput = () => {
    el.deleteGroupConfirm.disabled = el.deleteGroupName.value !== name;
  };
  dialog.returnValue = "";
  el.deleteGroupCancel.onclick = () => dialog.close("cancel");
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "delete" && el.deleteGroupName.value === name),
      { once: true },
    );
    dialog.showModal();
    el.deleteGroupName.focus();
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
  fillSelect(
    form.namedItem("group") as HTMLSelectElement,
    groups.map((g) => g.name),
    "no groups",
  );
  const parents = databases.filter((d) => d.type === "schema").map((d) => d.name);
  fillSelect(form.namedItem("parent") as HTMLSelectElement, parents, "no schema parent yet");
}

// ── one tenant ──────────────────────────────────────────────────────────

function defaultSql(info: DatabaseInfo): string {
  if (info.type === "child" && info.parent === SAMPLE.schema) return SAMPLE_QUERY;
  if (info.type === "child") {
    return "SELECT type, name, sql FROM sqlite_schema;\n-- DDL is refused on a child: change the schema on its parent";
  }
  if (info.type === "schema") {
    return "SELECT type, name, sql FROM sqlite_schema;\n-- writes here run as a migration on every child";
  }
  return "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes (body) VALUES ('hello from ' || sqlite_version());\nSELECT * FROM notes;";
}

function showTenant(info: DatabaseInfo | undefined): void {
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
  el.migChildren.replaceChildren();
  el.migProgress.value = 0;
  el.migText.textContent = "";
  renderTenantHead();
  renderDatabases();
}

function renderTenantHead(): void {
  const info = current!;
  el.tenantName.textContent = info.name;
  el.tenantType.textContent = typeLabel(info);
  el.tenantType.className = `badge ${info.type}`;
  const created = new Date(info.createdAt).toLocaleString();
  el.tenantMeta.textContent = `group ${info.group} · created ${created}`;
  el.allowAttach.checked = info.config.allow_attach;
  const children = databases.filter((d) => d.parent === info.name).length;
  el.tenantNote.textContent =
    info.type === "child"
      ? `Schema child of ${info.parent}: its schema changes only through a migration of the parent (DDL here is refused).`
      : info.type === "schema"
        ? `Schema parent of ${children} child${children === 1 ? "" : "ren"}: DDL here is applied to every child, all or none.`
        : info.config.allow_attach
          ? `Other databases may attach this one read-only: ATTACH "${info.name}" AS alias.`
          : "A regular database. Tick “Allow attach” to let other databases read it with ATTACH.";
}

function openTenant(name: string): void {
  const info = databases.find((d) => d.name === name);
  if (info === undefined) toast(`No database named ${name}`, true);
  else showTenant(info);
}

async function runEditor(): Promise<void> {
  const info = current;
  if (info === undefined || el.run.disabled) return;
  const script = el.sql.value;
  localStorage.setItem(`tenantlite.sql.${info.id}`, script);
  el.run.disabled = true;
  el.runInfo.textContent = "Running…";
  const t0 = performance.now();
  try {
    const outcomes = await runScript(connection(info.name), script, attachments.get(info.name));
    renderResults(outcomes);
    const failed = outcomes.some((o) => o.error !== undefined);
    el.runInfo.textContent = `${outcomes.length} statement${outcomes.length === 1 ? "" : "s"}${
      failed ? ", stopped at an error" : ""
    } · ${(performance.now() - t0).toFixed(1)} ms`;
  } catch (e) {
    el.runInfo.textContent = "";
    toast(messageOf(e), true);
  } finally {
    el.run.disabled = false;
  }
}

function cell(v: Value): HTMLTableCellElement {
  if (v === null) return h("td", { class: "null" }, "NULL");
  if (typeof v === "number" || typeof v === "bigint") return h("td", { class: "num" }, String(v));
  if (v instanceof ArrayBuffer) {
    const bytes = new Uint8Array(v.slice(0, 16));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return h(
      "td",
      { class: "mono", title: `${v.byteLength} bytes` },
      `x'${hex}${v.byteLength > 16 ? "…" : ""}'`,
    );
  }
  return h("td", { title: v.length > 60 ? v.slice(0, 2000) : undefined }, v);
}

function table(rs: ResultSet): HTMLElement {
  const rows = rs.rows.slice(0, MAX_ROWS_SHOWN);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      null,
      h("thead", null, h("tr", null, ...rs.columns.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        ...rows.map((r) => h("tr", null, ...rs.columns.map((_, i) => cell(r[i] ?? null)))),
      ),
    ),
  );
}

function renderResults(outcomes: StatementOutcome[]): void {
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
      const n = rs.rows.length;
      const body = rs.columns.length
        ? [
            table(rs),
            h(
              "p",
              { class: "muted" },
              `${n} row${n === 1 ? "" : "s"}${n > MAX_ROWS_SHOWN ? ` (first ${MAX_ROWS_SHOWN} shown)` : ""}`,
            ),
          ]
        : [
            h(
              "p",
              { class: "muted" },
              rs.rowsAffected ? `${rs.rowsAffected} row(s) changed` : "OK",
            ),
          ];
      return h("figure", { class: "result" }, head, ...body);
    }),
  );
}

// ── migrations ──────────────────────────────────────────────────────────

function renderJob(job: MigrationJob): void {
  el.migProgress.max = Math.max(1, job.children);
  el.migProgress.value = job.done;
  el.migText.textContent = `${job.status} · ${job.done} of ${job.children} children`;
  el.migChildren.replaceChildren(
    ...job.progress.map((p) =>
      h(
        "tr",
        null,
        h("td", null, p.namespace),
        h("td", { class: `st-${p.status}` }, p.status),
        h("td", null, p.error ?? ""),
      ),
    ),
  );
}

async function runMigration(): Promise<void> {
  const info = current;
  if (info?.type !== "schema") return;
  const statements = splitStatements(el.migSql.value).map((s) => s.sql);
  if (statements.length === 0) {
    toast("Write the migration's statements first", true);
    return;
  }
  el.migProgress.value = 0;
  el.migText.textContent = "Starting…";
  el.migChildren.replaceChildren();
  const off = platform.onMigrationProgress((p) => {
    if (p.schema !== info.name) return;
    el.migProgress.max = Math.max(1, p.total);
    el.migProgress.value = p.done;
    el.migText.textContent = `${p.phase} · ${p.done} of ${p.total} children`;
  });
  let jobId: number | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const started = await platform.migrate(info.name, statements, { wait: false });
    jobId = started.jobId;
    const id = jobId;
    timer = setInterval(() => {
      platform.getMigration(info.name, id).then(renderJob, () => undefined);
    }, 120);
    await started.done;
  } finally {
    off();
    clearInterval(timer);
    if (jobId !== undefined) {
      const job = await platform.getMigration(info.name, jobId);
      renderJob(job);
      const ok = job.status === "RunSuccess";
      el.migText.textContent = ok
        ? `Applied to the parent and ${job.children} children`
        : `${job.status}: ${job.error ?? "failed"} — nothing was changed`;
      if (ok) toast(`Migration ${jobId} applied to ${job.children} children`);
    }
  }
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
      el.migRun.click();
    }
  });
  el.migRun.addEventListener("click", () => act(el.migRun, runMigration));
  el.dbFilter.addEventListener("input", renderDatabases);

  const typeSelect = el.createDb.elements.namedItem("type") as HTMLSelectElement;
  const parentField = el.createDb.querySelector<HTMLElement>(".parent-field")!;
  typeSelect.addEventListener("change", () => {
    parentField.hidden = typeSelect.value !== "child";
  });
  el.createDb.addEventListener("submit", (e) => {
    e.preventDefault();
    const form = new FormData(el.createDb);
    const name = String(form.get("name")).trim();
    const type = String(form.get("type"));
    const group = String(form.get("group") ?? "") || undefined;
    const allow = form.get("allow_attach") !== null;
    void act(el.createDb.querySelector("button"), async () => {
      const config = { allow_attach: allow };
      if (type === "child") {
        const parent = String(form.get("parent") ?? "");
        if (!parent) throw new Error("Create a schema parent first");
        await platform.createDatabase(name, { schema: parent, config });
      } else {
        await platform.createDatabase(name, {
          type: type === "schema" ? "schema" : "regular",
          config,
          ...(group ? { group } : {}),
        });
      }
      el.createDb.reset();
      parentField.hidden = true;
      await refresh();
      openTenant(name);
      toast(`Created ${name}`);
    });
  });

  el.createGroup.addEventListener("submit", (e) => {
    e.preventDefault();
    const name = String(new FormData(el.createGroup).get("name")).trim();
    void act(el.createGroup.querySelector("button"), async () => {
      await platform.createGroup(name);
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
      if (!(file instanceof File) || file.size === 0) throw new Error("Pick a SQLite file");
      const bytes = new Uint8Array(await file.arrayBuffer());
      await platform.createDatabase(name, { fromBytes: bytes });
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
        await platform.updateConfig(info.name, { allow_attach: allow });
      } finally {
        await refresh();
      }
      toast(allow ? `${info.name} may now be attached` : `${info.name} may no longer be attached`);
    });
  });

  el.exportBtn.addEventListener("click", () =>
    act(el.exportBtn, async () => {
      const info = current!;
      const bytes = await platform.exportDatabase(info.name);
      const url = URL.createObjectURL(
        new Blob([bytes as Uint8Array<ArrayBuffer>], { type: "application/vnd.sqlite3" }),
      );
      const a = h("a", { href: url, download: `${info.name}.db` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }),
  );

  el.deleteBtn.addEventListener("click", () =>
    act(el.deleteBtn, async () => {
      const info = current!;
      if (!confirm(`Delete database "${info.name}" and all its data?`)) return;
      dropConnection(info.name);
      await platform.deleteDatabase(info.name);
      showTenant(undefined);
      await refresh();
      toast(`Deleted ${info.name}`);
    }),
  );

  el.sample.addEventListener("click", () =>
    act(el.sample, async () => {
      try {
        await createSampleData(platform, (text) => setStatus(text));
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
  try {
    platform = await createPlatform({
      storage: new IdbStorage({ dbName: "tenantlite-console", durability: "relaxed" }),
      sqlJs: { locateFile: (file) => new URL(file, document.baseURI).href },
    });
    await refresh();
  } catch (e) {
    setStatus(`Could not start: ${messageOf(e)}`);
    throw e;
  }
  for (const b of document.querySelectorAll<HTMLButtonElement>("button:disabled")) {
    b.disabled = false;
  }
  const wanted = /^#db=(.+)$/.exec(location.hash)?.[1];
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
