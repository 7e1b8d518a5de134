import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { loadSqlJs } from "../src/engine/loader.js";
import type { TenantliteError } from "../src/errors.js";

/**
 * What `action` (a promise, or a function, sync or async) threw or rejected with; undefined when
 * it succeeded. Typed as the tenantlite error it should be: assert that with
 * `expect(e).toBeTenantliteError(code)` before reading its fields.
 */
export async function caught<E = TenantliteError>(
  action: Promise<unknown> | (() => unknown),
): Promise<E> {
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    return e as E;
  }
  return undefined as E;
}

/**
 * Temporary directories for a test file, removed after each test: call once at the top level and
 * use the returned function inside tests.
 */
export function useTempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/**
 * The tables of file `name` in the engine's (sql.js's) file system: none when no statement ever
 * wrote one there.
 */
export async function engineFileTables(name: string): Promise<string[]> {
  const sql = await loadSqlJs();
  const probe = new sql.Database(null);
  try {
    probe.exec(`ATTACH '${name}' AS probe`);
    return (probe.exec("SELECT name FROM probe.sqlite_schema")[0]?.values ?? []).map((r) =>
      String(r[0]),
    );
  } finally {
    probe.close();
  }
}
