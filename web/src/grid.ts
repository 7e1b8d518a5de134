/** Result tables: cells, a pager for long results, CSV/JSON export buttons. */
import type { Value } from "tenantlite/browser";
import { h } from "./dom.js";
import { download, toCsv, toJson } from "./export.js";
import type { Rows } from "./place.js";

/** Rows per page of a statement's result. */
export const RESULT_PAGE = 500;

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

/** A table of `rows` under `columns`. */
export function grid(columns: string[], rows: ArrayLike<Value>[], label?: string): HTMLElement {
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      label ? { "aria-label": label } : null,
      h("thead", null, h("tr", null, ...columns.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        ...rows.map((r) => h("tr", null, ...columns.map((_, i) => cell(r[i] ?? null)))),
      ),
    ),
  );
}

/** Prev/next buttons and "a–b of n"; `go(page)` shows a page. */
export function pager(
  page: number,
  pages: number,
  text: string,
  go: (page: number) => void,
): HTMLElement {
  return h(
    "div",
    { class: "pager" },
    h("button", { type: "button", disabled: page <= 0, onclick: () => go(page - 1) }, "‹ Previous"),
    h("span", { class: "muted", "aria-live": "polite" }, text),
    h(
      "button",
      { type: "button", disabled: page >= pages - 1, onclick: () => go(page + 1) },
      "Next ›",
    ),
  );
}

/**
 * A statement's result: its rows 500 a page (all of them are in memory already), the count, and
 * CSV / JSON downloads of every row. `name` names the files.
 */
export function pagedResult(rs: Rows, name: string): HTMLElement {
  const box = h("div", { class: "paged" });
  const n = rs.rows.length;
  const pages = Math.max(1, Math.ceil(n / RESULT_PAGE));
  const exports = h(
    "div",
    { class: "bar exports" },
    h(
      "span",
      { class: "muted count" },
      `${n} row${n === 1 ? "" : "s"}${pages > 1 ? ` · ${RESULT_PAGE} a page` : ""}`,
    ),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => download(`${name}.csv`, toCsv(rs), "text/csv"),
      },
      "Download CSV",
    ),
    h(
      "button",
      {
        type: "button",
        class: "link",
        onclick: () => download(`${name}.json`, toJson(rs), "application/json"),
      },
      "Download JSON",
    ),
  );
  const show = (page: number): void => {
    const from = page * RESULT_PAGE;
    const rows = Array.prototype.slice.call(rs.rows, from, from + RESULT_PAGE) as Value[][];
    box.replaceChildren(
      grid(rs.columns, rows),
      ...(pages > 1
        ? [pager(page, pages, `rows ${from + 1}–${from + rows.length} of ${n}`, show)]
        : []),
      exports,
    );
  };
  show(0);
  return box;
}
