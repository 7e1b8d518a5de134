import { describe, expect, it } from "vitest";
import { databaseNotFound, MigrationError, TenantliteError } from "../../src/errors.js";
import { statusOf } from "../../src/server/status.js";

describe("HTTP statuses, from one table at the server's edge", () => {
  it("answers server faults with 5xx", () => {
    for (const [code, status] of [
      ["PLATFORM_CLOSED", 503],
      ["STORAGE_CLOSED", 503],
      ["STORAGE_WRITE_FAILED", 503],
      ["MIGRATION_STAGE_CORRUPT", 500],
      ["DATABASE_CORRUPT", 500],
      ["INTERNAL_ERROR", 500],
    ] as const) {
      expect(statusOf(new TenantliteError(code, "x")), code).toBe(status);
    }
  });

  it("gives a code one status wherever it is thrown, 400 when the table does not list it", () => {
    expect(statusOf(new TenantliteError("ENCRYPTION_KEY_INVALID", "x"))).toBe(400);
    expect(statusOf(new TenantliteError("ENCRYPTION_KEY_REQUIRED", "x"))).toBe(400);
    expect(statusOf(new TenantliteError("SQL_PARSE_ERROR", "x"))).toBe(400);
    expect(statusOf(databaseNotFound("acme"))).toBe(404);
    expect(statusOf(new TenantliteError("AUTH_API_TOKEN_INVALID", "x"))).toBe(401);
    expect(statusOf(new TenantliteError("BODY_TIMEOUT", "x"))).toBe(408);
  });
});

describe("common errors, built one way", () => {
  it("databaseNotFound speaks sqld's words, the Platform API's, or says none was selected", () => {
    expect(databaseNotFound("acme").message).toBe(
      "DATABASE_NOT_FOUND: Namespace `acme` doesn't exist",
    );
    expect(databaseNotFound("acme", { platformApi: true }).detail).toBe(
      "could not find database with name acme: record not found",
    );
    expect(databaseNotFound(undefined, { hint: "use /dev/<database>/" }).detail).toBe(
      "No database selected: use /dev/<database>/",
    );
  });

  it("a migration error carries its failing step and child as fields", () => {
    const e = new MigrationError("task 1 failed", { step: 2, child: "t1" });
    expect(e).toBeInstanceOf(TenantliteError);
    expect([e.code, e.step, e.child]).toEqual(["SCHEMA_MIGRATION_ERROR", 2, "t1"]);
    expect(e.detail).toBe("Schema migration error: task 1 failed");
  });
});
