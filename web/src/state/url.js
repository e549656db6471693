// The whole experiment in the URL hash: every config field as `dotted.path=value`, the seed
// included, the drawing or imported points in a compact text form. A link reproduces the run.
// Pure functions; see web/test/url.test.js.

import { checkExperiment, fieldSpec } from "./schema.js";

// Fields that describe where a run trains, not what it is.
const SKIP = new Set(["device"]);
const STROKE_SCALE = 10000; // strokes are in the unit square: 4 decimals
const PATH = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/i; // a dotted setting name; else junk
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The hash's text without '#', and a short quote of a key for messages. */
const hashText = (hash) => (hash.startsWith("#") ? hash.slice(1) : hash);
const quote = (s) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Flatten a nested config into [[dotted key, leaf value], ...] in key order. */
export function flatten(obj, prefix = "", out = []) {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (SKIP.has(path)) continue;
    if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, path, out);
    else out.push([path, value]);
  }
  return out;
}

/** Inverse of flatten. */
export function unflatten(pairs) {
  const out = {};
  for (const [path, value] of pairs) {
    const keys = path.split(".");
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (!node[k] || typeof node[k] !== "object") node[k] = {};
      node = node[k];
    }
    node[keys[keys.length - 1]] = value;
  }
  return out;
}

export function encodeStrokes(strokes) {
  return strokes
    .map((s) => s.map(([x, y]) => `${Math.round(x * STROKE_SCALE)},${Math.round(y * STROKE_SCALE)}`).join(";"))
    .join("_");
}

export function decodeStrokes(text) {
  if (!text) return [];
  return text.split("_").map((s) =>
    s.split(";").map((p) => {
      const [x, y] = p.split(",").map(Number);
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`bad stroke point ${p}`);
      return [x / STROKE_SCALE, y / STROKE_SCALE];
    }),
  );
}

export function encodePoints(points) {
  return points.map(([x, y]) => `${+x.toPrecision(6)},${+y.toPrecision(6)}`).join(";");
}

export function decodePoints(text) {
  if (!text) return [];
  return text.split(";").map((p) => {
    const [x, y] = p.split(",").map(Number);
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`bad point ${p}`);
    return [x, y];
  });
}

function encodeValue(value) {
  if (value === null) return "null";
  return String(value);
}

function decodeValue(text) {
  if (text === "null") return null;
  if (text === "true") return true;
  if (text === "false") return false;
  if (NUMBER.test(text)) return Number(text);
  return text;
}

/** The URL hash (without '#') for a full experiment config. */
export function configToHash(config) {
  const params = new URLSearchParams();
  for (const [path, value] of flatten(config)) {
    if (value === null || value === undefined) continue;
    if (path === "data.strokes") params.set(path, encodeStrokes(value));
    else if (path === "data.points") params.set(path, encodePoints(value));
    else if (Array.isArray(value)) params.set(path, JSON.stringify(value));
    else params.set(path, encodeValue(value));
  }
  return params.toString();
}

/**
 * The config in a URL hash, or null when the hash holds none. Throws on malformed data and
 * checks nothing: use hashToExperiment, which reports each bad entry and keeps the rest.
 * @returns {object|null} a (partial) nested experiment config
 */
export function hashToConfig(hash) {
  const text = hashText(hash);
  if (!text) return null;
  const params = new URLSearchParams(text);
  const pairs = [];
  for (const [path, raw] of params) {
    if (!PATH.test(path)) continue;
    if (path === "data.strokes") pairs.push([path, decodeStrokes(raw)]);
    else if (path === "data.points") pairs.push([path, decodePoints(raw)]);
    else if (raw.startsWith("[")) pairs.push([path, JSON.parse(raw)]);
    else pairs.push([path, decodeValue(raw)]);
  }
  return pairs.length ? unflatten(pairs) : null;
}

/** A hash entry's text as the value its setting's schema type expects; throws on bad lists. */
function decodeFor(spec, path, raw) {
  if (path === "data.strokes") return raw === "null" ? null : decodeStrokes(raw);
  if (path === "data.points") return raw === "null" ? null : decodePoints(raw);
  if (raw.startsWith("[")) return JSON.parse(raw);
  // A text setting keeps its text even when it looks like a number ("123" is a name, not 123).
  if (spec && spec.type === "string" && !(raw === "null" && spec.nullable)) return raw;
  return decodeValue(raw);
}

/**
 * The experiment in a URL hash, checked setting by setting against the config `schema`:
 * `{config, errors}`. `config` holds every setting that could be read and is allowed (null when
 * none is); `errors` lists `{path, message}` for each one that could not (an unreadable drawing,
 * broken JSON, a value out of range, an unknown setting), so one bad entry costs only itself.
 * `hints` names settings in the messages (controls.js HINTS). Never throws on a bad hash.
 */
export function hashToExperiment(hash, schema, hints = []) {
  const text = hashText(hash || "");
  const errors = [];
  const pairs = [];
  const labels = new Map(hints.map((h) => [h.path, h.fullLabel || h.label]));
  for (const [path, raw] of new URLSearchParams(text)) {
    if (!path) continue; // "&&" or a trailing "&": nothing was written there
    if (!PATH.test(path)) {
      errors.push({ path, message: `${quote(path)} is not a setting ganlab knows.` });
      continue;
    }
    try {
      pairs.push([path, decodeFor(fieldSpec(schema, path), path, raw)]);
    } catch (err) {
      const reason = err instanceof SyntaxError ? "it is not valid JSON" : err.message;
      errors.push({ path, message: `${labels.get(path) || path} could not be read from the link (${reason}).` });
    }
  }
  const checked = checkExperiment(schema, unflatten(pairs), hints);
  const config = Object.keys(checked.config).length ? checked.config : null;
  return { config, errors: [...errors, ...checked.errors] };
}

/** Split a config into what the `config` command sets, the `data` set, and the seed. */
export function splitExperiment(config) {
  const { data, seed, device, ...rest } = config;
  return { rest, data: data || null, seed: seed ?? null };
}

/** Deep equality of two configs over the fields the URL holds (for tests and change checks). */
export function sameExperiment(a, b) {
  return configToHash(a) === configToHash(b);
}
