/**
 * The sweep of a data directory: temp files a crashed save left behind (see `atomic-file.ts`) are
 * deleted when `FsStorage` opens the directory, before anything else writes there.
 */
import { opendir, unlink } from "node:fs/promises";
import { join } from "node:path";
import { isCode, isTempFileName, syncDir } from "./atomic-file.js";

/** Deletes temp files left by crashed saves anywhere under `root`, one directory at a time. */
export async function sweepTempFiles(root: string): Promise<void> {
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    let removed = false;
    try {
      for await (const entry of await opendir(dir)) {
        if (entry.isDirectory()) pending.push(join(dir, entry.name));
        else if (entry.isFile() && isTempFileName(entry.name)) {
          await unlink(join(dir, entry.name)).catch(() => undefined);
          removed = true;
        }
      }
    } catch (e) {
      if (!isCode(e, "ENOENT", "ENOTDIR")) throw e;
    }
    if (removed) await syncDir(dir);
  }
}
