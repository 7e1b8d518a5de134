/** A server under test in a child process (bench/server/child.ts), with its CPU time on request. */
import { type ChildProcess, fork } from "node:child_process";

export interface ServerProcess {
  readonly url: string;
  /** The child's process id (its threads' CPU times are in /proc/<pid>/task/). */
  readonly pid: number;
  /** The child's user + system CPU time so far (µs). */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts `kind` (`tenantlite`, `native`, `floor`) on `dir` ("" for memory); tenantlite with
 * `workers` tenant threads when given (else its default, the machine's cores).
 */
export async function startServerProcess(
  kind: string,
  dir = "",
  workers?: number,
): Promise<ServerProcess> {
  const args = [
    "bench/server/child.ts",
    kind,
    dir,
    ...(workers === undefined ? [] : [`${workers}`]),
  ];
  const child: ChildProcess = fork("scripts/run-ts.mjs", args, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the servers.
    execArgv: (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter((a) => a !== ""),
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: unknown) => {
        child.off("exit", onExit);
        resolve(m as Record<string, unknown>);
      };
      const onExit = (code: number | null) => {
        child.off("message", onMessage);
        reject(new Error(`server process ${kind} exited (${code})`));
      };
      child.once("message", onMessage);
      child.once("exit", onExit);
    });
  const { url } = (await next()) as { url: string };
  return {
    url,
    pid: child.pid!,
    async cpu() {
      const reply = next();
      child.send("cpu");
      return (await reply).cpu as number;
    },
    close() {
      return new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.send("exit");
      });
    },
  };
}
