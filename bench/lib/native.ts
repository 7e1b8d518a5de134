/**
 * The native anchor (better-sqlite3 12), installed under bench/ only (`npm run bench:setup`), never
 * by the main install. Returns undefined when it is not installed, so a benchmark can say so.
 */
import { createRequire } from "node:module";
import { resolve } from "node:path";

export interface NativeStatement {
  run(...args: unknown[]): unknown;
  get(...args: unknown[]): unknown;
}
export interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  pragma(sql: string): unknown;
  close(): void;
}
export type NativeDatabaseCtor = new (file: string) => NativeDatabase;

/** better-sqlite3's constructor, or undefined with a hint printed. */
export function loadBetterSqlite3(): NativeDatabaseCtor | undefined {
  try {
    const require = createRequire(resolve("bench/package.json"));
    return require("better-sqlite3") as NativeDatabaseCtor;
  } catch {
    console.log(
      "  (better-sqlite3 not installed: run `npm run bench:setup` for the native anchor)",
    );
    return undefined;
  }
}
