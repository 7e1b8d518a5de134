/**
 * Durable file primitives for the fs backend: callback-style fs calls as promises (one thread-pool
 * trip each), fsync of files and directories, the temp-file names no key can have, and the atomic
 * replacement of a file (temp file written with `O_DSYNC`, renamed over the target, directory
 * fsynced) after which a crash leaves the old bytes or the new, never a mix.
 */
import { randomBytes } from "node:crypto";
import {
  close as fsClose,
  constants as fsConstants,
  fdatasync as fsFdatasync,
  fstat as fsFstat,
  fsync as fsFsync,
  open as fsOpen,
  read as fsRead,
  rename as fsRename,
  write as fsWrite,
  type Stats,
} from "node:fs";
import { mkdir, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";

// Temp names carry "~", which no key segment may contain, so they never collide with a key and
// `list`/`load` can never see them.
const tempPrefix = ".~tl-";
const tempPattern = /^\.~tl-[0-9a-f]{16}\.tmp$/;
/** A fresh temp file name in `dir` (swept by `FsStorage.open` if a crash leaves it). */
export const tempPath = (dir: string): string =>
  join(dir, `${tempPrefix}${randomBytes(8).toString("hex")}.tmp`);

/** Whether a file name is one of {@link tempPath}'s (a leftover when no write is running). */
export function isTempFileName(name: string): boolean {
  return tempPattern.test(name);
}

/** O_DSYNC where the platform has it (not on Windows): writes return once durable. */
export const DSYNC = (fsConstants.O_DSYNC ?? 0) as number;
const TEMP_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | DSYNC;

/**
 * Atomically and durably replaces the file at `path` with `bytes`: a temp file beside it, written
 * with `O_DSYNC` (fsynced where there is none), `beforeRename`, then renamed over `path` and the
 * directory fsynced. The temp file is removed when a step fails.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array,
  beforeRename?: (tempPath: string, targetPath: string) => void | Promise<void>,
): Promise<void> {
  const dir = dirname(path);
  const temp = tempPath(dir);
  // Every step runs on the thread pool, none on the main thread: creating and renaming look
  // like in-memory work, but they wait for the file system's journal while other saves' syncs
  // commit it (a renameSync cost 10–15% of the server's main thread with 50 clients inserting).
  // The write is O_DSYNC: it returns once data and size are durable, as write + fdatasync would.
  const fd = await fsCall<number>((cb) => fsOpen(temp, TEMP_FLAGS, 0o644, cb));
  let open = true;
  let renamed = false;
  try {
    await writeFully(fd, bytes, 0);
    if (DSYNC === 0) await fsCall((cb) => fsFsync(fd, cb));
    await beforeRename?.(temp, path);
    open = false;
    await closeFd(fd);
    await fsCall((cb) => fsRename(temp, path, cb));
    renamed = true;
    await syncDir(dir);
  } finally {
    if (open) await closeFd(fd).catch(() => undefined);
    if (!renamed) await unlink(temp).catch(() => undefined);
  }
}

/** Writes all of `bytes` at offset `at` of an open file, on the thread pool. */
export async function writeFully(fd: number, bytes: Uint8Array, at: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    done += await fsCall<number>((cb) =>
      fsWrite(fd, bytes, done, bytes.length - done, at + done, cb),
    );
  }
}

/** A whole file's bytes (on the thread pool), or `undefined` when there is no such file. */
export async function readWhole(path: string): Promise<Uint8Array | undefined> {
  let fd: number;
  try {
    fd = await fsCall<number>((cb) => fsOpen(path, "r", cb));
  } catch (e) {
    if (isCode(e, "ENOENT", "ENOTDIR", "EISDIR")) return undefined;
    throw e;
  }
  try {
    const stats = await fsCall<Stats>((cb) => fsFstat(fd, cb));
    if (!stats.isFile()) return undefined;
    const bytes = new Uint8Array(stats.size);
    for (let done = 0; done < bytes.length; ) {
      const n = await fsCall<number>((cb) =>
        fsRead(fd, bytes, done, bytes.length - done, done, cb),
      );
      if (n === 0) return bytes.subarray(0, done).slice();
      done += n;
    }
    return bytes;
  } finally {
    await closeFd(fd);
  }
}

/** fsyncs directory `dir` (its entries' creation and renames), on the thread pool. */
export async function syncDir(dir: string, options: { missingOk?: boolean } = {}): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await fsCall<number>((cb) => fsOpen(dir, "r", cb));
    await fsCall((cb) => fsFsync(fd as number, cb));
  } catch (e) {
    if (options.missingOk === true && isCode(e, "ENOENT")) return;
    // Windows cannot open or fsync a directory; its renames are durable without it.
    if (!(process.platform === "win32" && isCode(e, "EISDIR", "EPERM", "EACCES"))) throw e;
  } finally {
    if (fd !== undefined) await closeFd(fd);
  }
}

/** fdatasyncs a file through a descriptor of its own (all on the thread pool). */
export async function syncFile(path: string): Promise<void> {
  const fd = await fsCall<number>((cb) => fsOpen(path, fsConstants.O_RDWR, cb));
  try {
    await fsCall((cb) => fsFdatasync(fd, cb));
  } finally {
    await closeFd(fd);
  }
}

/** Closes a descriptor on the thread pool. */
export function closeFd(fd: number): Promise<void> {
  return fsCall((cb) => fsClose(fd, cb));
}

/** Runs a callback-style fs call as a promise (no FileHandle object, one pool trip). */
export function fsCall<T = void>(
  run: (cb: (error: NodeJS.ErrnoException | null, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    run((error, value) => (error === null ? resolve(value as T) : reject(error)));
  });
}

/** Whether `e` is a system error with one of these codes (`ENOENT`, …). */
export function isCode(e: unknown, ...codes: string[]): boolean {
  return (
    typeof e === "object" && e !== null && codes.includes((e as { code?: unknown }).code as string)
  );
}

/**
 * `mkdir -p`, one level at a time from the deepest directory that exists. (Node's recursive
 * `mkdir` never returns where a file system refuses new entries with ENOENT, as /proc does: it
 * retries the parent, finds it, and tries again, for good.) Fails with the first refusal.
 */
export async function makeDirs(path: string): Promise<void> {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    try {
      if ((await stat(at)).isDirectory()) break;
      throw Object.assign(new Error(`not a directory: ${at}`), { code: "ENOTDIR" });
    } catch (e) {
      if (!isCode(e, "ENOENT") || dirname(at) === at) throw e;
      missing.push(at);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir);
    } catch (e) {
      if (!isCode(e, "EEXIST")) throw e;
    }
  }
}
