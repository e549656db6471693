import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fieldSpec, fieldPaths, checkValue, checkExperiment, formatBound, resolve } from "../src/state/schema.js";
import { HINTS } from "../src/state/controls.js";

// fixtures/schema.json is a copy of the server's schema (what GET /api/schema returns). After a
// change to server/ganlab/config.py, regenerate it from the repository root with:
//   .venv/bin/python -c "import json; from ganlab.engine.config import json_schema; print(json.dumps(json_schema(), indent=1))" > web/test/fixtures/schema.json
const SCHEMA = JSON.parse(readFileSync(new URL("./fixtures/schema.json", import.meta.url), "utf8"));

test("the schema copy has every setting the UI hints name, with the option values they label", () => {
  for (const hint of HINTS) {
    const spec = fieldSpec(SCHEMA, hint.path);
    assert.ok(spec, `the schema has no ${hint.path}: regenerate the fixture or rename the hint`);
    if (hint.options) {
      // Labels for exactly the schema's values: a renamed or added value must get its label.
      assert.deepEqual(hint.options.map(([v]) => v).sort(), [...spec.options].sort(), hint.path);
    }
  }
});

test("fieldSpec reads integers, floats with exclusive bounds, enums and nested groups", () => {
  assert.deepEqual(
    { ...fieldSpec(SCHEMA, "generator.layers") },
    {
      path: "generator.layers", type: "integer", min: 0, max: 8, exclusiveMin: false, exclusiveMax: false,
      options: undefined, default: 2, description: "Number of hidden layers (0 = linear map).", nullable: false,
      minLength: undefined, maxLength: undefined, maxItems: undefined,
    },
  );
  const lr = fieldSpec(SCHEMA, "d_optimizer.lr");
  assert.deepEqual([lr.type, lr.min, lr.exclusiveMin, lr.max, lr.exclusiveMax, lr.default], ["number", 0, true, 10, false, 0.005]);
  const beta2 = fieldSpec(SCHEMA, "g_optimizer.beta2");
  assert.deepEqual([beta2.min, beta2.exclusiveMin, beta2.max, beta2.exclusiveMax], [0, false, 1, true]);
  const act = fieldSpec(SCHEMA, "discriminator.activation"); // DiscriminatorConfig inherits it
  assert.deepEqual([act.type, act.options, act.default], ["string", ["relu", "leaky_relu", "tanh", "elu", "gelu", "silu"], "relu"]);
  const sn = fieldSpec(SCHEMA, "discriminator.spectral_norm");
  assert.deepEqual([sn.type, sn.default], ["boolean", false]);
  assert.equal(fieldSpec(SCHEMA, "discriminator.packing").max, 4);
  assert.equal(fieldSpec(SCHEMA, "training.batch_size").max, 4096);
  const strokes = fieldSpec(SCHEMA, "data.strokes"); // list | None: anyOf with null
  assert.deepEqual([strokes.type, strokes.nullable, strokes.default], ["array", true, null]);
  assert.equal(fieldSpec(SCHEMA, "data.points").maxItems, 20000);
  assert.deepEqual([fieldSpec(SCHEMA, "data.name").minLength, fieldSpec(SCHEMA, "data.name").maxLength], [1, 64]);
  assert.equal(fieldSpec(SCHEMA, "generator").type, "object");
  assert.equal(fieldSpec(SCHEMA, "generator.nope"), null);
  assert.equal(fieldSpec(SCHEMA, "nope"), null);
  assert.equal(fieldSpec(SCHEMA, "generator.layers.deeper"), null);
});

test("fieldSpec resolves allOf wrappers, null unions, booleans, consts and draft-4 bounds", () => {
  const schema = {
    $defs: {
      Inner: { type: "object", properties: { on: { type: "boolean", default: false }, mode: { const: "fixed" } } },
      Rate: { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 1, exclusiveMaximum: true },
    },
    type: "object",
    properties: {
      inner: { allOf: [{ $ref: "#/$defs/Inner" }], description: "wrapped" },
      rate: { anyOf: [{ $ref: "#/$defs/Rate" }, { type: "null" }], default: null, description: "maybe" },
      count: { type: ["integer", "null"], minimum: 1 },
    },
  };
  assert.equal(fieldSpec(schema, "inner").description, "wrapped");
  const on = fieldSpec(schema, "inner.on");
  assert.deepEqual([on.type, on.default], ["boolean", false]);
  assert.deepEqual([fieldSpec(schema, "inner.mode").type, fieldSpec(schema, "inner.mode").options], ["string", ["fixed"]]);
  const rate = fieldSpec(schema, "rate");
  assert.deepEqual(
    [rate.type, rate.nullable, rate.min, rate.exclusiveMin, rate.max, rate.exclusiveMax, rate.description],
    ["number", true, 0, true, 1, true, "maybe"],
  );
  const count = fieldSpec(schema, "count");
  assert.deepEqual([count.type, count.nullable, count.min], ["integer", true, 1]);
  assert.deepEqual(fieldPaths(schema), ["inner.on", "inner.mode", "rate", "count"]);
  // A cyclic $ref ends instead of hanging.
  assert.ok(resolve({ $defs: { A: { $ref: "#/$defs/A" } } }, { $ref: "#/$defs/A" }));
});

test("fieldPaths lists every leaf setting and no group", () => {
  const paths = fieldPaths(SCHEMA);
  assert.equal(paths.length, new Set(paths).size);
  for (const p of ["data.strokes", "generator.layers", "discriminator.packing", "g_optimizer.alpha", "metrics.w1_samples", "seed", "device"]) {
    assert.ok(paths.includes(p), p);
  }
  for (const group of ["data", "generator", "training"]) assert.ok(!paths.includes(group), group);
  for (const p of paths) assert.notEqual(fieldSpec(SCHEMA, p).type, "object", p);
});

test("checkValue answers in sentences a learner reads", () => {
  const spec = (path) => fieldSpec(SCHEMA, path);
  assert.equal(checkValue(spec("generator.neurons"), 16, "Neurons"), null);
  assert.equal(checkValue(spec("generator.neurons"), 512, "Neurons"), null);
  assert.equal(checkValue(spec("generator.neurons"), 513, "Neurons"), "Neurons can be at most 512.");
  assert.equal(checkValue(spec("generator.neurons"), 0, "Neurons"), "Neurons must be at least 1.");
  assert.equal(checkValue(spec("generator.layers"), 2.5, "Hidden layers"), "Hidden layers must be a whole number.");
  assert.equal(checkValue(spec("generator.layers"), "two", "Hidden layers"), "Hidden layers must be a whole number.");
  assert.equal(checkValue(spec("g_optimizer.lr"), 0, "Learning rate"), "Learning rate must be more than 0.");
  assert.equal(checkValue(spec("g_optimizer.lr"), 1e-9, "Learning rate"), null);
  assert.equal(checkValue(spec("g_optimizer.lr"), "fast", "Learning rate"), "Learning rate must be a number.");
  assert.equal(checkValue(spec("g_optimizer.lr"), NaN, "Learning rate"), "Learning rate must be a number.");
  assert.equal(checkValue(spec("g_optimizer.momentum"), 1, "Momentum"), "Momentum must be less than 1.");
  assert.equal(checkValue(spec("g_optimizer.momentum"), 0, "Momentum"), null);
  assert.equal(checkValue(spec("training.batch_size"), 5000, "Batch size"), "Batch size can be at most 4,096.");
  const labels = [["relu", "ReLU"], ["leaky_relu", "Leaky ReLU"], ["tanh", "tanh"], ["elu", "ELU"], ["gelu", "GELU"], ["silu", "SiLU"]];
  assert.equal(checkValue(spec("generator.activation"), "sigmoid", "Activation", labels),
    "Activation must be one of ReLU, Leaky ReLU, tanh, ELU, GELU, SiLU.");
  assert.equal(checkValue(spec("generator.activation"), "sigmoid", "Activation"),
    "Activation must be one of relu, leaky_relu, tanh, elu, gelu, silu.");
  assert.equal(checkValue(spec("generator.activation"), "tanh", "Activation", labels), null);
  assert.equal(checkValue(spec("data.name"), "", "Distribution"), "Distribution must not be empty.");
  assert.equal(checkValue(spec("data.name"), 7, "Distribution"), "Distribution must be text.");
  assert.equal(checkValue(spec("data.name"), "x".repeat(65), "Distribution"), "Distribution can be at most 64 characters long.");
  assert.equal(checkValue(spec("data.strokes"), null, "Drawing"), null);
  assert.equal(checkValue(spec("generator.layers"), null, "Hidden layers"), "Hidden layers must be a whole number.");
  assert.equal(checkValue(spec("generator"), 3, "generator"), "generator is a group of settings, not a single value.");
  assert.equal(checkValue({ type: "boolean" }, "yes", "Fast"), "Fast must be true or false.");
  assert.equal(checkValue({ type: "boolean" }, false, "Fast"), null);
});

test("bounds read as people write them", () => {
  assert.equal(formatBound(4096), "4,096");
  assert.equal(formatBound(10000000), "10,000,000");
  assert.equal(formatBound(512), "512");
  assert.equal(formatBound(0.0001), "0.0001");
  assert.equal(formatBound(0), "0");
});

test("one bad setting in a partial config costs only itself, and every error is reported", () => {
  const partial = {
    generator: { neurons: 99999, layers: 3 },
    d_optimizer: { lr: 0.003 },
    loss: { kind: "bogus" },
    nosuch: { field: 1 },
  };
  const before = structuredClone(partial);
  const hints = [{ path: "loss.kind", label: "Loss", options: [["log", "Log loss"], ["hinge", "Hinge"]] }];
  const { config, errors } = checkExperiment(SCHEMA, partial, hints);
  assert.deepEqual(config, { generator: { layers: 3 }, d_optimizer: { lr: 0.003 } });
  assert.deepEqual(errors, [
    { path: "generator.neurons", message: "generator.neurons can be at most 512." },
    // Values the hint has no label for are named as they are.
    { path: "loss.kind", message: "Loss must be one of Log loss, lsgan, wgan, wgan_gp, Hinge." },
    { path: "nosuch.field", message: "nosuch.field is not a setting ganlab knows." },
  ]);
  assert.deepEqual(partial, before, "the input is not changed");
});

test("lists pass through for the server to judge; device is dropped; a full label wins", () => {
  const strokes = [[[0.1, 0.2], [0.3, 0.4]]];
  const { config, errors } = checkExperiment(
    SCHEMA,
    { data: { name: "drawing", strokes, points: "junk" }, device: "cuda", seed: -1, generator: 4 },
    [{ path: "seed", label: "Seed", fullLabel: "Random seed" }],
  );
  assert.deepEqual(config, { data: { name: "drawing", strokes, points: "junk" } });
  assert.equal(config.data.strokes, strokes, "untouched");
  assert.deepEqual(errors, [
    { path: "seed", message: "Random seed must be at least 0." },
    { path: "generator", message: "generator is a group of settings, not a single value." },
  ]);
  assert.deepEqual(checkExperiment(SCHEMA, null), { config: {}, errors: [] });
});
