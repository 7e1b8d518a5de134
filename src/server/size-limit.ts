/**
 * Turso's `size_limit`: "The maximum size of the database in bytes. Values with units are also
 * accepted, e.g. 1mb, 256mb, 1gb" (docs `cli/db/create`, openapi `CreateDatabaseInput`). Units
 * are read as the Turso CLI's Go tooling reads them (go-humanize): kb/mb/gb/tb are powers of
 * 1000, kib/mib/gib/tib powers of 1024. `"0"` means no limit (what the configuration shows then).
 */
import { TenantliteError } from "../errors.js";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/**
 * Bytes for a `size_limit` value (`null` for "0", no limit), or `SIZE_LIMIT_INVALID` naming the
 * option and the accepted forms.
 */
export function parseSizeLimit(value: unknown, option = "size_limit"): number | null {
  const m =
    typeof value === "string"
      ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value)
      : typeof value === "number"
        ? /^(\d+)()$/.exec(String(value))
        : null;
  const unit = m?.[2]?.toLowerCase();
  const scale = unit === undefined ? undefined : UNITS[unit];
  if (m === null || scale === undefined) {
    const shown = typeof value === "string" ? ` ${JSON.stringify(value.slice(0, 40))}` : "";
    throw new TenantliteError(
      "SIZE_LIMIT_INVALID",
      `${option}${shown} is not a size: give bytes as a string, optionally with a unit, e.g. "500mb", "1gb", "256mib" or "1048576" ("0": no limit)`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * scale);
  if (bytes === 0 && Number(m[1]) > 0) {
    throw new TenantliteError("SIZE_LIMIT_INVALID", `${option} must be at least 1 byte`);
  }
  if (!Number.isSafeInteger(bytes)) {
    throw new TenantliteError("SIZE_LIMIT_INVALID", `${option} is too large`);
  }
  return bytes === 0 ? null : bytes;
}

/** A size limit as the configuration shows it: bytes as a string, "0" for none. */
export function formatSizeLimit(bytes: number | undefined): string {
  return bytes === undefined ? "0" : String(bytes);
}
