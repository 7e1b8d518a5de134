/**
 * Opens the origin's engine: takes the engine lock first (so two engines never run at once, even
 * while a closing leader's worker still lives), then a Platform over IndexedDB with strict
 * durability (a write is answered once saved). Used by the worker and by the in-page mode.
 */
import { Platform } from "../platform/platform.js";
import { EngineHost } from "./engine-host.js";
import { IdbStorage } from "./idb-storage.js";
import type { EngineEvent } from "./rpc.js";

/** What the leader tab sends first. */
export interface EngineInit {
  readonly type: "init";
  readonly lockName: string;
  readonly wasmUrl: string;
  readonly dbName: string;
  readonly storeName: string;
  readonly platform: EnginePlatformOptions;
}

/** Platform options that can cross to the worker. */
export interface EnginePlatformOptions {
  readonly maxOpenTenants?: number;
  readonly busyTimeoutMs?: number;
  readonly transactionTimeoutMs?: number;
  readonly defaultGroup?: string;
  readonly maxOpenBytes?: number;
}

/** Opens the engine under the lock; resolves with its host once the lock is held. */
export function openEngine(
  init: EngineInit,
  emit: (event: EngineEvent) => void,
): Promise<EngineHost> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks === undefined) return open(init, emit);
  return new Promise<EngineHost>((resolve, reject) => {
    locks
      .request(init.lockName, { mode: "exclusive" }, async () => {
        let host: EngineHost;
        try {
          host = await open(init, emit);
        } catch (e) {
          reject(e);
          return;
        }
        resolve(host);
        // Held for the engine's lifetime: until it is closed, or its page or worker ends.
        await host.closed;
      })
      .catch(reject);
  });
}

async function open(init: EngineInit, emit: (event: EngineEvent) => void): Promise<EngineHost> {
  const platform = await Platform.create({
    ...init.platform,
    storage: new IdbStorage({ dbName: init.dbName, storeName: init.storeName }),
    durability: "strict",
    sqlJs: { locateFile: () => init.wasmUrl },
  });
  return new EngineHost(platform, emit);
}
