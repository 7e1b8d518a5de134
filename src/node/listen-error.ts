/**
 * The coded errors for a server that cannot listen (instead of Node's bare `listen EADDRINUSE`):
 * what was wrong with the port or address and what to do about it.
 */
import { TenantliteError } from "../errors.js";

/**
 * The error `listen(port, host)` failing with `e` becomes: `PORT_IN_USE`, `PORT_NOT_ALLOWED` or
 * `HOST_INVALID`; anything else is returned as it was.
 * @example listenError(Object.assign(new Error(), { code: "EADDRINUSE" }), "127.0.0.1", 8080).code // "PORT_IN_USE"
 */
export function listenError(e: unknown, host: string, port: number): unknown {
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  switch (code) {
    case "EADDRINUSE":
      return new TenantliteError(
        "PORT_IN_USE",
        `port ${port} is in use on ${host}; stop the other server or choose another port (0 picks a free one)`,
        { cause: e },
      );
    case "EACCES":
      return new TenantliteError(
        "PORT_NOT_ALLOWED",
        `this user may not listen on port ${port} of ${host} (ports below 1024 usually need root); choose a port from 1024 up (0 picks a free one)`,
        { cause: e },
      );
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new TenantliteError(
        "HOST_INVALID",
        `cannot listen on ${JSON.stringify(host.slice(0, 100))}: it is not an address of this machine; use 127.0.0.1 (the default)`,
        { cause: e },
      );
    default:
      return e;
  }
}
