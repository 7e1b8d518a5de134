import { expect } from "vitest";
import { TenantliteError } from "../../src/errors.js";

/**
 * Asserts that `action` rejects (or throws) a `TenantliteError` with `code`, and, when given, a
 * message matching `message`. Codes are checked first so better messages never break tests.
 */
export async function expectCode(
  action: Promise<unknown> | (() => unknown),
  code: string,
  message?: RegExp,
): Promise<TenantliteError> {
  let caught: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ${code} error, nothing was thrown`).toBeDefined();
  expect(caught).toBeInstanceOf(TenantliteError);
  const error = caught as TenantliteError;
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
  return error;
}
