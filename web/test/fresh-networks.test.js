import { test } from "node:test";
import assert from "node:assert/strict";
import { freshNetworks } from "../src/state/fresh-networks.js";

test("a change of a network's architecture gives it fresh weights", () => {
  assert.deepEqual(freshNetworks(["generator"], "generator.neurons"), ["generator"]);
  assert.deepEqual(freshNetworks(["generator"], "generator.activation"), ["generator"]);
  assert.deepEqual(freshNetworks(["discriminator"], "discriminator.packing"), ["discriminator"]);
  assert.deepEqual(freshNetworks(["discriminator", "generator"], "x"), ["generator", "discriminator"]);
  // The noise's dimension is G's input size: G is rebuilt though only `noise` changed.
  assert.deepEqual(freshNetworks(["noise"], "noise.dim"), ["generator"]);
});

test("the weight average and spectral norm keep the networks' weights", () => {
  assert.deepEqual(freshNetworks(["generator"], "generator.ema"), []);
  assert.deepEqual(freshNetworks(["discriminator"], "discriminator.spectral_norm"), []);
});

test("changes outside the networks, and resets, say nothing", () => {
  assert.deepEqual(freshNetworks(["g_optimizer"], "g_optimizer.lr"), []);
  assert.deepEqual(freshNetworks(["training"], "training.scheme"), []);
  assert.deepEqual(freshNetworks(["generator", "reset"], "generator.layers"), []);
});
