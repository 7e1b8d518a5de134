import { createClient } from "@libsql/client";
import { describe, expect, it } from "vitest";
import { createPlatform } from "../../src/index.js";
import { steps } from "./differential.scenario.js";

/**
 * Point 6 of the foundation issue: the same scenario through tenantlite's in-process client and
 * through @libsql/client on `:memory:` gives equal results, step by step, in every intMode.
 */
describe.each(["number", "bigint", "string"] as const)(
  "differential vs @libsql/client (intMode %s)",
  (intMode) => {
    it("every step matches", async () => {
      const platform = await createPlatform();
      await platform.createDatabase("diff");
      const ours = platform.client("diff", { intMode });
      const theirs = createClient({ url: ":memory:", intMode });
      const mismatches: string[] = [];
      for (const step of steps) {
        const a = await step.run(ours as never);
        const b = await step.run(theirs);
        try {
          expect(a).toEqual(b);
        } catch {
          mismatches.push(
            `${step.name}\n  ours:   ${JSON.stringify(a)}\n  libsql: ${JSON.stringify(b)}`,
          );
        }
      }
      theirs.close();
      await platform.close();
      expect(mismatches.join("\n")).toBe("");
    });
  },
);
