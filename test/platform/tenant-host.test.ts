/**
 * A tenant thread's host, driven directly (no worker thread): its heartbeat, which the platform's
 * watchdog reads to tell a thread held by one statement from a thread at work (tenant-threads.ts),
 * runs while a request does, and an idle thread does not wake up for it.
 */
import { describe, expect, it } from "vitest";
import { loadSqlJs } from "../../src/engine/loader.js";
import { TenantliteError } from "../../src/errors.js";
import {
  BEAT_MS,
  type FromThread,
  SHARED_BYTES,
  SHARED_SLOTS,
} from "../../src/platform/threads/protocol.js";
import { TenantHost } from "../../src/platform/threads/tenant-host.js";
import { encodeError } from "../../src/platform/threads/wire.js";

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a tenant thread's heartbeat", () => {
  it("beats while a request runs (also while it waits for the platform), and not when idle", async () => {
    const sql = await loadSqlJs();
    const shared = new Int32Array(new SharedArrayBuffer(SHARED_BYTES));
    const posted: FromThread[] = [];
    const host = new TenantHost(sql, { post: (m) => posted.push(m) }, shared, {
      connection: {},
      maxOpen: 10,
      maxOpenBytes: 1e9,
      saveAfterMs: undefined,
    });
    const beat = () => Atomics.load(shared, SHARED_SLOTS.beat);

    const idle = beat();
    await wait(BEAT_MS * 4);
    expect(beat()).toBe(idle);

    host.receive({
      t: "run",
      id: 1,
      conn: 1,
      tenant: { id: "tenant-1", name: "t", sizeLimit: undefined },
      guard: undefined,
      schema: false,
      op: { kind: "execute", sql: "SELECT 1", args: undefined, intMode: "number" },
    });
    // The request waits for the platform to send the tenant's image: the thread is at work, and
    // its heartbeat goes on (bumped on arrival, then by its timer; waited for, at most 2 s).
    for (let i = 0; i < 40 && beat() < idle + 2; i++) await wait(BEAT_MS);
    expect(beat()).toBeGreaterThanOrEqual(idle + 2);
    const call = posted.find((m) => m.t === "call");
    if (call?.t !== "call") throw new Error("the host asked the platform for nothing");
    expect(call.call.kind).toBe("load");
    host.receive({
      t: "answer",
      id: call.id,
      error: encodeError(new TenantliteError("DATABASE_NOT_FOUND", 'database "t" not found')),
    });
    await wait(0);
    const done = posted.find((m) => m.t === "done");
    expect(done?.t === "done" && done.error?.code).toBe("DATABASE_NOT_FOUND");

    // Answered: idle again, and quiet.
    const after = beat();
    await wait(BEAT_MS * 4);
    expect(beat()).toBe(after);
  });
});
