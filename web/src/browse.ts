/**
 * The database browser: an open database's tables and views with their columns, types, indexes
 * and row counts, and a table's rows 100 a page. Reads only, through the place's session.
 */
import { h } from "./dom.js";
import { grid, pager } from "./grid.js";
import type { Session } from "./place.js";

/** Rows per page of the table browser. */
export const TABLE_PAGE = 100;

/** `name` as an SQL identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `s` as an SQL string literal. */
export function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

interface Column {
  name: string;
  type: string;
  notnull: boolean;
  pk: boolean;
}

interface SchemaObject {
  kind: "table" | "view";
  name: string;
  columns: Column[];
  indexes: { name: string; sql: string | null }[];
  rows?: number;
}

/** Reads the main schema's tables and views, their columns and indexes, and tables' row counts. */
export async function readSchema(session: Session): Promise<SchemaObject[]> {
  const objects = await session.execute(
    "SELECT type, name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
  );
  const out = new Map<string, SchemaObject>();
  for (const r of Array.from(objects.rows)) {
    const name = String(r[1]);
    out.set(name, { kind: r[0] === "view" ? "view" : "table", name, columns: [], indexes: [] });
  }
  if (out.size === 0) return [];
  const cols = await session.execute(
    "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk FROM sqlite_schema AS m, pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid",
  );
  for (const r of Array.from(cols.rows)) {
    out.get(String(r[0]))?.columns.push({
      name: String(r[1]),
      type: String(r[2] ?? ""),
      notnull: Number(r[3]) === 1,
      pk: Number(r[4]) > 0,
    });
  }
  const idx = await session.execute(
    "SELECT tbl_name, name, sql FROM sqlite_schema WHERE type = 'index' ORDER BY tbl_name, name",
  );
  for (const r of Array.from(idx.rows)) {
    out
      .get(String(r[0]))
      ?.indexes.push({ name: String(r[1]), sql: r[2] === null ? null : String(r[2]) });
  }
  const tables = [...out.values()].filter((o) => o.kind === "table").slice(0, 200);
  if (tables.length > 0) {
    const counts = await session.execute(
      tables
        .map((t) => `SELECT ${literal(t.name)}, count(*) FROM ${ident(t.name)}`)
        .join(" UNION ALL "),
    );
    for (const r of Array.from(counts.rows)) {
      const o = out.get(String(r[0]));
      if (o !== undefined) o.rows = Number(r[1]);
    }
  }
  return [...out.values()];
}

/** Renders the browser for one database into `box`. */
export class DatabaseBrowser {
  private session: Session | undefined;
  private token = 0;

  constructor(
    private readonly box: HTMLElement,
    private readonly fail: (e: unknown) => void,
  ) {}

  /** Shows `session`'s schema (again, after a change). */
  async show(session: Session): Promise<void> {
    this.session = session;
    const token = ++this.token;
    this.box.replaceChildren(h("p", { class: "muted" }, "Reading the schema…"));
    try {
      const objects = await readSchema(session);
      if (token !== this.token) return;
      this.render(objects);
    } catch (e) {
      if (token !== this.token) return;
      this.box.replaceChildren();
      this.fail(e);
    }
  }

  private render(objects: SchemaObject[]): void {
    if (objects.length === 0) {
      this.box.replaceChildren(h("p", { class: "muted" }, "No tables or views yet."));
      return;
    }
    const rowsBox = h("div", { class: "rows", id: "table-rows" });
    this.box.replaceChildren(
      h(
        "ul",
        { class: "objects", "aria-label": "Tables and views" },
        ...objects.map((o) =>
          h(
            "li",
            { "data-object": o.name },
            h(
              "details",
              null,
              h(
                "summary",
                null,
                h("strong", null, o.name),
                " ",
                h("span", { class: "badge" }, o.kind),
                " ",
                h(
                  "span",
                  { class: "muted" },
                  `${o.columns.length} column${o.columns.length === 1 ? "" : "s"}`,
                  o.rows === undefined ? "" : ` · ${o.rows} row${o.rows === 1 ? "" : "s"}`,
                ),
              ),
              h(
                "ul",
                { class: "columns" },
                ...o.columns.map((c) =>
                  h(
                    "li",
                    null,
                    h("code", null, c.name),
                    " ",
                    h(
                      "span",
                      { class: "muted" },
                      [
                        c.type || "(no type)",
                        c.pk ? "primary key" : "",
                        c.notnull ? "not null" : "",
                      ]
                        .filter(Boolean)
                        .join(" · "),
                    ),
                  ),
                ),
              ),
              o.indexes.length > 0 &&
                h(
                  "p",
                  { class: "muted" },
                  "Indexes: ",
                  ...o.indexes.flatMap((i, n) => [
                    n ? ", " : "",
                    h("code", { title: i.sql ?? "automatic" }, i.name),
                  ]),
                ),
              h(
                "button",
                {
                  type: "button",
                  class: "link",
                  "aria-label": `Browse rows of ${o.name}`,
                  onclick: () => void this.rows(o, 0, rowsBox),
                },
                "Browse rows",
              ),
            ),
          ),
        ),
      ),
      rowsBox,
    );
  }

  /** Page `page` of `o`'s rows (LIMIT/OFFSET, in the table's own order). */
  private async rows(o: SchemaObject, page: number, box: HTMLElement): Promise<void> {
    const session = this.session;
    if (session === undefined) return;
    try {
      let total = o.rows;
      if (total === undefined) {
        const c = await session.execute(`SELECT count(*) FROM ${ident(o.name)}`);
        total = Number(c.rows[0]?.[0] ?? 0);
      }
      const rs = await session.execute(
        `SELECT * FROM ${ident(o.name)} LIMIT ${TABLE_PAGE} OFFSET ${page * TABLE_PAGE}`,
      );
      const pages = Math.max(1, Math.ceil(total / TABLE_PAGE));
      const from = page * TABLE_PAGE;
      box.replaceChildren(
        h("h4", null, `${o.name} `, h("span", { class: "muted" }, `page ${page + 1} of ${pages}`)),
        grid(rs.columns, Array.from(rs.rows), `Rows of ${o.name}`),
        pager(
          page,
          pages,
          `rows ${total === 0 ? 0 : from + 1}–${from + rs.rows.length} of ${total}`,
          (p) => void this.rows(o, p, box),
        ),
      );
    } catch (e) {
      this.fail(e);
    }
  }
}
