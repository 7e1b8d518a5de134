/**
 * The data directory as the CLI uses it: where it came from (flag, environment, default), checks
 * that turn a bad one into `DATA_DIR_INVALID`, and opening it — locally, or through the
 * `tenantlite dev` server that holds it. Messages name where the directory came from, never its
 * path.
 */
import { statSync } from "node:fs";
import { homedir, hostname } from "node:os";
import { join } from "node:path";
import { TenantliteError } from "../../errors.js";
import { dataDirError as dataDirErrorOf } from "../data-dir-errors.js";
import { type ParsedArgs, str } from "./args.js";
import type { Backend } from "./backend.js";

/** The data directory a command uses, and how to refer to it in messages. */
export interface DataDir {
  readonly path: string;
  /** e.g. "the --data-dir you gave" — what messages call it (never the path itself). */
  readonly what: string;
}

/** The data directory from `--data-dir`, else `TENANTLITE_DATA_DIR`, else `~/.tenantlite/data`. */
export function dataDirOf(args: ParsedArgs): DataDir {
  const flag = str(args, "data-dir");
  if (flag !== undefined) return { path: flag, what: "the --data-dir you gave" };
  const env = process.env.TENANTLITE_DATA_DIR;
  if (env) return { path: env, what: "the data directory in TENANTLITE_DATA_DIR" };
  return {
    path: join(homedir(), ".tenantlite", "data"),
    what: "the default data directory (~/.tenantlite/data)",
  };
}

/**
 * Throws `DATA_DIR_INVALID` when the directory cannot be one: a file, or under a file. (A missing
 * directory is fine: it is created.)
 */
export function checkDataDir(dir: DataDir): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir.path).isDirectory();
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT") return;
    throw dataDirError(dir, e) ?? e;
  }
  if (!isDir) {
    throw new TenantliteError(
      "DATA_DIR_INVALID",
      `${dir.what} is a file, not a directory; give a directory (it is created if missing)`,
    );
  }
}

/** The coded error for a file-system failure on the data directory itself, or undefined. */
export function dataDirError(dir: DataDir, e: unknown): TenantliteError | undefined {
  return dataDirErrorOf(dir.what, e);
}

/**
 * Opens the data directory for a command: locally, or — when a `tenantlite dev` server holds it —
 * through that server (its URL and API token are recorded in the directory). Anything else
 * holding it is a `STORAGE_LOCKED` error that says who and what to do.
 */
export async function openDataDir(dir: DataDir, apiToken: string | undefined): Promise<Backend> {
  checkDataDir(dir);
  const { LocalBackend } = await import("./local-backend.js");
  for (let attempt = 0; ; attempt++) {
    try {
      return await LocalBackend.open(dir);
    } catch (e) {
      if (!(e instanceof TenantliteError && e.code === "STORAGE_LOCKED")) {
        throw dataDirError(dir, e) ?? e;
      }
      const { findServer } = await import("../server-info.js");
      const server = findServer(dir.path);
      if (server !== undefined) {
        const { RemoteBackend } = await import("./remote-backend.js");
        return new RemoteBackend(server.url, server.apiToken ?? apiToken, {
          servedPid: server.pid,
        });
      }
      const { readLockHolder } = await import("../dir-lock.js");
      const holder = readLockHolder(dir.path);
      // Released meanwhile: open again (once).
      if (holder === undefined && attempt === 0) continue;
      throw lockedError(dir, holder, e);
    }
  }
}

function lockedError(
  dir: DataDir,
  holder: { pid: number; host: string; label: string } | undefined,
  cause: unknown,
): TenantliteError {
  if (holder === undefined) {
    return new TenantliteError(
      "STORAGE_LOCKED",
      `${dir.what} is in use by other processes that keep taking its lock; try again`,
      { cause },
    );
  }
  const proc = `process ${holder.pid}${holder.host === hostname() ? "" : ` on ${holder.host}`}`;
  let who: string;
  let todo: string;
  if (holder.label === "tenantlite") {
    who = `another tenantlite command (${proc})`;
    todo = "wait for it to finish and run this again";
  } else if (holder.label === "tenantlite dev") {
    who = `a tenantlite dev server (${proc}) that did not record where it listens`;
    todo = "pass --url with the URL it printed at start (e.g. --url http://127.0.0.1:8080)";
  } else {
    who = `${proc}, an application using tenantlite`;
    todo =
      "one process at a time may use a data directory: stop it, or work through its server with --url";
  }
  return new TenantliteError(
    "STORAGE_LOCKED",
    `${dir.what} is in use by ${who}; ${todo} (if no such process runs, delete the .~tl-lock file in the data directory)`,
    { cause },
  );
}
