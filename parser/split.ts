import { K, Semi, type Token } from "./tokens.js";

/** A statement as a half-open range of token indexes, the closing `;` excluded. */
export interface TokenRange {
  readonly from: number;
  readonly to: number;
  /** Whether a `;` closed the statement (else it ran to the end of input). */
  readonly closed: boolean;
}

function startsTrigger(toks: readonly Token[], i: number): boolean {
  if (toks[i]?.tokenType === K.EXPLAIN) {
    i++;
    if (toks[i]?.tokenType === K.QUERY) i += 2;
  }
  if (toks[i]?.tokenType !== K.CREATE) return false;
  i++;
  if (toks[i]?.tokenType === K.TEMP) i++;
  return toks[i]?.tokenType === K.TRIGGER;
}

/**
 * Splits a token stream at top-level `;`. Inside a trigger body (after CREATE TRIGGER … BEGIN)
 * only `; END ;` ends the statement, as in sqlite3_complete; strings, quoted names and comments
 * are single tokens already, and CASE … END holds no `;`. Empty statements are dropped.
 */
export function splitTokens(toks: readonly Token[]): TokenRange[] {
  const out: TokenRange[] = [];
  let from = 0;
  let trigger = startsTrigger(toks, 0);
  let inBody = false;
  for (let i = 0; i < toks.length; i++) {
    const type = toks[i]!.tokenType;
    if (trigger && !inBody && type === K.BEGIN) inBody = true;
    if (type !== Semi) continue;
    if (inBody) {
      const prev = toks[i - 1]?.tokenType;
      const prev2 = toks[i - 2]?.tokenType;
      if (!(prev === K.END && (prev2 === Semi || prev2 === K.BEGIN))) continue;
    }
    if (i > from) out.push({ from, to: i, closed: true });
    from = i + 1;
    trigger = startsTrigger(toks, from);
    inBody = false;
  }
  if (toks.length > from) out.push({ from, to: toks.length, closed: false });
  return out;
}
