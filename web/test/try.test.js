import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { THINGS_TO_TRY, tryExperiment, fillTryList } from "../src/ui/try.js";
import { checkValue, fieldSpec } from "../src/state/schema.js";

// The server's preset names (GET /api/presets). After a change to server/ganlab/presets.py,
// regenerate this list from the repository root with:
//   .venv/bin/python -c "import json; from ganlab.presets import PRESETS; print(json.dumps(sorted(PRESETS)))"
const SERVER_PRESETS = ["25gaussians", "8gaussians", "checkerboard", "disjoint", "gaussians", "grid25", "line", "moons",
  "ring", "ring8", "ring8-collapse", "spiral", "swissroll"];

// The server's config schema; see schema.test.js for how to regenerate it.
const SCHEMA = JSON.parse(readFileSync(new URL("./fixtures/schema.json", import.meta.url), "utf8"));

/** [[dotted path, leaf value], ...] of a nested object (arrays are leaves). */
function leaves(obj, prefix = "", out = []) {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) leaves(value, path, out);
    else out.push([path, value]);
  }
  return out;
}

/** A small stand-in for the server's preset list: full-ish configs by name. */
function fakePresets(names = ["gaussians", "ring"]) {
  return names.map((name) => ({
    name,
    title: name,
    description: `the ${name} preset`,
    config: {
      seed: 3,
      data: { name, strokes: null },
      noise: { kind: "gaussian", dim: 2 },
      training: { d_steps: 1, g_steps: 1, batch_size: 128 },
      loss: { kind: "vanilla", generator: "non_saturating" },
      g_optimizer: { kind: "sgd", lr: 0.05 },
      d_optimizer: { kind: "sgd", lr: 0.05 },
    },
  }));
}

const byId = (id) => THINGS_TO_TRY.find((e) => e.id === id);

test("every entry has a unique id usable as a test id, a title, a preset and a sentence on what to watch", () => {
  assert.ok(THINGS_TO_TRY.length > 0);
  const ids = THINGS_TO_TRY.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${ids}`);
  for (const e of THINGS_TO_TRY) {
    assert.match(e.id, /^[a-z0-9]+(-[a-z0-9]+)*$/, e.id);
    assert.equal(typeof e.title, "string");
    assert.ok(e.title.trim().length > 3, `${e.id} has no title`);
    assert.equal(typeof e.watch, "string");
    assert.ok(e.watch.trim().split(/\s+/).length >= 5, `${e.id}'s watch is not a sentence`);
    assert.match(e.watch, /[.!?)]$/, `${e.id}'s watch sentence has no end`);
    assert.equal(typeof e.preset, "string");
    if (e.set !== undefined) assert.ok(e.set && typeof e.set === "object" && !Array.isArray(e.set), `${e.id}'s set`);
  }
});

test("every entry's preset is one the server offers", () => {
  for (const e of THINGS_TO_TRY) assert.ok(SERVER_PRESETS.includes(e.preset), `${e.id}: no preset ${e.preset} on the server`);
});

test("every entry's changes are settings the server knows, with values it accepts", () => {
  for (const e of THINGS_TO_TRY) {
    for (const [path, value] of leaves(e.set || {})) {
      const spec = fieldSpec(SCHEMA, path);
      assert.ok(spec, `${e.id}: ${path} is not a setting`);
      assert.notEqual(spec.type, "object", `${e.id}: ${path} is a group`);
      assert.equal(checkValue(spec, value, path), null, `${e.id}: ${path}=${JSON.stringify(value)}`);
    }
  }
});

test("tryExperiment is the preset's config with the entry's changes merged in, the preset left alone", () => {
  const presets = fakePresets();
  const before = structuredClone(presets);
  const wgan = tryExperiment(byId("wgan-gp"), presets);
  const g = presets[0].config;
  assert.deepEqual(wgan, {
    ...g,
    loss: { kind: "wgan_gp", generator: "non_saturating" }, // merged: the generator loss stays
    training: { d_steps: 5, g_steps: 1, batch_size: 128 },
    d_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 },
    g_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 },
  });
  assert.deepEqual(presets, before, "the presets are not changed");
  const ring1d = tryExperiment(byId("ring-1d"), presets);
  assert.deepEqual(ring1d.noise, { kind: "gaussian", dim: 1 });
  assert.equal(ring1d.data.name, "ring", "the entry's own preset, not the first one");
  // An entry without changes starts its preset as it is.
  assert.deepEqual(tryExperiment(byId("default"), presets), g);
});

test("every entry applies its own changes to the matching preset", () => {
  const presets = fakePresets(SERVER_PRESETS);
  for (const e of THINGS_TO_TRY) {
    const exp = tryExperiment(e, presets);
    assert.ok(exp, e.id);
    assert.equal(exp.data.name, e.preset, e.id);
    for (const [path, value] of leaves(e.set || {})) {
      const got = path.split(".").reduce((node, k) => node[k], exp);
      assert.deepEqual(got, value, `${e.id}: ${path}`);
    }
  }
});

test("an entry whose preset the server does not offer gives null", () => {
  assert.equal(tryExperiment(byId("mode-collapse"), fakePresets()), null);
  assert.equal(tryExperiment({ id: "x", preset: "nope", set: { seed: 1 } }, fakePresets()), null);
  assert.equal(tryExperiment(byId("default"), []), null);
});

function list() {
  const doc = new JSDOM("<!doctype html><div id=list><p>old</p></div>").window.document;
  return doc.getElementById("list");
}

test("the list has one button per entry whose preset exists, in order, each try-<id> with title and watch", () => {
  const el = list();
  const presets = fakePresets(); // no ring8 nor ring8-collapse
  fillTryList(el, presets, () => {});
  assert.equal(el.querySelector("p"), null, "the old content is replaced");
  const buttons = [...el.children];
  const expected = THINGS_TO_TRY.filter((e) => tryExperiment(e, presets));
  assert.ok(expected.length < THINGS_TO_TRY.length, "the fake presets leave some entries out");
  assert.deepEqual(buttons.map((b) => b.getAttribute("data-testid")), expected.map((e) => `try-${e.id}`));
  assert.equal(el.querySelector('[data-testid="try-mode-collapse"]'), null);
  assert.equal(el.querySelector('[data-testid="try-packing"]'), null);
  for (const [i, b] of buttons.entries()) {
    assert.equal(b.tagName, "BUTTON");
    assert.equal(b.className, "try-item");
    assert.equal(b.querySelector("b").textContent, expected[i].title);
    assert.equal(b.querySelector("span").textContent, expected[i].watch);
  }
  // With every preset, every entry is there; filling again does not duplicate.
  fillTryList(el, fakePresets(SERVER_PRESETS), () => {});
  fillTryList(el, fakePresets(SERVER_PRESETS), () => {});
  assert.deepEqual([...el.children].map((b) => b.dataset.testid), THINGS_TO_TRY.map((e) => `try-${e.id}`));
});

test("clicking a button calls onTry with its entry", () => {
  const el = list();
  const tried = [];
  fillTryList(el, fakePresets(SERVER_PRESETS), (entry) => tried.push(entry));
  el.querySelector('[data-testid="try-frozen-d"]').click();
  el.querySelector('[data-testid="try-too-fast"]').click();
  assert.deepEqual(tried, [byId("frozen-d"), byId("too-fast")]);
  assert.equal(tried[0], byId("frozen-d"));
});
