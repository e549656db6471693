// D's colour scale: the one map from D's value to a place on the heatmap's colour ramp (0 =
// looks fake, 1 = looks real) that the heatmap, the walkthrough's sample colours and the heat
// legend all use, so that one value has one colour everywhere.
//
// Probabilities keep the fixed scale [0, 1]. Critic scores (lsgan, wgan, wgan_gp, hinge) have
// no fixed range, and a critic's loss does not change when a constant is added to it, so the
// score 0 means nothing: the scale is centred where real and fake meet and spans the scores
// this picture actually shows.
import { formatNumber } from "./math.js";

// The span covers this share of the picture's scores (grid and samples) on either side of the
// centre: a few extreme grid corners would otherwise wash out everything near the data.
export const SPAN_QUANTILE = 0.95;
// Below this span D is nearly flat over the picture (a 1-Lipschitz critic would change by
// about 2 across the data's box, which spans -1 to 1): the colours are then stretched a long
// way, and the legend says so.
export const TINY_SPAN = 1e-3;

export function isProbability(output) {
  return output === "prob" || output === "probability";
}

export const PROBABILITY_SCALE = Object.freeze({ kind: "prob", centre: 0.5, span: 0.5, tiny: false, flat: false });

function mean(values) {
  let sum = 0;
  let n = 0;
  for (const v of values) {
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n ? sum / n : NaN;
}

/** The q-quantile of `values` (finite ones), linearly interpolated; NaN for none. */
export function quantile(values, q) {
  return sortedQuantile(Float64Array.from(values).filter(Number.isFinite).sort(), q);
}

function sortedQuantile(sorted, q) {
  if (!sorted.length) return NaN;
  const at = q * (sorted.length - 1);
  const i = Math.floor(at);
  return i + 1 < sorted.length ? sorted[i] + (at - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** quantile() of finite `values` without sorting them all (a selection, in place: this runs
 * for every frame drawn, and sorting its ~5,000 values took most of the picture's budget). */
export function selectQuantile(values, q) {
  const n = values.length;
  if (!n) return NaN;
  const at = q * (n - 1);
  const k = Math.floor(at);
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // Hoare partition around the middle element until position k holds its sorted value.
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  if (k + 1 >= n) return values[k];
  let next = Infinity; // the next sorted value: the smallest of those after k
  for (let i = k + 1; i < n; i++) if (values[i] < next) next = values[i];
  return values[k] + (at - k) * (next - values[k]);
}

/**
 * The scale of critic scores: `real`, `fake` D's values on the picture's real and fake
 * samples, `grid` on its grid. Returns { kind: "score", centre, span, tiny, flat }: a value v
 * sits at 0.5 + (v - centre) / (2 span) on the ramp.
 *
 * The centre is the midpoint of mean D(real) and mean D(fake): where a sample looks as much
 * like the average real one as like the average fake one. (The median of all samples would
 * lean towards whichever set is larger: the picture has twice as many real samples.)
 * The span is the SPAN_QUANTILE quantile of |v - centre| over grid and samples, and never less
 * than half the gap between the two means, so that both means always sit inside the ramp.
 */
export function scoreScale({ real = [], fake = [], grid = [] }) {
  const mReal = mean(real);
  const mFake = mean(fake);
  let centre;
  if (Number.isFinite(mReal) && Number.isFinite(mFake)) centre = (mReal + mFake) / 2;
  else centre = quantile([...real, ...fake, ...grid], 0.5); // no samples of one kind: the middle
  if (!Number.isFinite(centre)) centre = 0;
  // A typed array sorts numerically and fast: this runs for every frame drawn.
  const deviations = new Float64Array(grid.length + real.length + fake.length);
  let n = 0;
  for (const arr of [grid, real, fake]) {
    for (let i = 0; i < arr.length; i++) {
      const d = Math.abs(arr[i] - centre);
      if (Number.isFinite(d)) deviations[n++] = d;
    }
  }
  let span = selectQuantile(deviations.subarray(0, n), SPAN_QUANTILE);
  const gap = Number.isFinite(mReal) && Number.isFinite(mFake) ? Math.abs(mReal - mFake) / 2 : 0;
  if (!(span >= gap)) span = gap;
  // D the same everywhere: nothing to stretch; every value is the centre's grey.
  const flat = !(span > 0);
  if (flat) span = 1;
  return { kind: "score", centre, span, tiny: !flat && span < TINY_SPAN, flat };
}

/** The scale for D's values of one kind of output ("prob" or "score"). */
export function scaleFor(output, values) {
  return isProbability(output) ? PROBABILITY_SCALE : scoreScale(values);
}

const frameScales = new WeakMap();

/** A prepared frame's scale (computed once per frame object). */
export function frameScale(f) {
  let s = frameScales.get(f);
  if (!s) {
    s = isProbability(f.output) ? PROBABILITY_SCALE : scoreScale({ real: f.realD, fake: f.fakeD, grid: f.dGrid });
    frameScales.set(f, s);
  }
  return s;
}

/** Where value `v` sits on the ramp, 0 (looks fake) to 1 (looks real), clamped. */
export function rampPosition(scale, v) {
  const t = 0.5 + (v - scale.centre) / (2 * scale.span);
  if (Number.isNaN(t)) return 0.5; // no verdict: the undecided middle
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

/** The colour table's entry (0-255) for value `v`. */
export function rampLevel(scale, v) {
  return Math.round(rampPosition(scale, v) * 255);
}

/** A signed number with a real minus sign and a plus on positives. */
function signed(v, digits) {
  const text = Math.abs(v).toFixed(digits);
  if (Number(text) === 0) return (0).toFixed(digits);
  return `${v < 0 ? "−" : "+"}${text}`;
}

/**
 * The legend's words: { low, centre, high } the numbers at its ends and centre, `fake` and
 * `real` the words at its ends, `line` the whole in one line, `note` how the scale was made.
 */
export function scaleLegend(scale) {
  if (scale.kind === "prob") {
    return {
      low: "0", centre: "0.5", high: "1", fake: "looks fake", real: "looks real",
      line: "D(x): probability of real 0 … 0.5 … 1", note: "",
    };
  }
  const { centre, span } = scale;
  // Two significant digits of the span, and enough to tell the ends from the centre.
  const digits = Math.min(12, Math.max(0, 1 - Math.floor(Math.log10(span))));
  const low = signed(centre - span, digits);
  const mid = signed(centre, digits);
  const high = signed(centre + span, digits);
  let line = `D(x): critic score ${low} … ${mid} … ${high}`;
  if (scale.flat) line += " (D is flat)";
  else if (scale.tiny) line += " (a tiny range: D is nearly flat)";
  let note = `centre ${formatNumber(centre)}: midway between mean D on real and on fake samples; ends: ${Math.round(SPAN_QUANTILE * 100)}% of scores lie between`;
  if (scale.flat) note = "D is the same everywhere: no colour to tell real from fake";
  else if (scale.tiny) note += `; a tiny range (±${formatNumber(span)}): D is nearly flat, its colours are stretched`;
  return {
    low, centre: mid, high, fake: "looks fake", real: "looks real",
    line, note,
  };
}
