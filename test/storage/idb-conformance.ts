// The storage conformance suite for IdbStorage, shared by the Node run (fake-indexeddb,
// test/storage/idb.test.ts) and the real-Chromium page (test/browser/page/conformance-page.ts).
import { IdbStorage } from "../../src/browser/idb-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { describeStorageConformance } from "./conformance.js";

/** Registers the suite: each storage is a fresh IndexedDB database, reopened by its name. */
export function describeIdbConformance(label: string, dbNamePrefix: string): void {
  let counter = 0;
  const names = new WeakMap<Storage, string>();
  const make = (dbName: string): IdbStorage => {
    const storage = new IdbStorage({ dbName });
    names.set(storage, dbName);
    return storage;
  };
  describeStorageConformance(label, () => make(`${dbNamePrefix}${counter++}`), {
    reopen: async (closed) => make(names.get(closed)!),
  });
}
