#!/usr/bin/env node
// The `tenantlite` command: runs the bundle built from src/node/main.ts (npm run build).
import { existsSync } from "node:fs";

const bundle = new URL("../dist/tenantlite.js", import.meta.url);
if (!existsSync(bundle)) {
  console.error("tenantlite: dist/tenantlite.js is missing; run `npm run build` first");
  process.exit(1);
}
await import(bundle.href);
