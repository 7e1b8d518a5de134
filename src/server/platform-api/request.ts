/**
 * Reading Platform API requests: JSON object bodies with Turso's field spellings, query flags,
 * and the coded refusals every Platform API handler uses.
 */
import { TenantliteError } from "../../errors.js";

/**
 * A JSON object body (`undefined`, no body, reads as `{}`); anything else is refused, naming
 * `what` (a field, when it is one of the body's).
 */
export function objectBody(v: unknown, what = "the body"): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** A body field by name, case-insensitively (the Turso CLI sends capitalised keys). */
export function field(body: Record<string, unknown>, name: string): unknown {
  if (name in body) return body[name];
  for (const k of Object.keys(body)) if (k.toLowerCase() === name) return body[k];
  return undefined;
}

/** `null` and a missing field alike mean "not given". */
export function given(v: unknown): unknown {
  return v === null ? undefined : v;
}

/** A `true`/`false` query parameter (absent: false); anything else is refused. */
export function booleanParam(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  if (v === null || v === "false" || v === "0") return false;
  if (v === "true" || v === "1" || v === "") return true;
  throw new TenantliteError("ARGS_INVALID", `query parameter ${name} must be true or false`);
}

export function unsupported(message: string): TenantliteError {
  return new TenantliteError("OPTION_UNSUPPORTED", message);
}

export function badRequest(message: string): TenantliteError {
  return new TenantliteError("BAD_REQUEST", message);
}

export function notFound(): TenantliteError {
  return new TenantliteError("NOT_FOUND", "no such Platform API route");
}
