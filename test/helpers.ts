import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { afterAll, afterEach } from "vitest";
import { loadSqlJs } from "../src/engine/loader.js";
import type { TenantliteError } from "../src/errors.js";
import { newTempDir } from "./temp-dir.js";

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
 * Runs a TypeScript file in a Node process of its own (`scripts/run-ts.mjs`), for what only a
 * fresh process shows (a first load of sql.js, an exit, stderr); killed after `timeoutMs`.
 * `fileSizeLimitKiB` runs it under `ulimit -f`: no file it writes can grow past that size, a
 * full disk as far as that process's writes are concerned (Node gets EFBIG and goes on).
 */
export function runTs(
  script: string,
  timeoutMs = 20_000,
  options: { fileSizeLimitKiB?: number } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const node = [process.execPath, "scripts/run-ts.mjs", script];
  const [file, args] =
    options.fileSizeLimitKiB === undefined
      ? [node[0]!, node.slice(1)]
      : ["/bin/sh", ["-c", `ulimit -f ${options.fileSizeLimitKiB} && exec "$@"`, "sh", ...node]];
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs }, (_e, out, err) =>
      resolve({ code: child.exitCode, out, err }),
    );
  });
}

/**
 * Temporary directories for a test file, the one way tests make them: call once at the top level
 * (before the file's own after-hooks, so those run first) and use the returned function, at the
 * top level, in hooks or in tests. They are removed after each test, or with `scope: "file"` after
 * the file's last test (for directories made at the top level or in `beforeAll`). `parent` puts
 * them somewhere other than the OS's temp directory (a bundle a child process runs from
 * `node_modules`, to resolve its packages); `prefix` can be overridden per directory.
 *
 * @example
 * const tempDir = useTempDirs("tl-fs-");
 * it("…", async () => { const storage = await FsStorage.open(tempDir()); … });
 */
export function useTempDirs(
  prefix: string,
  options: { scope?: "test" | "file"; parent?: string } = {},
): (prefixOverride?: string) => string {
  const dirs: string[] = [];
  const remove = (): void => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  if (options.scope === "file") afterAll(remove);
  else afterEach(remove);
  return (prefixOverride) => {
    const d = newTempDir(prefixOverride ?? prefix, options.parent);
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

/**
 * `storage`'s data through another object, as a process restarted after a crash opens it: a
 * platform refuses a storage object another open platform of this process works on, and a test
 * that abandons a platform (its "crash") leaves that platform holding it. (On a directory, which
 * a second `FsStorage` reaches too, copy the directory instead: what the crash left on disk.)
 */
export function reopenedAfterCrash<S extends object>(storage: S): S {
  return new Proxy(storage, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
