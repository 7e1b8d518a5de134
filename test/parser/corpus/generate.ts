// Combinatorial statement generators over the grammar's rules (deterministic).
export function generated(_seeds: readonly string[]): string[] {
  return [];
}
