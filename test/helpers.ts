import { expect } from "vitest";

/**
 * Asserts that `promise` rejects with a tenantlite (or libSQL) error carrying `code`, and
 * optionally that its message matches `message`. Tests check codes first; messages only by regex.
 */
export async function expectCode(
  promise: Promise<unknown> | (() => unknown),
  code: string,
  message?: RegExp,
): Promise<Error & { code: string }> {
  let error: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    error = e;
  }
  expect(error, `expected an error with code ${code}`).toBeInstanceOf(Error);
  const e = error as Error & { code: string };
  expect(e.code).toBe(code);
  if (message !== undefined) expect(e.message).toMatch(message);
  return e;
}
