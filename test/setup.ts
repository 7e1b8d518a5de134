/**
 * Test setup (vitest `setupFiles`): the `toBeTenantliteError(code, message?)` matcher. Tests
 * assert an error's code first and its message only by regex, so messages can improve without
 * breaking them.
 *
 * @example
 * await expect(platform.getDatabase("nope")).rejects.toBeTenantliteError("DATABASE_NOT_FOUND");
 * await expect(async () => open(bad)).rejects.toBeTenantliteError("STORAGE_KEY_INVALID", /"a\/"/);
 * expect(() => parseExpiration("soon")).toBeTenantliteError("EXPIRATION_INVALID");
 * expect(await caught(p)).toBeTenantliteError("AUTH_JWT_EXPIRED");
 */
import { expect } from "vitest";
import { tenantliteErrorMismatch } from "./error-match.js";

interface TenantliteErrorMatchers<R = unknown> {
  /**
   * The value (or what the function throws when called, or the promise's rejection with
   * `.rejects`) is an `Error` carrying `code` — a `TenantliteError`, or a client's error for
   * one sent over the wire — and, when given, a message matching `message`.
   */
  toBeTenantliteError(code: string, message?: RegExp): R;
}

declare module "vitest" {
  // biome-ignore lint/suspicious/noExplicitAny: the default must repeat vitest's declaration
  interface Matchers<T = any> extends TenantliteErrorMatchers<T> {}
}

expect.extend({
  toBeTenantliteError(received: unknown, code: string, message?: RegExp) {
    let error = received;
    if (typeof received === "function") {
      try {
        const result = received();
        if (typeof (result as { then?: unknown } | null)?.then === "function") {
          (result as Promise<unknown>).catch(() => {});
          return {
            pass: false,
            message: () =>
              "the function returned a promise: use `await expect(…).rejects.toBeTenantliteError()`",
          };
        }
        error = undefined;
      } catch (e) {
        error = e ?? new Error(`threw ${String(e)}`);
      }
    }
    const mismatch = tenantliteErrorMismatch(error, code, message);
    return {
      pass: mismatch === undefined,
      message: () =>
        mismatch === undefined
          ? `expected no ${code} error, got one`
          : `expected a ${code} error${message ? ` matching ${message}` : ""}, but ${mismatch}`,
      actual:
        error instanceof Error
          ? { code: (error as { code?: unknown }).code, message: error.message }
          : error,
      expected: { code, message },
    };
  },
});
