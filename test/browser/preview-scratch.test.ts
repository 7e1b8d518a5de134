// The console's migration preview (web/src/preview.ts) runs on a scratch copy of the parent in the
// browser's engine. A tab closed mid-preview leaves its copy behind; the next tab to open the
// engine sweeps the stale ones. preview.ts only needs a platform's management API, so this runs in
// Node on the library's own platform (the browser engine's API is the same one).
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";
import {
  isScratch,
  previewMigration,
  SCRATCH_STALE_MS,
  scratchName,
  sweepScratch,
} from "../../web/src/preview.js";

const names = async (p: { listDatabases(): Promise<readonly { name: string }[]> }) =>
  (await p.listDatabases()).map((d) => d.name).sort();

describe("console preview scratch copies", () => {
  it("are named with their time, and a sweep deletes only the stale ones", async () => {
    const p = await createPlatform();
    const now = Date.now();
    const stale = scratchName(now - SCRATCH_STALE_MS - 1);
    const fresh = scratchName(now - 1000);
    const oldStyle = "console-preview-scratch-0123456789abcdef"; // before names carried a time
    for (const name of [stale, fresh, oldStyle, "app"]) await p.createDatabase(name);
    expect([stale, fresh, oldStyle].every(isScratch)).toBe(true);
    expect(isScratch("app")).toBe(false);

    expect((await sweepScratch(p, now)).sort()).toEqual([oldStyle, stale].sort());
    expect(await names(p)).toEqual(["app", fresh].sort());
    // Nothing stale is left: a second sweep deletes nothing.
    expect(await sweepScratch(p, now)).toEqual([]);
    // The fresh one goes once it is stale too.
    expect(await sweepScratch(p, now + SCRATCH_STALE_MS)).toEqual([fresh]);
    expect(await names(p)).toEqual(["app"]);
    await p.close();
  });

  it("a preview leaves no copy, whether its statements pass or fail, and a sweep during it keeps its copy", async () => {
    const p = await createPlatform();
    await p.createDatabase("parent");
    const parent = p.client("parent");
    await parent.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)");
    const bytes = await p.exportDatabase("parent");

    const ok = await previewMigration(p as never, bytes, [
      "ALTER TABLE users ADD COLUMN plan TEXT",
    ]);
    expect(ok.error).toBeUndefined();
    expect(ok.changes).toEqual(["~ table users: + column plan TEXT"]);
    const bad = await previewMigration(p as never, bytes, ["ALTER TABLE nope ADD COLUMN x"]);
    expect(bad.error?.statement).toBe(1);
    expect(await names(p)).toEqual(["parent"]);

    // A sweep while a preview runs: its copy is young, so it stays and the preview completes.
    const swept: string[][] = [];
    const host = {
      listDatabases: (o?: { after?: string }) => p.listDatabases(o),
      deleteDatabase: (n: string) => p.deleteDatabase(n),
      createDatabase: async (n: string, o: { fromBytes: Uint8Array }) => {
        const info = await p.createDatabase(n, o);
        swept.push(await sweepScratch(p));
        return info;
      },
      connect: (n: string) => p.connect(n),
    };
    const during = await previewMigration(host as never, bytes, ["CREATE INDEX i ON users(id)"]);
    expect(during.error).toBeUndefined();
    expect(swept).toEqual([[]]);
    expect(await names(p)).toEqual(["parent"]);
    await p.close();
  });
});
