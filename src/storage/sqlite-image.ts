import { TenantliteError } from "../errors.js";

const MAGIC = "SQLite format 3\u0000";
const HEADER_BYTES = 100;

/** What {@link assertSqliteImage} read from a valid image's header. */
export interface SqliteImageInfo {
  /** Page size in bytes (512 … 65536). */
  pageSize: number;
  /** Number of pages in the image (its length / page size). */
  pageCount: number;
}

/**
 * Checks that `bytes` look like a whole SQLite database file before it is imported: the
 * 100-byte header's magic string, a page size that is a power of two from 512 to 65536 (stored
 * as 1 for 65536), file format versions 1 (rollback) or 2 (WAL), the fixed payload fractions,
 * a length that is a whole number of pages, and the header's page count when SQLite marks it
 * valid. Throws `INVALID_SQLITE_FILE` naming `dbName` otherwise. It does not read the b-trees:
 * SQLite itself reports deeper corruption when the image is opened.
 *
 * @example
 * assertSqliteImage(uploadedBytes, "acme"); // throws before a bad upload replaces a tenant
 */
export function assertSqliteImage(bytes: Uint8Array, dbName: string): SqliteImageInfo {
  const fail = (reason: string): never => {
    throw new TenantliteError(
      "INVALID_SQLITE_FILE",
      `the file for database "${dbName}" is not a SQLite database: ${reason}`,
    );
  };
  if (!(bytes instanceof Uint8Array)) fail("expected bytes (Uint8Array)");
  if (bytes.length === 0) fail("it is empty");
  if (bytes.length < HEADER_BYTES) {
    fail(`it is ${bytes.length} bytes long, shorter than the 100-byte SQLite header`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC.charCodeAt(i)) fail('it does not start with "SQLite format 3\\0"');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const rawPageSize = view.getUint16(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    fail(`its page size ${rawPageSize} is not a power of two from 512 to 65536`);
  }
  const writeVersion = view.getUint8(18);
  const readVersion = view.getUint8(19);
  if ((writeVersion !== 1 && writeVersion !== 2) || (readVersion !== 1 && readVersion !== 2)) {
    fail(`its file format versions (${writeVersion}, ${readVersion}) are not 1 or 2`);
  }
  const reserved = view.getUint8(20);
  if (pageSize - reserved < 480) fail(`it reserves ${reserved} bytes of each page, too many`);
  if (view.getUint8(21) !== 64 || view.getUint8(22) !== 32 || view.getUint8(23) !== 32) {
    fail("its payload fractions are not 64/32/32");
  }
  if (bytes.length % pageSize !== 0) {
    fail(`its length ${bytes.length} is not a multiple of its page size ${pageSize}`);
  }
  const pageCount = bytes.length / pageSize;
  const headerPages = view.getUint32(28);
  // SQLite trusts the header's page count only when the change counter matches the
  // version-valid-for number; older writers leave it stale.
  const headerValid = headerPages !== 0 && view.getUint32(24) === view.getUint32(92);
  if (headerValid && headerPages !== pageCount) {
    fail(`its header says ${headerPages} pages but it holds ${pageCount} (truncated or padded)`);
  }
  return { pageSize, pageCount };
}
