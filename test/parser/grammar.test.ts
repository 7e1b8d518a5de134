import { describe, expect, it } from "vitest";

describe("grammar definition", () => {
  it("has no definition errors other than the intended keyword-first ambiguities", async () => {
    (globalThis as { __VALIDATE__?: boolean }).__VALIDATE__ = true;
    const { SqliteParser } = await import("../../parser/grammar.js");
    let message = "";
    try {
      new SqliteParser();
    } catch (e) {
      message = String((e as Error).message);
    } finally {
      (globalThis as { __VALIDATE__?: boolean }).__VALIDATE__ = false;
    }
    const problems = message
      .split("-------------------------------")
      .map((p) => p.replace(/\s+/g, " ").trim())
      .filter((p) => p !== "" && !p.startsWith("See:"));
    // Keyword meaning first, as Lemon's %fallback does: listed so new ones are deliberate.
    const intended: [string, string][] = [
      ["UNBOUNDED", "frameBound"],
      ["CURRENT", "frameBound"],
      ["WITH", "inTail"],
      ["CAST", "primary"],
      ["RAISE", "primary"],
      ["WITH", "primary"],
      ["WITHOUT", "tableOption"],
    ];
    const unexpected = problems.filter(
      (p) =>
        !intended.some(
          ([tok, rule]) => p.includes(`<${tok}> may`) && p.includes(`inside <${rule}> Rule`),
        ),
    );
    expect(unexpected).toEqual([]);
  });
});
