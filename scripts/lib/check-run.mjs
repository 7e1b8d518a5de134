// What the by-hand checks in scripts/ (drizzle-kit, the ORMs) share: a work directory, their
// checks counted and failures kept, and their end: a summary, then exit status 0 when every
// check passed, 1 when one failed, 2 when the harness itself could not run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class CheckRun {
  checks = 0;
  failures = [];

  /** `name` prefixes the harness's own error; `keep` leaves the work directory in place. */
  constructor(name, prefix, keep) {
    this.name = name;
    this.keep = keep;
    this.work = mkdtempSync(join(tmpdir(), prefix));
  }

  /** One check: `fn` answers `undefined` when it holds, else the problem (a throw is one too). */
  check(name, fn) {
    this.checks++;
    let problem;
    try {
      problem = fn();
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    if (problem === undefined) console.log(`  ok   ${name}`);
    else {
      console.log(`  FAIL ${name}: ${problem}`);
      this.failures.push(`${name}: ${problem}`);
    }
  }

  /** {@link check} of an async `fn`. */
  async checkAsync(name, fn) {
    let problem;
    try {
      problem = await fn();
    } catch (e) {
      problem = e instanceof Error ? e.message : String(e);
    }
    this.check(name, () => problem);
  }

  /**
   * Runs `body`, prints the summary and exits with its status; `stop` (the run's servers) runs
   * however it ended, and the work directory goes unless kept.
   */
  async finish(body, stop) {
    let exitCode = 2;
    try {
      await body();
      console.log(`\n${this.checks} checks, ${this.failures.length} failed`);
      for (const f of this.failures) console.log(`  FAILED: ${f}`);
      exitCode = this.failures.length === 0 ? 0 : 1;
    } catch (e) {
      console.error(`\n${this.name}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await stop().catch(() => undefined);
      if (this.keep) console.log(`kept ${this.work}`);
      else rmSync(this.work, { recursive: true, force: true });
    }
    process.exit(exitCode);
  }
}
