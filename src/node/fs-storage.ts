import {
  closeSync,
  type Dir,
  constants as fsConstants,
  stat as fsStat,
  write as fsWrite,
  ftruncateSync,
  openSync,
  type Stats,
  writeSync,
} from "node:fs";
import { mkdir, opendir, rmdir, unlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { TenantliteError } from "../errors.js";
import {
  assertBatch,
  assertBytes,
  assertEntry,
  isValidKey,
  normalizeListArgs,
  storageClosedError,
} from "../storage/backend-checks.js";
import { assertValidKey, type SaveOptions, type Storage } from "../storage/storage.js";
import {
  closeFd,
  fsCall,
  isCode,
  makeDirs,
  readWhole,
  syncDir,
  syncFile,
  writeFileAtomic,
} from "./atomic-file.js";
import { dataDirError, THE_DATA_DIR } from "./data-dir-errors.js";
import { acquireDirLock, releaseDirLock } from "./dir-lock.js";
import { sweepTempFiles } from "./fs-sweep.js";
import {
  advance,
  changedAgainstFile,
  changedPages,
  checkpoint,
  checkpointPages,
  emptyTail,
  imagePageSize,
  type LogTail,
  logPathOf,
  openLog,
  type RecordParts,
  recordParts,
  replay,
  truncateLog,
  writeRecord,
} from "./page-log.js";

/** Options for {@link FsStorage.open}. */
export interface FsStorageOptions {
  /**
   * Remove temp files left by a crashed `save` before resolving (default `true`). This walks the
   * whole tree once, a directory at a time; turn it off only when another sweep already ran.
   */
  sweepTempFiles?: boolean;
  /**
   * Called after a save's temp file is written and synced, right before it is renamed over the
   * key's file. Crash tests make it hang (the process "dies" here) or throw.
   */
  beforeRename?: (tempPath: string, targetPath: string) => void | Promise<void>;
  /**
   * Who holds the directory, written into its lock file and shown to whoever finds it locked
   * (the CLI says `tenantlite`, the server `tenantlite dev`).
   */
  lockLabel?: string;
  /**
   * How long `open` waits for a lock held by a process with the same `lockLabel` — a short-lived
   * peer, such as another CLI command — before failing (default 0). Others fail at once.
   */
  lockWaitMs?: number;
  /**
   * How error messages name the directory (default "the data directory"; the CLI says "the
   * --data-dir you gave"). No message names its path.
   */
  describedAs?: string;
  /**
   * Bytes kept in memory so that a save can log only the pages it changed (default 64 MiB; 0
   * turns the page log off, and every save replaces the whole file): small images held whole
   * (see `pageLogHoldBytes`), and for bigger ones the pages their logs hold.
   */
  pageLogCacheBytes?: number;
  /**
   * The biggest image held whole, so that its next save is compared with it in memory (default
   * 1 MiB, and at most a quarter of `pageLogCacheBytes`). A bigger image is compared with its
   * file, a chunk at a time, and only the pages its log holds stay in memory: a commit's memory
   * peak is then the engine's image and the one exported, not a third copy.
   */
  pageLogHoldBytes?: number;
  /**
   * A key's page log is written into its file once it holds more than this many bytes and more
   * than the image (default 1 MiB): higher means fewer in-place writes of whole images, and more
   * to replay at the next load after a crash.
   */
  pageLogCheckpointBytes?: number;
  /**
   * Bytes held in a file of their own, `<root>/.~tl-reserve`, for the saves that must go through
   * on a full disk (default 1 MiB; 0 keeps none): when such a save (`SaveOptions.reserve`: the
   * catalog record of a deletion, a token revocation or rotation) fails for lack of space, the
   * reserve is deleted and the save tried once more, so a full data directory can always be
   * freed by deleting databases, and a leaked token revoked. The reserve is made again after a
   * later deletion frees the room (or at the next open), when it fits.
   */
  reserveBytes?: number;
}

/**
 * A `Storage` over a directory: key `a/b/c` is the file `<root>/a/b/c`. `save` writes a unique
 * temp file in the same directory, fsyncs it, renames it over the target and fsyncs the directory,
 * so after a crash a key holds either its old or its new bytes, never a torn file. Operations on
 * one key run one after another in call order (the last save wins).
 *
 * A save of a SQLite database image whose stored image this storage knows (it saved or loaded
 * it) is one durable append instead: the pages that changed, as a record of the key's page log
 * (`<file>~log`, see `page-log.ts`) — one sync where a replacement costs a file creation, a
 * rename and two syncs, and bytes in proportion to the change, not to the database. A small
 * image is compared with the last one, held in memory; a big one with its file, read a chunk at a
 * time, and only the pages its log holds are kept (`pageLogHoldBytes`). `load` replays the log
 * over the file. When the log outgrows the image, or what is held leaves the memory budget, or
 * the storage closes, the log is written into the file in place and emptied, so a data
 * directory closed cleanly holds plain SQLite files.
 *
 * One process at a time may have a directory open: `open` in another process fails with
 * `STORAGE_LOCKED`, naming the process that holds it (two writers would lose each other's
 * catalog records and sweep each other's temp files). The lock is a file, `<root>/.~tl-lock`,
 * holding the owner's pid; the last `close` in the process removes it, and one left by a process
 * that died is taken over. Within one process, storages of one directory share the lock: keeping
 * them from using the same keys while one of them writes is the application's business (each
 * keeps its own page-log state: two appending to one key's log would interleave records, and a
 * load by one may cut another's append in progress as a torn record).
 *
 * A key cannot hold bytes and be a prefix of other keys at once (`a` and `a/b`): a path is either
 * a file or a directory. Such a save fails with `STORAGE_KEY_CONFLICT`. On case-insensitive file
 * systems keys differing only in case collide; segments are limited to the file system's name
 * length (usually 255 bytes).
 *
 * @example
 * const storage = await FsStorage.open("./data");
 * await storage.save("tenants/acme", bytes); // ./data/tenants/acme
 */
export class FsStorage implements Storage {
  /** Always `"fs"`. */
  readonly kind = "fs";
  /** Absolute path of the root directory. */
  readonly root: string;
  /** See {@link Storage.dataId}: the root directory. */
  get dataId(): string {
    return `fs:${this.root}`;
  }
  readonly #beforeRename: FsStorageOptions["beforeRename"];
  readonly #queues = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<Promise<unknown>>();
  #closed = false;
  /** Whether this storage counts towards its process's hold on the directory's lock. */
  #locked = false;
  /** Directories this storage made or found (saves skip `mkdir` for them). */
  readonly #knownDirs = new Set<string>();
  /** Bounds `overwriteMany`'s fdatasyncs in flight (see SYNCS_AT_ONCE). */
  readonly #syncSlots = new Slots(SYNCS_AT_ONCE);
  /**
   * The last image of keys whose saves go to their page log, least recently used first. A key
   * whose log holds records is always here (its log only makes sense with it) until a
   * checkpoint empties the log; a key that is not here has an empty log, or one this process
   * has not read yet.
   */
  readonly #images = new Map<string, Held>();
  #imageBytes = 0;
  /** Of those, bytes of images whose checkpoint is queued (they count as gone). */
  #leavingBytes = 0;
  readonly #cacheBytes: number;
  readonly #checkpointBytes: number;
  readonly #holdBytes: number;
  /** Page-log descriptors kept open, least recently used first (see `#append`). */
  readonly #logFds = new Map<string, { fd: number; busy: boolean }>();
  /** See {@link FsStorageOptions.reserveBytes}. */
  readonly #reserveBytes: number;
  /** Whether the reserve's file holds its bytes. */
  #reserveHeld = false;
  /** The reserve being made again, if it is. */
  #refilling: Promise<void> | undefined;

  private constructor(root: string, options: FsStorageOptions) {
    this.root = resolve(root);
    this.#beforeRename = options.beforeRename;
    this.#cacheBytes = byteCount(
      options.pageLogCacheBytes ?? DEFAULT_PAGE_LOG_CACHE,
      "pageLogCacheBytes",
      " (0 turns the page log off)",
    );
    this.#checkpointBytes = byteCount(
      options.pageLogCheckpointBytes ?? CHECKPOINT_MIN_LOG,
      "pageLogCheckpointBytes",
      "",
    );
    this.#holdBytes = byteCount(options.pageLogHoldBytes ?? DEFAULT_HOLD, "pageLogHoldBytes", "");
    this.#reserveBytes = byteCount(
      options.reserveBytes ?? DEFAULT_RESERVE,
      "reserveBytes",
      " (0 keeps no reserve)",
    );
  }

  /**
   * Creates `root` if needed, locks it (`STORAGE_LOCKED` when another open storage holds it),
   * removes crash leftovers, and returns the storage.
   */
  static async open(root: string, options: FsStorageOptions = {}): Promise<FsStorage> {
    const what = options.describedAs ?? THE_DATA_DIR;
    // What the file system says of the directory itself is coded, and never names its path.
    const coded = (e: unknown) => dataDirError(what, e) ?? e;
    if (typeof root !== "string" || root === "" || root.includes("\0")) {
      throw new TenantliteError(
        "DATA_DIR_INVALID",
        `${what} must be a directory's path (a non-empty string without NUL characters)`,
      );
    }
    const storage = new FsStorage(root, options);
    try {
      await makeDirs(storage.root);
      try {
        await acquireDirLock(storage.root, options);
      } catch (e) {
        // A full disk must not keep the directory from opening, or nothing could be deleted to
        // free it: the lock file takes its room out of the reserve.
        if (!outOfSpace(e) || !(await storage.#spendReserve())) throw e;
        await acquireDirLock(storage.root, options);
      }
    } catch (e) {
      throw coded(e);
    }
    storage.#locked = true;
    try {
      if (options.sweepTempFiles !== false) await sweepTempFiles(storage.root);
      if (storage.#reserveBytes === 0) await unlink(storage.#reservePath()).catch(() => undefined);
      else await storage.#refillReserve();
    } catch (e) {
      await storage.close();
      throw coded(e);
    }
    return storage;
  }

  /**
   * The bytes in `key`'s file (with its page log replayed), or `undefined` when there is no such
   * file. Waits for earlier saves and deletes of the key.
   */
  load(key: string): Promise<Uint8Array | undefined> {
    return this.#run(key, (path) => this.#serialize(key, () => this.#load(key, path)));
  }

  async #load(key: string, path: string): Promise<Uint8Array | undefined> {
    const held = this.#images.get(key);
    if (held?.kind === "image") {
      this.#images.delete(key);
      this.#images.set(key, held);
      return held.image.slice();
    }
    // Every step runs on the thread pool: loads serve requests, and a file-system call on the
    // main thread stalls every other request while the disk (or its journal) is busy.
    const found = await this.#recover(path);
    // A big image's log stays as it is: what the storage knows of it is still true.
    if (held !== undefined) return found?.image ?? readWhole(path);
    if (found === undefined) {
      const image = await readWhole(path);
      // A big image costs the budget nothing while its log is empty: its next save is a record.
      if (image !== undefined && this.#logKind(image) === "pages") {
        this.#remember(key, pagesHeld(path, image, emptyTail()));
      }
      return image;
    }
    // A log with records: a small image is held (a copy; the caller owns what it gets); any
    // other is written into the file now. An image without a log is not held: a tenant that is
    // only read never costs the budget, and its first save replaces the file.
    const kind = this.#logKind(found.image);
    const holdWhole = (): Held => ({
      kind: "image",
      path,
      image: found.image.slice(),
      tail: found.tail,
      counted: 0,
    });
    if (kind === "image") {
      this.#remember(key, holdWhole());
      return found.image;
    }
    try {
      await this.#checkpoint({ kind: "image", path, ...found, counted: 0 });
    } catch {
      // A full disk must not make a database unreadable: its log stays whole (its records are
      // committed), the image is held as read, and a later save or eviction writes the log into
      // the file once it can.
      this.#remember(key, holdWhole());
      return found.image;
    }
    if (kind === "pages") this.#remember(key, pagesHeld(path, found.image, emptyTail()));
    return found.image;
  }

  /**
   * The image of a key this process does not hold, its file with its page log replayed (what
   * follows the log's last valid record is cut off): `undefined` unless the log has records.
   */
  async #recover(path: string): Promise<{ image: Uint8Array; tail: LogTail } | undefined> {
    const log = await readWhole(logPathOf(path));
    if (log === undefined || log.length === 0) return undefined;
    const base = await readWhole(path);
    if (base === undefined) {
      // A log without its file (never left by this storage, which deletes logs first) has
      // nothing to apply to.
      await truncateLog(logPathOf(path), 0);
      return undefined;
    }
    const { image, tail, damaged } = replay(base, log);
    if (damaged) {
      // Cutting the log here would drop acknowledged commits: it stays as it is, for whoever
      // repairs it, and the key cannot be loaded or saved until then.
      throw new TenantliteError(
        "DATABASE_CORRUPT",
        "a stored database's page log is damaged: a record inside it fails its checksum, and committed records follow it",
      );
    }
    if (tail.bytes < log.length) await truncateLog(logPathOf(path), tail.bytes);
    return tail.bytes > 0 ? { image, tail } : undefined;
  }

  /** Atomically and durably replaces `key`'s file (temp file, fsync, rename, fsync dir). */
  save(key: string, bytes: Uint8Array, options?: SaveOptions): Promise<void> {
    return this.#run(key, (path) => {
      assertBytes(bytes);
      // The write runs on the thread pool after this returns: it needs bytes nobody changes.
      const copy = options?.transfer === true ? bytes : bytes.slice();
      const attempt = () => this.#serialize(key, () => this.#save(key, path, copy));
      return options?.reserve === true ? this.#withReserve(attempt) : attempt();
    });
  }

  /**
   * Runs a save that may use the reserve: when it fails for lack of space and the reserve is
   * held, the reserve's file is deleted and the save tried once more.
   */
  async #withReserve(attempt: () => Promise<void>): Promise<void> {
    try {
      await attempt();
    } catch (e) {
      if (!outOfSpace(e) || !this.#reserveHeld || !(await this.#spendReserve())) throw e;
      await attempt();
    }
  }

  /** Deletes the reserve's file, freeing its room: whether there was one to delete. */
  async #spendReserve(): Promise<boolean> {
    this.#reserveHeld = false;
    try {
      await unlink(this.#reservePath());
      return true;
    } catch {
      return false;
    }
  }

  #reservePath(): string {
    return join(this.root, RESERVE_NAME);
  }

  /**
   * Makes the reserve's file when it is missing or short, if it fits (a full disk leaves it
   * missing, to be tried again after the next deletion). Never fails.
   */
  #refillReserve(): Promise<void> {
    if (this.#reserveBytes === 0 || this.#reserveHeld || this.#closed) return Promise.resolve();
    this.#refilling ??= this.#track(
      (async () => {
        const path = this.#reservePath();
        try {
          const found = await fsCall<Stats>((cb) => fsStat(path, cb)).catch(() => undefined);
          if (found?.isFile() === true && found.size === this.#reserveBytes) {
            this.#reserveHeld = true;
            return;
          }
          // Random bytes: a file system that compresses or deduplicates would hold zeros in no
          // space at all.
          const bytes = new Uint8Array(this.#reserveBytes);
          for (let i = 0; i < bytes.length; i += 65_536) {
            crypto.getRandomValues(bytes.subarray(i, i + 65_536));
          }
          await writeFileAtomic(path, bytes);
          this.#reserveHeld = true;
        } catch {
          // No room (or no right to write): the saves that may use it just find none.
        }
      })().finally(() => {
        this.#refilling = undefined;
      }),
    );
    return this.#refilling;
  }

  /** One save, its turn come: a page-log record when it can be one, else a whole file. */
  async #save(key: string, path: string, bytes: Uint8Array): Promise<void> {
    let held = this.#images.get(key);
    if (held !== undefined) this.#forget(key);
    else {
      // Not held: the key may still have a log, from before a restart. Replaying it first keeps
      // its records from being replayed over the new file later.
      const found = await this.#recover(path).catch((e) => {
        throw writeError(key, e);
      });
      if (found !== undefined) held = { kind: "image", path, ...found, counted: 0 };
    }
    const kind = this.#logKind(bytes);
    // Images cross between held whole and held by pages once (as they grow or shrink past
    // pageLogHoldBytes): a whole file then, as it is when the page size changes.
    const changed =
      held !== undefined && held.kind === kind ? await this.#changed(held, bytes) : undefined;
    if (held !== undefined && changed !== undefined) {
      const pageSize = imagePageSize(bytes);
      const pages = bytes.length / pageSize;
      let tail = held.tail;
      const unchanged = changed.length === 0 && pages === pagesOf(held);
      const record = unchanged ? undefined : recordParts(bytes, pageSize, changed, tail);
      if (record !== undefined) {
        try {
          await this.#append(key, path, record, tail.bytes);
        } catch (e) {
          // The key's directory is gone (someone removed it): the bytes are a whole image, so
          // they make a new file, as a save without a log would.
          if (isCode(e, "ENOENT")) return this.#saveWhole(key, path, bytes);
          // Not remembered: the next use of the key reads its file and log again.
          throw writeFailed(e);
        }
        tail = advance(tail, record);
      }
      const logFull = tail.bytes > Math.max(bytes.length, this.#checkpointBytes);
      if (held.kind === "image") {
        const logged: Held = { kind: "image", path, image: bytes, tail, counted: 0 };
        // The save is durable already: a checkpoint that fails leaves the log whole, to be
        // written into the file by a later one.
        if (logFull) await this.#checkpoint(logged).catch(() => undefined);
        this.#remember(key, logged);
        return;
      }
      const logged = held.logged;
      for (const p of logged.keys()) if (p >= pages) logged.delete(p);
      const next = pagesHeld(path, bytes, tail, logged);
      // Its log's pages are held, so they are bounded too: past pageLogCheckpointBytes they go
      // into the file, in place, from the image at hand.
      if (logFull || (logged.size + changed.length) * pageSize > this.#checkpointBytes) {
        try {
          const dirty = new Set([...logged.keys(), ...changed]); // each page written once
          await checkpointPages(path, pageSize, pages, dirty, (p) =>
            bytes.subarray(p * pageSize, (p + 1) * pageSize),
          );
          next.tail = emptyTail();
          next.logged = new Map();
        } catch {
          // Durable already, and the log is whole: its pages must stay known (see below).
        }
      }
      if (next.tail.bytes > 0) {
        for (const p of changed) next.logged.set(p, bytes.slice(p * pageSize, (p + 1) * pageSize));
      }
      this.#remember(key, next);
      return;
    }
    // A whole file. A log with records goes first, into the file as it is: the new file must
    // not have them replayed over it, and they are committed until the new file is in place.
    if (held !== undefined && held.tail.bytes > 0) await this.#checkpoint(held);
    await this.#saveWhole(key, path, bytes);
  }

  /**
   * The pages of `bytes` that differ from `held`'s stored image, in memory for a held image and
   * against the file for one held by pages; `undefined` when only a whole file will do (the page
   * size changed, or the file is not what the log's state says).
   */
  async #changed(held: Held, bytes: Uint8Array): Promise<number[] | undefined> {
    const pageSize = imagePageSize(bytes);
    if (held.kind === "image") {
      if (imagePageSize(held.image) !== pageSize) return undefined;
      return changedPages(held.image, bytes, pageSize);
    }
    if (held.pageSize !== pageSize) return undefined;
    try {
      return await changedAgainstFile(held.path, pageSize, held.pages, held.logged, bytes);
    } catch {
      return undefined;
    }
  }

  /** Replaces the key's file with `bytes`; its log, if any, is empty. */
  async #saveWhole(key: string, path: string, bytes: Uint8Array): Promise<void> {
    // The next append opens the log afresh: a file made again (its directory was removed under
    // the storage) must not get its records through a descriptor of the old one.
    this.#dropLogFd(key);
    await this.#write(key, path, bytes);
    const kind = this.#logKind(bytes);
    if (kind === "image") {
      this.#remember(key, { kind, path, image: bytes, tail: emptyTail(), counted: 0 });
    } else if (kind === "pages") this.#remember(key, pagesHeld(path, bytes, emptyTail()));
  }

  /**
   * Appends a record to the key's log through a descriptor kept open between saves (an open and
   * a close are two more thread-pool trips, a third of an append's time). At most LOG_FDS stay
   * open, least recently used closed first; never one in use, so no write can ever go to a
   * descriptor number closed and reused meanwhile.
   */
  async #append(key: string, path: string, record: RecordParts, at: number): Promise<void> {
    let log = this.#logFds.get(key);
    if (log !== undefined) this.#logFds.delete(key);
    else {
      const { fd, created } = await openLog(logPathOf(path));
      log = { fd, busy: false };
      try {
        if (created) await syncDir(dirname(path));
      } catch (e) {
        await closeFd(fd).catch(() => undefined);
        throw e;
      }
    }
    this.#logFds.set(key, log);
    log.busy = true;
    try {
      await writeRecord(log.fd, record, at);
    } catch (e) {
      this.#dropLogFd(key); // its state is unknown: the next append opens the file again
      throw e;
    } finally {
      log.busy = false;
    }
    if (this.#logFds.size <= LOG_FDS) return;
    for (const [k, other] of this.#logFds) {
      if (this.#logFds.size <= LOG_FDS) break;
      if (!other.busy) this.#dropLogFd(k);
    }
  }

  /** Closes the key's log descriptor, if one is open (on the pool; nothing waits for it). */
  #dropLogFd(key: string): void {
    const log = this.#logFds.get(key);
    if (log === undefined) return;
    this.#logFds.delete(key);
    void this.#track(closeFd(log.fd)).catch(() => undefined);
  }

  /**
   * How a save of `bytes` can go to the page log: `"image"` when they are a SQLite image small
   * enough to hold whole (the next save is compared with it in memory), `"pages"` for a bigger one
   * (compared with the file, only its log's pages held), `undefined` for other bytes or with the
   * page log off.
   */
  #logKind(bytes: Uint8Array): "image" | "pages" | undefined {
    if (this.#cacheBytes === 0 || imagePageSize(bytes) === 0) return undefined;
    return bytes.length <= Math.min(this.#holdBytes, this.#cacheBytes / 4) ? "image" : "pages";
  }

  /** Writes `held`'s log into its file and empties the log (a coded error when it fails). */
  async #checkpoint(held: Held): Promise<void> {
    try {
      if (held.kind === "image") await checkpoint(held.path, held.image);
      else {
        const { logged } = held;
        await checkpointPages(
          held.path,
          held.pageSize,
          held.pages,
          logged.keys(),
          (p) => logged.get(p)!,
        );
        held.logged = new Map();
      }
    } catch (e) {
      const message =
        "could not write a database's page log into its file (check that the data directory is writable and has free space)";
      throw new TenantliteError("STORAGE_WRITE_FAILED", message, { cause: e });
    }
    held.tail = emptyTail();
  }

  /** Holds `held` as `key`'s latest state, then keeps the held bytes within the budget. */
  #remember(key: string, held: Held): void {
    this.#forget(key);
    held.counted = heldBytes(held);
    this.#images.set(key, held);
    this.#imageBytes += held.counted;
    const over = () => this.#imageBytes - this.#leavingBytes > this.#cacheBytes;
    if (!over()) return;
    for (const [k, h] of this.#images) {
      if (!over()) break;
      if (h === held || h.leaving === true || h.counted === 0) continue;
      if (h.tail.bytes === 0) {
        this.#forget(k);
        continue;
      }
      // Its log must go into its file before what is held can go: in the key's turn, so that no
      // save of it runs meanwhile. (A save that comes first replaces `h`, and keeps its own.)
      h.leaving = true;
      this.#leavingBytes += h.counted;
      void this.#track(
        this.#serialize(k, async () => {
          if (this.#images.get(k) !== h) return;
          await this.#checkpoint(h);
          this.#forget(k);
          // A big image's state (its log now empty) costs nothing, and spares its next save a
          // whole file.
          if (h.kind === "pages") this.#remember(k, h);
        }),
      ).catch(() => {
        // The log is still whole and its state still held: a later save, eviction or close
        // writes it into the file.
        if (this.#images.get(k) !== h) return;
        h.leaving = false;
        this.#leavingBytes -= h.counted;
      });
    }
  }

  #forget(key: string): void {
    const held = this.#images.get(key);
    if (held === undefined) return;
    this.#images.delete(key);
    this.#imageBytes -= held.counted;
    if (held.leaving === true) {
      held.leaving = false;
      this.#leavingBytes -= held.counted;
    }
  }

  /** Removes `key`'s file and the directories it leaves empty; fine when it did not exist. */
  delete(key: string): Promise<void> {
    return this.#run(key, (path) =>
      this.#serialize(key, async () => {
        if (!(await this.#unlink(key, path))) return;
        // A concurrent delete in the same directory may have pruned it already: nothing to sync.
        await syncDir(dirname(path), { missingOk: true });
        await this.#pruneEmptyDirs(dirname(path));
        void this.#refillReserve(); // the room it freed
      }),
    );
  }

  /**
   * Removes many keys' files (see {@link Storage.deleteMany}): unlinked a chunk at a time, then
   * each directory they were in synced once and pruned when left empty.
   */
  async deleteMany(keys: readonly string[]): Promise<void> {
    this.#check();
    assertBatch(keys, assertValidKey);
    const dirs = new Set<string>();
    for (let i = 0; i < keys.length; i += DELETES_AT_ONCE) {
      const results = await Promise.allSettled(
        keys.slice(i, i + DELETES_AT_ONCE).map((key) =>
          this.#run(key, (path) =>
            this.#serialize(key, async () => {
              if (await this.#unlink(key, path)) dirs.add(dirname(path));
            }),
          ),
        ),
      );
      for (const r of results) if (r.status === "rejected") throw r.reason;
    }
    // Deepest first, so that pruning one never races a sync of a directory below it.
    const ordered = [...dirs].sort((a, b) => b.length - a.length);
    await this.#track(
      (async () => {
        for (const dir of ordered) {
          await syncDir(dir, { missingOk: true });
          await this.#pruneEmptyDirs(dir);
        }
      })(),
    );
    if (dirs.size > 0) void this.#refillReserve();
  }

  /**
   * Unlinks a key's file and its page log, and forgets the key's page-log state: whether there
   * was a file (a directory is a prefix, not a key).
   */
  async #unlink(key: string, path: string): Promise<boolean> {
    this.#forget(key);
    this.#dropLogFd(key);
    // The log first: a file left without its log is a stale state of a deleted key, but a log
    // left without its file would be replayed over a new file of that key.
    try {
      await unlink(logPathOf(path));
    } catch (e) {
      if (!isCode(e, "ENOENT", "ENOTDIR", "EISDIR", "EPERM")) throw e;
    }
    try {
      await unlink(path);
      return true;
    } catch (e) {
      if (isCode(e, "ENOENT", "ENOTDIR", "EISDIR", "EPERM")) return false;
      throw e;
    }
  }

  /** Whether `key`'s file exists (a metadata lookup on the thread pool, like `load`'s). */
  has(key: string): Promise<boolean> {
    return this.#run(key, async (path) => {
      try {
        return (await fsCall<Stats>((cb) => fsStat(path, cb))).isFile();
      } catch (e) {
        if (isCode(e, "ENOENT", "ENOTDIR")) return false;
        throw e;
      }
    });
  }

  /**
   * Sorted keys under `prefix`. Walks directories in key order, reading one directory at a time
   * and skipping subtrees that sort at or before `after`, so a small page over a huge tree costs
   * about one directory listing per level.
   */
  async list(prefix: string, options?: { after?: string; limit?: number }): Promise<string[]> {
    this.#check();
    const { after, limit } = normalizeListArgs(prefix, options);
    const out: string[] = [];
    if (limit === 0) return out;
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash < 0 ? "" : prefix.slice(0, slash);
    try {
      await this.#track(this.#walk(dirKey, prefix.slice(slash + 1), after, limit, out));
    } catch (e) {
      if (e instanceof TenantliteError) throw e;
      throw new TenantliteError("STORAGE_IO_FAILED", `file system error listing "${prefix}"`, {
        cause: e,
      });
    }
    return out;
  }

  /** Waits for running operations and unlocks the directory; later calls fail with `STORAGE_CLOSED`. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    // Logs go into their files, so that a directory closed cleanly holds plain SQLite files. One
    // that fails stays whole, and is replayed at the next open.
    for (const held of this.#images.values()) {
      if (held.tail.bytes > 0) await this.#checkpoint(held).catch(() => undefined);
    }
    this.#images.clear();
    this.#imageBytes = 0;
    this.#leavingBytes = 0;
    for (const key of [...this.#logFds.keys()]) this.#dropLogFd(key);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    if (!this.#locked) return;
    this.#locked = false;
    releaseDirLock(this.root);
  }

  #check(): void {
    if (this.#closed) throw storageClosedError(this.kind);
  }

  /** Validates before any fs call, then runs `action` on the key's path, tracked for `close`. */
  async #run<T>(key: string, action: (path: string) => Promise<T>): Promise<T> {
    this.#check();
    assertValidKey(key);
    try {
      return await this.#track(action(this.#pathOf(key)));
    } catch (e) {
      if (e instanceof TenantliteError) throw e;
      throw new TenantliteError(
        "STORAGE_IO_FAILED",
        `a file-system call in the data directory failed${systemCode(e)}`,
        { cause: e },
      );
    }
  }

  async #track<T>(task: Promise<T>): Promise<T> {
    this.#inFlight.add(task);
    try {
      return await task;
    } finally {
      this.#inFlight.delete(task);
    }
  }

  #pathOf(key: string): string {
    const path = join(this.root, ...key.split("/"));
    // Keys are validated already; this only guards against a future change of the key rules.
    const rel = relative(this.root, path);
    if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new TenantliteError("STORAGE_INVALID_KEY", "storage key escapes the storage root");
    }
    return path;
  }

  /** Chains `task` after earlier operations on `key`, so they apply in call order. */
  #serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail: Promise<void> = next.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(key, tail);
    void tail.then(() => {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    });
    return next;
  }

  async #write(key: string, path: string, bytes: Uint8Array): Promise<void> {
    const dir = dirname(path);
    // A concurrent delete may prune the directory we just created; retry a few times then.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#makeDirs(dir);
        await writeFileAtomic(path, bytes, this.#beforeRename);
        return;
      } catch (e) {
        if (isCode(e, "ENOENT") && attempt < 3) {
          this.#knownDirs.delete(dir);
          continue;
        }
        throw writeError(key, e);
      }
    }
  }

  /**
   * Writes many files in place (see {@link Storage.overwriteMany}): each is opened, written and
   * cut to size inline — page-cache work, no new inode, no rename — and resolves once all of them
   * hold their new bytes; they are fdatasynced on the thread pool meanwhile, two at a time, and
   * the directories of files that did not exist yet fsynced after (`synced`). On this VM's ext4
   * that is ~5× faster than a save per file, which pays for allocating a fresh file's blocks
   * every time (measured in bench/migrate's apply phase). A later save of one of these keys waits
   * for its sync.
   */
  async overwriteMany(
    entries: readonly { key: string; bytes: Uint8Array }[],
  ): Promise<{ synced: Promise<void> }> {
    this.#check();
    assertBatch(entries, assertEntry); // everything is checked before anything is written
    const written: Promise<void>[] = [];
    const tasks = entries.map(({ key, bytes }) => {
      let wrote = () => {};
      let failed: (e: unknown) => void = () => {};
      written.push(
        new Promise<void>((resolve, reject) => {
          wrote = resolve;
          failed = reject;
        }),
      );
      return this.#run(key, (path) =>
        this.#serialize(key, async () => {
          try {
            // A page log would be replayed over the new bytes: it goes first. (After a crash the
            // caller redoes the whole batch, whose bytes include everything the log held.)
            this.#forget(key);
            await truncateLog(logPathOf(path), 0);
            await this.#overwrite(path, bytes, wrote);
          } catch (e) {
            throw writeError(key, e);
          }
        }),
      ).catch((e: unknown) => {
        failed(e); // (no effect once written: then only `synced` fails)
        throw e;
      });
    });
    const synced = Promise.allSettled(tasks).then((results) => {
      for (const r of results) if (r.status === "rejected") throw r.reason;
    });
    synced.catch(() => undefined); // the caller may stop at a failed write below
    for (const r of await Promise.allSettled(written)) if (r.status === "rejected") throw r.reason;
    return { synced };
  }

  /** Overwrites one file in place; `wrote` once it holds `bytes`, resolves once they are synced. */
  async #overwrite(path: string, bytes: Uint8Array, wrote: () => void): Promise<void> {
    let fd: number;
    let created = false;
    try {
      fd = openSync(path, fsConstants.O_RDWR);
    } catch (e) {
      if (!isCode(e, "ENOENT")) throw e;
      await this.#makeDirs(dirname(path));
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
      created = true;
    }
    try {
      // (A directory cannot be opened for writing: EISDIR above.)
      for (let done = 0; done < bytes.length; ) {
        // Small images are copied into the page cache inline; big ones go to the pool.
        done +=
          bytes.length <= INLINE_WRITE_MAX
            ? writeSync(fd, bytes, done, bytes.length - done, done)
            : await fsCall<number>((cb) => fsWrite(fd, bytes, done, bytes.length - done, done, cb));
      }
      ftruncateSync(fd, bytes.length);
    } finally {
      closeSync(fd);
    }
    wrote();
    // Synced later through a descriptor of its own, as a database's checkpointer does: holding
    // every file open until its sync would run out of descriptors in a job over tens of thousands
    // of children. (Linux reports a write-back error nobody has seen yet to a later descriptor.)
    await this.#syncSlots.run(() => syncFile(path));
    if (created) await syncDir(dirname(path));
  }

  async #makeDirs(dir: string): Promise<void> {
    if (dir === this.root || this.#knownDirs.has(dir)) return;
    const first = await mkdir(dir, { recursive: true });
    if (this.#knownDirs.size > 100_000) this.#knownDirs.clear();
    this.#knownDirs.add(dir);
    if (first === undefined) return;
    // New directories are only durable once their parents' entries are synced too.
    const created: string[] = [];
    for (let d = dir; d.length >= first.length; d = dirname(d)) created.push(dirname(d));
    for (const d of created) await syncDir(d);
  }

  /** Removes now-empty directories from `dir` up to (not including) the root. */
  async #pruneEmptyDirs(dir: string): Promise<void> {
    for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) {
      try {
        await rmdir(d);
        this.#knownDirs.delete(d);
      } catch {
        return; // not empty (or already gone): stop
      }
      await syncDir(dirname(d), { missingOk: true });
    }
  }

  /**
   * Appends the keys of one directory (and, recursively, its subdirectories) to `out` in key
   * order. Entries are streamed; with a small `limit` only the first `limit` candidates are kept
   * (a bounded sorted selection), so a page over a directory of 100,000s of names costs one pass
   * over it and O(limit) memory. Should kept entries turn out to hold too few keys (empty
   * directories), the directory is scanned again past the last entry used.
   */
  async #walk(
    dirKey: string,
    namePrefix: string,
    after: string | undefined,
    limit: number,
    out: string[],
  ): Promise<void> {
    const path = dirKey === "" ? this.root : this.#pathOf(dirKey);
    const base = dirKey === "" ? "" : `${dirKey}/`;
    let floor: string | undefined;
    for (;;) {
      const need = limit - out.length;
      const bounded = need <= maxSelection;
      const picked: WalkItem[] = [];
      let dropped = false;
      let handle: Dir;
      try {
        handle = await opendir(path, { bufferSize: 256 });
      } catch (e) {
        if (isCode(e, "ENOENT", "ENOTDIR")) return;
        throw e;
      }
      for await (const entry of handle) {
        const name = entry.name;
        // Temp files and anything not written by us (names outside the key alphabet) are skipped.
        if (!name.startsWith(namePrefix) || !isValidKey(name)) continue;
        const dir = entry.isDirectory();
        if (!dir && !entry.isFile()) continue;
        const key = base + name;
        if (after !== undefined) {
          if (dir) {
            const under = `${key}/`;
            if (under <= after && !after.startsWith(under)) continue;
          } else if (key <= after) continue;
        }
        // Every key below directory `d` starts with "d/", so ordering directories as "d/" makes
        // this directory's order agree with the global string order of full keys.
        const order = dir ? `${name}/` : name;
        if (floor !== undefined && order <= floor) continue;
        const item = { order, key, dir };
        if (!bounded) {
          picked.push(item);
          continue;
        }
        if (picked.length >= need) {
          dropped = true;
          if (order >= picked[picked.length - 1]!.order) continue;
          picked.pop();
        }
        picked.splice(upperBound(picked, order), 0, item);
      }
      if (!bounded) picked.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
      for (const item of picked) {
        if (out.length >= limit) return;
        if (item.dir) await this.#walk(item.key, "", after, limit, out);
        else out.push(item.key);
        floor = item.order;
      }
      if (!dropped || out.length >= limit) return;
    }
  }
}

/**
 * What the storage knows of a key whose saves go to its page log: its last saved image (or loaded
 * one, with a log) held whole, or, for a big image, its shape and the pages its log holds (the
 * rest is in its file); and where its page log ends.
 */
type Held = HeldImage | HeldPages;

interface HeldCommon {
  /** The key's file. */
  path: string;
  tail: LogTail;
  /** Bytes counted against the budget while held (see `#remember`). */
  counted: number;
  /** Leaving the budget: a checkpoint is queued. */
  leaving?: boolean;
}

interface HeldImage extends HeldCommon {
  kind: "image";
  /** Owned by the storage: nobody changes these bytes. */
  image: Uint8Array;
}

interface HeldPages extends HeldCommon {
  kind: "pages";
  pageSize: number;
  /** Pages in the stored image. */
  pages: number;
  /** The latest bytes of each page the log holds (copies, the storage's own). */
  logged: Map<number, Uint8Array>;
}

/** The state of a big image `image` saved at `path`, whose log ends at `tail`. */
function pagesHeld(
  path: string,
  image: Uint8Array,
  tail: LogTail,
  logged = new Map<number, Uint8Array>(),
): HeldPages {
  const pageSize = imagePageSize(image);
  return {
    kind: "pages",
    path,
    tail,
    pageSize,
    pages: image.length / pageSize,
    logged,
    counted: 0,
  };
}

/** Pages in `held`'s stored image. */
function pagesOf(held: Held): number {
  return held.kind === "pages" ? held.pages : held.image.length / imagePageSize(held.image);
}

/** Bytes `held` keeps in memory. */
function heldBytes(held: Held): number {
  return held.kind === "image" ? held.image.length : held.logged.size * held.pageSize;
}

/** A byte-count option, checked: a whole number, 0 or more. */
function byteCount(value: number, name: string, zero: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TenantliteError(
      "STORAGE_INVALID_ARGUMENT",
      `${name} must be a whole number of bytes, 0 or more${zero}`,
    );
  }
  return value;
}

/** Default of {@link FsStorageOptions.pageLogCacheBytes}. */
const DEFAULT_PAGE_LOG_CACHE = 64 << 20;
/** Default of {@link FsStorageOptions.pageLogHoldBytes}. */
const DEFAULT_HOLD = 1 << 20;
/** Page-log descriptors kept open at most (each costs a descriptor of the process's ~1,024). */
const LOG_FDS = 64;
/** Default of {@link FsStorageOptions.pageLogCheckpointBytes}. */
const CHECKPOINT_MIN_LOG = 1 << 20;
/** Default of {@link FsStorageOptions.reserveBytes}. */
const DEFAULT_RESERVE = 1 << 20;
/** The reserve's file in the root ("~": never a key, never listed). */
const RESERVE_NAME = ".~tl-reserve";

/** Whether `e`, or an error it was caused by, is a file system's "no space" (or quota). */
function outOfSpace(e: unknown): boolean {
  for (let at = e, depth = 0; at !== undefined && at !== null && depth < 8; depth++) {
    if (isCode(at, "ENOSPC", "EDQUOT")) return true;
    at = (at as { cause?: unknown }).cause;
  }
  return false;
}

interface WalkItem {
  order: string;
  key: string;
  dir: boolean;
}

// Above this many keys still wanted, collecting a whole directory and sorting it is cheaper.
const maxSelection = 4096;

function upperBound(items: WalkItem[], order: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.order <= order) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `deleteMany`'s unlinks in flight at once (they queue in libuv's thread pool, see below). */
const DELETES_AT_ONCE = 32;

/**
 * `overwriteMany`'s fdatasyncs in flight at once: they occupy libuv's thread pool (4 threads by
 * default), whose queue is first come first served — all of a batch's syncs at once would make
 * every other file operation (a save, the catalog's appends) wait behind them.
 */
const SYNCS_AT_ONCE = 2;

/** Runs at most `limit` tasks at once, the others in call order. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#free++;
    }
  }
}

/** Files up to this size are overwritten by `overwriteMany` with inline writes. */
const INLINE_WRITE_MAX = 1 << 20;

/** A failed write as the coded error callers see. */
function writeError(key: string, e: unknown): TenantliteError {
  if (e instanceof TenantliteError) return e;
  if (isCode(e, "ENOTDIR", "EISDIR", "ENOTEMPTY", "EEXIST")) {
    return new TenantliteError(
      "STORAGE_KEY_CONFLICT",
      `cannot save "${key}": the fs backend cannot store a key that is also a prefix of other keys (or lies under one that holds bytes)`,
      { cause: e },
    );
  }
  if (isCode(e, "ENAMETOOLONG")) {
    return new TenantliteError(
      "STORAGE_INVALID_KEY",
      `a segment of key "${key}" is too long for this file system`,
      { cause: e },
    );
  }
  return writeFailed(e);
}

/**
 * `STORAGE_WRITE_FAILED` for a write the file system refused: what to check, and the system's
 * error code — never the key or the path (the cause keeps them, for logs).
 */
function writeFailed(e: unknown): TenantliteError {
  return new TenantliteError(
    "STORAGE_WRITE_FAILED",
    `could not write to the data directory${systemCode(e)}: check that it is writable and has free space, then retry`,
    { cause: e },
  );
}

/** ` (ENOSPC)`: a file-system error's code, for a message (never its path); else nothing. */
function systemCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? ` (${code})` : "";
}
