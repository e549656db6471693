import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { installTestHook } from "../src/test-hook.js";

// The hook's header documents its surface: every documented name exists and nothing else does,
// so browser tests can rely on the list.
function documentedNames() {
  const text = readFileSync(new URL("../src/test-hook.js", import.meta.url), "utf8");
  return [...text.matchAll(/^\/\/ {3}(\w+)/gm)].map((m) => m[1]).sort();
}

function fakeApp() {
  const frame = { iteration: 7, dUpdates: 14, gUpdates: 7, fake: new Float32Array([1, 2, 3, 4]), box: [0, 1, 0, 1] };
  return {
    run: {
      connected: true, config: { seed: 3, data: { name: "ring" } }, frame, playing: false, iteration: 7,
      connection: { session: "s1", state: "open", drop() { this.dropped = true; } },
      hello: { resumed: false }, history: { length: 2 },
    },
    stats: { framesRendered: 1 },
    settled: true,
    pendingFrame: null,
    view: { inFlight: 0, mode: "worker", highlight: -1 },
    noise: { highlight: 3 },
    walk: { enabled: true, pending: false, last: { network: "d", phase: "loss" } },
    graph: { focus: { nodes: new Set(["predictions", "loss"]) } },
    picker: { distributions: [{ name: "ring" }, { name: "line" }] },
    pngLegend: () => ({
      palette: { real: "g", fake: "p" }, layers: { real: true, fake: true },
      shown: { averaged: true, short: "averaged G", detail: "averaged G, EMA 0.9", ema: 0.9, reason: "" },
    }),
  };
}

test("the hook exposes exactly the names its header documents", () => {
  globalThis.window = {};
  try {
    const hook = installTestHook(fakeApp());
    assert.equal(globalThis.window.ganlabTest, hook);
    assert.deepEqual(Object.keys(hook).sort(), documentedNames());
  } finally {
    delete globalThis.window;
  }
});

test("the hook reads the run without handing out its objects", () => {
  globalThis.window = {};
  try {
    const app = fakeApp();
    const hook = installTestHook(app);
    assert.equal(hook.ready, true);
    assert.deepEqual(hook.counters(), { iteration: 7, d: 14, g: 7 });
    assert.deepEqual(hook.frame(["fake", "box"]), { fake: [1, 2, 3, 4], box: [0, 1, 0, 1] });
    const config = hook.config;
    config.seed = 99; // a copy: the page's config is untouched
    assert.equal(app.run.config.seed, 3);
    assert.deepEqual(hook.walk, { enabled: true, pending: false, network: "d", phase: "loss" });
    assert.deepEqual(hook.graphFocus, ["predictions", "loss"]);
    assert.deepEqual(hook.distributions, ["ring", "line"]);
    assert.deepEqual(hook.highlight, { view: -1, noise: 3 });
    assert.equal(hook.stats.pending, 0);
    assert.deepEqual(hook.exportLegend(), ["real samples", "fake samples (averaged G, EMA 0.9)"]);
    hook.drop();
    assert.equal(app.run.connection.dropped, true);
    app.run.connected = false;
    assert.equal(hook.ready, false);
  } finally {
    delete globalThis.window;
  }
});
