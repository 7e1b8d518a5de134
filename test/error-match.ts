/**
 * What `toBeTenantliteError` checks, shared by the vitest matcher (test/setup.ts) and the browser
 * page's vitest shim (test/browser/page/vitest-shim.ts): plain code, no Node or vitest APIs.
 */

/**
 * Why `error` is not an `Error` carrying `code` with a message matching `message` (when given),
 * as a phrase ("got NOT_FOUND (…)"); undefined when it is.
 */
export function tenantliteErrorMismatch(
  error: unknown,
  code: string,
  message?: RegExp,
): string | undefined {
  if (error === undefined) return "nothing was thrown";
  if (!(error instanceof Error)) return `got a non-error: ${String(error)}`;
  const actual = (error as Error & { code?: unknown }).code;
  if (actual === code && (message === undefined || message.test(error.message))) return undefined;
  return `got ${actual === undefined ? "no code" : String(actual)} (${error.message})`;
}
