// The page's words that change with the training variants in effect: which generator the
// picture's fake samples come from (view.average shows the weight average of G, when one
// exists), and what one iteration is under the update scheme. Pure: main.js writes them into
// the page, exports.js into the PNG's legend, walkthrough.js into its sentences.

/**
 * Which generator the picture, its samples and the sample metrics show. `null` when the view
 * shows G as usual (view.average off); else `{averaged, short, detail, ema, reason}`: averaged
 * true when they show the weight average, else `reason` says why they show G itself. `gUpdates` is G's update count: the server starts the average
 * at G's first update, and shows G itself until then. (An average restarted by turning EMA
 * on, or by a new G, is a copy of G after one update, so the label is true within one.)
 */
export function shownGenerator(config, gUpdates) {
  if (!config?.view?.average) return null;
  const ema = config.generator?.ema ?? 0;
  if (ema > 0 && gUpdates > 0) return { averaged: true, short: "averaged G", detail: `averaged G, EMA ${ema}`, ema, reason: "" };
  const reason = ema > 0 ? "the average starts at G's first update" : "there is no average while EMA is 0";
  return { averaged: false, short: "G itself", detail: `G itself: ${reason}`, ema, reason };
}

/** The PNG legend's label of the fake samples and of the manifold. */
export function legendLabels(shown) {
  return {
    fake: shown ? `fake samples (${shown.detail})` : "fake samples",
    manifold: shown && shown.averaged ? "averaged G manifold" : "G manifold",
  };
}

/**
 * What the page says about the picture beyond its fixed words: `{fakeTag}` (beside the Fake
 * layer's name, "" when nothing is to be said), `fakeNote`, `manifoldNote` and
 * `gradientsNote` (sentences added to those layers' explanations, see withNote),
 * `canvasLabel` (the picture's accessible name), `tooltipName` (what hovering a fake sample
 * calls it), `thumbLabel` (the graph's thumbnail of them), `chartsNote` (over the metrics)
 * and `explainFake` (after the page's paragraph on fake dots).
 */
export function pictureWords(config, gUpdates) {
  const shown = shownGenerator(config, gUpdates);
  const unrolled = config?.training?.unrolled_steps ?? 0;
  const out = {
    fakeTag: "", fakeNote: "", manifoldNote: "", gradientsNote: "", tooltipName: "fake", thumbLabel: "Fake samples",
    canvasLabel: "Real and fake samples over the discriminator's heatmap", chartsNote: "", explainFake: "",
  };
  if (unrolled > 0) {
    // The picture's arrows are the current D's pull; G's update looks ahead (Metz et al.).
    out.gradientsNote = `They follow the current D. G's own update looks ahead through ${unrolled} simulated D update${unrolled === 1 ? "" : "s"}, so it can go another way.`;
  }
  if (!shown) return out;
  out.fakeTag = `(${shown.short})`;
  out.tooltipName = `fake (${shown.short})`;
  out.thumbLabel = `Fake samples (${shown.short})`;
  out.canvasLabel = `Real and fake samples (${shown.detail}) over the discriminator's heatmap`;
  if (shown.averaged) {
    out.fakeNote = `Shown now: the averaged generator's (EMA ${shown.ema}), not the one being trained.`;
    out.manifoldNote = "Shown now: the averaged generator's grid.";
    out.chartsNote = "KL, JS, W1 and modes measure the averaged G's samples; the losses and D's outputs come from training, where G itself makes the fakes.";
    out.explainFake = `Now they come from the averaged generator (EMA ${shown.ema}), the moving average of G's weights, not from the G being trained.`;
  } else {
    out.fakeNote = `"Show averaged G" is on, but they come from G itself: ${shown.reason}.`;
    out.explainFake = out.fakeNote;
  }
  return out;
}

/** The titles of the "Both" step button and of the iteration counter: what one iteration
 * does under the config's update scheme. */
export function iterationWords(config) {
  const scheme = config?.training?.scheme || "alternating";
  if (scheme === "simultaneous") {
    return {
      both: "One full iteration: D and G each take one update, both computed at the same point (b)",
      iteration: "Iterations completed: in each, D and G update together from the same point",
    };
  }
  if (scheme === "extragradient") {
    return {
      both: "One full iteration: D and G look one update ahead, then step from where they were with the gradients found there (b)",
      iteration: "Iterations completed: in each, D and G look one update ahead, then step from where they were",
    };
  }
  return {
    both: "One full iteration: D's updates, then G's (b)",
    iteration: "Iterations completed: each is D's updates then G's",
  };
}

/** A page's own explanation with a note added as a sentence of its own ("" adds nothing). */
export function withNote(base, note) {
  if (!note) return base;
  return `${base}${/[.!?]$/.test(base) ? "" : "."} ${note}`;
}
