/**
 * The package's public surface: the runtime names every entry of package.json's "exports"
 * gives. A change here is a change to the API, so it must be deliberate: update the list in the
 * same commit (types are not listed: they have no runtime name).
 */
import { describe, expect, test } from "vitest";

const NEUTRAL = [
  "FULL_ACCESS",
  "MemoryStorage",
  "Permissions",
  "Platform",
  "SqliteError",
  "TenantliteBatchError",
  "TenantliteError",
  "TokenAuthority",
  "createHandler",
  "createPlatform",
  "hasCode",
  "tenantKey",
];

const ENTRIES: Record<string, { load: () => Promise<object>; names: string[] }> = {
  ".": { load: () => import("../src/index.js"), names: NEUTRAL },
  "./node": {
    load: () => import("../src/node/index.js"),
    names: [...NEUTRAL, "FsStorage", "createMigrationThreads", "startServer"],
  },
  "./browser": {
    load: () => import("../src/browser/index.js"),
    names: [
      ...NEUTRAL,
      "BrowserPlatform",
      "IdbStorage",
      "createBrowserPlatform",
      "parse",
      "splitStatements",
    ],
  },
  "./parser": {
    load: () => import("../parser/index.js"),
    names: ["classify", "isComplete", "parse", "splitStatements", "sqlTokens"],
  },
};

describe("public surface", () => {
  for (const [entry, { load, names }] of Object.entries(ENTRIES)) {
    test(`tenantlite${entry.slice(1)} exports exactly its documented names`, async () => {
      expect(Object.keys(await load()).sort()).toEqual([...names].sort());
    });
  }
});
