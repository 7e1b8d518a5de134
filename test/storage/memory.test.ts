import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { describeStorageConformance } from "./conformance.js";

describeStorageConformance("memory", () => new MemoryStorage());
