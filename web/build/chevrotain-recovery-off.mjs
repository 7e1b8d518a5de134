// Stands in for chevrotain's error-recovery trait (parse/parser/traits/recoverable.js) in the
// browser bundle. tenantlite's parser runs with `recoveryEnabled: false` — a syntax error ends the
// parse — so chevrotain calls only three things of the trait: its set-up, the repetition hook
// (a no-op without recovery) and the rule stack that a saved error records. The rest (re-sync
// sets, token insertion and deletion, follow-set bookkeeping) is left out; asking for recovery
// throws.
export const EOF_FOLLOW_KEY = {};
export const IN_RULE_RECOVERY_EXCEPTION = "InRuleRecoveryException";
export class InRuleRecoveryException extends Error {
  constructor(message) {
    super(message);
    this.name = IN_RULE_RECOVERY_EXCEPTION;
  }
}
function off() {
  throw new Error("chevrotain's error recovery is not part of tenantlite's browser build");
}
export class Recoverable {
  initRecoverable(config) {
    if (config?.recoveryEnabled) off();
    this.firstAfterRepMap = {};
    this.resyncFollows = {};
    this.recoveryEnabled = false;
  }
  attemptInRepetitionRecovery() {}
  /** The full names of the rules being parsed, outermost first. */
  getHumanReadableRuleStack() {
    const names = [];
    for (let i = 0; i <= this.RULE_STACK_IDX; i++) {
      names.push(this.shortRuleNameToFullName(this.RULE_STACK[i]));
    }
    return names;
  }
}
export const attemptInRepetitionRecovery = off;
