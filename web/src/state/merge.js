// Deep merge of a partial config into a full one, as the server's `config` command does it
// (objects merge, anything else replaces), so the page can mirror an edit made offline.

/** A new object: `base` with `patch` merged in; neither argument is changed. */
export function merge(base, patch) {
  const out = { ...base };
  for (const [key, value] of Object.entries(patch || {})) {
    const old = out[key];
    const bothObjects = value && typeof value === "object" && !Array.isArray(value) &&
      old && typeof old === "object" && !Array.isArray(old);
    out[key] = bothObjects ? merge(old, value) : value;
  }
  return out;
}
