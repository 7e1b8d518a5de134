// A small stand-in for the lodash-es functions chevrotain 11 imports, with the semantics it relies
// on (arrays and plain objects, own enumerable keys, SameValueZero, `false` ends a forEach).
// scripts/build-web.mjs substitutes it for lodash-es in the browser bundle: lodash's shared
// iteratee/equality machinery costs ~30 KB minified, this ~2 KB.
const own = Object.prototype.hasOwnProperty;
const isArrayLike = (v) =>
  v != null && typeof v !== "function" && typeof v.length === "number" && v.length >= 0;
const fnOf = (f) => (f == null ? identity : typeof f === "function" ? f : (o) => o?.[f]);
const entries = (c) => {
  if (c == null) return [];
  if (isArrayLike(c)) return Array.from({ length: c.length }, (_, i) => [i, c[i]]);
  return Object.keys(c).map((k) => [k, c[k]]);
};

export const identity = (v) => v;
export const noop = () => undefined;
export const isArray = Array.isArray;
export const isFunction = (v) => typeof v === "function";
export const isObject = (v) => v !== null && (typeof v === "object" || typeof v === "function");
export const isRegExp = (v) => v instanceof RegExp;
export const isString = (v) => typeof v === "string" || v instanceof String;
export const isUndefined = (v) => v === undefined;
export function isEmpty(v) {
  if (v == null) return true;
  if (isArrayLike(v)) return v.length === 0;
  if (v instanceof Map || v instanceof Set) return v.size === 0;
  for (const k in v) if (own.call(v, k)) return false;
  return true;
}
export const keys = (o) => (o == null ? [] : Object.keys(Object(o)));
export const values = (o) => entries(o).map((e) => e[1]);
export const has = (o, k) => o != null && own.call(o, k);
export function forEach(c, f) {
  for (const [k, v] of entries(c)) if (f(v, k, c) === false) break;
  return c;
}
export const map = (c, f) => {
  const g = fnOf(f);
  return entries(c).map(([k, v]) => g(v, k, c));
};
export const flatMap = (c, f) => map(c, f).flat(1);
export const filter = (c, f) => {
  const g = fnOf(f);
  return entries(c)
    .filter(([k, v]) => g(v, k, c))
    .map((e) => e[1]);
};
export const reject = (c, f) => {
  const g = fnOf(f);
  return filter(c, (v, k, o) => !g(v, k, o));
};
export const find = (c, f) => {
  const g = fnOf(f);
  const hit = entries(c).find(([k, v]) => g(v, k, c));
  return hit === undefined ? undefined : hit[1];
};
export const some = (c, f) => {
  const g = fnOf(f);
  return entries(c).some(([k, v]) => g(v, k, c));
};
export const every = (c, f) => {
  const g = fnOf(f);
  return entries(c).every(([k, v]) => g(v, k, c));
};
export function reduce(c, f, ...init) {
  const list = entries(c);
  let acc = init[0];
  let i = 0;
  if (init.length === 0) {
    if (list.length === 0) return undefined;
    acc = list[0][1];
    i = 1;
  }
  for (; i < list.length; i++) acc = f(acc, list[i][1], list[i][0], c);
  return acc;
}
export const groupBy = (c, f) => {
  const g = fnOf(f);
  const out = {};
  for (const [, v] of entries(c)) {
    const k = g(v);
    if (own.call(out, k)) out[k].push(v);
    else out[k] = [v];
  }
  return out;
};
export const pickBy = (o, f) => {
  const g = fnOf(f);
  const out = {};
  if (o != null) for (const k of Object.keys(o)) if (g(o[k], k)) out[k] = o[k];
  return out;
};
export const includes = (c, v) =>
  c == null ? false : typeof c === "string" ? c.includes(v) : values(c).includes(v);
export const indexOf = (a, v) => (a == null ? -1 : Array.prototype.indexOf.call(a, v));
export const uniq = (a) => (a == null ? [] : [...new Set(a)]);
export const compact = (a) => (a == null ? [] : Array.from(a).filter(Boolean));
export const flatten = (a) => (a == null ? [] : Array.from(a).flat(1));
export const difference = (a, ...rest) => {
  const out = new Set(rest.flatMap((r) => (isArrayLike(r) ? Array.from(r) : [])));
  return a == null ? [] : Array.from(a).filter((v) => !out.has(v));
};
export const drop = (a, n = 1) => (a == null ? [] : Array.from(a).slice(Math.max(0, n)));
export const dropRight = (a, n = 1) =>
  a == null ? [] : Array.from(a).slice(0, Math.max(0, a.length - Math.max(0, n)));
export const first = (a) => (a == null ? undefined : a[0]);
export const head = first;
export const last = (a) => (a == null || a.length === 0 ? undefined : a[a.length - 1]);
export const assign = Object.assign;
export function defaults(o, ...sources) {
  for (const s of sources) {
    if (s == null) continue;
    for (const k in s) if (o[k] === undefined) o[k] = s[k];
  }
  return o;
}
export function clone(v) {
  if (!isObject(v) || typeof v === "function") return v;
  if (Array.isArray(v)) return v.slice();
  if (v instanceof RegExp) return new RegExp(v.source, v.flags);
  if (v instanceof Map) return new Map(v);
  if (v instanceof Set) return new Set(v);
  return Object.assign(Object.create(Object.getPrototypeOf(v)), v);
}
export const upperFirst = (s) => (s ? s[0].toUpperCase() + s.slice(1) : "");
