// Placeholder until the web console lands: `npm run build:web` bundles web/ into web/dist.
import { existsSync } from "node:fs";

if (!existsSync("web/src/main.ts")) {
  console.log("build:web: no web console yet (web/src/main.ts)");
}
