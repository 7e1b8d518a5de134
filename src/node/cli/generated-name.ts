/**
 * A name for `db create` without one: adjective-noun in lowercase, as turso generates them
 * (e.g. `brave-otter`), drawn with crypto randomness.
 */
import { randomInt } from "node:crypto";

// biome-ignore format: a word list reads better in rows
const ADJECTIVES = [
  "amber", "bold", "brave", "bright", "calm", "clever", "cosmic", "crisp", "curious", "daring",
  "eager", "fancy", "fast", "gentle", "giant", "glad", "golden", "grand", "happy", "honest",
  "humble", "jolly", "keen", "kind", "lively", "lucky", "merry", "mighty", "misty", "noble",
  "polite", "proud", "quick", "quiet", "rapid", "royal", "shiny", "silent", "smart", "snowy",
  "solid", "stellar", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "zesty",
] as const;

// biome-ignore format: a word list reads better in rows
const NOUNS = [
  "badger", "beacon", "bison", "canyon", "cedar", "comet", "coral", "crane", "delta", "dolphin",
  "ember", "falcon", "fern", "fjord", "forest", "galaxy", "gecko", "glacier", "harbor", "heron",
  "island", "jaguar", "kestrel", "lagoon", "lantern", "lynx", "maple", "meadow", "meteor", "nebula",
  "orbit", "otter", "owl", "panda", "pebble", "pine", "planet", "puffin", "quartz", "raven",
  "reef", "river", "robin", "saturn", "sparrow", "summit", "thunder", "tiger", "walrus", "willow",
] as const;

/** One random adjective-noun name (2,500 of them; callers retry on a clash). */
export function generatedName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}`;
}

/**
 * A generated name no database has yet, asking `exists` (a few tries, then the last one: the
 * create reports the clash).
 */
export async function freshName(exists: (name: string) => Promise<boolean>): Promise<string> {
  let name = generatedName();
  for (let i = 0; i < 8 && (await exists(name)); i++) name = generatedName();
  return name;
}
