/** Small timing helpers shared by the benchmarks. */

/** Runs `f` `n` times (after a warm-up of n/10) and returns microseconds per call. */
export function timeSync(n: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.max(1, n / 10); i++) f(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f(i);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

/** Async variant of {@link timeSync}. */
export async function timeAsync(n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.max(1, n / 10); i++) await f(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await f(i);
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

/** Prints a table of rows (first row = header). */
export function printTable(rows: (string | number)[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const r of rows)
    console.log(`  ${r.map((v, c) => String(v).padEnd(widths[c]!)).join("  ")}`);
}

/** `a / b` formatted as a ratio. */
export function ratio(a: number, b: number | undefined): string {
  return b === undefined || b === 0 ? "n/a" : `${(a / b).toFixed(2)}×`;
}
