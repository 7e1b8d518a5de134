// Runs the storage conformance suite (test/storage/conformance.ts, unchanged) against IdbStorage
// on the page's real IndexedDB; the Node test reads `window.conformanceResults`.
import { IdbStorage } from "../../../src/browser/idb-storage.js";
import type { Storage } from "../../../src/storage/storage.js";
import { describeStorageConformance } from "../../storage/conformance.js";
import { type CaseResult, runAll } from "./vitest-shim.js";

declare global {
  interface Window {
    conformanceResults?: CaseResult[];
    conformanceError?: string;
  }
}

let counter = 0;
const names = new WeakMap<Storage, string>();
const make = (dbName: string): IdbStorage => {
  const storage = new IdbStorage({ dbName });
  names.set(storage, dbName);
  return storage;
};

describeStorageConformance("indexeddb (Chromium)", () => make(`conformance-${counter++}`), {
  reopen: async (closed) => make(names.get(closed)!),
});

runAll().then(
  (results) => {
    window.conformanceResults = results;
  },
  (e: unknown) => {
    window.conformanceError = String(e);
  },
);
