import "./sql-wasm.js";
import {
  createPlatform as createNeutralPlatform,
  type Platform,
  type PlatformOptions,
} from "../platform/platform.js";
import { createMigrationThreads } from "./migration-threads.js";

/**
 * `createPlatform` for Node: as the neutral one, plus worker threads for the children's dry runs
 * of schema migrations (started only when a job has many children; `migrationThreads: null`
 * turns them off).
 */
export function createPlatform(options: PlatformOptions = {}): Promise<Platform> {
  return createNeutralPlatform(
    options.migrationThreads !== undefined
      ? options
      : { ...options, migrationThreads: createMigrationThreads() },
  );
}
