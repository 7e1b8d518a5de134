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
import type { Backend, DbView, SqlSession } from "./backend.js";
import { type CliIo, errorLine } from "./io.js";
import { withMigrationReport } from "./migration-report.js";
import { type Mode, quoteIdent, quoteString, renderRows, sqlLiteral, table } from "./output.js";

/** Options of {@link runShell}. */
export interface ShellOptions {
  /** SQL (or a dot command) to run instead of reading stdin. */
  readonly sql?: string;
  readonly attach?: readonly string[];
  readonly encryptionKey?: string;
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

/** Runs the shell; resolves with the exit status. */
export async function runShell(
  backend: Backend,
  dbName: string,
  options: ShellOptions,
  io: CliIo,
): Promise<number> {
  const db = await backend.getDatabase(dbName);
  const session = await backend.openSession(dbName, {
    ...(options.attach === undefined ? {} : { attach: options.attach }),
    ...(options.encryptionKey === undefined ? {} : { encryptionKey: options.encryptionKey }),
    interactive: options.interactive && options.sql === undefined,
  });
  const shell = new Shell(
    backend,
    db,
    session,
    io,
    !options.interactive || options.sql !== undefined,
  );
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
    private readonly backend: Backend,
    private readonly db: DbView,
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
      `Connected to ${this.db.name} (${this.backend.mode === "local" ? "local data directory" : this.backend.databaseUrl(this.db.name)})\n\nWelcome to the tenantlite shell!\nType ".quit" to exit and ".help" to list the dot commands.\nStatements end with ";".\n\n`,
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
        if (this.db.type === "schema") {
          const { result, failed } = await withMigrationReport(
            this.backend,
            this.db.name,
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
            "SELECT name FROM sqlite_schema WHERE type IN ('table','view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
          );
          return true;
        case ".indexes": {
          const where = args[0] === undefined ? "" : ` AND tbl_name = ${quoteString(args[0])}`;
          await this.printNames(
            `SELECT name FROM sqlite_schema WHERE type = 'index'${where} ORDER BY name`,
          );
          return true;
        }
        case ".schema": {
          const where = args[0] === undefined ? "" : ` AND tbl_name = ${quoteString(args[0])}`;
          const r = await this.session.execute(
            `SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'${where} ORDER BY tbl_name, type DESC, name`,
          );
          for (const row of r.rows) this.io.stdout.write(`${String(row[0])};\n`);
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

  /** SQL that recreates the database: tables with their rows, then indexes, triggers, views. */
  private async dump(only: string | undefined): Promise<string> {
    const filter = only === undefined ? "" : ` AND tbl_name = ${quoteString(only)}`;
    const objects = await this.session.execute(
      `SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'${filter} ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid`,
    );
    let out = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n";
    for (const [type, name, sql] of objects.rows) {
      out += `${String(sql)};\n`;
      if (type !== "table") continue;
      const rows = await this.session.execute(`SELECT * FROM ${quoteIdent(String(name))}`);
      for (const row of rows.rows) {
        out += `INSERT INTO ${quoteIdent(String(name))} VALUES(${row.map(sqlLiteral).join(",")});\n`;
      }
    }
    return `${out}COMMIT;\n`;
  }
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
