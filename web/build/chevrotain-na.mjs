// Stands in for chevrotain's lexer module (scan/lexer_public.js) where chevrotain's parser side
// imports it only for the constant `Lexer.NA` (the EOF token and the grammar recorder's token).
// tenantlite tokenizes with its own lexer (parser/lexer.ts) and never builds a chevrotain Lexer,
// so the browser bundle leaves out the Lexer class and the regular-expression analyser it pulls
// in (~35 KB minified). The value is the same as chevrotain's own: a pattern that matches nothing
// the parser ever reads. test/browser/lodash-lite.test.ts checks the parser behaves identically.
export const Lexer = { NA: /NOT_APPLICABLE/ };
