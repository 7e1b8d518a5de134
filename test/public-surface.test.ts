/**
 * The package's public surface: the runtime names every entry of package.json's "exports"
 * gives. A change here is a change to the API, so it must be deliberate: update the list in the
 * same commit (types are not listed: they have no runtime name).
 */
import { describe, expect, expectTypeOf, test } from "vitest";
import type * as Browser from "../src/browser/index.js";
import type * as Neutral from "../src/index.js";

/**
 * Types that appear in exported signatures, checked by the compiler: removing one from its entry
 * fails `tsc`. (Runtime names are checked below.)
 */
type ExportedTypes = [
  Neutral.Connection,
  Neutral.ErrorCode,
  Neutral.HandlerOptions,
  Neutral.ServerHandler,
  Neutral.ServerLimits,
  Neutral.UpgradeRequest,
  Neutral.HttpRequest,
  Neutral.Reply,
  Neutral.BodyLimits,
  Neutral.WsSession,
  Neutral.WsTransport,
  Neutral.StatementDescription,
  Neutral.TokenAuthorityOptions,
  Neutral.TokenClaims,
  Neutral.TokenScope,
  Neutral.TokenTarget,
  Browser.RemoteConnection,
  Browser.EnginePlatformOptions,
  Browser.ParseOptions,
  Browser.ParsedStatement,
  Browser.StatementSummary,
];

const NEUTRAL = [
  "FULL_ACCESS",
  "MemoryStorage",
  "MigrationError",
  "Permissions",
  "Platform",
  "SqliteError",
  "TenantliteBatchError",
  "TenantliteError",
  "TokenAuthority",
  "createHandler",
  "createPlatform",
  "hasCode",
];

const ENTRIES: Record<string, { load: () => Promise<object>; names: string[] }> = {
  ".": { load: () => import("../src/index.js"), names: NEUTRAL },
  "./node": {
    load: () => import("../src/node/index.js"),
    names: [
      ...NEUTRAL,
      "DEFAULT_MAX_QUERY_MS",
      "FsStorage",
      "createMigrationThreads",
      "startServer",
      "tenantThreads",
    ],
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
  test("the types of exported signatures are exported too (checked by tsc)", () => {
    expectTypeOf<ExportedTypes>().not.toBeNever();
  });

  for (const [entry, { load, names }] of Object.entries(ENTRIES)) {
    test(`tenantlite${entry.slice(1)} exports exactly its documented names`, async () => {
      expect(Object.keys(await load()).sort()).toEqual([...names].sort());
    });
  }
});
