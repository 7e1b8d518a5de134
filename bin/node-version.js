// The Node versions tenantlite runs on, checked by bin/tenantlite.js before anything else loads
// (older versions would fail later with an obscure syntax or API error). Plain JavaScript that
// old Node versions can still parse.

/** The oldest major version of Node that tenantlite supports. */
export const MIN_NODE_MAJOR = 20;

/**
 * The one-line problem with running on Node `version` (e.g. "18.19.0"), or undefined when it is
 * supported.
 * @param {string} version `process.versions.node`
 * @returns {string | undefined}
 */
export function nodeVersionProblem(version) {
  const major = Number(/^v?(\d+)\./.exec(String(version))?.[1]);
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) return undefined;
  const shown = String(version)
    .replace(/[^\w.+-]/g, "")
    .slice(0, 40);
  return `NODE_VERSION_UNSUPPORTED: tenantlite needs Node ${MIN_NODE_MAJOR} or newer; this is Node ${shown}`;
}
