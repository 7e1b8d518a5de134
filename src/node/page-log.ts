/**
 * The page log of the fs backend: how a commit of a SQLite image becomes one appended record of
 * the pages it changed, and how a file plus its log become the image again.
 *
 * A record holds after-images of whole pages, so replaying a log is idempotent: the last record
 * that touches a page decides its bytes, whatever the base file held. Records are chained by
 * checksum, as SQLite's WAL frames are: each record's CRC-32 covers its header and body and is
 * seeded with the previous record's (the first with the log's generation, a random number drawn
 * whenever the log starts empty). A torn append, or bytes left from an earlier generation after a
 * truncation that did not reach the disk, fail the chain, and the log ends at the last good record.
 *
 * Record layout (little-endian u32s): magic, generation, page size, pages in the image, pages in
 * this record, reserved (0), reserved (0), CRC; then the record's page numbers (0-based, one u32
 * each), then their bytes in that order.
 */
import { randomBytes } from "node:crypto";
import {
  constants as fsConstants,
  fdatasync as fsFdatasync,
  ftruncate as fsFtruncate,
  open as fsOpen,
  read as fsRead,
  writev as fsWritev,
} from "node:fs";
import { crc32 } from "node:zlib";
import { closeFd, DSYNC, fsCall, isCode, writeFully } from "./atomic-file.js";

const MAGIC = 0x31474c54; // "TLG1"
export const RECORD_HEADER = 32;
const SQLITE_HEADER = [
  0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66, 0x6f, 0x72, 0x6d, 0x61, 0x74, 0x20, 0x33, 0x00,
];

/** Where a log's next record goes and what it chains to. */
export interface LogTail {
  /** Bytes of valid records (the offset of the next one). */
  bytes: number;
  generation: number;
  /** The last record's CRC, or the generation before the first record. */
  crc: number;
}

/** A tail for an empty log: a fresh generation. */
export function emptyTail(): LogTail {
  const generation = randomBytes(4).readUInt32LE(0) || 1;
  return { bytes: 0, generation, crc: generation };
}

/**
 * The page size of `bytes` when they are a whole SQLite database image (the 16-byte header, a
 * valid page size, a whole number of pages), else 0: other bytes are never logged.
 */
export function imagePageSize(bytes: Uint8Array): number {
  if (bytes.length < 512) return 0;
  for (let i = 0; i < SQLITE_HEADER.length; i++) if (bytes[i] !== SQLITE_HEADER[i]) return 0;
  const raw = (bytes[16]! << 8) | bytes[17]!;
  const size = raw === 1 ? 65536 : raw;
  if (!isPageSize(size)) return 0;
  return bytes.length % size === 0 ? size : 0;
}

/** A SQLite page size: a power of two from 512 to 65536. */
function isPageSize(size: number): boolean {
  return size >= 512 && size <= 65536 && (size & (size - 1)) === 0;
}

/**
 * The pages of `after` that differ from `before`'s (both SQLite images of `pageSize`, see
 * {@link imagePageSize}), then every page past `before`'s end.
 */
export function changedPages(before: Uint8Array, after: Uint8Array, pageSize: number): number[] {
  const pages = after.length / pageSize;
  const changed: number[] = [];
  const a = Buffer.from(after.buffer, after.byteOffset, after.length);
  const b = Buffer.from(before.buffer, before.byteOffset, before.length);
  const common = Math.min(pages, before.length / pageSize);
  for (let p = 0; p < common; p++) {
    const start = p * pageSize;
    if (a.compare(b, start, start + pageSize, start, start + pageSize) !== 0) changed.push(p);
  }
  for (let p = common; p < pages; p++) changed.push(p);
  return changed;
}

/**
 * A record to append, as parts written one after another: its header with the page numbers, then
 * runs of consecutive pages, which are views of the image (nothing of it is copied).
 */
export interface RecordParts {
  readonly parts: readonly Uint8Array[];
  readonly length: number;
  readonly crc: number;
}

/**
 * The record of pages `changed` (ascending) of image `after`, whose page size is `pageSize`,
 * appended after `tail`.
 */
export function recordParts(
  after: Uint8Array,
  pageSize: number,
  changed: readonly number[],
  tail: LogTail,
): RecordParts {
  const header = new Uint8Array(RECORD_HEADER + changed.length * 4);
  const view = new DataView(header.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, tail.generation, true);
  view.setUint32(8, pageSize, true);
  view.setUint32(12, after.length / pageSize, true);
  view.setUint32(16, changed.length, true);
  const parts: Uint8Array[] = [header];
  let crc = crc32(header.subarray(0, 28), tail.crc);
  for (let i = 0; i < changed.length; i++) {
    view.setUint32(RECORD_HEADER + i * 4, changed[i]!, true);
  }
  crc = crc32(header.subarray(RECORD_HEADER), crc);
  for (let i = 0; i < changed.length; ) {
    let j = i + 1;
    while (j < changed.length && changed[j] === changed[j - 1]! + 1) j++;
    const run = after.subarray(changed[i]! * pageSize, (changed[j - 1]! + 1) * pageSize);
    crc = crc32(run, crc);
    parts.push(run);
    i = j;
  }
  view.setUint32(28, crc, true);
  return { parts, length: header.length + changed.length * pageSize, crc };
}

/** The tail after appending `record` (made by {@link recordParts} for `tail`). */
export function advance(tail: LogTail, record: RecordParts): LogTail {
  return { bytes: tail.bytes + record.length, generation: tail.generation, crc: record.crc };
}

/** A record's header, as read from a log (its checksum not yet checked). */
interface RecordHeader {
  readonly generation: number;
  readonly pageSize: number;
  /** Pages in the image after this record. */
  readonly pages: number;
  /** Pages in this record. */
  readonly count: number;
  readonly crc: number;
  /** The whole record's length in bytes. */
  readonly length: number;
}

/**
 * The header of the record at `at` of `log`, when there is one there whose bytes all lie within
 * the log; its checksum is the caller's to check.
 */
function headerAt(view: DataView, at: number): RecordHeader | undefined {
  if (at + RECORD_HEADER > view.byteLength || view.getUint32(at, true) !== MAGIC) return undefined;
  const pageSize = view.getUint32(at + 8, true);
  const pages = view.getUint32(at + 12, true);
  const count = view.getUint32(at + 16, true);
  if (!isPageSize(pageSize) || count > pages) return undefined;
  const length = RECORD_HEADER + count * (4 + pageSize);
  if (at + length > view.byteLength) return undefined;
  const generation = view.getUint32(at + 4, true);
  return { generation, pageSize, pages, count, crc: view.getUint32(at + 28, true), length };
}

/**
 * Replays `log` over `base` (the file's bytes, or an empty array; changed in place): the image,
 * and the log's valid end. Records past the first bad one (torn, or of another generation) are
 * ignored. `damaged` says the bad record is not the log's torn end: a whole record of the same
 * generation follows it and chains onto its stored checksum, so it was appended after the bad
 * one had been written in full (appends are durable before the next begins): bytes of the log
 * changed after they were written, and what follows them is acknowledged data.
 */
export function replay(
  base: Uint8Array,
  log: Uint8Array,
): { image: Uint8Array; tail: LogTail; records: number; damaged: boolean } {
  let image = base;
  let tail = emptyTail();
  let records = 0;
  let damaged = false;
  const view = new DataView(log.buffer, log.byteOffset, log.length);
  const fits = (h: RecordHeader, at: number, seed: number): boolean =>
    checksum(log.subarray(at, at + h.length), seed) === h.crc;
  for (let at = 0; ; ) {
    const h = headerAt(view, at);
    if (h === undefined) break;
    const { generation, pageSize, pages, count, crc, length } = h;
    if (records > 0 && generation !== tail.generation) break;
    const record = log.subarray(at, at + length);
    if (!fits(h, at, records === 0 ? generation : tail.crc)) {
      const next = headerAt(view, at + length);
      damaged =
        next !== undefined && next.generation === generation && fits(next, at + length, crc);
      break;
    }
    const numbers: number[] = [];
    for (let i = 0; i < count; i++) numbers.push(view.getUint32(at + RECORD_HEADER + i * 4, true));
    if (numbers.some((p) => p >= pages)) break;
    // Pages are written over the image in place (it is the caller's, see above); a record that
    // changes the image's size gets a new buffer. One that changes the page size holds every
    // page, so nothing of the old image stays.
    if (image.length !== pages * pageSize) {
      const next = new Uint8Array(pages * pageSize);
      next.set(image.subarray(0, Math.min(image.length, next.length)));
      image = next;
    }
    const bodyStart = RECORD_HEADER + count * 4;
    for (let i = 0; i < count; i++) {
      const from = bodyStart + i * pageSize;
      image.set(record.subarray(from, from + pageSize), numbers[i]! * pageSize);
    }
    records++;
    at += length;
    tail = { bytes: at, generation, crc };
  }
  return { image, tail, records, damaged };
}

/** CRC-32 of a record with its own CRC field (bytes 28–31) left out, seeded with `seed`. */
function checksum(record: Uint8Array, seed: number): number {
  return crc32(record.subarray(RECORD_HEADER), crc32(record.subarray(0, 28), seed));
}

// ---- Files ----------------------------------------------------------------------------------

/** The log file of the key file at `path`: its name has "~", which no key may contain. */
export const logPathOf = (path: string): string => `${path}~log`;

/**
 * Opens the log at `logPath` for appends that are durable when they return (O_DSYNC, or an
 * fsync after each where there is none); `created` when the file did not exist, so that its
 * directory entry still needs a sync.
 */
export async function openLog(logPath: string): Promise<{ fd: number; created: boolean }> {
  try {
    return {
      fd: await fsCall<number>((cb) => fsOpen(logPath, fsConstants.O_WRONLY | DSYNC, cb)),
      created: false,
    };
  } catch (e) {
    if (!isCode(e, "ENOENT")) throw e;
  }
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | DSYNC;
  return { fd: await fsCall<number>((cb) => fsOpen(logPath, flags, 0o644, cb)), created: true };
}

/**
 * Writes `record` at offset `at` of an open log, durably. On failure the log is cut back to `at`
 * where possible, so that no part of the record stays.
 */
export async function writeRecord(fd: number, record: RecordParts, at: number): Promise<void> {
  try {
    // One write of all the parts: on a descriptor opened O_DSYNC each write is a sync of its own.
    let parts = [...record.parts];
    for (let offset = at; parts.length > 0; ) {
      const done = await fsCall<number>((cb) => fsWritev(fd, parts, offset, cb));
      if (done === 0) throw new Error("the log took no bytes");
      offset += done;
      parts = remainingParts(parts, done);
    }
    if (DSYNC === 0) await fsCall((cb) => fsFdatasync(fd, cb));
  } catch (e) {
    await fsCall((cb) => fsFtruncate(fd, at, cb)).catch(() => undefined);
    throw e;
  }
}

/** What is left of `parts` once their first `done` bytes were written. */
function remainingParts(parts: Uint8Array[], done: number): Uint8Array[] {
  let i = 0;
  let left = done;
  while (i < parts.length && parts[i]!.length <= left) left -= parts[i++]!.length;
  const rest = parts.slice(i);
  if (left > 0 && rest.length > 0) rest[0] = rest[0]!.subarray(left);
  return rest;
}

/**
 * Writes `image` over the file at `path` in place and syncs it, then empties the log. Safe at any
 * point of a crash while the log still holds every page changed since the file last held a whole
 * image: replaying it gives `image` again, whatever part of the file was written.
 */
export async function checkpoint(path: string, image: Uint8Array): Promise<void> {
  const fd = await fsCall<number>((cb) => fsOpen(path, fsConstants.O_WRONLY, cb));
  try {
    await writeFully(fd, image, 0);
    await fsCall((cb) => fsFtruncate(fd, image.length, cb));
    await fsCall((cb) => fsFdatasync(fd, cb));
  } finally {
    await closeFd(fd);
  }
  await truncateLog(logPathOf(path), 0);
}

/**
 * Writes pages `numbers` (0-based) of an image of `pages` pages of `pageSize` over the file at
 * `path` in place, `page(p)` giving each one's bytes, cuts the file to the image's size, syncs
 * it, then empties the log. Safe at any point of a crash for the same reason as
 * {@link checkpoint}, when `numbers` hold every page the log holds (and every page past the
 * file's end).
 */
export async function checkpointPages(
  path: string,
  pageSize: number,
  pages: number,
  numbers: Iterable<number>,
  page: (p: number) => Uint8Array,
): Promise<void> {
  const fd = await fsCall<number>((cb) => fsOpen(path, fsConstants.O_WRONLY, cb));
  try {
    for (const p of [...numbers].sort((a, b) => a - b)) {
      if (p < pages) await writeFully(fd, page(p), p * pageSize);
    }
    await fsCall((cb) => fsFtruncate(fd, pages * pageSize, cb));
    await fsCall((cb) => fsFdatasync(fd, cb));
  } finally {
    await closeFd(fd);
  }
  await truncateLog(logPathOf(path), 0);
}

/** Bytes of a file read at a time when comparing an image against it. */
const READ_CHUNK = 1 << 20;

/**
 * The pages of `after` (an image of `pageSize`) that differ from a stored image of `pages` pages,
 * then every page past its end. The stored image is the file at `path` with `logged` over it
 * (what its page log holds, page by page): logged pages are compared in memory, the others
 * against the file, read a chunk at a time, so no copy of the stored image is ever whole in
 * memory. Throws when the file lacks a page it must hold.
 */
export async function changedAgainstFile(
  path: string,
  pageSize: number,
  pages: number,
  logged: ReadonlyMap<number, Uint8Array>,
  after: Uint8Array,
): Promise<number[]> {
  const a = Buffer.from(after.buffer, after.byteOffset, after.length);
  const common = Math.min(pages, after.length / pageSize);
  const perChunk = Math.max(1, Math.floor(READ_CHUNK / pageSize));
  // Each chunk: its pages [first, end), and the file's part of it, [lo, hi): from its first page
  // not logged to its last (empty when the log holds them all).
  const chunks: { first: number; end: number; lo: number; hi: number }[] = [];
  for (let first = 0; first < common; first += perChunk) {
    const end = Math.min(common, first + perChunk);
    let lo = first;
    while (lo < end && logged.has(lo)) lo++;
    let hi = end;
    while (hi > lo && logged.has(hi - 1)) hi--;
    chunks.push({ first, end, lo, hi });
  }
  const changed: number[] = [];
  let fd: number | undefined;
  let pending: Promise<void> | undefined;
  try {
    if (chunks.some((c) => c.lo < c.hi)) {
      fd = await fsCall<number>((cb) => fsOpen(path, fsConstants.O_RDONLY, cb));
    }
    // Two buffers: the next chunk is read while this one is compared.
    const buffers = [
      Buffer.allocUnsafe(perChunk * pageSize),
      Buffer.allocUnsafe(perChunk * pageSize),
    ];
    const read = (k: number): Promise<void> | undefined => {
      const c = chunks[k];
      if (c === undefined || c.lo >= c.hi) return undefined;
      const want = (c.hi - c.lo) * pageSize;
      return readFully(fd!, buffers[k % 2]!, want, c.lo * pageSize).then((got) => {
        if (got < want) throw new Error("the file is shorter than the image its log says it holds");
      });
    };
    pending = read(0);
    for (let k = 0; k < chunks.length; k++) {
      await pending;
      pending = read(k + 1);
      // A failed read-ahead is reported when its turn comes (or after the loop), not unhandled.
      pending?.catch(() => undefined);
      const { first, end, lo } = chunks[k]!;
      const chunk = buffers[k % 2]!;
      for (let p = first; p < end; p++) {
        const start = p * pageSize;
        const old = logged.get(p);
        const same =
          old !== undefined
            ? a.compare(old, 0, pageSize, start, start + pageSize) === 0
            : a.compare(
                chunk,
                (p - lo) * pageSize,
                (p - lo + 1) * pageSize,
                start,
                start + pageSize,
              ) === 0;
        if (!same) changed.push(p);
      }
    }
  } finally {
    // Never closed under a read still running (its number could be another file's by then).
    await pending?.catch(() => undefined);
    if (fd !== undefined) await closeFd(fd);
  }
  for (let p = common; p < after.length / pageSize; p++) changed.push(p);
  return changed;
}

/** Reads up to `length` bytes at `position` into `into`; fewer only at the file's end. */
async function readFully(
  fd: number,
  into: Uint8Array,
  length: number,
  position: number,
): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await fsCall<number>((cb) =>
      fsRead(fd, into, done, length - done, position + done, cb),
    );
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Cuts the log at `logPath` to `length` bytes, durably; nothing when there is no log. */
export async function truncateLog(logPath: string, length: number): Promise<void> {
  let fd: number;
  try {
    fd = await fsCall<number>((cb) => fsOpen(logPath, fsConstants.O_WRONLY, cb));
  } catch (e) {
    if (isCode(e, "ENOENT")) return;
    throw e;
  }
  try {
    await fsCall((cb) => fsFtruncate(fd, length, cb));
    await fsCall((cb) => fsFdatasync(fd, cb));
  } finally {
    await closeFd(fd);
  }
}
