import type { BrowserPlatform } from "tenantlite/browser";

/** Names the sample data uses. */
export const SAMPLE = {
  catalog: "catalog",
  schema: "saas-schema",
  children: 50,
  child: (i: number) => `tenant-${String(i).padStart(2, "0")}`,
} as const;

/** The query the console suggests on a sample tenant: attach the catalog, join across. */
export const SAMPLE_QUERY = `ATTACH "${SAMPLE.catalog}" AS cat;
SELECT u.name, u.email, p.name AS plan, p.price_cents / 100.0 AS price
FROM users AS u JOIN cat.plans AS p ON p.id = u.plan_id
ORDER BY u.id;`;

const FIRST = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"];
const PLANS = [
  [1, "Free", 0],
  [2, "Team", 2900],
  [3, "Business", 9900],
  [4, "Enterprise", 49900],
] as const;

/**
 * Builds a demo SaaS: a shared `catalog` (attach allowed) and a schema parent with 50 children,
 * each with a few users and invoices. Skips what exists already.
 */
export async function createSampleData(
  platform: Pick<BrowserPlatform, "getDatabase" | "createDatabase" | "client" | "migrate">,
  progress: (text: string) => void,
): Promise<void> {
  const exists = (name: string) =>
    platform.getDatabase(name).then(
      () => true,
      () => false,
    );

  if (!(await exists(SAMPLE.catalog))) {
    progress("Creating the shared catalog…");
    await platform.createDatabase(SAMPLE.catalog, { config: { allow_attach: true } });
    await batchOn(platform, SAMPLE.catalog, [
      "CREATE TABLE plans (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL)",
      "CREATE TABLE features (plan_id INTEGER NOT NULL REFERENCES plans(id), feature TEXT NOT NULL)",
      ...PLANS.map(([id, name, cents]) => ({
        sql: "INSERT INTO plans VALUES (?, ?, ?)",
        args: [id, name, cents],
      })),
      `INSERT INTO features VALUES (1, 'one project'), (2, 'ten projects'), (2, 'SSO'),
        (3, 'unlimited projects'), (3, 'SSO'), (3, 'audit log'), (4, 'everything'), (4, 'SLA')`,
    ]);
  }
  if (!(await exists(SAMPLE.schema))) {
    progress("Creating the schema parent…");
    await platform.createDatabase(SAMPLE.schema, { type: "schema" });
    await platform.migrate(SAMPLE.schema, [
      "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, plan_id INTEGER NOT NULL)",
      "CREATE TABLE invoices (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), amount_cents INTEGER NOT NULL, issued_at TEXT NOT NULL)",
      "CREATE INDEX invoices_by_user ON invoices (user_id)",
    ]);
  }
  for (let i = 1; i <= SAMPLE.children; i++) {
    const name = SAMPLE.child(i);
    if (await exists(name)) continue;
    progress(`Creating tenant ${i} of ${SAMPLE.children}…`);
    await platform.createDatabase(name, { schema: SAMPLE.schema });
    const users = 2 + (i % 4);
    const stmts: { sql: string; args: (string | number)[] }[] = [];
    for (let u = 1; u <= users; u++) {
      const first = FIRST[(i + u) % FIRST.length]!;
      stmts.push({
        sql: "INSERT INTO users (id, email, name, plan_id) VALUES (?, ?, ?, ?)",
        args: [
          u,
          `${first.toLowerCase()}${u}@${name}.example`,
          `${first} ${name}`,
          1 + ((i + u) % 4),
        ],
      });
      for (let k = 0; k < 2; k++) {
        stmts.push({
          sql: "INSERT INTO invoices (user_id, amount_cents, issued_at) VALUES (?, ?, ?)",
          args: [u, 900 + ((i * 37 + u * 11 + k * 5) % 40) * 100, `2025-0${1 + k}-${10 + u}`],
        });
      }
    }
    await batchOn(platform, name, stmts);
  }
  progress("Sample data ready");
}

/** One write batch on a client of `name`, closed after (the engine keeps a client until then). */
async function batchOn(
  platform: Pick<BrowserPlatform, "client">,
  name: string,
  stmts: Parameters<ReturnType<BrowserPlatform["client"]>["batch"]>[0],
): Promise<void> {
  const client = platform.client(name);
  try {
    await client.batch(stmts, "write");
  } finally {
    client.close();
  }
}
