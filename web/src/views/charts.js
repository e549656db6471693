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

function lastValue(col) {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--) if (col[i] != null) return col[i];
  return null;
}

export function formatValue(v) {
  if (v == null || Number.isNaN(v)) return "–";
  const a = Math.abs(v);
  return a >= 1e4 || (a < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(3);
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

// What a mode chart shows and how it is estimated, for `n` generated samples (the config's
// metrics.samples) and `k` modes. Shown under the chart's title.
const sampled = (n) => (n ? `${Number(n).toLocaleString("en-US")} generated samples` : "the generated samples");
const HELP = {
  modes: (n) => `Modes nearest to at least one high-quality sample, of ${sampled(n)}. A spray over the plane covers modes too: read it with the two charts below.`,
  quality: (n) => `Share of ${sampled(n)} within 3σ of their nearest mode (distance in that mode's own σ per axis).`,
  "reverse-kl": (n, k) => `KL(q ‖ uniform), q the share of all ${sampled(n)} nearest each mode, high quality or not. 0: an even spread; ${k ? `ln ${k} = ${Math.log(k).toFixed(2)}` : "ln K"}: all nearest one mode.`,
  "mode-histogram": (n) => `Of ${sampled(n)} at the latest metric row: the share nearest each mode and, of it, the share that is high quality.`,
};

// The real-vs-real baseline (docs/protocol.md `baseline`: per metric a mean and a 5th-95th
// percentile band over independent pairs of real samples, at the rows' sample sizes). Its
// series' columns are the metric's name after this prefix.
const BASELINE = "baseline:";
const pct = (b) => (b && b.percentiles ? `${b.percentiles[0]}–${b.percentiles[1]}%` : "5–95%");
const points = (n) => Number(n).toLocaleString("en-US");
/** The help sentence for a band of two samples of `n` points each. */
const bandHelp = (b, n) =>
  `Shaded: what two independent real samples of ${points(n)} points each score (dashed: the mean; band: ${pct(b)} over ${b.pairs} pairs). Sampling alone keeps it above 0: a generator inside the band is as close as this sample size can tell.`;
HELP.divergence = (n, k, b) => (b ? bandHelp(b, b.samples) : "");
HELP.w1 = (n, k, b) => (b ? bandHelp(b, b.w1_samples) : "");
// The reverse KL's band is one real sample's own score: unequal mode weights raise it too.
const reverseKl = HELP["reverse-kl"];
HELP["reverse-kl"] = (n, k, b) => {
  const own = reverseKl(n, k);
  if (!b || !b.metrics.reverse_kl) return own;
  return `${own} Shaded: what a real sample of ${points(b.samples)} points scores (dashed: the mean; band: ${pct(b)} over ${b.pairs} samples). Sampling alone keeps it above 0.`;
};
Object.assign(HELP, KNN_HELP);
HELP[VALUE_CHART.id] = valueHelp;

const CHARTS = [
  { id: "losses", title: "Loss", series: [["d_loss", "D loss", "discriminator"], ["g_loss", "G loss", "fake"]], penalties: true },
  { id: "outputs", title: "Mean D output", series: [["d_real", "D(real)", "real"], ["d_fake", "D(fake)", "fake"]] },
  { id: "divergence", title: "Divergence by grid (bits)", series: [["kl_grid", "KL(real‖fake)", "#333"], ["js_grid", "JS", "#e08000"]], baseline: { kl_grid: "KL", js_grid: "JS" } },
  { id: "w1", title: "Wasserstein-1 distance", series: [["w1", "W1", "#0a7"]], baseline: { w1: "" } },
  ...KNN_CHARTS,
  VALUE_CHART,
  { id: "modes", title: "Modes covered", series: [["modes_covered", "covered", "fake"], ["modes_total", "of", "#999"]], optional: true, counts: true },
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
    this.drawnVersion = -1;
    this.drawnBaseline = null;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  setPalette(palette) {
    this.palette = palette;
    this.build();
  }

  /** The config's metrics section: the sample count the help texts name. */
  setMetrics(metrics) {
    this.samples = metrics ? metrics.samples : null;
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
      const text = HELP[help.parentElement.dataset.chart](this.samples, k, this.baseline);
      if (help.textContent !== text) help.textContent = text;
      help.hidden = !text; // a band's help waits for the band
    }
  }

  add(def) {
    const box = document.createElement("div");
    box.className = "chart";
    box.dataset.chart = def.id;
    const title = document.createElement("h3");
    title.textContent = def.title;
    box.append(title);
    if (HELP[def.id]) {
      const help = document.createElement("p");
      help.className = "chart-help";
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
    return [...this.ownSeries(def), ...this.baselineSeries(def)];
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
    const logAllowed = this.log && def.id !== "modes";
    const bands = series.filter(([col]) => col.startsWith(BASELINE));
    const y = logAllowed ? { distr: 4, asinh: 0.001 } : { auto: true };
    if (bands.length) y.range = (u, min, max) => this.bandRange(bands, min, max, logAllowed);
    const plot = new uPlot(
      {
        width: this.width(box),
        height: 110,
        cursor: { drag: { x: false, y: false }, points: { size: 6 } },
        legend: { live: true },
        scales: { x: { time: false }, y },
        // The bands go under the lines: drawn once the axes are, before any series.
        hooks: bands.length ? { drawAxes: [(u) => this.drawBands(u, bands)] } : {},
        axes: [
          { size: 24, font: AXIS_FONT, ticks: { size: AXIS_TICK }, gap: AXIS_GAP },
          {
            font: AXIS_FONT, ticks: { size: AXIS_TICK }, gap: AXIS_GAP,
            values: (u, splits) => axisLabels(splits),
            size: (u, values) => axisSize(values),
          },
        ],
        series: [
          { label: "iteration", value: (u, v, si, idx) => { const x = idx == null ? lastValue(u.data[0]) : v; return x == null ? "–" : x.toFixed(0); } },
          ...series.map(([, label, color, dash]) => ({
            label,
            stroke: this.color(color),
            width: 1.5,
            ...(dash ? { dash } : {}),
            spanGaps: true,
            points: { show: false },
            // Hovered: the value under the cursor; otherwise the latest value.
            value: (u, v, si, idx) => {
              const band = this.bandOf(series[si - 1]);
              if (band) return bandValue(band); // the same whatever the cursor
              const x = idx == null ? lastValue(u.data[si]) : v;
              // Counts read as whole numbers ("3 of 8"), not "3.00".
              return def.counts && x != null ? String(Math.round(x)) : formatValue(x);
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
      // A band series is its mean, level across the run.
      return band ? iteration.map(() => band.mean) : this.history.column(s[0]);
    })];
  }

  /** The baseline band ({mean, low, high}) a series shows, or null for a metric's own. */
  bandOf(s) {
    if (!s || !s[0].startsWith(BASELINE) || !this.baseline) return null;
    return this.baseline.metrics[s[0].slice(BASELINE.length)] || null;
  }

  /** The y range: the data's and every band whole. */
  bandRange(bands, min, max, log) {
    const values = [min, max];
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
    ctx.globalAlpha = 0.16;
    for (const s of bands) {
      const b = this.bandOf(s);
      if (!b) continue;
      const top = u.valToPos(b.high, "y", true);
      const bottom = u.valToPos(b.low, "y", true);
      ctx.fillStyle = this.color(s[2]);
      // At least 2 px, so a band narrower than a pixel still shows.
      const h = Math.max(2, bottom - top);
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
      this.baseline !== this.drawnBaseline;
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
    return true;
  }
}

/** A band's legend value: its mean and its range. */
function bandValue(b) {
  return `${formatValue(b.mean)} (${formatValue(b.low)}–${formatValue(b.high)})`;
}

function seriesKey(series) {
  return series.map((s) => s.slice(0, 2).join("=")).join("|");
}
