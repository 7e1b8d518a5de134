import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Makes a temporary directory: the one way tests, and the test helpers that benches share
 * (Chromium profiles, console builds), make one. Tests take theirs through `useTempDirs`
 * (test/helpers.ts), which removes them; a helper's directory goes with what owns it (the
 * browser's profile when the browser closes). No vitest here: benches import it too.
 */
export function newTempDir(prefix: string, parent: string = tmpdir()): string {
  return mkdtempSync(join(parent, prefix));
}
