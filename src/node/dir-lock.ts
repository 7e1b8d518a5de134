/**
 * The cross-process lock of a data directory: one process at a time may use it. The lock is a
 * file, `<root>/.~tl-lock`, holding the owner's pid, host, a random token and a label; storages of
 * one directory in one process share it, and the last release removes it. A lock left by a
 * process that died is taken over.
 */
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { TenantliteError } from "../errors.js";
import { isCode, tempPath } from "./atomic-file.js";
import { THE_DATA_DIR } from "./data-dir-errors.js";

/** How {@link acquireDirLock} waits and names its holder (see `FsStorageOptions`). */
export interface DirLockOptions {
  /** Who holds the directory, written into the lock file and shown to whoever finds it locked. */
  lockLabel?: string;
  /** How long to wait for a holder with the same `lockLabel` before failing (default 0). */
  lockWaitMs?: number;
  /** How messages name the directory (default "the data directory"); never its path. */
  describedAs?: string;
}

/** The lock file: one open `FsStorage` per directory, across processes and within one. */
const LOCK_NAME = ".~tl-lock";

/** Directories this process holds the lock of: the token written, and how many storages use it. */
const locksHere = new Map<string, { token: string; count: number }>();

/**
 * Takes `root`'s lock for one more user in this process: the first takes the lock file
 * (`STORAGE_LOCKED` when another live process holds it), later ones share it.
 * `root` must be absolute (resolved).
 */
export async function acquireDirLock(root: string, options: DirLockOptions): Promise<void> {
  const held = locksHere.get(root);
  if (held !== undefined) held.count++;
  else locksHere.set(root, { token: await lock(root, options), count: 1 });
}

/** Releases one user's hold on `root`'s lock; the last one removes the lock file. */
export function releaseDirLock(root: string): void {
  const held = locksHere.get(root);
  if (held !== undefined && --held.count === 0) {
    locksHere.delete(root);
    unlock(root, held.token);
  }
}

/**
 * Takes the directory's lock file, or throws `STORAGE_LOCKED` naming the live process that holds
 * it (after waiting up to `lockWaitMs` for a holder with the same label). A lock whose process is
 * gone (it crashed, or exited without closing) is taken over. Two processes taking over the same
 * stale lock at the same instant could both succeed; each checks the file holds its own token
 * afterwards, which narrows that to a rename-sized window.
 */
async function lock(root: string, options: DirLockOptions): Promise<string> {
  const path = join(root, LOCK_NAME);
  const label = (options.lockLabel ?? "").replace(/\s+/g, " ").trim();
  const token = `${process.pid} ${hostname()} ${randomBytes(8).toString("hex")} ${label}`.trim();
  const waitUntil = Date.now() + Math.max(0, options.lockWaitMs ?? 0);
  const what = options.describedAs ?? THE_DATA_DIR;
  for (let attempt = 0; ; attempt++) {
    // Written aside, then linked into place: the lock file appears whole or not at all. (The
    // holder's sweep may remove the aside file, a temp file to it: then look again.)
    const temp = tempPath(root);
    try {
      writeFileSync(temp, `${token}\n`, { flag: "wx", mode: 0o644 });
      linkSync(temp, path);
      if (readLock(path) === token) return token;
      if (attempt > 100) break;
      continue; // replaced under us by a concurrent take-over: look again
    } catch (e) {
      if (isCode(e, "ENOENT") && attempt <= 100) continue;
      if (!isCode(e, "EEXIST")) throw e;
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        /* swept already */
      }
    }
    const held = readLock(path);
    if (held === undefined) {
      if (attempt > 100) break;
      continue; // removed meanwhile: try again
    }
    const [pid = "", host = "", , ...rest] = held.split(" ");
    const holderLabel = rest.join(" ");
    if (!lockHolderAlive(Number(pid), host)) {
      try {
        unlinkSync(path); // stale: its process is gone
      } catch (e) {
        if (!isCode(e, "ENOENT")) throw e;
      }
      if (attempt > 100) break;
      continue;
    }
    if (holderLabel === label && Date.now() < waitUntil) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      continue;
    }
    const who = `process ${pid}${holderLabel === "" ? "" : ` (${holderLabel})`}${host === hostname() ? "" : ` on ${host}`}`;
    throw new TenantliteError(
      "STORAGE_LOCKED",
      `${what} is in use by ${who}: one process at a time may use a data directory (if no such process runs, delete the ${LOCK_NAME} file in it)`,
    );
  }
  throw new TenantliteError(
    "STORAGE_LOCKED",
    `could not lock ${what}: other processes keep taking its lock; try again`,
  );
}

/** Who holds a directory's lock, as its lock file says (see {@link readLockHolder}). */
export interface LockHolder {
  readonly pid: number;
  /** The host name the holder runs on. */
  readonly host: string;
  /** The holder's `lockLabel` (`tenantlite dev` for the server, `tenantlite` for the CLI). */
  readonly label: string;
  /** Whether that process still runs (always true for another host: it cannot be checked). */
  readonly alive: boolean;
}

/**
 * The holder of `root`'s lock, or undefined when the directory is not locked. For callers that
 * found it locked (`STORAGE_LOCKED`) and want to say, or do, something about who holds it.
 */
export function readLockHolder(root: string): LockHolder | undefined {
  let held: string | undefined;
  try {
    held = readLock(join(resolve(root), LOCK_NAME));
  } catch {
    return undefined; // unreadable: nothing to say about it
  }
  if (held === undefined) return undefined;
  const [pid = "", host = "", , ...rest] = held.split(" ");
  return {
    pid: Number(pid),
    host,
    label: rest.join(" "),
    alive: lockHolderAlive(Number(pid), host),
  };
}

/** Removes the lock file if it still holds `token`. */
function unlock(root: string, token: string): void {
  const path = join(root, LOCK_NAME);
  if (readLock(path) !== token) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

function readLock(path: string): string | undefined {
  try {
    const text = readFileSync(path, "utf8").trim();
    return text === "" ? undefined : text;
  } catch (e) {
    if (isCode(e, "ENOENT")) return undefined;
    throw e;
  }
}

/** Whether the process holding a lock may still run (other hosts cannot be checked: yes). */
function lockHolderAlive(pid: number, host: string): boolean {
  if (host !== hostname()) return true;
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // Our own pid in a lock this process does not hold: left by an earlier process with this pid.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return isCode(e, "EPERM"); // exists, owned by another user
  }
}
