/**
 * Database and group JWTs, like Turso's: EdDSA (Ed25519) tokens signed with a key pair made on
 * first start and kept in the platform's storage, with the claim model of sqld (`a`, `id`, `gid`,
 * `p` scopes, `exp`). Rotation bumps a per-database or per-group generation kept in the same
 * storage; a token carries the generations it was minted under, so rotating invalidates every
 * earlier token at once. Rotations are also counted all together, and each database and group
 * keeps the count of its last one: a token minted at an earlier count no longer works on that
 * database (so a group token minted before a database's rotation stops working on it, while
 * its group's other databases keep accepting it). A live session asks again before each request
 * ({@link TokenAuthority.assertCurrent}): expiry and rotations reach open WebSockets too.
 *
 * Claims minted here:
 * - `a`: `"rw"` | `"ro"`; `id`: database UUID (database tokens); `gid`: group UUID;
 * - `p`: `{ ro | rw | roa | rwa | ddl: { ns?: string[], gid?: string[] } }` — database UUIDs in
 *   `ns`; `gid` inside a scope is a tenantlite extension meaning "every database of these groups";
 * - `gen`: `{ d?: number, g: number, r: number }` rotation generations and the rotation count;
 *   `iat`; `exp` when it expires.
 *
 * @example
 * const tokens = await TokenAuthority.open(platform.storage);
 * const jwt = await tokens.mintDatabaseToken(db, groupInfo, { authorization: "read-only" });
 * const perms = await tokens.verifyHeader(request.headers.get("authorization"));
 * perms.canRead({ id: db.id, groupId: groupInfo.id }); // true
 */
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from "jose";
import { TenantliteError } from "../../errors.js";
import { keys } from "../../storage/keyspace.js";
import type { Storage } from "../../storage/storage.js";

/** What a permission check is about: a database and the group it belongs to. */
export interface TokenTarget {
  /** Database UUID. */
  readonly id: string;
  /** UUID of the database's group. */
  readonly groupId: string;
}

/** A scope of the `p` claim. */
export interface TokenScope {
  readonly ns?: readonly string[];
  readonly gid?: readonly string[];
}

type ScopeName = "ro" | "rw" | "roa" | "rwa" | "ddl";

/** The claims tenantlite reads. */
export interface TokenClaims {
  readonly a?: string;
  readonly id?: string;
  readonly gid?: string;
  readonly p?: Partial<Record<ScopeName, TokenScope>>;
  readonly gen?: { readonly d?: number; readonly g?: number; readonly r?: number };
  readonly exp?: number;
  readonly iat?: number;
}

/** Options shared by database and group tokens (the Platform API's query string and body). */
export interface MintOptions {
  /** `never` (default; also `none`, `default`) or a duration such as `2w1d30m`, `7d3h2m1s`. */
  readonly expiration?: string;
  /** `full-access` (default) or `read-only`. */
  readonly authorization?: string;
  /** UUIDs of databases the token may ATTACH (read-only). */
  readonly attach?: readonly string[];
}

/**
 * What a verified token allows. `full()` (auth disabled) allows everything.
 */
export class Permissions {
  private constructor(
    private readonly claims: TokenClaims | undefined,
    /** When the token expires (epoch seconds), if it does. */
    readonly expiresAt: number | undefined,
    /** Whether the token's rotations have caught up with it on a database (asked at each check). */
    private readonly rotatedOn: ((db: TokenTarget) => boolean) | undefined,
  ) {}

  /** Everything, on every database (auth disabled). */
  static full(): Permissions {
    return new Permissions(undefined, undefined, undefined);
  }

  /**
   * @internal built by {@link TokenAuthority.verify}; `rotatedOn` says when a rotation after the
   * token was minted took a database away from it.
   */
  static fromClaims(claims: TokenClaims, rotatedOn?: (db: TokenTarget) => boolean): Permissions {
    return new Permissions(claims, claims.exp, rotatedOn);
  }

  /** @internal the verified claims (undefined for full access), for {@link TokenAuthority}. */
  get tokenClaims(): TokenClaims | undefined {
    return this.claims;
  }

  /** Whether this is the full access of a server without auth. */
  get isFull(): boolean {
    return this.claims === undefined;
  }

  canRead(db: TokenTarget): boolean {
    return this.check(db, ["ro", "rw", "roa", "rwa", "ddl"], true);
  }

  /** @internal whether the token's claims cover reading `db`, rotations since minting aside. */
  coversRead(db: TokenTarget): boolean {
    return this.check(db, ["ro", "rw", "roa", "rwa", "ddl"], true, false);
  }

  canWrite(db: TokenTarget): boolean {
    return this.check(db, ["rw", "rwa", "ddl"], false);
  }

  canAttach(db: TokenTarget): boolean {
    if (this.claims === undefined) return true;
    return this.inScopes(db, ["roa", "rwa"]);
  }

  canDdl(db: TokenTarget): boolean {
    if (this.claims === undefined) return true;
    return this.inScopes(db, ["ddl"]);
  }

  private check(
    db: TokenTarget,
    scopes: readonly ScopeName[],
    read: boolean,
    rotations = true,
  ): boolean {
    const c = this.claims;
    if (c === undefined) return true;
    if (rotations && this.rotatedOn?.(db) === true) return false;
    if (c.p !== undefined) return this.inScopes(db, scopes, rotations);
    // Legacy tokens (no `p`): level `a` on `id`, else on the group `gid`, else everywhere.
    const level = c.a ?? "rw";
    if (level !== "rw" && !(read && (level === "ro" || level === "roa"))) return false;
    if (c.id !== undefined) return c.id === db.id;
    if (c.gid !== undefined) return c.gid === db.groupId;
    return true;
  }

  private inScopes(db: TokenTarget, scopes: readonly ScopeName[], rotations = true): boolean {
    const p = this.claims?.p;
    if (p === undefined) return false;
    if (rotations && this.rotatedOn?.(db) === true) return false;
    for (const name of scopes) {
      const s = p[name];
      if (s === undefined) continue;
      if (s.ns?.includes(db.id) || s.gid?.includes(db.groupId)) return true;
    }
    return false;
  }
}

interface Rotations {
  /** Generation per database UUID (how many times its tokens were rotated). */
  databases: Record<string, number>;
  /** Generation per group UUID. */
  groups: Record<string, number>;
  /** Rotations so far, of all databases and groups together (absent before the first). */
  count?: number;
  /** The count each database's last rotation brought (absent for rotations before counting). */
  databaseAt?: Record<string, number>;
  /** The count each group's last rotation brought. */
  groupAt?: Record<string, number>;
}

/** Options of {@link TokenAuthority.open}. */
export interface TokenAuthorityOptions {
  /** The clock, in milliseconds since the epoch (tests move it). */
  readonly now?: () => number;
}

/** Mints and verifies tokens with the platform's Ed25519 key pair. */
export class TokenAuthority {
  /** Rotations in progress, one after another (each stores the state the one before left). */
  private rotating: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private rotations: Rotations,
    private readonly now: () => number,
  ) {}

  /** Loads the key pair and rotation state from `storage`, creating the key pair on first use. */
  static async open(
    storage: Storage,
    options: TokenAuthorityOptions = {},
  ): Promise<TokenAuthority> {
    let jwks = await loadJson<{ privateJwk: JWK; publicJwk: JWK }>(storage, keys.authJwtKeys());
    if (jwks === undefined) {
      const pair = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
      jwks = {
        privateJwk: await exportJWK(pair.privateKey),
        publicJwk: await exportJWK(pair.publicKey),
      };
      await storage.save(keys.authJwtKeys(), new TextEncoder().encode(JSON.stringify(jwks)));
    }
    const privateKey = (await importJWK(jwks.privateJwk, "EdDSA")) as CryptoKey;
    const publicKey = (await importJWK(jwks.publicJwk, "EdDSA")) as CryptoKey;
    const rotations = (await loadJson<Rotations>(storage, keys.authRotations())) ?? {
      databases: {},
      groups: {},
    };
    return new TokenAuthority(
      storage,
      privateKey,
      publicKey,
      rotations,
      options.now ?? (() => Date.now()),
    );
  }

  /** A token for one database (its UUID `db.id`, in the group with UUID `db.groupId`). */
  async mintDatabaseToken(db: TokenTarget, options: MintOptions = {}): Promise<string> {
    const level = authorizationLevel(options.authorization);
    const attach = [db.id, ...(options.attach ?? []).filter((id) => id !== db.id)];
    const p: Partial<Record<ScopeName, TokenScope>> = {
      [level]: { ns: [db.id] },
      roa: { ns: attach },
    };
    return this.sign(
      {
        a: level,
        id: db.id,
        gid: db.groupId,
        p,
        gen: {
          d: this.rotations.databases[db.id] ?? 0,
          g: this.rotations.groups[db.groupId] ?? 0,
          r: this.rotations.count ?? 0,
        },
      },
      options.expiration,
    );
  }

  /** A token for every database of a group (UUID `groupId`). */
  async mintGroupToken(groupId: string, options: MintOptions = {}): Promise<string> {
    const level = authorizationLevel(options.authorization);
    const p: Partial<Record<ScopeName, TokenScope>> = {
      [level]: { gid: [groupId] },
      roa: { gid: [groupId], ...(options.attach?.length ? { ns: [...options.attach] } : {}) },
    };
    return this.sign(
      {
        a: level,
        gid: groupId,
        p,
        gen: { g: this.rotations.groups[groupId] ?? 0, r: this.rotations.count ?? 0 },
      },
      options.expiration,
    );
  }

  /**
   * Invalidates, on the database with UUID `id`, every token minted so far: its own database
   * tokens everywhere, and group tokens (or other databases' attach grants) on it.
   */
  rotateDatabase(id: string): Promise<void> {
    return this.rotate((r) => {
      r.databases[id] = (r.databases[id] ?? 0) + 1;
      r.count = (r.count ?? 0) + 1;
      r.databaseAt = { ...r.databaseAt, [id]: r.count };
    });
  }

  /** Invalidates every token minted so far for the group with UUID `id` and its databases. */
  rotateGroup(id: string): Promise<void> {
    return this.rotate((r) => {
      r.groups[id] = (r.groups[id] ?? 0) + 1;
      r.count = (r.count ?? 0) + 1;
      r.groupAt = { ...r.groupAt, [id]: r.count };
    });
  }

  /**
   * One rotation, after those already asked for: it takes effect once it is stored, so one whose
   * save fails (a full disk) changes nothing — its tokens keep working, now and after a restart,
   * as the caller is told (no tokens stopped until the next start, then back).
   */
  private rotate(change: (next: Rotations) => void): Promise<void> {
    const run = this.rotating.then(async () => {
      const next = structuredClone(this.rotations);
      change(next);
      // A rotation must go through on a full disk, as a revocation (see SaveOptions.reserve).
      await this.storage.save(
        keys.authRotations(),
        new TextEncoder().encode(JSON.stringify(next)),
        {
          reserve: true,
        },
      );
      this.rotations = next;
    });
    this.rotating = run.catch(() => undefined);
    return run;
  }

  /**
   * Checks that verified permissions still hold on `target` now, for a session that keeps them
   * between requests (a WebSocket) and for a request's database: `AUTH_JWT_EXPIRED` once the
   * token's `exp` has passed, `AUTH_JWT_INVALID` when the token's, the database's or the group's
   * tokens were rotated after it was minted. Full access (auth off) always holds. A token that
   * never covered `target` is left to the caller's permission check (`AUTH_FORBIDDEN`).
   */
  assertCurrent(permissions: Permissions, target: TokenTarget): void {
    const claims = permissions.tokenClaims;
    if (claims === undefined) return;
    if (claims.exp !== undefined && this.now() / 1000 >= claims.exp) throw expired();
    if (this.rotatedSince(claims)) throw rotated();
    if (this.rotatedOn(claims, target) && permissions.coversRead(target)) throw rotated();
  }

  /**
   * Verifies an `Authorization` header value (`Bearer <jwt>`, scheme case-insensitive).
   * Missing → `AUTH_HEADER_NOT_FOUND`; anything but Bearer → `AUTH_HEADER_MALFORMED`.
   */
  async verifyHeader(header: string | null | undefined): Promise<Permissions> {
    if (header === null || header === undefined || header.trim() === "") {
      throw new TenantliteError(
        "AUTH_HEADER_NOT_FOUND",
        "Expected authorization header but none given",
      );
    }
    const space = header.indexOf(" ");
    const scheme = space < 0 ? header : header.slice(0, space);
    if (space < 0 || scheme.toLowerCase() !== "bearer") {
      throw new TenantliteError(
        "AUTH_HEADER_MALFORMED",
        "The authorization header must be `Bearer <token>`",
      );
    }
    return this.verify(header.slice(space + 1).trim());
  }

  /** Verifies a JWT: EdDSA only, signature, `exp`, rotation generations. */
  async verify(token: string): Promise<Permissions> {
    if (typeof token !== "string" || token === "") {
      throw new TenantliteError("AUTH_HEADER_NOT_FOUND", "Expected a JWT but none given");
    }
    let claims: TokenClaims;
    try {
      const result = await jwtVerify(token, this.publicKey, {
        algorithms: ["EdDSA"],
        currentDate: new Date(this.now()),
      });
      claims = result.payload as TokenClaims;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === "ERR_JWT_EXPIRED") throw expired();
      throw new TenantliteError("AUTH_JWT_INVALID", "The JWT is invalid");
    }
    if (!wellFormed(claims)) {
      throw new TenantliteError("AUTH_JWT_INVALID", "The JWT is invalid: malformed claims");
    }
    if (this.rotatedSince(claims)) throw rotated();
    return Permissions.fromClaims(claims, (db) => this.rotatedOn(claims, db));
  }

  /** Whether the token's own database or group had its tokens rotated after it was minted. */
  private rotatedSince(claims: TokenClaims): boolean {
    const gen = claims.gen ?? {};
    return (
      (claims.id !== undefined && (gen.d ?? 0) !== (this.rotations.databases[claims.id] ?? 0)) ||
      (claims.gid !== undefined && (gen.g ?? 0) !== (this.rotations.groups[claims.gid] ?? 0))
    );
  }

  /** Whether database `db` or its group had its tokens rotated after the token was minted. */
  private rotatedOn(claims: TokenClaims, db: TokenTarget): boolean {
    const r = this.rotations;
    const minted = claims.gen?.r ?? 0;
    return minted < (r.databaseAt?.[db.id] ?? 0) || minted < (r.groupAt?.[db.groupId] ?? 0);
  }

  private async sign(claims: TokenClaims, expiration: string | undefined): Promise<string> {
    const seconds = parseExpiration(expiration);
    const iat = Math.floor(this.now() / 1000);
    const jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
      .setIssuedAt(iat);
    if (seconds !== undefined) jwt.setExpirationTime(iat + seconds);
    return jwt.sign(this.privateKey);
  }
}

const UNITS: Record<string, number> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/**
 * Seconds until expiry for a Platform API `expiration` (`never`/`none`/`default`/empty → no
 * expiry; `[0-9]+(w|d|h|m|s)` repeated, e.g. `2w1d30m`); `INVALID_EXPIRATION` otherwise.
 */
export function parseExpiration(expiration: string | undefined | null): number | undefined {
  if (expiration === undefined || expiration === null) return undefined;
  const text = expiration.trim().toLowerCase();
  if (text === "" || text === "never" || text === "none" || text === "default") return undefined;
  if (!/^(\d{1,9}[wdhms])+$/.test(text)) {
    throw new TenantliteError("INVALID_EXPIRATION", "Invalid expiration format");
  }
  let total = 0;
  for (const m of text.matchAll(/(\d+)([wdhms])/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  if (total <= 0) {
    throw new TenantliteError("INVALID_EXPIRATION", "Invalid expiration format");
  }
  return total;
}

function expired(): TenantliteError {
  return new TenantliteError("AUTH_JWT_EXPIRED", "The JWT has expired");
}

function rotated(): TenantliteError {
  return new TenantliteError(
    "AUTH_JWT_INVALID",
    "The JWT is invalid: its tokens were rotated after it was issued (mint a new token)",
  );
}

function authorizationLevel(authorization: string | undefined): "rw" | "ro" {
  if (authorization === undefined || authorization === "" || authorization === "full-access") {
    return "rw";
  }
  if (authorization === "read-only") return "ro";
  throw new TenantliteError(
    "INVALID_AUTHORIZATION",
    'Invalid authorization: use "full-access" or "read-only"',
  );
}

function wellFormed(c: TokenClaims): boolean {
  const str = (v: unknown) => v === undefined || typeof v === "string";
  if (!str(c.a) || !str(c.id) || !str(c.gid)) return false;
  if (c.p !== undefined) {
    if (c.p === null || typeof c.p !== "object" || Array.isArray(c.p)) return false;
    for (const s of Object.values(c.p)) {
      if (s === null || typeof s !== "object") return false;
      const list = (v: unknown) =>
        v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));
      if (!list((s as TokenScope).ns) || !list((s as TokenScope).gid)) return false;
    }
  }
  if (c.gen !== undefined && (c.gen === null || typeof c.gen !== "object")) return false;
  return true;
}

async function loadJson<T>(storage: Storage, key: string): Promise<T | undefined> {
  const bytes = await storage.load(key);
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as T;
  } catch (e) {
    throw new TenantliteError("AUTH_STATE_CORRUPT", `stored auth state ${key} is not valid JSON`, {
      cause: e,
    });
  }
}
