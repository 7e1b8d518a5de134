#!/usr/bin/env node
// The `tenantlite` command: runs the bundle built from src/node/main.ts (npm run build), after
// checking the Node version (first, so that an old Node gets one clear line).
import { nodeVersionProblem } from "./node-version.js";

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  console.error(`error: ${problem}`);
  process.exit(1);
}
const { existsSync } = await import("node:fs");
const bundle = new URL("../dist/tenantlite.js", import.meta.url);
if (!existsSync(bundle)) {
  console.error(
    "error: BUILD_MISSING: dist/tenantlite.js is missing; run `npm run build` (npm install does it)",
  );
  process.exit(1);
}
await import(bundle.href);
