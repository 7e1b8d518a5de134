import "fake-indexeddb/auto";
import { describeIdbConformance } from "./idb-conformance.js";

describeIdbConformance("indexeddb", "tenantlite-test-");
