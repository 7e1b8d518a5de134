/** Name rules for databases and groups (Turso's: lowercase letters, digits, dashes, ≤ 64). */
import { TenantliteError } from "../errors.js";

const NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** Throws `NAME_INVALID` unless `name` is a valid database or group name. */
export function assertValidName(name: unknown, what: "database" | "group"): asserts name is string {
  if (typeof name === "string" && NAME.test(name)) return;
  const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 80)) : typeof name;
  throw new TenantliteError(
    "NAME_INVALID",
    `Invalid ${what} name ${shown}: use 1 to 64 lowercase letters, digits and dashes, not starting or ending with a dash`,
  );
}

/** Whether `s` looks like a UUID (database ids are UUIDs). */
export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(s);
}
