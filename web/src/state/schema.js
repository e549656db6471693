// The server's config schema (`GET /api/schema`, pydantic's JSON schema of ExperimentConfig)
// read as the one definition of every setting's type, range and choices. Pure functions; the
// UI's labels and help live in state/controls.js. See web/test/schema.test.js.

// Settings that say where a run trains, not what it is: never taken from a link.
const IGNORED = new Set(["device"]);

const isPlainObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** The node a local `$ref` ("#/$defs/Name") points at, or undefined. */
function follow(root, ref) {
  if (typeof ref !== "string" || !ref.startsWith("#/")) return undefined;
  return ref
    .slice(2)
    .split("/")
    .map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((node, key) => (node == null ? undefined : node[key]), root);
}

/**
 * A schema node with `$ref`, `allOf` and nullable `anyOf`/`oneOf` resolved into one flat node.
 * Keys written next to a `$ref` (pydantic puts `default` and `description` there) win over the
 * referenced definition's. A union with null becomes its other branch plus `nullable: true`.
 */
export function resolve(root, node, depth = 0) {
  if (!isPlainObject(node) || depth > 32) return node; // depth: a cyclic $ref must not hang
  let out = { ...node };
  if (out.$ref !== undefined) {
    const { $ref, ...siblings } = out;
    out = { ...resolve(root, follow(root, $ref), depth + 1), ...siblings };
  }
  if (Array.isArray(out.allOf)) {
    const { allOf, ...siblings } = out;
    out = Object.assign({}, ...allOf.map((n) => resolve(root, n, depth + 1)), siblings);
  }
  for (const key of ["anyOf", "oneOf"]) {
    if (!Array.isArray(out[key])) continue;
    const branches = out[key].map((n) => resolve(root, n, depth + 1));
    const nonNull = branches.filter((b) => !(isPlainObject(b) && b.type === "null"));
    // Only "T or null" collapses; a real union stays as it is (no setting has one today).
    if (nonNull.length === 1) {
      const { [key]: _, ...siblings } = out;
      out = { ...nonNull[0], ...siblings, nullable: nonNull.length < branches.length || undefined };
    }
  }
  if (Array.isArray(out.type)) {
    const types = out.type.filter((t) => t !== "null");
    if (types.length < out.type.length) out.nullable = true;
    out.type = types.length === 1 ? types[0] : types;
  }
  return out;
}

/** The resolved schema node for a dotted path, or null when the schema has no such field. */
function nodeAt(schema, path) {
  let node = resolve(schema, schema);
  for (const key of String(path).split(".")) {
    const props = node && node.properties;
    if (!props || !Object.prototype.hasOwnProperty.call(props, key)) return null;
    node = resolve(schema, props[key]);
  }
  return node;
}

/** The type of a resolved node: its declared type, else what its choices are. */
function typeOf(node, options) {
  if (typeof node.type === "string") return node.type;
  if (node.properties) return "object";
  if (options && options.length) {
    const kinds = new Set(options.map((v) => (v === null ? "null" : Number.isInteger(v) ? "integer" : typeof v)));
    return kinds.size === 1 ? [...kinds][0] : "any";
  }
  return "any";
}

/** Lower and upper bound: JSON schema 2020 writes exclusive bounds as numbers, draft 4 as flags. */
function bounds(node) {
  const out = { min: undefined, max: undefined, exclusiveMin: false, exclusiveMax: false };
  if (typeof node.minimum === "number") out.min = node.minimum;
  if (typeof node.maximum === "number") out.max = node.maximum;
  if (node.exclusiveMinimum === true) out.exclusiveMin = out.min !== undefined;
  else if (typeof node.exclusiveMinimum === "number" && !(out.min > node.exclusiveMinimum)) {
    out.min = node.exclusiveMinimum;
    out.exclusiveMin = true;
  }
  if (node.exclusiveMaximum === true) out.exclusiveMax = out.max !== undefined;
  else if (typeof node.exclusiveMaximum === "number" && !(out.max < node.exclusiveMaximum)) {
    out.max = node.exclusiveMaximum;
    out.exclusiveMax = true;
  }
  return out;
}

/**
 * What the schema says about one setting: `{path, type, min, max, exclusiveMin, exclusiveMax,
 * options, default, description, nullable, minLength, maxLength, maxItems}`, or null when the
 * path is not a field. `options` lists the allowed values of an enum or Literal. A group of
 * settings (e.g. "generator") has type "object".
 */
export function fieldSpec(schema, path) {
  const node = nodeAt(schema, path);
  if (!isPlainObject(node)) return null;
  let options;
  if (Array.isArray(node.enum)) options = [...node.enum];
  else if (node.const !== undefined) options = [node.const];
  return {
    path,
    type: typeOf(node, options),
    ...bounds(node),
    options,
    default: node.default,
    description: node.description,
    nullable: Boolean(node.nullable),
    minLength: node.minLength,
    maxLength: node.maxLength,
    maxItems: node.maxItems,
  };
}

/** Every leaf setting's dotted path, in the schema's order (groups are walked, not listed). */
export function fieldPaths(schema, node = resolve(schema, schema), prefix = "", out = []) {
  for (const [key, child] of Object.entries(node.properties || {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    const resolved = resolve(schema, child);
    if (resolved && resolved.properties) fieldPaths(schema, resolved, path, out);
    else out.push(path);
  }
  return out;
}

/** A bound as a learner reads it: 4,096 and 10,000,000 grouped; 0.001 as it is. */
export function formatBound(n) {
  return Number.isInteger(n) && Math.abs(n) >= 1000 ? n.toLocaleString("en-US") : String(n);
}

/** Display text of an allowed value: its label from `labels` ([[value, text], ...]) if given. */
function optionText(value, labels) {
  const hit = (labels || []).find(([v]) => v === value);
  return hit ? hit[1] : String(value);
}

/**
 * Null when `value` is allowed for the setting `spec` describes, else one sentence naming
 * `label` and what is allowed ("Neurons can be at most 512."). `labels` ([[value, text], ...])
 * names an enum's values in the sentence.
 */
export function checkValue(spec, value, label, labels) {
  if (value === null && spec.nullable) return null;
  if (spec.options) {
    if (spec.options.includes(value)) return null;
    return `${label} must be one of ${spec.options.map((v) => optionText(v, labels)).join(", ")}.`;
  }
  switch (spec.type) {
    case "integer":
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return spec.type === "integer" ? `${label} must be a whole number.` : `${label} must be a number.`;
      }
      if (spec.type === "integer" && !Number.isInteger(value)) return `${label} must be a whole number.`;
      const { min, max } = spec;
      if (min !== undefined && (spec.exclusiveMin ? value <= min : value < min)) {
        return `${label} must be ${spec.exclusiveMin ? "more than" : "at least"} ${formatBound(min)}.`;
      }
      if (max !== undefined && (spec.exclusiveMax ? value >= max : value > max)) {
        return spec.exclusiveMax ? `${label} must be less than ${formatBound(max)}.` : `${label} can be at most ${formatBound(max)}.`;
      }
      return null;
    }
    case "boolean":
      return typeof value === "boolean" ? null : `${label} must be true or false.`;
    case "string":
      if (typeof value !== "string") return `${label} must be text.`;
      if (spec.minLength !== undefined && value.length < spec.minLength) {
        return spec.minLength === 1 ? `${label} must not be empty.` : `${label} must be at least ${spec.minLength} characters long.`;
      }
      if (spec.maxLength !== undefined && value.length > spec.maxLength) {
        return `${label} can be at most ${formatBound(spec.maxLength)} characters long.`;
      }
      return null;
    case "array":
      if (!Array.isArray(value)) return `${label} must be a list.`;
      if (spec.maxItems !== undefined && value.length > spec.maxItems) {
        return `${label} can hold at most ${formatBound(spec.maxItems)} items.`;
      }
      return null;
    case "object":
      return isPlainObject(value) ? null : `${label} is a group of settings, not a single value.`;
    default:
      return null; // a type this front end does not know: the server judges it
  }
}

/** [[dotted path, leaf value], ...] of a nested object (arrays are leaves). */
function leaves(obj, prefix, out) {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && Object.keys(value).length) leaves(value, path, out);
    else out.push([path, value]);
  }
  return out;
}

/** Write `value` at a dotted path into a nested object, making the groups on the way. */
function put(obj, path, value) {
  const keys = path.split(".");
  let node = obj;
  for (const k of keys.slice(0, -1)) {
    if (!isPlainObject(node[k])) node[k] = {};
    node = node[k];
  }
  node[keys[keys.length - 1]] = value;
}

/**
 * Check a partial experiment config setting by setting, so that one bad value (in a shared link,
 * say) costs only that setting: `{config, errors}` where `config` holds the valid settings and
 * `errors` one `{path, message}` per refused one, unknown settings included. `hints` is a list
 * of `{path, label, fullLabel?, options?}` naming settings in the messages. Lists (data.strokes,
 * data.points) pass unchecked: the server judges them; `device` is dropped.
 */
export function checkExperiment(schema, partialConfig, hints = []) {
  const byPath = new Map(hints.map((h) => [h.path, h]));
  const config = {};
  const errors = [];
  if (!isPlainObject(partialConfig)) return { config, errors };
  for (const [path, value] of leaves(partialConfig, "", [])) {
    if (value === undefined || IGNORED.has(path.split(".")[0])) continue;
    const hint = byPath.get(path) || {};
    const label = hint.fullLabel || hint.label || path;
    const spec = fieldSpec(schema, path);
    if (!spec) {
      errors.push({ path, message: `${label} is not a setting ganlab knows.` });
      continue;
    }
    if (spec.type === "array") {
      put(config, path, value);
      continue;
    }
    const message = checkValue(spec, value, label, hint.options);
    if (message) errors.push({ path, message });
    else put(config, path, value);
  }
  return { config, errors };
}
