/**
 * What every part of the server shares: the platform, the token authority, whether auth is on,
 * the limits, and how a request's token becomes a session on one database.
 */

import type { SqlConnection } from "../engine/connection-policy.js";
import { databaseNotFound, hasCode, TenantliteError } from "../errors.js";
import { Permissions, type TokenAuthority, type TokenTarget } from "../platform/auth/jwt.js";
import type { ConnectOptions } from "../platform/options.js";
import type { Platform } from "../platform/platform.js";
import { type AccessPolicy, type DatabaseInfo, FULL_ACCESS } from "../platform/types.js";
import type { InternalErrorReport } from "./http.js";

/** Server limits; every field has a default (see `createHandler`). */
export interface ServerLimits {
  /** Largest request body on Hrana endpoints (bytes). */
  readonly maxBodyBytes: number;
  /** Largest upload of a database file to the Platform API (bytes). */
  readonly maxUploadBytes: number;
  /**
   * Bytes of request bodies over 64 KB worked on at once, from their reading until their
   * answer (the Node server; see body-budget.ts): past it, a body waits unread for room. One
   * larger than all of it goes alone. Default 64 MB (four bodies at the body limit).
   */
  readonly maxBodyBytesInFlight: number;
  /**
   * How long a request body may take to arrive (ms); also how long a WebSocket client throttled
   * for unread responses may go without reading before it is closed.
   */
  readonly bodyTimeoutMs: number;
  /** Most HTTP streams (batons) alive at once. */
  readonly maxStreams: number;
  /** Idle time after which an HTTP stream expires (ms; sqld: 10 s). */
  readonly streamIdleMs: number;
  /** Most streams per WebSocket connection. */
  readonly maxWsStreams: number;
  /**
   * Most bytes of responses a WebSocket client may leave unread: past a quarter of it (with the
   * requests it sent that are not answered yet) its socket is no longer read; a response that
   * would take them past all of it is answered `RESPONSE_TOO_LARGE` instead, and past all of it
   * the socket is closed (code 1008, reason `RESPONSES_UNREAD: …`); its Hrana 3 cursors' rows
   * not fetched yet count too. Also the most an HTTP pipeline's requests, or an HTTP cursor's
   * steps, may return together (each request past it is answered `RESPONSE_TOO_LARGE`).
   * Default 16 MB.
   */
  readonly maxUnsentBytes: number;
}

/** A caller's access to one database, decided once per request (HTTP) or per hello (WebSocket). */
export interface DatabaseSession {
  readonly info: DatabaseInfo;
  readonly target: TokenTarget;
  readonly permissions: Permissions;
  /** What statements on this session may do (enforced by the platform's statement guard). */
  readonly access: AccessPolicy;
  /** The database's encryption key the request gave (`x-turso-encryption-key`), if any. */
  readonly encryptionKey?: string;
}

/** Shared server state. */
export class ServerContext {
  private readonly groupIds = new Map<string, string>();

  constructor(
    readonly platform: Platform,
    readonly tokens: TokenAuthority,
    readonly auth: boolean,
    readonly limits: ServerLimits,
    /** The database a request that selects none is for (`turso dev`'s root URL), if any. */
    readonly rootDatabase: string | undefined = undefined,
    /** The server's log: one line (or a few, for a stack) per call. */
    readonly log: (line: string) => void = (line) => console.error(line),
  ) {}

  /** How large a request body may be and how long it may take to arrive. */
  get bodyLimits(): { maxBytes: number; timeoutMs: number } {
    return { maxBytes: this.limits.maxBodyBytes, timeoutMs: this.limits.bodyTimeoutMs };
  }

  /**
   * What to do with an unexpected failure while serving `where` (`POST /dev/acme/v2/pipeline`, a
   * WebSocket): log it whole, stack and causes; the client only sees `INTERNAL_ERROR`.
   */
  internalError(where: string): InternalErrorReport {
    return (e) => this.log(`INTERNAL_ERROR while serving ${where}: ${describeFailure(e)}`);
  }

  /** Permissions of a request: full when auth is off, else from its `Authorization` header. */
  permissionsFromHeader(header: string | null): Promise<Permissions> {
    if (!this.auth) return Promise.resolve(Permissions.full());
    return this.tokens.verifyHeader(header);
  }

  /** Permissions of a WebSocket hello's `jwt`. */
  permissionsFromJwt(jwt: unknown): Promise<Permissions> {
    if (!this.auth) return Promise.resolve(Permissions.full());
    if (jwt === undefined || jwt === null || jwt === "") {
      return Promise.reject(
        new TenantliteError("AUTH_HEADER_NOT_FOUND", "Expected a JWT in hello but none given"),
      );
    }
    if (typeof jwt !== "string") {
      return Promise.reject(new TenantliteError("AUTH_JWT_INVALID", "The JWT is invalid"));
    }
    return this.tokens.verify(jwt);
  }

  /**
   * Opens a session on database `name` (or fails with 404 for an unknown database, 403 when the
   * token grants nothing on it).
   */
  async session(
    name: string | undefined,
    permissions: Permissions,
    encryptionKey?: string,
  ): Promise<DatabaseSession> {
    const info = await this.database(name);
    if (encryptionKey !== undefined && !info.encrypted) {
      // A client that sends a key believes its data is encrypted: say it is not.
      throw new TenantliteError(
        "ENCRYPTION_KEY_INVALID",
        `database "${info.name}" is not encrypted: send no encryption key (x-turso-encryption-key, @libsql/client's remoteEncryptionKey)`,
      );
    }
    const target = {
      id: info.id,
      groupId: permissions.isFull ? "" : await this.groupId(info.group),
    };
    // A rotation of this database or its group after the token was minted: say so (401), as
    // for the token's own rotation, rather than a bare 403.
    this.tokens.assertCurrent(permissions, target);
    if (!permissions.canRead(target)) {
      throw new TenantliteError(
        "AUTH_FORBIDDEN",
        `Authorization forbidden: the token does not grant access to database "${info.name}"`,
      );
    }
    return {
      info,
      target,
      permissions,
      // Auth off: everything but DDL on schema children, which stays blocked as in the library.
      access: permissions.isFull ? FULL_ACCESS : permissions,
      ...(encryptionKey === undefined ? {} : { encryptionKey }),
    };
  }

  /**
   * Checks that a session's token still holds (a WebSocket keeps its session between requests):
   * `AUTH_JWT_EXPIRED` once it expired, `AUTH_JWT_INVALID` once its tokens were rotated.
   */
  assertCurrent(session: DatabaseSession): void {
    this.tokens.assertCurrent(session.permissions, session.target);
  }

  /**
   * A logical connection onto a session's database: by id (a stream never moves to a database
   * re-created under the name), named by its name in errors, with the session's key.
   */
  connect(session: DatabaseSession, access: ConnectOptions["access"]): SqlConnection {
    const key = session.encryptionKey;
    return this.platform.connect(session.info.id, {
      name: session.info.name,
      access,
      ...(key === undefined ? {} : { encryptionKey: key }),
    });
  }

  /** The database's current catalog entry (config may have changed since the session began). */
  async database(name: string | undefined): Promise<DatabaseInfo> {
    const root = name === undefined || name === "";
    if (root && this.rootDatabase === undefined) {
      throw databaseNotFound(undefined, {
        hint: "use http://127.0.0.1:<port>/dev/<database>/ (with the trailing slash)",
      });
    }
    const selected = root ? (this.rootDatabase as string) : name;
    try {
      return await this.platform.getDatabase(selected);
    } catch (e) {
      if (hasCode(e, "DATABASE_NOT_FOUND")) {
        throw databaseNotFound(
          selected,
          root
            ? {
                hint: `the root URL serves database "${selected}", which no longer exists: create it again (npx tenantlite db create ${selected}) or use /dev/<database>/`,
              }
            : {},
        );
      }
      throw e;
    }
  }

  /** UUID of a group by name (cached: a name keeps its UUID until the group is deleted). */
  async groupId(name: string): Promise<string> {
    const hit = this.groupIds.get(name);
    if (hit !== undefined) return hit;
    const g = await this.platform.getGroup(name);
    this.groupIds.set(name, g.id);
    return g.id;
  }

  /** Forgets a deleted group's UUID. */
  forgetGroup(name: string): void {
    this.groupIds.delete(name);
  }
}

/** A thrown value with its stack and the chain of its causes. */
function describeFailure(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && depth < 5; depth++) {
    parts.push(cur instanceof Error ? (cur.stack ?? `${cur.name}: ${cur.message}`) : String(cur));
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join("\n  caused by: ");
}
