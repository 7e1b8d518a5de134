/** Children `h` accepts: nodes, text, and nothing (skipped). */
export type Child = Node | string | number | null | undefined | false;

/** Attributes `h` accepts: `on*` functions become listeners, `false`/`undefined` are left out. */
export type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs !== null) {
    for (const [key, value] of Object.entries(attrs)) {
      if (typeof value === "function") el.addEventListener(key.slice(2), value);
      else if (value === true) el.setAttribute(key, "");
      else if (value !== false && value !== undefined) el.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      el.append(typeof child === "number" ? String(child) : child);
    }
  }
  return el;
}

/** The element with `id`; throws when the page lacks it (a build mistake). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}
