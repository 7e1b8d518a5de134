/**
 * `db shell`: SQL against one database. Given SQL (argument or piped stdin) it runs it and exits;
 * on a terminal it is a REPL with multi-line statements (ending with `;`), history and dot
 * commands. One session serves the whole run, so `ATTACH` lasts across statements.
 */
import { appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { isComplete as parserIsComplete, splitStatements } from "../../../parser/index.js";
import { TenantliteError } from "../../errors.js";
import { type DumpValue, dumpText } from "../../platform/dump.js";
import type { Backend, DbView, SqlSession } from "./backend.js";
import { type CliIo, errorLine } from "./io.js";
import { withMigrationReport } from "./migration-report.js";
import { type Mode, quoteIdent, quoteString, renderRows, table } from "./output.js";

/** Options of {@link runShell}. */
export interface ShellOptions {
  /** SQL (or a dot command) to run instead of reading stdin. */
  readonly sql?: string;
  /** Run as a REPL (stdin is a terminal). */
  readonly interactive: boolean;
  /** Where REPL history is kept. */
  readonly historyFile?: string;
}

const HELP = `.dump [table]           SQL text that recreates the database (or one table)
.headers on|off         show column names (default on)
.help                   this list
.indexes [table]        list indexes
.mode table|csv|json|line  how results are printed (default table)
.quit, .exit            leave the shell
.read <file>            run the SQL in a file
.schema [table]         show CREATE statements
.tables                 list tables and views
.timer on|off           print how long each statement took
`;

/** What a shell runs on: a database's session, and how to present it. */
export interface ShellTarget {
  /** The database's name (or the URL's host when a URL names none). */
  readonly name: string;
  /** Where it is, for the REPL's banner: "local data directory" or a URL. */
  readonly where: string;
  /** For a schema database: writes to it are migrations, whose progress this reports. */
  readonly migrations?: Backend;
  /** Opens the session (once; closed when the shell ends). */
  openSession(interactive: boolean): Promise<SqlSession>;
}

/** A backend's database as a shell target. */
export async function backendTarget(
  backend: Backend,
  dbName: string,
  options: { attach?: readonly string[]; encryptionKey?: string },
): Promise<ShellTarget> {
  const db: DbView = await backend.getDatabase(dbName);
  return {
    name: db.name,
    where: backend.mode === "local" ? "local data directory" : backend.databaseUrl(db.name),
    ...(db.type === "schema" ? { migrations: backend } : {}),
    openSession: (interactive) =>
      backend.openSession(dbName, {
        ...(options.attach === undefined ? {} : { attach: options.attach }),
        ...(options.encryptionKey === undefined ? {} : { encryptionKey: options.encryptionKey }),
        interactive,
      }),
  };
}

/** Runs the shell; resolves with the exit status. */
export async function runShell(
  target: ShellTarget,
  options: ShellOptions,
  io: CliIo,
): Promise<number> {
  const session = await target.openSession(options.interactive && options.sql === undefined);
  const shell = new Shell(target, session, io, !options.interactive || options.sql !== undefined);
  try {
    if (options.sql !== undefined) return (await shell.feed(options.sql, true)) ? 0 : 1;
    if (!options.interactive) {
      const text = await readAll(io.stdin);
      return (await shell.feed(text, true)) ? 0 : 1;
    }
    await shell.repl(options.historyFile ?? join(homedir(), ".tenantlite", "shell_history"));
    return 0;
  } finally {
    await session.close();
  }
}

class Shell {
  private mode: Mode = "table";
  private headers = true;
  private timer = false;
  private buffer = "";
  quit = false;

  constructor(
    private readonly target: ShellTarget,
    private readonly session: SqlSession,
    private readonly io: CliIo,
    /** Scripts stop at the first error; the REPL goes on. */
    private readonly bail: boolean,
  ) {}

  /** Runs a script (lines of SQL and dot commands); false when something failed. */
  async feed(text: string, final: boolean): Promise<boolean> {
    for (const line of text.split(/\r?\n/)) {
      if (this.quit) return true;
      if (!(await this.line(line)) && this.bail) return false;
    }
    if (final && this.buffer.trim() !== "") {
      const rest = this.buffer;
      this.buffer = "";
      return this.run(rest);
    }
    return true;
  }

  /** One input line; false when it failed. */
  async line(line: string): Promise<boolean> {
    if (this.buffer === "" && line.trim().startsWith(".")) return this.dot(line.trim());
    this.buffer += this.buffer === "" ? line : `\n${line}`;
    if (!isComplete(this.buffer)) return true;
    const sql = this.buffer;
    this.buffer = "";
    return this.run(sql);
  }

  get continuing(): boolean {
    return this.buffer.trim() !== "";
  }

  /** Drops a half-typed statement (Ctrl-C in the REPL). */
  reset(): void {
    this.buffer = "";
  }

  async repl(historyFile: string): Promise<void> {
    const history = await loadHistory(historyFile);
    this.io.stdout.write(
      `Connected to ${this.target.name} (${this.target.where})\n\nWelcome to the tenantlite shell!\nType ".quit" to exit and ".help" to list the dot commands.\nStatements end with ";".\n\n`,
    );
    const rl = createInterface({
      input: this.io.stdin,
      output: this.io.stdout,
      terminal: true,
      history,
      historySize: 1000,
      removeHistoryDuplicates: true,
    });
    const prompt = () => {
      rl.setPrompt(this.continuing ? "...  " : "→  ");
      rl.prompt();
    };
    rl.on("SIGINT", () => {
      if (this.continuing || rl.line !== "") {
        this.reset();
        this.io.stdout.write("^C\n");
        (rl as unknown as { line: string }).line = "";
        prompt();
      } else rl.close();
    });
    prompt();
    for await (const line of rl) {
      if (line.trim() !== "") await appendFile(historyFile, `${line}\n`).catch(() => undefined);
      await this.line(line);
      if (this.quit) break;
      prompt();
    }
    rl.close();
  }

  /** Runs statements, printing results; false on the first failure. */
  private async run(sql: string): Promise<boolean> {
    let statements: string[];
    try {
      statements = splitStatements(sql).map((s) => s.sql);
    } catch {
      statements = [sql];
    }
    for (const stmt of statements) {
      const started = performance.now();
      try {
        if (this.target.migrations !== undefined) {
          const { result, failed } = await withMigrationReport(
            this.target.migrations,
            this.target.name,
            { progress: this.io.stderr, summary: (l) => this.io.stderr.write(`${l}\n`) },
            () => this.session.execute(stmt),
          );
          this.print(result);
          if (failed && this.bail) return false;
        } else this.print(await this.session.execute(stmt));
      } catch (e) {
        this.error(e);
        if (this.bail) return false;
        continue;
      }
      if (this.timer) {
        this.io.stdout.write(
          `Run Time: real ${((performance.now() - started) / 1000).toFixed(3)}\n`,
        );
      }
    }
    return true;
  }

  /**
   * One query over `main` and every attached database (as sqlite3's shell does: names of other
   * databases come as `alias.name`): `part(schema, prefix, name)` gives each database's SELECT,
   * where `schema` is its quoted name and `prefix` the SQL that prepends "alias." to a name.
   */
  private async acrossSchemas(
    part: (schema: string, prefix: string, name: string) => string,
    orderBy = "ORDER BY 1",
  ): Promise<string> {
    const list = await this.session.execute("PRAGMA database_list");
    const names = list.rows.map((r) => String(r[1]));
    const union = names
      .map((n) =>
        part(quoteIdent(n), n === "main" ? "" : `${quoteString(`${shownIdent(n)}.`)} || `, n),
      )
      .join(" UNION ALL ");
    return `SELECT * FROM (${union}) ${orderBy}`;
  }

  /** Runs a query of one name column and prints the names as a one-column table. */
  private async printNames(sql: string): Promise<void> {
    const r = await this.session.execute(sql);
    this.io.stdout.write(
      table(
        undefined,
        r.rows.map((row) => [String(row[0])]),
      ),
    );
  }

  private print(r: Parameters<typeof renderRows>[0]): void {
    this.io.stdout.write(renderRows(r, this.mode, this.headers));
  }

  private error(e: unknown): void {
    this.io.stderr.write(`${errorLine(e)}\n`);
  }

  private async dot(line: string): Promise<boolean> {
    const [cmd = "", ...args] = line.split(/\s+/);
    try {
      switch (cmd) {
        case ".quit":
        case ".exit":
          this.quit = true;
          return true;
        case ".help":
          this.io.stdout.write(HELP);
          return true;
        case ".mode": {
          const m = args[0];
          if (m !== "table" && m !== "csv" && m !== "json" && m !== "line") {
            throw new TenantliteError("ARGS_INVALID", ".mode takes table, csv, json or line");
          }
          this.mode = m;
          return true;
        }
        case ".headers":
          this.headers = onOff(".headers", args[0]);
          return true;
        case ".timer":
          this.timer = onOff(".timer", args[0]);
          return true;
        case ".tables":
          await this.printNames(
            await this.acrossSchemas(
              (schema, prefix) =>
                `SELECT ${prefix}name FROM ${schema}.sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%'`,
            ),
          );
          return true;
        case ".indexes": {
          const t = tableArg(args[0]);
          await this.printNames(
            await this.acrossSchemas(
              (schema, prefix, name) =>
                `SELECT ${prefix}name FROM ${schema}.sqlite_schema WHERE type = 'index'${t.where(name)}`,
            ),
          );
          return true;
        }
        case ".schema": {
          const t = tableArg(args[0]);
          const sql = await this.acrossSchemas(
            (schema, _prefix, name) =>
              `SELECT ${quoteString(name)} AS db, sql, tbl_name, type, name FROM ${schema}.sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'${t.where(name)}`,
            "ORDER BY db = 'main' DESC, db, tbl_name, type DESC, name",
          );
          const r = await this.session.execute(sql);
          for (const [db, text] of r.rows) {
            this.io.stdout.write(`${withSchema(String(text), String(db))};\n`);
          }
          return true;
        }
        case ".dump":
          this.io.stdout.write(await this.dump(args[0]));
          return true;
        case ".read": {
          const file = args.join(" ");
          if (file === "") throw new TenantliteError("ARGS_INVALID", ".read needs a file name");
          let text: string;
          try {
            text = await readFile(file, "utf8");
          } catch {
            throw new TenantliteError("FILE_NOT_FOUND", `cannot read ${JSON.stringify(file)}`);
          }
          const saved = this.buffer;
          this.buffer = "";
          const ok = await this.feed(text, true);
          this.buffer = saved;
          return ok;
        }
        default:
          throw new TenantliteError(
            "UNKNOWN_COMMAND",
            `unknown command ${JSON.stringify(cmd.slice(0, 40))}; see .help`,
          );
      }
    } catch (e) {
      this.error(e);
      return false;
    }
  }

  /** SQL that recreates the database (see `platform/dump.ts`), or one table and its indexes. */
  private async dump(only: string | undefined): Promise<string> {
    return dumpText(
      async (sql) => (await this.session.execute(sql)).rows as DumpValue[][],
      only === undefined ? {} : { table: only },
    );
  }
}

/**
 * A `[table]` argument of `.schema`/`.indexes`: `t` matches that table in every database,
 * `alias.t` only in that one.
 */
function tableArg(arg: string | undefined): { where(schema: string): string } {
  if (arg === undefined) return { where: () => "" };
  const dot = arg.indexOf(".");
  const only = dot === -1 ? undefined : arg.slice(0, dot);
  const name = dot === -1 ? arg : arg.slice(dot + 1);
  return {
    where: (schema) =>
      only !== undefined && only !== schema ? " AND 0" : ` AND tbl_name = ${quoteString(name)}`,
  };
}

/** `CREATE TABLE t …` of database `db` as `CREATE TABLE db.t …` (sqlite3's shell does the same). */
export function withSchema(sql: string, db: string): string {
  if (db === "main") return sql;
  const m =
    /^CREATE\s+(?:TEMP\s+|TEMPORARY\s+)?(?:UNIQUE\s+)?(?:VIRTUAL\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\s+(?:IF\s+NOT\s+EXISTS\s+)?/i.exec(
      sql,
    );
  return m === null ? sql : `${m[0]}${shownIdent(db)}.${sql.slice(m[0].length)}`;
}

/** An identifier as written in SQL: bare when it can be, quoted otherwise. */
function shownIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : quoteIdent(name);
}

/** Whether `sql` ends with a `;` that closes its last statement, as `sqlite3_complete()` says. */
export function isComplete(sql: string): boolean {
  return parserIsComplete(sql);
}

function onOff(cmd: string, v: string | undefined): boolean {
  if (v === "on") return true;
  if (v === "off") return false;
  throw new TenantliteError("ARGS_INVALID", `${cmd} takes on or off`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

async function loadHistory(file: string): Promise<string[]> {
  try {
    const lines = (await readFile(file, "utf8")).split("\n").filter((l) => l.trim() !== "");
    // Keep the file from growing without bound.
    if (lines.length > 2000) await writeFile(file, `${lines.slice(-1000).join("\n")}\n`);
    return lines.slice(-1000).reverse();
  } catch {
    await mkdir(dirname(file), { recursive: true }).catch(() => undefined);
    return [];
  }
}
