/** The streams a command uses, and the one-line form every error is printed in. */
import { TenantliteError } from "../../errors.js";

/** stdin, stdout and stderr (process streams, or fakes). */
export interface CliIo {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/**
 * The one-line form of an error: `error: CODE: message`. Messages of tenantlite errors never
 * hold tokens or keys; anything else is shown by its message only.
 */
export function errorLine(e: unknown): string {
  const text =
    e instanceof TenantliteError
      ? e.message
      : `INTERNAL_ERROR: ${e instanceof Error ? e.message : String(e)}`;
  return `error: ${text.replace(/\s*[\r\n]+\s*/g, " ")}`;
}
