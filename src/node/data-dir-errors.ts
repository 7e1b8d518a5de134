/**
 * The coded errors of a data directory that cannot be opened or written, shared by `FsStorage`
 * (and so `startServer` and applications) and the CLI. Messages name the directory as the caller
 * describes it ("the data directory", "the --data-dir you gave"), never by its path.
 */
import { TenantliteError } from "../errors.js";

/** How messages name a data directory when the caller gives no description. */
export const THE_DATA_DIR = "the data directory";

/**
 * The coded error for a file-system failure on the data directory itself (`what` names it), or
 * undefined when `e` is not one (a coded error already, or a failure of another kind).
 */
export function dataDirError(what: string, e: unknown): TenantliteError | undefined {
  if (e instanceof TenantliteError) return undefined;
  const code = (e as { code?: string } | null)?.code;
  const full =
    code === "ENOSPC"
      ? "its file system is full"
      : code === "EDQUOT"
        ? "your disk quota is used up"
        : code === "EFBIG"
          ? "no file may grow here: this process's file size limit (ulimit -f) is reached"
          : undefined;
  if (full !== undefined) {
    return new TenantliteError(
      "STORAGE_WRITE_FAILED",
      `${what} cannot be written (${full}): free some space, or give another data directory`,
      { cause: e },
    );
  }
  const why =
    code === "ENOTDIR" || code === "EEXIST"
      ? "has a file where a directory should be on its path"
      : code === "EACCES" || code === "EPERM"
        ? "cannot be created or written by this user (permission denied)"
        : code === "EROFS"
          ? "is on a read-only file system"
          : code === "ENOENT"
            ? "cannot be created there (its file system refuses new directories)"
            : code === "ENAMETOOLONG"
              ? "has a path too long for its file system"
              : code === "ELOOP"
                ? "has a symbolic link loop on its path"
                : code === "ERR_INVALID_ARG_VALUE" || code === "ERR_INVALID_ARG_TYPE"
                  ? "is not a valid path (it contains a NUL character): give a directory's path"
                  : undefined;
  if (why === undefined) return undefined;
  return new TenantliteError("DATA_DIR_INVALID", `${what} ${why}`, { cause: e });
}
