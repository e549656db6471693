import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  configToHash, hashToConfig, hashToExperiment, flatten, unflatten, encodeStrokes, decodeStrokes, splitExperiment,
  sameExperiment,
} from "../src/state/url.js";
import { HINTS } from "../src/state/controls.js";

// A copy of GET /api/schema; schema.test.js says how to regenerate it.
const SCHEMA = JSON.parse(readFileSync(new URL("./fixtures/schema.json", import.meta.url), "utf8"));

const CONFIG = {
  data: { name: "ring", strokes: null, brush_width: 0.04, points: null, jitter: 0 },
  noise: { kind: "uniform", dim: 2 },
  generator: { layers: 3, neurons: 10, activation: "leaky_relu" },
  discriminator: { layers: 2, neurons: 9, activation: "relu", packing: 2 },
  loss: { kind: "wgan_gp", generator: "non_saturating", clip: 0.01, gp_weight: 10, r1: 0, label_smoothing: 0 },
  g_optimizer: { kind: "sgd", lr: 0.003, momentum: 0.9, beta1: 0.5, beta2: 0.999, alpha: 0.99 },
  d_optimizer: { kind: "adam", lr: 1e-4, momentum: 0, beta1: 0.5, beta2: 0.9, alpha: 0.99 },
  training: { batch_size: 150, d_steps: 3, g_steps: 1, lr_halflife: 0 },
  view: { grid: 64, manifold: 21, fakes: 240, reals: 480 },
  metrics: { every: 100, samples: 2000, w1_samples: 500, grid: 30 },
  seed: 1234,
  device: "cpu",
};

test("a full config round-trips through the URL hash, device left out", () => {
  const hash = configToHash(CONFIG);
  assert.match(hash, /generator\.layers=3/);
  assert.match(hash, /seed=1234/);
  assert.doesNotMatch(hash, /device/);
  const back = hashToConfig("#" + hash);
  const { device, ...expected } = CONFIG;
  // null leaves are not written; everything else comes back with its type.
  expected.data = { name: "ring", brush_width: 0.04, jitter: 0 };
  assert.deepEqual(back, expected);
  assert.equal(typeof back.d_optimizer.lr, "number");
  assert.equal(back.d_optimizer.lr, 1e-4);
  assert.ok(sameExperiment(CONFIG, back));
});

test("a drawing round-trips (4 decimals in the unit square)", () => {
  const strokes = [[[0.1, 0.2], [0.12345, 0.9]], [[0.5, 0.5]]];
  const config = { ...CONFIG, data: { name: "drawing", strokes, brush_width: 0.06 } };
  const back = hashToConfig(configToHash(config));
  assert.equal(back.data.name, "drawing");
  assert.equal(back.data.brush_width, 0.06);
  assert.deepEqual(back.data.strokes, [[[0.1, 0.2], [0.1235, 0.9]], [[0.5, 0.5]]]);
  assert.deepEqual(decodeStrokes(encodeStrokes(back.data.strokes)), back.data.strokes);
});

test("imported points round-trip", () => {
  const points = [[-3.5, 2.25], [100.125, -0.001]];
  const back = hashToConfig(configToHash({ data: { name: "points", points }, seed: 0 }));
  assert.deepEqual(back.data.points, points);
  assert.equal(back.seed, 0);
});

test("an empty hash holds no experiment; junk keys are ignored; bad data throws", () => {
  assert.equal(hashToConfig(""), null);
  assert.equal(hashToConfig("#"), null);
  assert.equal(hashToConfig("#<script>=1"), null);
  assert.deepEqual(hashToConfig("#seed=5&x y=2"), { seed: 5 });
  assert.throws(() => hashToConfig("#data.strokes=1,a"), /bad stroke point/);
});

test("string values that look like numbers stay numbers, words stay words", () => {
  const back = hashToConfig("#a.b=1e-3&a.c=relu&a.d=true&a.e=-2&a.f=null");
  assert.deepEqual(back, { a: { b: 0.001, c: "relu", d: true, e: -2, f: null } });
});

test("flatten and unflatten are inverse, and the experiment splits for the commands", () => {
  const pairs = flatten({ a: { b: 1, c: { d: "x" } }, e: [1, 2] });
  assert.deepEqual(pairs, [["a.b", 1], ["a.c.d", "x"], ["e", [1, 2]]]);
  assert.deepEqual(unflatten(pairs), { a: { b: 1, c: { d: "x" } }, e: [1, 2] });
  const { rest, data, seed } = splitExperiment(CONFIG);
  assert.equal(seed, 1234);
  assert.equal(data.name, "ring");
  assert.equal(rest.device, undefined);
  assert.equal(rest.seed, undefined);
  assert.equal(rest.generator.layers, 3);
});

test("a full config's link is read back whole and with no errors", () => {
  const { config, errors } = hashToExperiment("#" + configToHash(CONFIG), SCHEMA, HINTS);
  assert.deepEqual(errors, []);
  assert.deepEqual(config, hashToConfig(configToHash(CONFIG)));
  assert.equal(config.device, undefined);
  const strokes = [[[0.1, 0.2], [0.5, 0.9]]];
  const drawing = hashToExperiment(configToHash({ data: { name: "drawing", strokes } }), SCHEMA, HINTS);
  assert.deepEqual(drawing, { config: { data: { name: "drawing", strokes } }, errors: [] });
});

test("one bad setting in a link costs only that setting, and every problem is reported", () => {
  const hash = "#generator.neurons=99999&generator.layers=3&d_optimizer.lr=0.003&loss.kind=bogus&nosuch.field=1";
  const { config, errors } = hashToExperiment(hash, SCHEMA, HINTS);
  assert.deepEqual(config, { generator: { layers: 3 }, d_optimizer: { lr: 0.003 } });
  assert.deepEqual(errors, [
    { path: "generator.neurons", message: "Generator neurons can be at most 512." },
    {
      path: "loss.kind",
      message: "Loss must be one of Log loss (original GAN), Least squares, Wasserstein (clipping), Wasserstein + gradient penalty, Hinge.",
    },
    { path: "nosuch.field", message: "nosuch.field is not a setting ganlab knows." },
  ]);
});

test("an entry that cannot be read is an error of its own, not a thrown exception", () => {
  const { config, errors } = hashToExperiment("#data.strokes=1,a&seed=7&metrics.grid=[1,&x y=2&device=cuda", SCHEMA, HINTS);
  assert.deepEqual(config, { seed: 7 });
  assert.deepEqual(errors, [
    { path: "data.strokes", message: "Drawing could not be read from the link (bad stroke point 1,a)." },
    { path: "metrics.grid", message: "metrics.grid could not be read from the link (it is not valid JSON)." },
    { path: "x y", message: "x y is not a setting ganlab knows." },
  ]);
  assert.deepEqual(hashToExperiment("#data.points=1,2;3", SCHEMA, HINTS).errors.map((e) => e.path), ["data.points"]);
});

test("a link's text settings stay text; an empty link holds nothing", () => {
  const { config, errors } = hashToExperiment("#data.name=123&generator.activation=true&seed=1e3", SCHEMA, HINTS);
  assert.deepEqual(config, { data: { name: "123" }, seed: 1000 });
  assert.deepEqual(errors.map((e) => e.path), ["generator.activation"]);
  assert.deepEqual(hashToExperiment("", SCHEMA, HINTS), { config: null, errors: [] });
  assert.deepEqual(hashToExperiment("#", SCHEMA), { config: null, errors: [] });
  assert.deepEqual(hashToExperiment("#&&device=cpu", SCHEMA), { config: null, errors: [] });
  const bad = hashToExperiment("#seed=-4", SCHEMA, HINTS);
  assert.deepEqual(bad, { config: null, errors: [{ path: "seed", message: "Seed must be at least 0." }] });
});
