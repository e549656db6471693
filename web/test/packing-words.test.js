import { test } from "node:test";
import assert from "node:assert/strict";
import { packingWords } from "../src/ui/packing-words.js";

test("without packing the page adds nothing", () => {
  for (const k of [1, undefined, null]) {
    for (const text of Object.values(packingWords(k))) assert.equal(text, "");
  }
});

test("with packing every D number says it is a weighted mean over the frame's packs and whose partners", () => {
  const w = packingWords(48);
  // One plain sentence under the picture; how the mean is taken waits behind a toggle.
  assert.match(w.legend, /^Packing: D judges packs, so the heatmap, the fakes' D values and the arrows are averages over packs with the current fakes\.$/);
  assert.doesNotMatch(w.legend, /\d|cluster/);
  assert.ok(w.legend.split(" ").length <= 25, w.legend);
  assert.match(w.legendHow, /clusters of nearby points.*cluster's centre, in every slot.*48 packs in all.*share of the fakes/);
  assert.match(w.legendHow, /Real samples' D values.*clusters of the shown real samples/);
  for (const key of ["heatmap", "gradients", "field", "fakeD", "realD", "pointD"]) assert.match(w[key], /48 packs/, key);
  for (const key of ["heatmap", "gradients", "field"]) assert.match(w[key], /clusters of the current fake samples.*weighted by its share/, key);
  assert.match(w.realD, /real samples/);
  assert.doesNotMatch(w.realD, /fake/);
  assert.match(w.fakeD, /fakes/);
  // The count is the frame's, not a constant.
  assert.match(packingWords(108).heatmap, /108 packs/);
  assert.doesNotMatch(packingWords(108).heatmap, /48/);
});
