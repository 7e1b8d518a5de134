/**
 * URLs as the CLI takes them (`--url`, `db shell <url>`): the forms `@libsql/client` and turso
 * accept — `http(s)://`, `ws(s)://` and `libsql://` (TLS unless `?tls=0`) — all turned into the
 * `http(s)://` URL the CLI talks to. Messages never repeat a URL's query: it may hold a token.
 */
import { TenantliteError } from "../../errors.js";

/** A URL the CLI can talk to. */
export interface TargetUrl {
  /** `http:` or `https:`, without query or fragment. */
  readonly url: URL;
  /** A database token given in the query (`authToken`, `auth_token` or `jwt`, as turso reads). */
  readonly authToken: string | undefined;
}

/**
 * Parses `input` (the value of `what`, e.g. "--url").
 * @example parseTargetUrl("libsql://127.0.0.1:8080?tls=0", "--url").url.href // "http://127.0.0.1:8080/"
 */
export function parseTargetUrl(input: string, what: string): TargetUrl {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new TenantliteError(
      "ARGS_INVALID",
      `${what} is not a URL; give one such as http://127.0.0.1:8080`,
    );
  }
  const q = url.searchParams;
  const tokens = ["authToken", "auth_token", "jwt"].filter((k) => q.has(k));
  if (tokens.length > 1) {
    throw new TenantliteError(
      "ARGS_INVALID",
      `${what} has more than one of the query parameters authToken, auth_token and jwt; keep one`,
    );
  }
  const authToken = tokens.length === 1 ? q.get(tokens[0]!) || undefined : undefined;
  const tls = q.get("tls");
  let scheme: "http:" | "https:";
  switch (url.protocol) {
    case "http:":
    case "ws:":
      scheme = "http:";
      break;
    case "https:":
    case "wss:":
      scheme = "https:";
      break;
    case "libsql:":
      if (tls === "0") scheme = "http:";
      else if (tls === null || tls === "1") scheme = "https:";
      else {
        throw new TenantliteError(
          "ARGS_INVALID",
          `the tls parameter of ${what} takes 0 or 1, not ${JSON.stringify(tls.slice(0, 20))}`,
        );
      }
      if (scheme === "https:" && isLocal(url.hostname)) {
        throw new TenantliteError(
          "URL_TLS_MISMATCH",
          `${what} is a libsql:// URL, which means TLS unless it ends with ?tls=0, but a local server (${url.host}) speaks plain HTTP: add ?tls=0 (libsql://${url.host}${url.pathname === "/" ? "" : url.pathname}?tls=0) or use http://${url.host}`,
        );
      }
      break;
    default:
      throw new TenantliteError(
        "ARGS_INVALID",
        `${what} must start with http://, https://, ws://, wss:// or libsql://, not ${JSON.stringify(url.protocol.slice(0, 20))}`,
      );
  }
  if (url.username !== "" || url.password !== "") {
    throw new TenantliteError(
      "ARGS_INVALID",
      `${what} must not hold a user name or password; pass tokens with --token or ?authToken=`,
    );
  }
  const out = new URL(`${scheme}//${url.host}${url.pathname}`);
  return { url: out, authToken };
}

/** Whether `s` looks like a URL rather than a database name (names cannot hold ":"). */
export function looksLikeUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

/** Loopback addresses, `localhost` and its subdomains (`acme.localhost`). */
function isLocal(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h)
  );
}
