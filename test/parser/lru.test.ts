import { describe, expect, it } from "vitest";
import { Lru } from "../../parser/lru.js";

describe("Lru (the classify cache)", () => {
  it("never holds more than its capacity", () => {
    const lru = new Lru<number, number>(10);
    for (let i = 0; i < 1000; i++) {
      lru.set(i, i);
      expect(lru.size).toBeLessThanOrEqual(10);
    }
    // The last capacity/2 entries added are all still there.
    for (let i = 995; i < 1000; i++) expect(lru.get(i)).toBe(i);
  });

  it("keeps an entry that is used, and evicts one that is not", () => {
    const lru = new Lru<string, number>(10);
    lru.set("hot", 1);
    lru.set("cold", 2);
    for (let i = 0; i < 100; i++) {
      lru.set(`k${i}`, i);
      expect(lru.get("hot")).toBe(1);
    }
    expect(lru.get("cold")).toBeUndefined();
    expect(lru.size).toBeLessThanOrEqual(10);
  });

  it("evicts an entry only after capacity/2 others were added since its last use", () => {
    const lru = new Lru<string, number>(8);
    lru.set("a", 0);
    for (let i = 0; i < 4; i++) lru.set(`k${i}`, i);
    expect(lru.get("a")).toBe(0); // 4 added since: still there (and used again now)
    for (let i = 4; i < 8; i++) lru.set(`k${i}`, i);
    expect(lru.get("a")).toBe(0);
    for (let i = 8; i < 20; i++) lru.set(`k${i}`, i);
    expect(lru.get("a")).toBeUndefined();
  });

  it("replaces a value in place, and clears", () => {
    const lru = new Lru<string, number>(4);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.set("c", 3); // a and b move to the previous generation
    lru.set("a", 10);
    expect(lru.get("a")).toBe(10);
    expect(lru.size).toBe(3);
    lru.clear();
    expect(lru.size).toBe(0);
    expect(lru.get("b")).toBeUndefined();
  });
});
