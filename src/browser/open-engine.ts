/**
 * Opens the origin's engine: takes the engine lock first (so two engines never run at once, even
 * while a closing leader's worker still lives), then a Platform over IndexedDB with strict
 * durability (a write is answered once saved). Used by the worker and by the in-page mode.
 */
import { createPlatform } from "../platform/platform.js";
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
  return new Promise<EngineHost>((resolve, reject) => {
    navigator.locks
      .request(init.lockName, { mode: "exclusive" }, async () => {
        let host: EngineHost;
        try {
          const platform = await createPlatform({
            ...init.platform,
            storage: new IdbStorage({ dbName: init.dbName, storeName: init.storeName }),
            durability: "strict",
            sqlJs: { locateFile: () => init.wasmUrl },
          });
          host = new EngineHost(platform, emit);
        } catch (e) {
          reject(e);
          return;
        }
        resolve(host);
        // Held for the engine's lifetime: released when its context ends.
        await new Promise<never>(() => undefined);
      })
      .catch(reject);
  });
}
