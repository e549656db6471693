import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildNodes, HINTS, labelFor, getPath, setPath, parseControl, optionName } from "../src/state/controls.js";
import { fieldSpec } from "../src/state/schema.js";

// A copy of GET /api/schema; schema.test.js says how to regenerate it.
const SCHEMA = JSON.parse(readFileSync(new URL("./fixtures/schema.json", import.meta.url), "utf8"));
const NODES = buildNodes(SCHEMA);
const control = (path, nodes = NODES) => nodes.flatMap((n) => n.controls).find((c) => c.path === path);

/** A deep copy of the schema with one field's keys changed, as another server version might send. */
function withField(path, change) {
  const schema = structuredClone(SCHEMA);
  const [group, key] = path.split(".");
  const def = schema.properties[group].$ref.split("/").pop();
  Object.assign(schema.$defs[def].properties[key], change);
  return schema;
}

test("the six nodes run from noise to loss; every control has a unique config path", () => {
  assert.deepEqual(NODES.map((n) => n.id), ["noise", "generator", "samples", "discriminator", "predictions", "loss"]);
  const predictions = NODES.find((n) => n.id === "predictions");
  assert.deepEqual(predictions, { id: "predictions", title: "Predictions", help: "D's mean verdict on real and on fake samples.", controls: [] });
  const paths = NODES.flatMap((n) => n.controls.map((c) => c.path));
  assert.equal(new Set(paths).size, paths.length);
  for (const p of ["noise.kind", "noise.dim", "generator.layers", "generator.neurons", "generator.activation",
    "g_optimizer.kind", "g_optimizer.lr", "discriminator.layers", "discriminator.neurons",
    "d_optimizer.kind", "d_optimizer.lr", "training.d_steps", "training.g_steps", "training.batch_size",
    "loss.kind", "loss.gp_weight", "loss.clip", "loss.r1", "loss.label_smoothing", "training.lr_halflife",
    "discriminator.packing", "g_optimizer.beta1", "d_optimizer.momentum"]) {
    assert.ok(paths.includes(p), `missing control for ${p}`);
  }
  assert.equal(control("training.batch_size").kind, "int");
  assert.deepEqual(NODES.find((n) => n.id === "samples").controls.map((c) => c.path), ["training.batch_size"]);
});

test("every control's path is a setting of the schema, and every control and node has help", () => {
  for (const node of NODES) {
    assert.ok(node.title && node.help, node.id);
    for (const c of node.controls) {
      assert.ok(fieldSpec(SCHEMA, c.path), `${c.path} is not in the schema`);
      assert.equal(typeof c.help, "string", c.path);
      assert.ok(c.help.trim().length > 20, `${c.path} needs help a learner can read`);
      assert.equal(c.title, c.help, "the help shows on hover");
      assert.ok(c.label, c.path);
    }
  }
  for (const hint of HINTS) assert.ok(hint.help && hint.label, hint.path);
});

test("ranges and option lists come from the schema, the option names from the hints", () => {
  const layers = control("generator.layers");
  assert.deepEqual([layers.kind, layers.min, layers.max], ["int", 0, 8]);
  assert.equal(control("discriminator.packing").max, 4);
  const lr = control("d_optimizer.lr");
  assert.deepEqual([lr.kind, lr.min, lr.exclusiveMin, lr.max], ["number", 0, true, 10]);
  assert.deepEqual(control("generator.activation").options,
    [["relu", "ReLU"], ["leaky_relu", "Leaky ReLU"], ["tanh", "tanh"], ["elu", "ELU"], ["gelu", "GELU"], ["silu", "SiLU"]]);
  assert.deepEqual(control("discriminator.activation").options.slice(-2), [["gelu", "GELU"], ["silu", "SiLU"]]);
  // Another server: a narrower range and one activation fewer, one more. The controls follow.
  const narrow = buildNodes(withField("generator.neurons", { maximum: 64 }));
  assert.equal(control("generator.neurons", narrow).max, 64);
  assert.equal(parseControl(control("generator.neurons", narrow), "100").error, "Neurons can be at most 64.");
  const acts = buildNodes(withField("generator.activation", { enum: ["relu", "swish"] }));
  assert.deepEqual(control("generator.activation", acts).options, [["relu", "ReLU"], ["swish", "swish"]]);
});

test("the batch-size menu reaches the schema's maximum and offers nothing above it", () => {
  const batch = control("training.batch_size");
  const max = fieldSpec(SCHEMA, "training.batch_size").max;
  assert.equal(max, 4096);
  assert.ok(batch.choices.includes(4096));
  assert.ok(batch.choices.includes(150), "GAN Lab's batch");
  assert.ok(batch.choices.every((v) => v >= 1 && v <= max));
  assert.deepEqual(batch.choices, [16, 32, 64, 128, 150, 256, 512, 1024, 2048, 4096]);
  // The menu is derived from the schema, not written down.
  assert.deepEqual(control("training.batch_size", buildNodes(withField("training.batch_size", { maximum: 2000 }))).choices,
    [16, 32, 64, 128, 150, 256, 512, 1024, 2000]);
  assert.deepEqual(control("training.batch_size", buildNodes(withField("training.batch_size", { maximum: 100 }))).choices,
    [16, 32, 64, 100]);
});

test("suggested values outside the schema's range are dropped", () => {
  assert.deepEqual(control("g_optimizer.lr").choices, [0.0001, 0.0003, 0.0004, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1]);
  const nodes = buildNodes(withField("g_optimizer.lr", { maximum: 0.1, exclusiveMinimum: 0.0001 }));
  assert.deepEqual(control("g_optimizer.lr", nodes).choices, [0.0003, 0.0004, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.03, 0.1]);
});

test("a hint whose setting the schema lacks gets no control", () => {
  const schema = structuredClone(SCHEMA);
  delete schema.$defs.DiscriminatorConfig.properties.packing;
  const nodes = buildNodes(schema);
  assert.equal(control("discriminator.packing", nodes), undefined);
  assert.ok(control("discriminator.layers", nodes));
});

test("control input is checked against the schema, in the same sentences as a link's settings", () => {
  const layers = control("generator.layers");
  assert.deepEqual(parseControl(layers, "3"), { value: 3 });
  assert.equal(parseControl(layers, "9").error, "Hidden layers can be at most 8.");
  assert.equal(parseControl(layers, "-1").error, "Hidden layers must be at least 0.");
  assert.equal(parseControl(layers, "2.5").error, "Hidden layers must be a whole number.");
  assert.equal(parseControl(layers, "").error, "Hidden layers must be a number.");
  assert.equal(parseControl(layers, "abc").error, "Hidden layers must be a number.");
  const act = control("generator.activation");
  assert.deepEqual(parseControl(act, "tanh"), { value: "tanh" });
  assert.equal(parseControl(act, "sigmoid").error, "Activation must be one of ReLU, Leaky ReLU, tanh, ELU, GELU, SiLU.");
  const lr = control("g_optimizer.lr");
  assert.deepEqual(parseControl(lr, "0.003"), { value: 0.003 });
  assert.equal(parseControl(lr, "0").error, "Learning rate must be more than 0.");
  assert.equal(parseControl(control("g_optimizer.beta2"), "1").error, "Adam β2 must be less than 1.");
  assert.deepEqual(parseControl(control("training.batch_size"), "4096"), { value: 4096 });
  assert.equal(parseControl(control("training.batch_size"), "8192").error, "Batch size can be at most 4,096.");
});

test("conditional controls follow the config", () => {
  const gp = control("loss.gp_weight");
  assert.equal(gp.when({ loss: { kind: "wgan_gp" } }), true);
  assert.equal(gp.when({ loss: { kind: "log" } }), false);
  const beta = control("g_optimizer.beta1");
  assert.equal(beta.when({ g_optimizer: { kind: "adam" } }), true);
  assert.equal(beta.when({ g_optimizer: { kind: "sgd" } }), false);
  const momentum = control("d_optimizer.momentum");
  assert.equal(momentum.when({ d_optimizer: { kind: "sgd" } }), true);
  assert.equal(momentum.when({ d_optimizer: { kind: "adam" } }), false);
  assert.equal(control("loss.label_smoothing").when({ loss: { kind: "hinge" } }), false);
  assert.equal(control("loss.r1").when, undefined, "R1 applies to every loss");
  assert.equal(control("loss.r1").advanced, true);
  assert.equal(control("generator.layers").advanced, false);
});

test("settings are named for messages, the network included where labels repeat", () => {
  assert.equal(labelFor("generator.neurons"), "Generator neurons");
  assert.equal(labelFor("d_optimizer.lr"), "Discriminator learning rate");
  assert.equal(labelFor("training.batch_size"), "Batch size");
  assert.equal(labelFor("seed"), "Seed");
  assert.equal(labelFor("view.grid"), "view.grid");
});

test("dotted paths read and build nested partial configs", () => {
  assert.deepEqual(setPath("g_optimizer.lr", 0.01), { g_optimizer: { lr: 0.01 } });
  assert.deepEqual(setPath("seed", 4), { seed: 4 });
  assert.equal(getPath({ a: { b: { c: 3 } } }, "a.b.c"), 3);
  assert.equal(getPath({ a: null }, "a.b"), undefined);
});

test("the training variants sit in the node a learner looks in, as advanced settings", () => {
  const nodeOf = (path) => NODES.find((n) => n.controls.some((c) => c.path === path))?.id;
  const expected = {
    "discriminator.spectral_norm": "discriminator", "generator.ema": "generator", "view.average": "generator",
    "training.scheme": "loss", "training.unrolled_steps": "loss", "training.instance_noise": "loss",
    "training.instance_noise_anneal": "loss",
  };
  for (const [path, node] of Object.entries(expected)) {
    assert.equal(nodeOf(path), node, path);
    assert.equal(control(path).advanced, true, `${path} is advanced`);
  }
  // Their kinds and ranges come from the schema.
  assert.equal(control("discriminator.spectral_norm").kind, "boolean");
  assert.equal(control("view.average").kind, "boolean");
  assert.equal(control("training.unrolled_steps").kind, "int");
  assert.deepEqual([control("training.unrolled_steps").min, control("training.unrolled_steps").max], [0, 10]);
  assert.deepEqual([control("training.instance_noise").min, control("training.instance_noise").max], [0, 1]);
  assert.deepEqual(control("training.scheme").options,
    [["alternating", "Alternating"], ["simultaneous", "Simultaneous"], ["extragradient", "Extragradient"]]);
  // The EMA menu: off first, and nothing above the schema's 0.9999.
  const ema = control("generator.ema");
  assert.equal(ema.choices[0], 0);
  assert.ok(ema.choices.includes(0.999));
  assert.ok(ema.choices.every((v) => v >= 0 && v <= fieldSpec(SCHEMA, "generator.ema").max));
  assert.deepEqual(parseControl(ema, "0.999"), { value: 0.999 });
  assert.equal(parseControl(ema, "1").error, "Weight average (EMA) can be at most 0.9999.");
});

test("the averaged view and the noise's fade-out show only where they mean something", () => {
  const average = control("view.average");
  assert.equal(average.when({ generator: { ema: 0 } }), false);
  assert.equal(average.when({ generator: { ema: 0.999 } }), true);
  const anneal = control("training.instance_noise_anneal");
  assert.equal(anneal.when({ training: { instance_noise: 0 } }), false);
  assert.equal(anneal.when({ training: { instance_noise: 0.1 } }), true);
  assert.equal(control("training.instance_noise").when, undefined);
});

test("updates per iteration stay in view under the other schemes, marked as unused and why", () => {
  for (const path of ["training.d_steps", "training.g_steps"]) {
    const c = control(path);
    assert.equal(c.when, undefined, `${path} is never hidden`);
    assert.equal(c.unused({ training: { scheme: "alternating" } }), null);
    assert.equal(c.unused({ training: {} }), null, "a server without schemes alternates");
    assert.match(c.unused({ training: { scheme: "simultaneous" } }), /^Not used now: the simultaneous scheme/);
    assert.match(c.unused({ training: { scheme: "extragradient" } }), /extragradient scheme updates each network once/);
    assert.match(c.help, /alternating scheme/);
  }
  assert.equal(control("training.batch_size").unused, undefined);
});

test("a yes/no setting reads true and false and nothing else", () => {
  const sn = control("discriminator.spectral_norm");
  assert.deepEqual(parseControl(sn, "true"), { value: true });
  assert.deepEqual(parseControl(sn, "false"), { value: false });
  assert.equal(parseControl(sn, "on").error, "Spectral norm must be true or false.");
});

test("picking a loss says that it brings its usual settings; values are named as their menus name them", () => {
  assert.match(control("loss.kind").help, /also sets its usual updates per iteration and optimizers/);
  assert.equal(optionName("d_optimizer.kind", "rmsprop"), "RMSProp");
  assert.equal(optionName("generator.activation", "silu"), "SiLU");
  assert.equal(optionName("generator.activation", "swish"), "swish");
  assert.equal(optionName("generator.neurons", 16), "16");
  assert.equal(labelFor("discriminator.spectral_norm"), "Discriminator spectral norm");
  assert.equal(labelFor("generator.ema"), "Generator weight average (EMA)");
});
