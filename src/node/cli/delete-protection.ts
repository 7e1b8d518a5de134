/**
 * What the `db config delete-protection` and `group config delete-protection` commands share:
 * turso's action words, and the hint a refused delete gets.
 */
import { TenantliteError } from "../../errors.js";
import { usageError } from "./args.js";
import { type CommandContext, positional } from "./command.js";

/** The action of a `… config delete-protection` command (turso's words). */
export function protectionAction(
  ctx: CommandContext,
  command: string,
): "enable" | "disable" | "show" {
  const action = positional(ctx, 0);
  if (action !== "enable" && action !== "disable" && action !== "show") {
    throw usageError(
      `${command} takes enable, disable or show, not ${JSON.stringify(action.slice(0, 40))}`,
    );
  }
  return action;
}

/** A refused delete, saying how to lift the protection. */
export function withProtectionHint(e: unknown): unknown {
  if (!(e instanceof TenantliteError)) return e;
  const db = /database "?([a-z0-9-]+)"?/.exec(e.detail)?.[1];
  const group = /group "?([a-z0-9-]+)"?/.exec(e.detail)?.[1];
  let hint: string | undefined;
  if (e.code === "DATABASE_PROTECTED" && db !== undefined) {
    hint = `tenantlite db config delete-protection disable ${db}`;
  } else if (e.code === "GROUP_PROTECTED" && group !== undefined) {
    hint = `tenantlite group config delete-protection disable ${group}`;
  }
  if (hint === undefined) return e;
  const said = e.detail.replace(/(;\s*switch it off first)?[;.]?\s*$/, "");
  return new TenantliteError(e.code, `${said}; to delete it, first run: ${hint}`, { cause: e });
}
