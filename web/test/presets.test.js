import { test } from "node:test";
import assert from "node:assert/strict";
import { fillPresetMenu, matchingPreset } from "../src/ui/presets.js";

const RING = { name: "ring", title: "Ring", description: "An ellipse", config: {} };

test("the menu gets one option per preset, in order, with its title and its description as the tooltip", () => {
  const added = [];
  const select = {
    ownerDocument: { createElement: (tag) => ({ tag, value: "", textContent: "", title: "" }) },
    append: (o) => added.push(o),
  };
  fillPresetMenu(select, [RING, { name: "line", description: "A line", config: {} }]);
  assert.deepEqual(added, [
    { tag: "option", value: "ring", textContent: "Ring", title: "An ellipse" },
    // A server without titles: the name stands in.
    { tag: "option", value: "line", textContent: "line", title: "A line" },
  ]);
});

test("the preset a config is exactly, seed and device aside, whatever the key order", () => {
  const presets = [
    { name: "ring", config: { data: { name: "ring" }, training: { d_steps: 3, g_steps: 1 }, seed: 0, device: "auto" } },
    { name: "line", config: { data: { name: "line" }, training: { d_steps: 1, g_steps: 1 }, seed: 0, device: "auto" } },
  ];
  assert.equal(matchingPreset({ training: { g_steps: 1, d_steps: 3 }, data: { name: "ring" }, seed: 42, device: "cpu" }, presets), "ring");
  assert.equal(matchingPreset({ data: { name: "ring" }, training: { d_steps: 2, g_steps: 1 }, seed: 0 }, presets), null);
  assert.equal(matchingPreset(null, presets), null);
});
