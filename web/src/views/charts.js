// Live metric charts (uPlot): losses (with D's penalties as their own series), mean D outputs,
// KL/JS by grid, Wasserstein-1, and for data with modes: modes covered, high-quality fraction,
// reverse KL and the per-mode histogram; precision/recall and density/coverage (knn-charts.js);
// the value of the game with D and with the optimal D* (value-chart.js).
// The KL/JS, W1, k-NN and reverse KL charts shade what real data scores against itself (the
// server's real-vs-real baseline), so that "good" is visible.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { KNN_CHARTS, KNN_HELP } from "./knn-charts.js";
import { VALUE_CHART, valueHelp } from "./value-chart.js";
import { ModeHistogram } from "./mode-histogram.js";
import { drawMarker, hoveredIteration, spanRange } from "./timeline-view.js";

function lastValue(col) {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) if (col[i] != null) return col[i];
  return null;
}

/** The newest value of `col` in a row at or before iteration `upto` (`xs`: the rows'
 * iterations), or null: what a legend reads while the timeline shows a past point. */
export function valueUpTo(col, xs, upto) {
  if (!col || !xs) return null;
  for (let i = Math.min(col.length, xs.length) - 1; i >= 0; i--) {
    if (xs[i] <= upto && col[i] != null) return col[i];
  }
  return null;
}

/** Whether `v` reads best as an exponent (very large, or very small and not 0). */
const wantsExponent = (v) => {
  const a = Math.abs(v);
  return a >= 1e4 || (a < 1e-3 && v !== 0);
};

export function formatValue(v) {
  if (v == null || Number.isNaN(v)) return "–";
  return wantsExponent(v) ? v.toExponential(2) : v.toPrecision(3);
}

/** Numbers read side by side (a band's mean, low and high), all in one notation: exponents
 * for all when any needs one, so "0.00163 (5.39e-4–0.00340)" reads "1.63e-3 (5.39e-4–3.40e-3)". */
export function formatValues(values) {
  const finite = values.filter((v) => v != null && Number.isFinite(v));
  if (!finite.some(wantsExponent)) return values.map(formatValue);
  return values.map((v) => (v == null || !Number.isFinite(v) ? formatValue(v) : v.toExponential(2)));
}

/** `color` ("#rgb", "#rrggbb" or "rgb(r, g, b)") at opacity `alpha`; other forms as they are. */
export function translucent(color, alpha) {
  let rgb = null;
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(color);
  if (hex) {
    const h = hex[1].length === 3 ? [...hex[1]].map((c) => c + c).join("") : hex[1];
    rgb = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  } else {
    const m = /^rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(color);
    if (m) rgb = m.slice(1).map(Number);
  }
  return rgb ? `rgba(${rgb.join(", ")}, ${alpha})` : color;
}

/** A short number for an axis: `digits` significant digits, "k" for thousands, an exponent
 * from a million up and below 0.001 (12000 -> "12k", 1234567 -> "1.23e6", 0.00012 -> "1.2e-4"). */
export function compactNumber(v, digits = 3) {
  if (v === 0) return "0"; // and -0
  const a = Math.abs(v);
  const exp = () => {
    const [m, e] = v.toExponential(digits - 1).split("e");
    return `${Number(m)}e${Number(e)}`;
  };
  if (a >= 1e6 || a < 1e-3) return exp();
  if (a >= 1e3) {
    const k = Number((v / 1e3).toPrecision(digits));
    return Math.abs(k) >= 1e3 ? exp() : `${k}k`; // 999999 rounds up to a million
  }
  return String(Number(v.toPrecision(digits)));
}

/** Labels for an axis' ticks (uPlot's `splits`, null = hidden): compact, with just enough
 * significant digits (3 or more) that no two ticks read the same. */
export function axisLabels(splits) {
  let labels = [];
  for (let digits = 3; digits <= 12; digits++) {
    labels = splits.map((v) => (v == null || !Number.isFinite(v) ? "" : compactNumber(v, digits)));
    const shown = labels.filter((l) => l !== "");
    if (new Set(shown).size === shown.length) break;
  }
  return labels;
}

// The y axis' width: its tick, the gap, the longest label (a 10 px system font's digits are
// about 5.6 px wide; 6 is a little generous, so a label is never cut) and a margin.
const AXIS_FONT = "10px system-ui, sans-serif";
const AXIS_TICK = 3;
const AXIS_GAP = 2;
const CHAR_PX = 6;
const AXIS_MIN = 28;

/** Width in px of a y axis showing `labels` (null before uPlot has made them: a common width).
 * Estimated from the longest label's character count: measuring text would cost a layout. */
export function axisSize(labels) {
  if (!labels) return 44;
  let chars = 0;
  for (const l of labels) if (l && l.length > chars) chars = l.length;
  return Math.max(AXIS_MIN, Math.ceil(AXIS_TICK + AXIS_GAP + chars * CHAR_PX + 4));
}

// D's penalties (each the weighted value D's update added to its loss) and the total D
// minimised: the loss chart adds those the history has values for. Series are
// [column, label, colour, dash].
export const PENALTY_SERIES = [
  ["d_gp", "λ·GP (weighted penalty)", "#b8860b"],
  ["d_r1", "γ·R1 (weighted penalty)", "#0a7"],
  ["d_r2", "γ·R2 (weighted penalty)", "#c0306a"],
  ["d_total", "D total = loss + penalties", "discriminator", [5, 3]],
];
// With penalties shown, D's loss is labelled as what it is: the objective alone.
const D_OBJECTIVE_LABEL = "D loss (objective only)";

// Each chart's help, called as (samples, modes, baseline, metrics): `samples` the config's
// metrics.samples, `modes` the data's number of modes, `baseline` the real-vs-real bands (or
// null), `metrics` the config's metrics section. It returns "" (no help), a one-line summary,
// or { summary, details }: the summary is always shown, the details (how the chart is
// estimated) wait behind "How it's computed", so a learner reads one plain line first.
const sampled = (n) => (n ? `${Number(n).toLocaleString("en-US")} generated samples` : "the generated samples");
const HELP = {
  modes: (n) => `Modes nearest to at least one high-quality sample, of ${sampled(n)}. A spray over the plane covers modes too: read it with the two charts below.`,
  quality: (n) => `Share of ${sampled(n)} within 3σ of their nearest mode (distance in that mode's own σ per axis).`,
  "mode-histogram": (n) => `Of ${sampled(n)} at the latest metric row: the share nearest each mode and, of it, the share that is high quality.`,
};

// The real-vs-real baseline (docs/protocol.md `baseline`: per metric a mean and a 5th-95th
// percentile band over independent pairs of real samples, at the rows' sample sizes). Its
// series' columns are the metric's name after this prefix.
const BASELINE = "baseline:";
const pct = (b) => (b && b.percentiles ? `${b.percentiles[0]}–${b.percentiles[1]}%` : "5–95%");
const points = (n) => Number(n).toLocaleString("en-US");
// The band in a summary: what it is, in a few words.
const BAND_SHORT = " Shaded band: real data scored against itself.";
/** How a band of two samples of `n` points each is made. */
const bandDetails = (b, n) =>
  `Shaded band, in its line's colour: what two independent real samples of ${points(n)} points each score (dashed line: the mean; band: ${pct(b)} over ${b.pairs} pairs). Sampling alone keeps the score above 0: a generator inside the band is as close as this sample size can tell.`;
HELP.divergence = (n, k, b, m) => ({
  summary: `How far G's samples are from the data, compared cell by cell on a grid (0: the same counts).${b ? BAND_SHORT : ""}`,
  details: `Both samples are counted on a ${m && m.grid ? `${m.grid} × ${m.grid} ` : ""}grid over the data's box, plus one cell for everything outside it. KL(real‖fake) and JS compare the two sets of counts, in bits; KL first adds half a count to every cell, so that a cell G leaves empty does not make it infinite; JS (0 to 1 bit) uses the counts as they are.${b ? ` ${bandDetails(b, b.samples)}` : ""}`,
});
HELP.w1 = (n, k, b) => ({
  summary: `How far, on average, G's samples must move to land on the data's (earth mover's distance).${b ? BAND_SHORT : ""}`,
  details: `Wasserstein-1 between the real and generated samples, each sample an equal share of mass: the least mean distance that mass must travel to turn one set into the other, solved exactly.${b ? ` ${bandDetails(b, b.w1_samples)}` : ""}`,
});
// The reverse KL's band is one real sample's own score: unequal mode weights raise it too.
HELP["reverse-kl"] = (n, k, b) => {
  const top = k ? `ln ${k} = ${Math.log(k).toFixed(2)}` : "ln K";
  const band = b && b.metrics.reverse_kl;
  return {
    summary: `How unevenly G's samples share out over the modes: 0 when even, ${top} when all are nearest one mode.${band ? " Shaded band: a real sample's own score." : ""}`,
    details: `KL(q ‖ uniform) in nats, q the share of all ${sampled(n)} nearest each mode, high quality or not.${band ? ` Shaded band, in the line's colour: what a real sample of ${points(b.samples)} points scores (dashed line: the mean; band: ${pct(b)} over ${b.pairs} samples). Sampling alone keeps it above 0.` : ""}`,
  };
};
Object.assign(HELP, KNN_HELP);
HELP[VALUE_CHART.id] = valueHelp;

/** A help as { summary, details } (a bare string is a summary alone). */
export function helpParts(help) {
  if (!help) return { summary: "", details: "" };
  return typeof help === "string" ? { summary: help, details: "" } : { summary: help.summary || "", details: help.details || "" };
}

/** The note a chart needs when two of its bands overlap, as the precision and recall ones do
 * near 0.98: drawn one over the other they read as one, so the note says both are there.
 * `bands` are [name, {mean, low, high}]. */
export function overlapNote(bands) {
  for (let i = 0; i < bands.length; i++) {
    for (let j = i + 1; j < bands.length; j++) {
      const [na, a] = bands[i];
      const [nb, b] = bands[j];
      if (a.low <= b.high && b.low <= a.high) {
        const [ma, mb] = formatValues([a.mean, b.mean]);
        const where = ma === mb ? `both at about ${ma}` : `means ${ma} and ${mb}`;
        return `The ${na} and ${nb} bands overlap (${where}): one is drawn over the other.`;
      }
    }
  }
  return "";
}

const CHARTS = [
  { id: "losses", title: "Loss", series: [["d_loss", "D loss", "discriminator"], ["g_loss", "G loss", "fake"]], penalties: true },
  { id: "outputs", title: "Mean D output", series: [["d_real", "D(real)", "real"], ["d_fake", "D(fake)", "fake"]] },
  { id: "divergence", title: "Divergence by grid (bits)", series: [["kl_grid", "KL(real‖fake)", "#333"], ["js_grid", "JS", "#e08000"]], baseline: { kl_grid: "KL", js_grid: "JS" } },
  { id: "w1", title: "Wasserstein-1 distance", series: [["w1", "W1", "#0a7"]], baseline: { w1: "" } },
  ...KNN_CHARTS,
  VALUE_CHART,
  { id: "modes", title: "Modes covered", series: [["modes_covered", "covered", "fake"], ["modes_total", "of", "#999"]], optional: true, counts: true, linear: true },
  { id: "quality", title: "High-quality fraction", series: [["high_quality_fraction", "high quality", "fake"]], optional: true },
  { id: "reverse-kl", title: "Reverse KL to even modes (nats)", series: [["reverse_kl", "KL(q ‖ uniform)", "#7a3b9e"]], optional: true, baseline: { reverse_kl: "" }, bandLabel: "a real sample" },
  { id: "mode-histogram", title: "Samples per mode", optional: true, histogram: true },
];

export class Charts {
  constructor(container, history) {
    this.container = container;
    this.history = history;
    this.log = false;
    this.palette = null;
    this.plots = [];
    this.histogram = null;
    this.modeCounts = null;
    this.countsDrawn = true;
    this.samples = null;
    this.metrics = null;
    this.drawnVersion = -1;
    this.drawnBaseline = null;
    // The iteration the page shows from the past (a vertical line on every chart; null: live),
    // and who hears the iteration hovered (null when the pointer leaves).
    this.marker = null;
    this.onHover = null;
    this.hovering = null;
    // The iterations the x axes span at least ({start, head}: the timeline's, so the two line
    // up), or null: the rows' own.
    this.span = null;
    this.spanChanged = false;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  /** Mark `iteration` on every chart (the point the timeline shows), or nothing (null). */
  setMarker(iteration) {
    if (this.marker === iteration) return;
    this.marker = iteration;
    for (const p of this.plots) {
      p.plot.redraw(false, false);
      // Not hovered: the legend reads the shown point's row (the newest one when live).
      if (p.plot.cursor.idx == null) p.plot.setLegend({ idx: null });
    }
  }

  /** A legend's value when no row is hovered: the newest, or at the past point shown. */
  shownValue(u, si) {
    return this.marker == null ? lastValue(u.data[si]) : valueUpTo(u.data[si], u.data[0], this.marker);
  }

  /** The x axes span at least `span` ({start, head}) from the next update; null: the rows'. */
  setSpan(span) {
    const same = span && this.span ? span.start === this.span.start && span.head === this.span.head : span === this.span;
    if (same) return;
    this.span = span;
    this.spanChanged = true;
  }

  /** The pointer moved over a chart: tell `onHover` the iteration under it (null: gone). */
  hovered(u) {
    const iteration = hoveredIteration(u);
    if (iteration === this.hovering) return;
    this.hovering = iteration;
    if (this.onHover) this.onHover(iteration);
  }

  setPalette(palette) {
    this.palette = palette;
    this.build();
  }

  /** The config's metrics section: the sample count the help texts name. */
  setMetrics(metrics) {
    this.samples = metrics ? metrics.samples : null;
    this.metrics = metrics || null;
    this.syncHelp();
  }

  /** The per-mode counts of the newest metric row a frame brought (null: it had none;
   * undefined: the frame brought no row, so the last counts stay). */
  setModeCounts(counts) {
    if (counts === undefined) return;
    this.modeCounts = counts;
    this.countsDrawn = false;
  }

  /** The counts to draw: only those of the history's newest row (a reset, another
   * distribution or a loaded run leaves them stale). */
  shownCounts() {
    const c = this.modeCounts;
    // The history holds float32: compare the iteration as it does (they part past 2^24).
    return c && c.iteration != null && Math.fround(c.iteration) === this.history.last("iteration") ? c : null;
  }

  setLog(log) {
    this.log = log;
    this.build();
  }

  color(name) {
    return this.palette && this.palette[name] ? this.palette[name] : name;
  }

  hasModes() {
    return this.history.column("modes_total").some((v) => v !== null && v > 0);
  }

  build() {
    for (const p of this.plots) p.plot.destroy();
    this.container.textContent = "";
    this.plots = [];
    // Every chart is made up front (the mode charts hidden until the data has modes), so
    // nothing is built while training streams.
    for (const def of CHARTS) this.add(def);
    this.syncOptional();
    this.syncHelp();
    this.histogram.set(this.shownCounts());
    this.countsDrawn = true;
    this.drawnVersion = this.history.version;
    this.drawnBaseline = this.baseline;
  }

  /** The real-vs-real baseline the run was last told (set on the history by run.js), or null. */
  get baseline() {
    return this.history.baseline || null;
  }

  /** Show the modes chart only when the distribution has modes. */
  syncOptional() {
    const want = this.hasModes();
    for (const p of this.plots) if (p.def.optional) p.box.hidden = !want;
    this.histogram.box.hidden = !want;
    this.shownOptional = want;
  }

  /** Each chart's help text, for the current sample count and number of modes. */
  syncHelp() {
    const k = this.history.last("modes_total");
    for (const help of this.container.querySelectorAll(".chart-help")) {
      const id = help.parentElement.dataset.chart;
      const { summary, details } = helpParts(HELP[id](this.samples, k, this.baseline, this.metrics));
      const note = this.bandNote(CHARTS.find((d) => d.id === id));
      // Only the texts change: a learner's open "How it's computed" stays open.
      setText(help.querySelector(".chart-summary"), summary);
      setText(help.querySelector(".chart-band-note"), note);
      setText(help.querySelector(".chart-how p"), details);
      help.querySelector(".chart-how").hidden = !details;
      help.hidden = !summary && !details && !note;
    }
  }

  /** The overlap note for a chart's bands (see overlapNote), or "". */
  bandNote(def) {
    const metrics = this.baseline ? this.baseline.metrics : null;
    if (!def || !def.baseline || !metrics) return "";
    const bands = def.series.filter(([col]) => def.baseline[col] && metrics[col]).map(([col]) => [def.baseline[col], metrics[col]]);
    return overlapNote(bands);
  }

  add(def) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.chart = def.id;
    const title = document.createElement("h3");
    title.textContent = def.title;
    box.append(title);
    if (HELP[def.id]) {
      // One plain line, a note when bands overlap, and the details behind a toggle.
      const help = document.createElement("div");
      help.className = "chart-help";
      const summary = document.createElement("p");
      summary.className = "chart-summary";
      const note = document.createElement("p");
      note.className = "chart-band-note";
      const how = document.createElement("details");
      how.className = "chart-how";
      const toggle = document.createElement("summary");
      toggle.textContent = "How it's computed";
      how.append(toggle, document.createElement("p"));
      help.append(summary, note, how);
      box.append(help);
    }
    this.container.append(box);
    if (def.histogram) {
      box.classList.add("mode-histogram");
      this.histogram = new ModeHistogram(box);
      this.histogram.setColor(this.color("fake"));
    } else this.plots.push(this.makePlot(def, box));
  }

  /** Whether the history has any value in column `name`. */
  hasValues(name) {
    return this.history.column(name).some((v) => v !== null);
  }

  /** A chart's series now: its own, and for the loss chart the penalties that have values
   * (with the total, and D's loss labelled as the objective alone). */
  seriesFor(def) {
    return [...this.ownSeries(def), ...referenceSeries(def), ...this.baselineSeries(def)];
  }

  /** A chart's band series, one a metric the baseline has: [column, label, colour, dash]. */
  baselineSeries(def) {
    const metrics = this.baseline ? this.baseline.metrics : null;
    if (!def.baseline || !metrics) return [];
    return def.series
      .filter(([col]) => col in def.baseline && metrics[col])
      .map(([col, , color]) => {
        const what = def.baseline[col] ? `${def.baseline[col]}: ` : "";
        return [BASELINE + col, `${what}${def.bandLabel || "two real samples"} (${pct(this.baseline)})`, color, [4, 3]];
      });
  }

  ownSeries(def) {
    if (!def.penalties) return def.series;
    const shown = PENALTY_SERIES.filter(([col]) => col !== "d_total" && this.hasValues(col));
    if (!shown.length) return def.series;
    const own = def.series.map((s) => (s[0] === "d_loss" ? [s[0], D_OBJECTIVE_LABEL, ...s.slice(2)] : s));
    return [...own, ...shown, PENALTY_SERIES.at(-1)];
  }

  makePlot(def, box) {
    const series = this.seriesFor(def);
    // A chart marked linear (counts, negative values) never takes the log scale.
    const logAllowed = this.log && !def.linear;
    const bands = series.filter(([col]) => col.startsWith(BASELINE));
    const y = logAllowed ? { distr: 4, asinh: 0.001 } : { auto: true };
    if (bands.length || def.keepInView) y.range = (u, min, max) => this.bandRange(bands, min, max, logAllowed, def.keepInView);
    const hooks = [];
    if (bands.length) hooks.push((u) => this.drawBands(u, bands));
    if (def.references) hooks.push((u) => drawReferenceLabels(u, def.references));
    // A band's legend swatch is filled as its band is, and dashed as its mean line.
    const isBand = series.map((s) => s[0].startsWith(BASELINE));
    const plot = new uPlot(
      {
        width: this.width(box),
        height: 110,
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        legend: {
          live: true,
          markers: {
            fill: (u, si) => (isBand[si - 1] ? translucent(this.color(series[si - 1][2]), BAND_ALPHA) : "transparent"),
            dash: (u, si) => (isBand[si - 1] ? "dashed" : "solid"),
          },
        },
        scales: { x: { time: false, range: (u, min, max) => spanRange(min, max, this.span) }, y },
        // The bands and the reference labels go under the lines: drawn once the axes are,
        // before any series.
        hooks: { ...(hooks.length ? { drawAxes: hooks } : {}), draw: [(u) => drawMarker(u, this.marker)], setCursor: [(u) => this.hovered(u)] },
        axes: [
          { size: 24, font: AXIS_FONT, ticks: { size: AXIS_TICK }, gap: AXIS_GAP },
          {
            font: AXIS_FONT, ticks: { size: AXIS_TICK }, gap: AXIS_GAP,
            values: (u, splits) => axisLabels(splits),
            size: (u, values) => axisSize(values),
          },
        ],
        series: [
          { label: "iteration", value: (u, v, si, idx) => { const x = idx == null ? this.shownValue(u, 0) : v; return x == null ? "–" : x.toFixed(0); } },
          ...series.map(([, label, color, dash]) => ({
            label,
            stroke: this.color(color),
            width: 1.5,
            ...(dash ? { dash } : {}),
            spanGaps: true,
            points: { show: false },
            // Hovered: the value under the cursor; otherwise the latest value (or the shown
            // past point's).
            value: (u, v, si, idx) => {
              const band = this.bandOf(series[si - 1]);
              if (band) return bandValue(band); // the same whatever the cursor
              const x = idx == null ? this.shownValue(u, si) : v;
              // Counts read as whole numbers ("3 of 8"), not "3.00".
              if (def.counts && x != null) return String(Math.round(x));
              // A value this run cannot have: say so and why, rather than a bare dash.
              const na = def.undefinedWhen && def.undefinedWhen[series[si - 1][0]];
              if (na && this.lacks(u, series, si, na.present, idx)) return na.text;
              return formatValue(x);
            },
          })),
        ],
      },
      this.dataFor(series),
      box,
    );
    return { def, plot, box, series, key: seriesKey(series) };
  }

  dataFor(series) {
    const iteration = this.history.column("iteration");
    return [iteration, ...series.map((s) => {
      const band = this.bandOf(s);
      // A band series is its mean, a reference its value, level across the run.
      if (band) return iteration.map(() => band.mean);
      if (s[0].startsWith(REFERENCE)) return iteration.map(() => s[4]);
      return this.history.column(s[0]);
    })];
  }

  /** Whether series `si` has no value in the row under the cursor (`idx`; null: the newest
   * row with a value in column `col`) while that row has one in `col`. */
  lacks(u, series, si, col, idx) {
    const ci = series.findIndex((s) => s[0] === col) + 1;
    if (!ci) return false;
    let row = idx;
    if (row == null) {
      row = u.data[ci].length - 1;
      while (row >= 0 && u.data[ci][row] == null) row--;
    }
    return row >= 0 && u.data[ci][row] != null && u.data[si][row] == null;
  }

  /** The baseline band ({mean, low, high}) a series shows, or null for a metric's own. */
  bandOf(s) {
    if (!s || !s[0].startsWith(BASELINE) || !this.baseline) return null;
    return this.baseline.metrics[s[0].slice(BASELINE.length)] || null;
  }

  /** The y range: the data's and every band whole. */
  bandRange(bands, min, max, log, keep = []) {
    const values = [min, max, ...keep];
    for (const s of bands) {
      const b = this.bandOf(s);
      if (b) values.push(b.low, b.high);
    }
    const finite = values.filter((v) => v != null && Number.isFinite(v));
    if (!finite.length) return [0, 1];
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    return log ? uPlot.rangeAsinh(lo, hi, 10, true) : uPlot.rangeNum(lo, hi, 0.1, true);
  }

  /** Shade each band from its low to its high percentile across the plot, in its colour. */
  drawBands(u, bands) {
    const { ctx, bbox } = u;
    ctx.save();
    ctx.beginPath();
    ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
    ctx.clip();
    ctx.globalAlpha = BAND_ALPHA;
    for (const s of bands) {
      const b = this.bandOf(s);
      if (!b) continue;
      const top = u.valToPos(b.high, "y", true);
      const bottom = u.valToPos(b.low, "y", true);
      ctx.fillStyle = this.color(s[2]);
      // At least a few px, so a band narrower than a pixel still reads as a strip, not a line.
      const h = Math.max(BAND_MIN_PX * (globalThis.devicePixelRatio || 1), bottom - top);
      ctx.fillRect(bbox.left, (top + bottom) / 2 - h / 2, bbox.width, h);
    }
    ctx.restore();
  }

  /** A chart's width: its box's, which the page's grid sets (one or two charts a row). */
  width(box) {
    const w = box && box.clientWidth ? box.clientWidth : this.container.clientWidth;
    return Math.max(200, Math.floor(w) - 4);
  }

  resize() {
    for (const p of this.plots) {
      const w = this.width(p.box);
      if (p.plot.width !== w) p.plot.setSize({ width: w, height: 110 });
    }
  }

  /** Whether a chart still shows older data than the history holds. */
  get pending() {
    return this.history.version !== this.drawnVersion || this.hasModes() !== this.shownOptional || !this.countsDrawn ||
      this.baseline !== this.drawnBaseline || this.spanChanged;
  }

  /** Redraw the charts if the history changed since they were drawn; returns true when it
   * drew. The page calls it on its readout tick (a few times a second). */
  update() {
    if (!this.pending) return false;
    if (this.hasModes() !== this.shownOptional) this.syncOptional();
    this.syncHelp();
    this.histogram.set(this.shownCounts());
    this.countsDrawn = true;
    this.plots = this.plots.map((p) => {
      // A penalty turned on (or a history without it loaded), a baseline come or gone: that
      // chart gets its series.
      if (seriesKey(this.seriesFor(p.def)) !== p.key) {
        p.plot.destroy();
        return this.makePlot(p.def, p.box);
      }
      p.plot.setData(this.dataFor(p.series));
      return p;
    });
    this.drawnVersion = this.history.version;
    this.drawnBaseline = this.baseline;
    this.spanChanged = false;
    return true;
  }
}

// A band's fill: light enough that the lines over it read, dark enough to see; and its least
// height in CSS px.
const BAND_ALPHA = 0.2;
const BAND_MIN_PX = 4;

// A reference series' columns start with this; series are [column, label, colour, dash, value].
const REFERENCE = "reference:";

/** A chart's reference lines (def.references: [value, label, colour, name on the plot]) as
 * series, level at their value, so the legend names them. */
function referenceSeries(def) {
  return (def.references || []).map(([value, label, color]) => [`${REFERENCE}${label}`, label, color, [2, 3], value]);
}

/** Write each reference line's name just above it at the plot's left edge. */
function drawReferenceLabels(u, references) {
  const { ctx, bbox } = u;
  const ratio = globalThis.devicePixelRatio || 1;
  ctx.save();
  ctx.font = `${Math.round(10 * ratio)}px system-ui, sans-serif`;
  ctx.textBaseline = "bottom";
  ctx.textAlign = "left"; // uPlot leaves it as its y axis had it (right)
  for (const [value, , color, name] of references) {
    const y = u.valToPos(value, "y", true);
    if (!(y >= bbox.top && y <= bbox.top + bbox.height)) continue;
    ctx.fillStyle = color;
    ctx.fillText(name, bbox.left + 4 * ratio, y - 2 * ratio);
  }
  ctx.restore();
}

/** A band's legend value: its mean and its range. */
function bandValue(b) {
  const [mean, low, high] = formatValues([b.mean, b.low, b.high]);
  return `${mean} (${low}–${high})`;
}

/** Set an element's text, hiding it when there is none. */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
  el.hidden = !text;
}

function seriesKey(series) {
  return series.map((s) => s.slice(0, 2).join("=")).join("|");
}
