// Neutral code (everything under src/ except src/node and src/browser, plus parser/) must run in
// both Node and browsers: no `node:*` imports, no Node globals, no DOM or IndexedDB globals.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const roots = ["src", "parser"];
const excluded = new Set(["src/node", "src/browser"]);
const forbidden = [
  [/from\s+["']node:/, "imports a node:* module"],
  [/import\(\s*["']node:/, "imports a node:* module"],
  [/require\(/, "uses require()"],
  [/\bprocess\./, "touches process"],
  [/\bBuffer\b/, "uses Buffer"],
  [/\b(setImmediate|clearImmediate)\b/, "uses setImmediate (Node only: setTimeout works in both)"],
  [/\b__dirname\b|\b__filename\b/, "uses __dirname/__filename"],
  [/\b(window|document|navigator|localStorage|sessionStorage)\s*[.[]/, "touches a DOM global"],
  [/\bindexedDB\b|\bIDBDatabase\b|\bIDBKeyRange\b/, "touches IndexedDB"],
];

const problems = [];
function walk(dir) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (excluded.has(rel) || name === "node_modules") continue;
    if (statSync(join(root, rel)).isDirectory()) walk(rel);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) check(rel);
  }
}
function check(rel) {
  const lines = readFileSync(join(root, rel), "utf8").split("\n");
  lines.forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    if (/^\s*\*/.test(code)) return; // JSDoc lines
    for (const [re, what] of forbidden) {
      if (re.test(code)) problems.push(`${rel}:${i + 1}: neutral code ${what}: ${line.trim()}`);
    }
  });
}
for (const r of roots) walk(r);
if (problems.length > 0) {
  console.error(problems.join("\n"));
  console.error(`check-neutral: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`check-neutral: ok (${relative(root, root) || "."})`);
