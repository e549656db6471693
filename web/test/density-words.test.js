import { test } from "node:test";
import assert from "node:assert/strict";
import { densityWords, massList } from "../src/ui/density-words.js";
import { DENSITY_MASS } from "../src/views/distribution-renderer.js";

test("the shares of mass the contour lines enclose are listed as drawn", () => {
  assert.equal(massList([0.9, 0.6, 0.3]), "90%, 60% and 30%");
  assert.equal(massList([0.5]), "50%");
  assert.equal(massList(), massList(DENSITY_MASS));
});

test("a law known exactly is called the true density of the distribution", () => {
  const w = densityWords("exact", null);
  assert.equal(w.tag, "(true)");
  assert.match(w.title, /true density of the distribution/);
  assert.match(w.title, new RegExp(`holding ${massList()} of its mass`));
  assert.match(w.note, /true density of the distribution/);
  assert.doesNotMatch(`${w.title} ${w.note}`, /estimat|kernel/);
});

test("an estimate says so, with its kernel's width and how the width was chosen", () => {
  const w = densityWords("kde", 0.0347);
  assert.equal(w.tag, "(estimated)");
  assert.match(w.title, /estimated from the data \(kernel density, width 0\.0347 chosen by cross-validation\)/);
  assert.match(w.note, /width 0\.0347/);
  assert.match(w.note, /cross-validation/);
  assert.doesNotMatch(`${w.title} ${w.note}`, /true density/);
});

test("without word from the server, nothing is claimed about where the density comes from", () => {
  const w = densityWords(null, null);
  assert.equal(w.tag, "");
  assert.doesNotMatch(`${w.title} ${w.note}`, /true|estimat/);
  assert.match(w.title, /Contour lines of the real data's density/);
});
