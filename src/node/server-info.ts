/**
 * What a server on a data directory leaves next to the directory's lock: its URL and, when auth is
 * on, its Platform API token. A CLI command that finds the directory locked by that server reads
 * it and talks to the server instead of failing with `STORAGE_LOCKED`.
 *
 * The file holds a secret (the API token), so it is written with mode 0600: the data directory's
 * owner — who can read every database in it anyway — may read it, nobody else. It is removed when
 * the server closes; one left by a server that died is ignored, because its pid no longer holds
 * the directory's lock (see {@link findServer}).
 */
import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { readLockHolder } from "./dir-lock.js";

/** The file's name: "~" keeps it out of the storage's key space, like the lock. */
const INFO_NAME = ".~tl-server";

/** A server found on a data directory. */
export interface ServerInfo {
  /** The process that runs it (the one holding the directory's lock). */
  readonly pid: number;
  /** A URL a client on this machine can reach it at, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Its Platform API token, when auth is on. */
  readonly apiToken?: string;
}

/**
 * Records the server listening on `address` for the data directory `root` (called once it
 * listens). Best effort: a directory the server could lock is writable, and a failure here only
 * costs the CLI its shortcut.
 */
export function writeServerInfo(
  root: string,
  address: { address: string; family: string; port: number },
  apiToken: string | undefined,
): void {
  const info: ServerInfo & { host: string } = {
    pid: process.pid,
    host: hostname(),
    url: `http://${reachableHost(address)}:${address.port}`,
    ...(apiToken === undefined ? {} : { apiToken }),
  };
  const dir = resolve(root);
  // A name the storage's start-up sweep removes should this process die between the two steps.
  const temp = join(dir, `.~tl-${randomBytes(8).toString("hex")}.tmp`);
  try {
    writeFileSync(temp, `${JSON.stringify(info)}\n`, { mode: 0o600, flag: "wx" });
    renameSync(temp, join(dir, INFO_NAME));
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      /* never written */
    }
  }
}

/** Removes the record of this process's server on `root` (when the server closes). */
export function removeServerInfo(root: string): void {
  const path = join(resolve(root), INFO_NAME);
  if (readInfo(path)?.pid !== process.pid) return; // another server's record: not ours to drop
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * The server that holds `root`'s lock right now, or undefined: when the directory is not locked,
 * is locked by something else (a CLI command, an application), or its record is missing, stale
 * (another pid) or not the current user's.
 */
export function findServer(root: string): ServerInfo | undefined {
  const holder = readLockHolder(root);
  if (holder === undefined || !holder.alive || holder.host !== hostname()) return undefined;
  const info = readInfo(join(resolve(root), INFO_NAME));
  if (info === undefined || info.pid !== holder.pid || info.host !== holder.host) return undefined;
  return {
    pid: info.pid,
    url: info.url,
    ...(info.apiToken === undefined ? {} : { apiToken: info.apiToken }),
  };
}

function readInfo(path: string): (ServerInfo & { host: string }) | undefined {
  try {
    // Only a record this user wrote is trusted: it says where the CLI sends its requests.
    if (typeof process.getuid === "function" && statSync(path).uid !== process.getuid()) {
      return undefined;
    }
    const v = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    if (typeof v.pid !== "number" || typeof v.host !== "string" || typeof v.url !== "string") {
      return undefined;
    }
    if (!/^http:\/\/[^/?#]+$/.test(v.url)) return undefined;
    if (v.apiToken !== undefined && typeof v.apiToken !== "string") return undefined;
    return {
      pid: v.pid,
      host: v.host,
      url: v.url,
      ...(typeof v.apiToken === "string" ? { apiToken: v.apiToken } : {}),
    };
  } catch {
    return undefined;
  }
}

/** A host a local client can connect to: the wildcard addresses are reached through loopback. */
function reachableHost(a: { address: string; family: string }): string {
  if (a.address === "0.0.0.0") return "127.0.0.1";
  if (a.address === "::") return "[::1]";
  return a.family === "IPv6" ? `[${a.address}]` : a.address;
}
