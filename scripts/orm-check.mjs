// Runs kysely (through `@libsql/kysely-libsql`, over http and ws) and knex (through
// `@libsql/knex-libsql`, whose `@libsql/sqlite3` driver speaks Hrana over http and ws) against
// `tenantlite dev --data-dir <tmp>`: schema building, inserts, RETURNING, selects, transactions
// committed and rolled back, an ALTER TABLE, introspection, a constraint error, and the rows after
// a restart of the server. Not part of `npm test`: the ORMs live in bench/ (`npm run
// bench:setup`), never in the main install (knex's libSQL dialect depends on the native sqlite3).
//
//   npm run test:orms                   (builds dist/ first)
//   node scripts/orm-check.mjs --no-build --keep
//
// Exit status: 0 when every check passed, 1 when one failed (each failure is printed), 2 when the
// harness itself could not run (no ORMs in bench/, the server did not start…).

import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CheckRun } from "./lib/check-run.mjs";
import { buildDist, checkFlags, startDevServer } from "./lib/dev-server.mjs";

const repoRoot = resolve(new URL("..", import.meta.url).pathname);
const args = checkFlags("orm-check.mjs", ["--no-build", "--keep"]);
const tally = new CheckRun("orm-check", "tenantlite-orms-", args.has("--keep"));
const { work } = tally;
let server;

/** A module from bench/node_modules (the ORMs are not in the main install). */
async function fromBench(name) {
  const require = createRequire(join(repoRoot, "bench/package.json"));
  let path;
  try {
    path = require.resolve(name);
  } catch {
    throw new Error(`${name} is missing from bench/: run \`npm run bench:setup\``);
  }
  return import(pathToFileURL(path).href);
}

const same = (got, want) =>
  JSON.stringify(got) === JSON.stringify(want)
    ? undefined
    : `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`;

await tally.finish(
  async () => {
    const { Kysely, sql } = await fromBench("kysely");
    const { LibsqlDialect } = await fromBench("@libsql/kysely-libsql");
    const knexFactory = (await fromBench("knex")).default;
    const KnexLibsql = (await fromBench("@libsql/knex-libsql")).default;
    if (!args.has("--no-build")) {
      console.log("building tenantlite (node scripts/build.mjs)");
      buildDist(repoRoot);
    }
    const dataDir = join(work, "data");
    server = await startDevServer(repoRoot, dataDir, join(work, "server.log"));
    console.log(`tenantlite dev: ${server.base} (data dir ${dataDir})`);
    for (const name of ["kysely", "knex"]) {
      const res = await fetch(`${server.base}/v1/organizations/local/databases`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, group: "default" }),
      });
      if (!res.ok) throw new Error(`creating ${name}: ${res.status} ${await res.text()}`);
    }

    for (const scheme of ["http", "ws"]) {
      console.log(`kysely over ${scheme}`);
      const url = `${scheme}://127.0.0.1:${server.port}/dev/kysely/`;
      const db = new Kysely({ dialect: new LibsqlDialect({ url }) });
      const t = `person_${scheme}`;
      await tally.checkAsync(`kysely ${scheme}: createTable`, async () => {
        await db.schema
          .createTable(t)
          .addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
          .addColumn("name", "text", (c) => c.notNull().unique())
          .addColumn("age", "integer")
          .execute();
      });
      await tally.checkAsync(`kysely ${scheme}: insert and RETURNING`, async () => {
        const r = await db
          .insertInto(t)
          .values([{ name: "ada" }, { name: "bob" }])
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows) !== 2)
          return `inserted ${r.numInsertedOrUpdatedRows}`;
        const back = await db
          .insertInto(t)
          .values({ name: "cy", age: 3 })
          .returning(["id", "name"])
          .executeTakeFirst();
        return same(back, { id: 3, name: "cy" });
      });
      await tally.checkAsync(`kysely ${scheme}: select with where and order`, async () =>
        same(
          await db
            .selectFrom(t)
            .select(["id", "name"])
            .where("id", "<=", 2)
            .orderBy("id", "desc")
            .execute(),
          [
            { id: 2, name: "bob" },
            { id: 1, name: "ada" },
          ],
        ),
      );
      await tally.checkAsync(`kysely ${scheme}: a transaction commits`, async () => {
        const n = await db.transaction().execute(async (trx) => {
          await trx.insertInto(t).values({ name: "dee" }).execute();
          return (
            await trx
              .selectFrom(t)
              .select((eb) => eb.fn.countAll().as("n"))
              .executeTakeFirst()
          ).n;
        });
        return same(Number(n), 4);
      });
      await tally.checkAsync(`kysely ${scheme}: a transaction that throws rolls back`, async () => {
        await db
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto(t).values({ name: "never" }).execute();
            throw new Error("changed my mind");
          })
          .catch(() => undefined);
        const rows = await db.selectFrom(t).select("id").where("name", "=", "never").execute();
        return same(rows, []);
      });
      await tally.checkAsync(`kysely ${scheme}: a constraint error carries its code`, async () => {
        const e = await db
          .insertInto(t)
          .values({ name: "ada" })
          .execute()
          .then(
            () => undefined,
            (err) => err,
          );
        return e?.code === "SQLITE_CONSTRAINT" ? undefined : `got ${e?.code ?? "no error"}`;
      });
      await tally.checkAsync(`kysely ${scheme}: introspection and raw SQL`, async () => {
        const tables = (await db.introspection.getTables()).map((x) => x.name);
        if (!tables.includes(t)) return `tables ${JSON.stringify(tables)}`;
        const { rows } = await sql`SELECT count(*) AS n FROM ${sql.table(t)}`.execute(db);
        return same(Number(rows[0].n), 4);
      });
      await db.destroy();
    }

    for (const scheme of ["http", "ws"]) {
      console.log(`knex over ${scheme}`);
      const knex = knexFactory({
        client: KnexLibsql,
        connection: { filename: `${scheme}://127.0.0.1:${server.port}/dev/knex/` },
        useNullAsDefault: true,
      });
      const t = `users_${scheme}`;
      await tally.checkAsync(`knex ${scheme}: createTable`, async () => {
        await knex.schema.createTable(t, (tb) => {
          tb.increments("id");
          tb.string("name").notNullable().unique();
          tb.integer("age");
        });
      });
      await tally.checkAsync(`knex ${scheme}: insert and select`, async () => {
        await knex(t).insert([
          { name: "ada", age: 36 },
          { name: "bob", age: 41 },
        ]);
        return same(await knex(t).select("name", "age").orderBy("id"), [
          { name: "ada", age: 36 },
          { name: "bob", age: 41 },
        ]);
      });
      await tally.checkAsync(
        `knex ${scheme}: a transaction commits, another rolls back`,
        async () => {
          await knex.transaction(async (trx) => {
            await trx(t).insert({ name: "cy", age: 3 });
          });
          await knex
            .transaction(async (trx) => {
              await trx(t).insert({ name: "never" });
              throw new Error("changed my mind");
            })
            .catch(() => undefined);
          return same(await knex(t).pluck("name").orderBy("id"), ["ada", "bob", "cy"]);
        },
      );
      await tally.checkAsync(
        `knex ${scheme}: alterTable adds a column; columnInfo sees it`,
        async () => {
          await knex.schema.alterTable(t, (tb) => {
            tb.string("email");
          });
          const info = await knex(t).columnInfo();
          return same(Object.keys(info), ["id", "name", "age", "email"]);
        },
      );
      await tally.checkAsync(`knex ${scheme}: a constraint error`, async () => {
        const e = await knex(t)
          .insert({ name: "ada" })
          .then(
            () => undefined,
            (err) => err,
          );
        return /UNIQUE constraint failed/.test(String(e?.message))
          ? undefined
          : `got ${e?.message ?? "no error"}`;
      });
      await knex.destroy();
    }

    console.log("restart: the rows are still there");
    await server.stop();
    server = await startDevServer(repoRoot, dataDir, join(work, "server2.log"));
    const after = new Kysely({
      dialect: new LibsqlDialect({ url: `http://127.0.0.1:${server.port}/dev/kysely/` }),
    });
    await tally.checkAsync("after a restart: kysely's rows", async () =>
      same(await after.selectFrom("person_ws").select("name").orderBy("id").execute(), [
        { name: "ada" },
        { name: "bob" },
        { name: "cy" },
        { name: "dee" },
      ]),
    );
    await after.destroy();
    const knexAfter = knexFactory({
      client: KnexLibsql,
      connection: { filename: `http://127.0.0.1:${server.port}/dev/knex/` },
      useNullAsDefault: true,
    });
    await tally.checkAsync("after a restart: knex's rows", async () =>
      same(await knexAfter("users_http").pluck("name").orderBy("id"), ["ada", "bob", "cy"]),
    );
    await knexAfter.destroy();
    await server.stop();
  },
  async () => server?.stop(),
);
