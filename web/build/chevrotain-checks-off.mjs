// Stands in for chevrotain's grammar checks (parse/grammar/checks.js) in the browser bundle.
// chevrotain calls them only to validate a grammar while it builds a parser with validations on,
// or from OVERRIDE_RULE; tenantlite's parser is validated in Node (test/parser, with
// `__VALIDATE__`) and builds with `skipValidations` everywhere else, so in a browser they never
// run. Should one ever be called, it says so instead of passing a grammar unchecked.
function off() {
  throw new Error("chevrotain's grammar validations are not part of tenantlite's browser build");
}
export const validateLookahead = off;
export const validateGrammar = off;
export const validateRuleIsOverridden = off;
export const validateNoLeftRecursion = off;
export const validateEmptyOrAlternative = off;
export const validateAmbiguousAlternationAlternatives = off;
export const validateSomeNonEmptyLookaheadPath = off;
