import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import { loadSqlJs } from "../src/engine/loader.js";

/**
 * Asserts that `promise` rejects with a tenantlite (or libSQL) error carrying `code`, and
 * optionally that its message matches `message`. Tests check codes first; messages only by regex.
 */
export async function expectCode(
  promise: Promise<unknown> | (() => unknown),
  code: string,
  message?: RegExp,
): Promise<Error & { code: string }> {
  let error: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected an error with code ${code}`).toBeInstanceOf(Error);
  const e = error as Error & { code: string };
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
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
