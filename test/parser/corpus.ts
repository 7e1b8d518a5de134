// The agreement corpus: hand-written files plus generated statements.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generated } from "./corpus/generate.js";

const dir = join(import.meta.dirname, "corpus");

/** Statements of the `.sql` files: one per line, `--` lines are comments. */
export function handwritten(): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith(".sql")) continue;
    for (const line of readFileSync(join(dir, name), "utf8").split("\n")) {
      const s = line.trim();
      if (s === "" || s.startsWith("--")) continue;
      out.push(s);
    }
  }
  return out;
}

/** The whole corpus, distinct statements only, in a stable order. */
export function corpus(): string[] {
  return [...new Set([...handwritten(), ...generated(handwritten())])];
}
