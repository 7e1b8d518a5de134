/**
 * Platform API tokens (Turso's `/v1/auth/api-tokens`): the token given at start (flag, env or
 * generated), valid for the run and never stored, plus tokens created through the API, kept
 * across restarts under `auth/api-tokens.json`. Only a token's SHA-256 is kept; the token itself
 * is shown once, when it is created. API tokens never expire.
 *
 * @example
 * const apiTokens = new ApiTokens(platform.storage, process.env.TURSO_API_TOKEN);
 * const { token } = await apiTokens.create("ci");
 * await apiTokens.accepts(token); // true
 */
import { TenantliteError } from "../../errors.js";
import { keys } from "../../storage/keyspace.js";
import type { Storage } from "../../storage/storage.js";
import { sha256Hex } from "../sha256.js";

/** Where tokens created through `/v1/auth/api-tokens` are kept across restarts. */

/** A created API token as listed: its id and name, never the token. */
export interface ApiTokenInfo {
  readonly id: string;
  readonly name: string;
}

/** A created API token as stored: only its SHA-256 is kept. */
interface StoredApiToken extends ApiTokenInfo {
  readonly hash: string;
}

/** The API tokens a server accepts. */
export class ApiTokens {
  private tokens = new Map<string, StoredApiToken>();
  /** Changes in progress, one after another (each starts from what the one before stored). */
  private changing: Promise<unknown> = Promise.resolve();
  /** The token given at start: valid for this run, never stored. */
  private readonly initialHash: Promise<string> | undefined;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly storage: Storage,
    initialToken: string | undefined,
  ) {
    if (initialToken !== undefined) this.initialHash = sha256Hex(initialToken);
  }

  /** Reads the stored tokens once; an unreadable file holds no usable token. */
  load(): Promise<void> {
    this.loaded ??= (async () => {
      const bytes = await this.storage.load(keys.authApiTokens());
      if (bytes === undefined) return;
      try {
        for (const t of JSON.parse(new TextDecoder().decode(bytes)) as StoredApiToken[]) {
          if (typeof t.name === "string" && typeof t.hash === "string") this.tokens.set(t.name, t);
        }
      } catch {
        /* an unreadable file holds no usable token */
      }
    })();
    return this.loaded;
  }

  /** Whether `token` is the start token or a live created one. */
  async accepts(token: string): Promise<boolean> {
    const hash = await sha256Hex(token);
    if (hash === (await this.initialHash)) return true;
    for (const t of this.tokens.values()) if (t.hash === hash) return true;
    return false;
  }

  /** The created tokens (the start token is not listed). */
  list(): ApiTokenInfo[] {
    return [...this.tokens.values()].map((t) => ({ id: t.id, name: t.name }));
  }

  /** Creates and stores token `name`; `API_TOKEN_EXISTS` when one has that name. */
  create(name: string): Promise<ApiTokenInfo & { readonly token: string }> {
    return this.change(async (next) => {
      if (next.has(name)) {
        throw new TenantliteError("API_TOKEN_EXISTS", "an API token with this name already exists");
      }
      const token = randomToken();
      const t = { id: crypto.randomUUID(), name, hash: await sha256Hex(token) };
      next.set(name, t);
      return { id: t.id, name: t.name, token };
    });
  }

  /** Revokes token `name`; false when there is none. */
  delete(name: string): Promise<boolean> {
    return this.change(async (next) => next.delete(name));
  }

  /**
   * One change, after those already asked for, on a copy of the tokens: it takes effect once
   * stored, so a change whose save fails (a full disk) changes nothing — no name taken by a token
   * nobody got, no revoked token that works again after a restart.
   */
  private change<T>(f: (next: Map<string, StoredApiToken>) => Promise<T>): Promise<T> {
    const run = this.changing.then(async () => {
      const next = new Map(this.tokens);
      const result = await f(next);
      if (next.size === this.tokens.size && [...next].every(([k, v]) => this.tokens.get(k) === v)) {
        return result; // nothing changed: nothing to store
      }
      const bytes = new TextEncoder().encode(JSON.stringify([...next.values()]));
      // A revocation must go through on a full disk (see SaveOptions.reserve).
      const reserve = [...this.tokens.keys()].some((k) => !next.has(k));
      await this.storage.save(keys.authApiTokens(), bytes, { reserve });
      this.tokens = next;
      return result;
    });
    this.changing = run.catch(() => undefined);
    return run;
  }
}

/** A random API token (base64url of 32 random bytes). */
export function randomToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
