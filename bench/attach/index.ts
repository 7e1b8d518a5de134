/**
 * ATTACH benchmark (attach issue, point 8): a join of a tenant's table with an attached tenant's
 * table, against the same join with both tables in one database, in the same run, through the
 * platform's connection both ways. Target: ≤ 1.3×.
 */
import { createPlatform } from "../../src/index.js";
import { printTable, timeAsync } from "../lib/measure.js";

const N = Number(process.env.BENCH_N ?? 20_000);
const ROWS = 1000;
const platform = await createPlatform();
await platform.createDatabase("orders-db");
await platform.createDatabase("users-db", { config: { allow_attach: true } });
await platform.createDatabase("together");

const fill = async (db: string, users: boolean, orders: boolean) => {
  const c = platform.client(db);
  const stmts: string[] = [];
  if (users) stmts.push("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, plan TEXT)");
  if (orders)
    stmts.push(
      "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL)",
      "CREATE INDEX orders_user ON orders(user_id)",
    );
  await c.batch(stmts, "write");
  const tx = await c.transaction("write");
  for (let i = 1; i <= ROWS; i++) {
    if (users)
      await tx.execute({
        sql: "INSERT INTO users VALUES (?, ?, ?)",
        args: [i, `user-${i}`, i % 3 ? "free" : "pro"],
      });
    if (orders)
      await tx.execute({
        sql: "INSERT INTO orders (user_id, total) VALUES (?, ?)",
        args: [i, i * 1.5],
      });
  }
  await tx.commit();
};
await fill("orders-db", false, true);
await fill("users-db", true, false);
await fill("together", true, true);

const join = (users: string) =>
  `SELECT u.name, u.plan, o.total FROM orders o JOIN ${users} u ON u.id = o.user_id WHERE o.user_id = ?`;

const attached = platform.connect("orders-db");
await attached.execute('ATTACH "users-db" AS ud', undefined);
const local = platform.connect("together");

let check = await attached.execute(join("ud.users"), [7]);
if (check.rows[0]?.name !== "user-7") throw new Error("attached join returned the wrong row");
check = await local.execute(join("users"), [7]);
if (check.rows[0]?.name !== "user-7") throw new Error("local join returned the wrong row");

let bestAttached = Number.POSITIVE_INFINITY;
let bestLocal = Number.POSITIVE_INFINITY;
for (let round = 0; round < 3; round++) {
  bestLocal = Math.min(
    bestLocal,
    await timeAsync(N, (i) => local.execute(join("users"), [(i % ROWS) + 1])),
  );
  bestAttached = Math.min(
    bestAttached,
    await timeAsync(N, (i) => attached.execute(join("ud.users"), [(i % ROWS) + 1])),
  );
}
console.log(`attach: ${N} point joins (orders ⋈ users), best of 3 rounds`);
printTable([
  ["", "µs per join"],
  ["both tables in one database", bestLocal.toFixed(2)],
  ["users in an attached tenant", bestAttached.toFixed(2)],
  ["ratio (target ≤ 1.3×)", `${(bestAttached / bestLocal).toFixed(2)}×`],
]);
attached.close();
local.close();
await platform.close();
