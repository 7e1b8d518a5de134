/**
 * `tenantlite dev --db-file <path>`: one database whose image is a standard SQLite file the user
 * named, as `turso dev --db-file` serves one. A storage that keeps everything in another storage
 * (the catalog, other databases) except one key, which lives in that file: loaded from it, saved
 * over it atomically (a temp file beside it, fsync, rename, fsync of its directory), so the file
 * stays a SQLite database that `sqlite3` opens between writes.
 *
 * @example
 * const storage = new DbFileStorage(new MemoryStorage());
 * await DbFileStorage.check("./local.db");
 * const platform = await createPlatform({ storage });
 * const info = await platform.createDatabase("default");
 * storage.bind(keys.tenant(info.id), "./local.db"); // before the database is first opened
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { TenantliteError } from "../errors.js";
import type { SaveOptions, Storage } from "../storage/storage.js";
import { isCode, syncDir } from "./atomic-file.js";

const SQLITE_HEADER = "SQLite format 3\0";

export class DbFileStorage implements Storage {
  readonly kind: string;
  #key: string | undefined;
  #path: string | undefined;
  /** The file was in WAL mode: saves keep it so (header bytes 18 and 19), as the user set it. */
  #wal = false;

  constructor(private readonly inner: Storage) {
    this.kind = `${inner.kind}+db-file`;
  }

  /**
   * Checks that `path` can back the database: a SQLite file, or nothing yet (created at the first
   * write), with no write-ahead log holding changes a reader of the file alone would miss. Throws
   * a coded error naming the flag, never the path.
   */
  static check(path: string): void {
    let info: ReturnType<typeof statSync> | undefined;
    try {
      info = statSync(path);
    } catch (e) {
      if (!isCode(e, "ENOENT")) throw unreadable(e);
    }
    if (info === undefined) {
      try {
        statSync(dirname(path));
      } catch (e) {
        throw new TenantliteError(
          "DB_FILE_INVALID",
          "--db-file names a file in a folder that does not exist: create the folder first",
          { cause: e },
        );
      }
      return;
    }
    if (!info.isFile()) {
      throw new TenantliteError(
        "DB_FILE_INVALID",
        "--db-file names a directory: give the path of a SQLite file (it is created when missing)",
      );
    }
    if (info.size > 0) {
      const head = readHead(path, SQLITE_HEADER.length);
      if (Buffer.from(head).toString("latin1") !== SQLITE_HEADER) {
        throw new TenantliteError(
          "DB_FILE_INVALID",
          "--db-file is not a SQLite database: give a SQLite file, or a path where none exists yet",
        );
      }
    }
    let wal = 0;
    try {
      wal = statSync(`${path}-wal`).size;
    } catch {
      // No log: the file alone is the database.
    }
    if (wal > 0) {
      throw new TenantliteError(
        "DB_FILE_IN_USE",
        "--db-file has a write-ahead log with changes (its -wal file): close the program using it, or run `PRAGMA wal_checkpoint(TRUNCATE)` on it, then start again",
      );
    }
  }

  /** From now on `key`'s bytes are the file at `path`. */
  bind(key: string, path: string): void {
    this.#key = key;
    this.#path = path;
    try {
      const head = readHead(path, 20);
      this.#wal = head.length === 20 && head[18] === 2 && head[19] === 2;
    } catch {
      this.#wal = false;
    }
  }

  async load(key: string): Promise<Uint8Array | undefined> {
    const path = this.#pathOf(key);
    if (path === undefined) return this.inner.load(key);
    try {
      const bytes = await readFile(path);
      return bytes.length === 0 ? undefined : new Uint8Array(bytes);
    } catch (e) {
      if (isCode(e, "ENOENT")) return undefined;
      throw unreadable(e);
    }
  }

  /** Writes a temp file beside the file, syncs it, renames it over, syncs the directory. */
  async save(key: string, bytes: Uint8Array, options?: SaveOptions): Promise<void> {
    const path = this.#pathOf(key);
    if (path === undefined) return this.inner.save(key, bytes, options);
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tenantlite-tmp`);
    let image = bytes;
    if (this.#wal && bytes.length >= 100) {
      image = bytes.slice();
      image[18] = 2;
      image[19] = 2;
    }
    try {
      const file = await open(temp, "w");
      try {
        await file.writeFile(image);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path);
      await syncDir(dirname(path));
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw new TenantliteError("STORAGE_WRITE_FAILED", "could not save the --db-file database", {
        cause: e,
      });
    }
  }

  /** Deleting the database leaves the user's file where it is: it was never tenantlite's. */
  delete(key: string): Promise<void> {
    if (this.#pathOf(key) === undefined) return this.inner.delete(key);
    this.#key = undefined;
    this.#path = undefined;
    return Promise.resolve();
  }

  async has(key: string): Promise<boolean> {
    const path = this.#pathOf(key);
    if (path === undefined) return this.inner.has(key);
    try {
      return (await stat(path)).size > 0;
    } catch {
      return false;
    }
  }

  async list(prefix: string, options?: { after?: string; limit?: number }): Promise<string[]> {
    const keys = await this.inner.list(prefix, options);
    const key = this.#key;
    if (
      key === undefined ||
      !key.startsWith(prefix) ||
      (options?.after !== undefined && key <= options.after) ||
      !(await this.has(key))
    ) {
      return keys;
    }
    const merged = [...keys.filter((k) => k !== key), key].sort();
    return options?.limit === undefined ? merged : merged.slice(0, options.limit);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  #pathOf(key: string): string | undefined {
    return key === this.#key ? this.#path : undefined;
  }
}

/** The first `n` bytes of the file at `path` (fewer when it is shorter). */
function readHead(path: string, n: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const head = new Uint8Array(n);
    return head.subarray(0, readSync(fd, head));
  } finally {
    closeSync(fd);
  }
}

function unreadable(cause: unknown): TenantliteError {
  return new TenantliteError(
    "DB_FILE_INVALID",
    "--db-file could not be read: check that the file exists and this user may read and write it",
    { cause },
  );
}
