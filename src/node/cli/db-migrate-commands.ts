/**
 * The `db migrate` and `db migrations …` commands: change a schema database and all its children
 * as one job, and list and show migration jobs.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { TenantliteError } from "../../errors.js";
import { bool, usageError } from "./args.js";
import { type Command, JSON_FLAG, positional } from "./command.js";
import { withMigrationReport } from "./migration-report.js";
import { jsonText, table } from "./output.js";

export const migrate: Command = {
  name: "db migrate",
  usage: "<parent> <file.sql|SQL>",
  summary: "change a schema database and all its children, as one job",
  details:
    "All statements run as one migration job: every child and the parent change, or none does.\nShows a progress bar on a terminal (children done/total, failures), plain lines otherwise.",
  flags: {},
  positionals: [2, 2],
  examples: [
    'tenantlite db migrate app-schema "ALTER TABLE users ADD COLUMN plan TEXT"',
    "tenantlite db migrate app-schema migrations/002.sql",
  ],
  usesBackend: true,
  async run(ctx) {
    const parent = positional(ctx, 0);
    const source = positional(ctx, 1);
    const sql = existsSync(source) ? await readFile(source, "utf8") : source;
    const { splitStatements } = await import("../../../parser/index.js");
    const statements = splitStatements(sql).map((s) => s.sql);
    if (statements.length === 0) throw usageError("no SQL statements to migrate with");
    const backend = await ctx.backend();
    const db = await backend.getDatabase(parent);
    if (db.type !== "schema") {
      throw new TenantliteError("SCHEMA_INVALID", `database ${parent} is not a schema database`);
    }
    const session = await backend.openSession(parent, {});
    try {
      const { failed, jobs } = await withMigrationReport(
        backend,
        parent,
        { progress: ctx.io.stderr, summary: (l) => ctx.out(`${l}\n`) },
        () => session.batch(statements),
      );
      if (jobs.length === 0) ctx.out(`No migration was needed on ${parent}.\n`);
      return failed ? 1 : 0;
    } finally {
      await session.close();
    }
  },
};

export const migrationsList: Command = {
  name: "db migrations list",
  usage: "<parent>",
  summary: "list a schema database's migration jobs",
  flags: { json: JSON_FLAG },
  positionals: [1, 1],
  examples: ["tenantlite db migrations list app-schema"],
  usesBackend: true,
  async run(ctx) {
    const jobs = await (await ctx.backend()).listMigrations(positional(ctx, 0));
    if (bool(ctx.args, "json")) ctx.out(jsonText(jobs));
    else if (jobs.length === 0) ctx.out("No migrations.\n");
    else
      ctx.out(
        table(
          ["JOB", "STATUS"],
          jobs.map((j) => [String(j.job_id), j.status]),
        ),
      );
    return 0;
  },
};

export const migrationsShow: Command = {
  name: "db migrations show",
  usage: "<parent> <job>",
  summary: "show a migration job with the status of every child",
  flags: { json: JSON_FLAG },
  positionals: [2, 2],
  examples: ["tenantlite db migrations show app-schema 3"],
  usesBackend: true,
  async run(ctx) {
    const id = positional(ctx, 1);
    if (!/^\d{1,15}$/.test(id) || Number(id) < 1) {
      throw usageError(
        `the job id must be a positive number, not ${JSON.stringify(id.slice(0, 40))}`,
      );
    }
    const job = await (await ctx.backend()).getMigration(positional(ctx, 0), Number(id));
    if (bool(ctx.args, "json")) {
      ctx.out(jsonText(job));
      return 0;
    }
    ctx.out(`Job ${job.job_id}: ${job.status}${job.error ? ` (${job.error})` : ""}\n`);
    if (job.progress.length > 0) {
      ctx.out(
        table(
          ["CHILD", "STATUS", "ERROR"],
          job.progress.map((p) => [p.namespace, p.status, p.error ?? "-"]),
        ),
      );
    }
    return 0;
  },
};
