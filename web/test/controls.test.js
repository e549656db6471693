import { test } from "node:test";
import assert from "node:assert/strict";
import { NODES, getPath, setPath, parseControl } from "../src/state/controls.js";

test("every control has a unique config path and sits next to one node", () => {
  const paths = NODES.flatMap((n) => n.controls.map((c) => c.path));
  assert.equal(new Set(paths).size, paths.length);
  for (const p of ["noise.kind", "noise.dim", "generator.layers", "generator.neurons", "generator.activation",
    "g_optimizer.kind", "g_optimizer.lr", "discriminator.layers", "discriminator.neurons",
    "d_optimizer.kind", "d_optimizer.lr", "training.d_steps", "training.g_steps", "training.batch_size",
    "loss.kind"]) {
    assert.ok(paths.includes(p), `missing control for ${p}`);
  }
  assert.deepEqual(NODES.map((n) => n.id), ["noise", "generator", "samples", "discriminator", "loss"]);
});

test("dotted paths read and build nested partial configs", () => {
  assert.deepEqual(setPath("g_optimizer.lr", 0.01), { g_optimizer: { lr: 0.01 } });
  assert.deepEqual(setPath("seed", 4), { seed: 4 });
  assert.equal(getPath({ a: { b: { c: 3 } } }, "a.b.c"), 3);
  assert.equal(getPath({ a: null }, "a.b"), undefined);
});

test("control input is checked before it is sent", () => {
  const layers = NODES[1].controls.find((c) => c.path === "generator.layers");
  assert.deepEqual(parseControl(layers, "3"), { value: 3 });
  assert.match(parseControl(layers, "9").error, /at most 8/);
  assert.match(parseControl(layers, "-1").error, /at least 0/);
  assert.match(parseControl(layers, "2.5").error, /whole number/);
  assert.match(parseControl(layers, "").error, /enter a number/);
  const act = NODES[1].controls.find((c) => c.path === "generator.activation");
  assert.deepEqual(parseControl(act, "tanh"), { value: "tanh" });
  const lr = NODES[1].controls.find((c) => c.path === "g_optimizer.lr");
  assert.deepEqual(parseControl(lr, "0.003"), { value: 0.003 });
});

test("conditional controls follow the config", () => {
  const gp = NODES[4].controls.find((c) => c.path === "loss.gp_weight");
  assert.equal(gp.when({ loss: { kind: "wgan_gp" } }), true);
  assert.equal(gp.when({ loss: { kind: "log" } }), false);
  const beta = NODES[1].controls.find((c) => c.path === "g_optimizer.beta1");
  assert.equal(beta.when({ g_optimizer: { kind: "adam" } }), true);
  assert.equal(beta.when({ g_optimizer: { kind: "sgd" } }), false);
});
