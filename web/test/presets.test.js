import { test } from "node:test";
import assert from "node:assert/strict";
import { fillPresetMenu, presetCommands } from "../src/ui/presets.js";

const RING = {
  name: "ring",
  description: "Eight gaussians on a circle",
  config: {
    seed: 7,
    device: "cpu",
    data: { name: "ring", modes: 8, std: 0.02 },
    training: { d_steps: 3, g_steps: 1 },
    g_optimizer: { kind: "adam", lr: 0.001 },
  },
};

test("a preset is started over with its settings and its data, keeping the seed in use", () => {
  assert.deepEqual(presetCommands(RING), [
    { type: "config", set: { training: { d_steps: 3, g_steps: 1 }, g_optimizer: { kind: "adam", lr: 0.001 } } },
    { type: "data", set: { name: "ring" } },
    { type: "reset" },
  ]);
});

test("the menu gets one option per preset, in order, described in its tooltip", () => {
  const added = [];
  const select = {
    ownerDocument: { createElement: (tag) => ({ tag, value: "", textContent: "", title: "" }) },
    append: (o) => added.push(o),
  };
  fillPresetMenu(select, [RING, { name: "line", description: "A line", config: {} }]);
  assert.deepEqual(added, [
    { tag: "option", value: "ring", textContent: "ring", title: "Eight gaussians on a circle" },
    { tag: "option", value: "line", textContent: "line", title: "A line" },
  ]);
});
