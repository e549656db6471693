// What the heatmap shows: D, the optimal discriminator D* = p_data / (p_data + p_g) for the
// current G (server: engine/optimal.py, sent as `d_optimal` with view.optimal on), or D − D*
// on a diverging scale. Pure functions: the renderer takes the colour levels, the page takes
// the legend's words (web/test/heatmap-mode.test.js).
import { PROBABILITY_SCALE, isProbability, rampLevel } from "./score-scale.js";
import { formatNumber } from "./math.js";
import { optionName } from "../state/controls.js";

export const HEATMAP_MODES = [
  { id: "d", label: "D" },
  { id: "optimal", label: "optimal D*" },
  { id: "gap", label: "D − D*" },
];

// Losses whose D's optimum is p_data / (p_data + p_g): the cross-entropy game, and least
// squares with targets 0 (fake) and 1 (real). A Wasserstein or hinge critic's optimum is
// something else: there D − D* would compare unlike things.
const RATIO_OPTIMUM = new Set(["log", "lsgan"]);

export function ratioIsOptimum(lossKind) {
  return RATIO_OPTIMUM.has(lossKind);
}

/** The mode to draw: `wanted` where the frame can show it, else D. */
export function shownMode(wanted, frame, lossKind) {
  if (wanted === "d" || !frame || !frame.dOptimal) return "d";
  if (wanted === "gap" && !ratioIsOptimum(lossKind)) return "d";
  return wanted;
}

// The diverging scale's ends are the smallest of these that holds 95% of |D − D*|.
const NICE_SPANS = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100];

/** The grid's D − D* values (NaN where D* is undefined). */
export function differences(frame) {
  const d = frame.dGrid;
  const opt = frame.dOptimal;
  const out = new Float32Array(opt.length);
  for (let i = 0; i < opt.length; i++) out[i] = d[i] - opt[i];
  return out;
}

/** The half-width of the diverging scale for `values`: a round number that holds 95% of
 * their sizes (the largest listed when even that does not). */
export function differenceSpan(values) {
  const sizes = Array.from(values, Math.abs).filter(Number.isFinite).sort((a, b) => a - b);
  if (!sizes.length) return NICE_SPANS[0];
  const q = sizes[Math.min(sizes.length - 1, Math.floor(0.95 * (sizes.length - 1)))];
  return NICE_SPANS.find((s) => s >= q) ?? NICE_SPANS.at(-1);
}

// Brown (D below its optimum) - near white (D at it) - teal (D above it): apart from both
// palettes' real/fake hues, and readable with the common colour-vision deficiencies.
export const DIVERGING = [[140, 81, 10], [246, 246, 246], [1, 102, 94]];

/** A 256-entry RGBA table from DIVERGING's first colour (level 0) through its middle (127.5)
 * to its last (255), opaque. */
export function divergingLut() {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let q = 0; q < 256; q++) {
    const t = q / 255;
    const [a, b, u] = t < 0.5 ? [DIVERGING[0], DIVERGING[1], t * 2] : [DIVERGING[1], DIVERGING[2], t * 2 - 1];
    for (let c = 0; c < 3; c++) lut[4 * q + c] = Math.round(a[c] + (b[c] - a[c]) * u);
    lut[4 * q + 3] = 255;
  }
  return lut;
}

/** The level (0-255) of a difference `v` on a scale of half-width `span`, clamped. */
export function divergingLevel(v, span) {
  const t = 0.5 + v / (2 * span);
  return Math.round((t < 0 ? 0 : t > 1 ? 1 : t) * 255);
}

/**
 * The heatmap's colour levels for `mode` ("optimal" or "gap"): { levels, defined, span }.
 * `defined[i]` is 0 where D* is undefined (drawn blank). D* uses D's probability ramp (it is a
 * probability; a critic's scores are not on it); D − D* the diverging one over ±span.
 */
export function lensLevels(frame, mode) {
  const opt = frame.dOptimal;
  const n = opt.length;
  const levels = new Uint8Array(n);
  const defined = new Uint8Array(n);
  let span = null;
  if (mode === "gap") {
    const diff = differences(frame);
    span = differenceSpan(diff);
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(diff[i])) {
        levels[i] = divergingLevel(diff[i], span);
        defined[i] = 1;
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(opt[i])) {
        levels[i] = rampLevel(PROBABILITY_SCALE, opt[i]);
        defined[i] = 1;
      }
    }
  }
  return { levels, defined, span };
}

const count = (n) => Number(n).toLocaleString("en-US");

/** How p_g was obtained, in words, from the frame's `fake_density` header. */
export function fakeDensityWords(how) {
  if (!how) return "";
  if (how.kind === "pushforward") {
    // Where G folds the plane, several patches of noise land on the same spot.
    const folds = how.folds ? " G folds the plane over itself here, so some spots are reached from several patches of noise: their densities are added." : "";
    const share = how.covered < 1 ? ` (the noise grid holds ${(how.covered * 100).toFixed(1)}% of its mass)` : "";
    return `p_g: the noise's density pushed through G, cell by cell on a fine noise grid${share}.${folds}`;
  }
  const w = how.width ? ` with widths ${formatNumber(how.width[0])} × ${formatNumber(how.width[1])} (Scott's rule)` : "";
  return `p_g: estimated from ${count(how.samples)} fakes, a Gaussian kernel${w}.`;
}

/** How p_data was obtained, from the frame's real density kind and width. */
export function realDensityWords(kind, width) {
  if (kind === "kde") return `p_data: estimated from the data, a Gaussian kernel of width ${formatNumber(width)} (cross-validated).`;
  return "p_data: the data's own density, exact.";
}

/** The legend's entry beside a hatched swatch for cells where D* is undefined (drawn hatched by
 * the renderer). */
export const UNDEFINED_WORDS = "undefined (no real or fake mass)";

/** The heatmap layer's name and tooltip in each mode: the layer draws what the mode shows. */
export function heatLayerWords(mode) {
  if (mode === "optimal") {
    return { name: "D* heatmap", title: "The best D against the current G (D*) at every point: green looks real, purple looks fake; hatched where neither real nor fake points go" };
  }
  if (mode === "gap") {
    return { name: "D − D* heatmap", title: "How far D is from the best D against the current G (D − D*): brown where D is less sure a point is real than it could be, teal where it is more sure" };
  }
  return { name: "D heatmap", title: "The discriminator's verdict at every point: green looks real, purple looks fake" };
}

// Where D* is worked out and what its blank cells mean; the same for D* and D − D*.
const GRID_WORDS =
  "D* is worked out once per cell of the heatmap's grid, so its edges are steps where D's are smooth. " +
  "Hatched ▨: neither real nor fake points go there (both densities under 0.1% of an even spread over the picture), so D* is undefined. " +
  "White beyond the grid: not computed.";

/**
 * The legend for `mode` on `frame` with `config`: { low, high, fake, real, line, summary, how },
 * as score-scale's scaleLegend, plus the words under the picture: `summary`, one plain sentence
 * saying what the colours show, and `how`, the formula and how each density was obtained
 * (behind "How it's computed"). null for D: its own legend stands.
 */
export function lensLegend(mode, frame, config, span = null) {
  if (mode === "d") return null;
  const loss = config ? config.loss.kind : "log";
  const t = config ? 1 - config.loss.label_smoothing : 1;
  const m = config ? config.discriminator.packing : 1;
  // Under packing the picture's D is averaged over partners from the current fakes, and so
  // is D* (server: optimal.optimal_d).
  const others = m > 2 ? `${m - 1} current fakes y` : "a current fake y";
  const formula = m > 1
    ? `the mean, over packs of x with ${others}, of the pack's best D p_data(x)p_data(y) / (p_data(x)p_data(y) + p_g(x)p_g(y))`
    : "p_data / (p_data + p_g)";
  const scaled = t < 1 ? `${formatNumber(t)} · ` : "";
  const densities = `${fakeDensityWords(frame.fakeDensity)} ${realDensityWords(frame.realDensityKind, frame.realDensityWidth)}`;
  let what = `D*(x) = ${scaled}${formula}: the best D against this G.`;
  if (t < 1) what += ` Label smoothing moves D's optimum to ${formatNumber(t)} times the ratio.`;
  // p_data / (p_data + p_g) is the chance that a point there is real when real and fake
  // points are equally common: the best any D can answer.
  const capped = t < 1 ? ` (times ${formatNumber(t)}: label smoothing)` : "";
  let summary = m > 1
    ? `D*: the best any D could say against this G, averaged over packs with the current fakes, as D is${capped}.`
    : `D*: the best any D could say against this G, the chance that a point there is real if real and fake points are equally common${capped}.`;
  if (!ratioIsOptimum(loss)) {
    const name = optionName("loss.kind", loss);
    what = `D*(x) = ${formula} is the optimum of the cross-entropy game, not of this loss (${name}): its critic's best answer is another function, so D − D* is not drawn.`;
    summary = `D*: the best D of the ordinary real-or-fake game (log loss), not of this critic's loss (${name}), so D − D* is not shown.`;
  }
  const how = `${what} ${densities} ${GRID_WORDS}`;
  if (mode === "gap") {
    const s = formatNumber(span ?? 1);
    return {
      low: `−${s}`, high: `+${s}`, fake: "D below D*", real: "D above D*",
      line: `D(x) − D*(x): −${s} … 0 … +${s}`,
      summary: "D − D*: how far D is from the best D against this G. Brown: D is less sure a point is real than the best D would be; teal: more sure; white: D matches D*.",
      how: `The colour is D(x) − D*(x), its ends ±${s} (95% of the differences fit). ${how}`,
    };
  }
  const prob = isProbability(frame.output) || loss === "lsgan";
  return {
    low: "0", high: `${formatNumber(t)}`, fake: "looks fake", real: "looks real",
    line: `D*(x): ${prob ? "the optimal D" : "the cross-entropy game's optimal D"} 0 … ${formatNumber(t / 2)} … ${formatNumber(t)}`,
    summary,
    how,
  };
}
