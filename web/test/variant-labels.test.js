import { test } from "node:test";
import assert from "node:assert/strict";
import { iterationWords, legendLabels, pictureWords, shownGenerator, withNote } from "../src/ui/variant-labels.js";

/** A config with the fields these words read; the rest of a real config does not matter. */
const config = ({ average = false, ema = 0, scheme = "alternating", unrolled = 0 } = {}) => ({
  generator: { layers: 2, neurons: 16, activation: "relu", ema },
  view: { average },
  training: { scheme, unrolled_steps: unrolled, d_steps: 1, g_steps: 1 },
});

test("the picture shows G as usual while view.average is off, whatever the EMA", () => {
  assert.equal(shownGenerator(config({ ema: 0.999 }), 50), null);
  assert.equal(shownGenerator(config(), 50), null);
  assert.equal(shownGenerator(null, 0), null);
});

test("with view.average on and an EMA, after G's first update the samples are the average's", () => {
  assert.deepEqual(shownGenerator(config({ average: true, ema: 0.999 }), 1),
    { averaged: true, short: "averaged G", detail: "averaged G, EMA 0.999", ema: 0.999, reason: "" });
});

test("with view.average on but no average to show, the words say G itself is shown, and why", () => {
  const off = shownGenerator(config({ average: true, ema: 0 }), 40);
  assert.equal(off.averaged, false);
  assert.equal(off.detail, "G itself: there is no average while EMA is 0");
  // The server starts the average at G's first update: before it, G itself is drawn.
  for (const g of [0, null, undefined]) {
    const early = shownGenerator(config({ average: true, ema: 0.99 }), g);
    assert.equal(early.averaged, false, String(g));
    assert.equal(early.detail, "G itself: the average starts at G's first update");
  }
});

test("the PNG legend names the generator of the fake samples and of the manifold", () => {
  assert.deepEqual(legendLabels(null), { fake: "fake samples", manifold: "G manifold" });
  assert.deepEqual(legendLabels(shownGenerator(config({ average: true, ema: 0.999 }), 3)),
    { fake: "fake samples (averaged G, EMA 0.999)", manifold: "averaged G manifold" });
  assert.deepEqual(legendLabels(shownGenerator(config({ average: true }), 3)),
    { fake: "fake samples (G itself: there is no average while EMA is 0)", manifold: "G manifold" });
});

test("the page's words for the picture say nothing extra for a plain run", () => {
  const w = pictureWords(config(), 10);
  assert.deepEqual(w, {
    fakeTag: "", fakeNote: "", manifoldNote: "", gradientsNote: "", tooltipName: "fake", thumbLabel: "Fake samples",
    canvasLabel: "Real and fake samples over the discriminator's heatmap", chartsNote: "", explainFake: "",
  });
});

test("the page's words for the averaged view name the averaged G everywhere the dots are described", () => {
  const w = pictureWords(config({ average: true, ema: 0.999 }), 10);
  assert.equal(w.fakeTag, "(averaged G)");
  assert.equal(w.tooltipName, "fake (averaged G)");
  assert.equal(w.thumbLabel, "Fake samples (averaged G)");
  assert.equal(w.canvasLabel, "Real and fake samples (averaged G, EMA 0.999) over the discriminator's heatmap");
  assert.match(w.fakeNote, /averaged generator's \(EMA 0\.999\), not the one being trained/);
  assert.match(w.manifoldNote, /averaged generator/);
  assert.match(w.explainFake, /averaged generator \(EMA 0\.999\)/);
  // The sample metrics follow the view; the losses come from training batches of G itself.
  assert.match(w.chartsNote, /KL, JS, W1 and modes measure the averaged G's samples/);
  assert.match(w.chartsNote, /losses and D's outputs come from training/);
});

test("with view.average on and EMA 0, the page says G itself is shown and the metrics need no note", () => {
  const w = pictureWords(config({ average: true, ema: 0 }), 10);
  assert.equal(w.fakeTag, "(G itself)");
  assert.equal(w.tooltipName, "fake (G itself)");
  assert.equal(w.fakeNote, "\"Show averaged G\" is on, but they come from G itself: there is no average while EMA is 0.");
  assert.equal(w.explainFake, w.fakeNote);
  assert.equal(w.manifoldNote, "");
  assert.equal(w.chartsNote, "");
  assert.match(w.canvasLabel, /\(G itself: there is no average while EMA is 0\)/);
});

test("with unrolled steps, the arrows' explanation says they follow the current D", () => {
  assert.equal(pictureWords(config({ unrolled: 5 }), 1).gradientsNote,
    "They follow the current D. G's own update looks ahead through 5 simulated D updates, so it can go another way.");
  assert.match(pictureWords(config({ unrolled: 1 }), 1).gradientsNote, /through 1 simulated D update,/);
});

test("one iteration is described by the scheme in effect", () => {
  assert.match(iterationWords(config()).both, /^One full iteration: D's updates, then G's/);
  assert.match(iterationWords(config()).iteration, /each is D's updates then G's/);
  assert.match(iterationWords(config({ scheme: "simultaneous" })).both, /D and G each take one update, both computed at the same point/);
  assert.match(iterationWords(config({ scheme: "simultaneous" })).iteration, /together from the same point/);
  assert.match(iterationWords(config({ scheme: "extragradient" })).both, /look one update ahead, then step from where they were/);
  assert.doesNotMatch(iterationWords(config({ scheme: "extragradient" })).iteration, /D's updates then G's/);
  // Every title keeps its keyboard shortcut.
  for (const scheme of ["alternating", "simultaneous", "extragradient"]) assert.match(iterationWords(config({ scheme })).both, /\(b\)$/);
});

test("a note is added to an explanation as a sentence of its own", () => {
  assert.equal(withNote("The generator's samples", "Shown now: x."), "The generator's samples. Shown now: x.");
  assert.equal(withNote("Ends here.", "More."), "Ends here. More.");
  assert.equal(withNote("Unchanged", ""), "Unchanged");
});
