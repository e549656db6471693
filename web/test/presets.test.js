import { test } from "node:test";
import assert from "node:assert/strict";
import { fillPresetMenu } from "../src/ui/presets.js";

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
