// Runs the storage conformance suite (test/storage/conformance.ts, unchanged) against IdbStorage
// on the page's real IndexedDB; the Node test reads `window.conformanceResults`.
import { describeIdbConformance } from "../../storage/idb-conformance.js";
import { type CaseResult, runAll } from "./vitest-shim.js";

declare global {
  interface Window {
    conformanceResults?: CaseResult[];
    conformanceError?: string;
  }
}

describeIdbConformance("indexeddb (Chromium)", "conformance-");

runAll().then(
  (results) => {
    window.conformanceResults = results;
  },
  (e: unknown) => {
    window.conformanceError = String(e);
  },
);
