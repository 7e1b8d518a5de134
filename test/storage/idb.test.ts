import "fake-indexeddb/auto";
import { IdbStorage } from "../../src/browser/idb-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { describeStorageConformance } from "./conformance.js";

let counter = 0;
const names = new WeakMap<Storage, string>();
const make = (dbName: string): IdbStorage => {
  const storage = new IdbStorage({ dbName });
  names.set(storage, dbName);
  return storage;
};

describeStorageConformance("indexeddb", () => make(`tenantlite-test-${counter++}`), {
  reopen: async (closed) => make(names.get(closed)!),
});
