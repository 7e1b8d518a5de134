import type { DatabaseInfo } from "tenantlite/browser";

/** What {@link everyDatabase} needs: a platform's `listDatabases` (the browser's, or the library's). */
export interface DatabaseLister {
  listDatabases(options?: { after?: string }): Promise<readonly DatabaseInfo[]>;
}

/** Every database a platform holds, in name order: `listDatabases` answers 1,000 at a time. */
export async function everyDatabase(p: DatabaseLister): Promise<DatabaseInfo[]> {
  const all: DatabaseInfo[] = [];
  for (let after: string | undefined; ; ) {
    const page = await p.listDatabases(after === undefined ? {} : { after });
    all.push(...page);
    if (page.length < 1000) return all;
    after = page[page.length - 1]!.name;
  }
}
