// Stands in for chevrotain's message providers (parse/errors_public.js) in the browser bundle.
// tenantlite reports a syntax error from the token where parsing stopped (SQLite's
// `near "x": syntax error`), never from chevrotain's text, so the parser's messages are one short
// string here. The grammar-problem messages are built only for a grammar with mistakes (duplicate
// or undefined rules, failed validations); tenantlite's grammar is checked in Node (test/parser),
// so in a browser they never run — should one be asked for, it says so.
const text = () => "syntax error";
export const defaultParserErrorProvider = Object.freeze({
  buildMismatchTokenMessage: text,
  buildNotAllInputParsedMessage: text,
  buildNoViableAltMessage: text,
  buildEarlyExitMessage: text,
});
function off() {
  throw new Error("chevrotain's grammar diagnostics are not part of tenantlite's browser build");
}
export const defaultGrammarResolverErrorProvider = { buildRuleNotFoundError: off };
export const defaultGrammarValidatorErrorProvider = new Proxy({}, { get: () => off });
