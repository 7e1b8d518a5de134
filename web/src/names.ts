/**
 * Database and group names checked as they are typed, with Turso's rule shown next to the field
 * (the library's `assertValidName` holds the same rule: src/platform/names.ts).
 */

/** The rule, as shown under every name field. */
export const NAME_RULE = "Lowercase letters, digits and dashes; at most 64; no dash first or last.";

/** What is wrong with `name`, or `undefined` when it is a valid name. */
export function nameProblem(name: string): string | undefined {
  if (name === "") return "Give a name.";
  if (name.length > 64) return `${name.length} characters: at most 64.`;
  const bad = [...new Set(name.replace(/[a-z0-9-]/g, ""))];
  if (bad.length > 0) {
    const shown = bad
      .slice(0, 5)
      .map((c) => (c === " " ? "space" : `“${c}”`))
      .join(", ");
    return `${shown} not allowed: ${NAME_RULE.toLowerCase()}`;
  }
  if (name.startsWith("-") || name.endsWith("-")) return "No dash first or last.";
  return undefined;
}

/**
 * Shows the rule under `input` and checks the name on every keystroke; answers a function that
 * checks it once more (on submit) and says whether it is valid.
 */
export function checkNameField(input: HTMLInputElement): () => boolean {
  const hint = document.createElement("small");
  hint.className = "rule";
  hint.id = `${input.id || input.name}-rule-${Math.random().toString(36).slice(2, 7)}`;
  hint.textContent = NAME_RULE;
  input.setAttribute("aria-describedby", hint.id);
  input.removeAttribute("pattern");
  input.removeAttribute("required");
  (input.closest("label") ?? input).after(hint);
  const check = (submitting: boolean): boolean => {
    const value = input.value;
    const problem = value === "" && !submitting ? undefined : nameProblem(value.trim());
    hint.textContent = problem ?? NAME_RULE;
    hint.classList.toggle("bad", problem !== undefined);
    input.setAttribute("aria-invalid", String(problem !== undefined));
    return problem === undefined;
  };
  input.addEventListener("input", () => check(false));
  input.form?.addEventListener("reset", () =>
    setTimeout(() => {
      hint.textContent = NAME_RULE;
      hint.classList.remove("bad");
      input.setAttribute("aria-invalid", "false");
    }),
  );
  return () => check(true);
}
