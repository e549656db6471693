import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { register } from "node:module";
import { JSDOM } from "jsdom";
import { History } from "../src/state/history.js";
import { PALETTES } from "../src/views/colors.js";

// charts.js imports uPlot and its stylesheet, which need a real browser (canvas, layout). For
// these tests a module hook swaps uPlot for a stand-in that keeps what it was given, and the
// stylesheet for nothing: what is tested is what Charts asks the plots to show.
const FAKE_UPLOT = `
export default class FakePlot {
  constructor(opts, data, target) {
    Object.assign(this, { opts, data, target, destroyed: false, sizes: [], updates: 0 });
  }
  setData(data) { this.data = data; this.updates++; }
  setSize(size) { this.sizes.push(size); }
  destroy() { this.destroyed = true; }
  // uPlot's range helpers, as what they were asked.
  static rangeNum(min, max) { return ["linear", min, max]; }
  static rangeAsinh(min, max) { return ["asinh", min, max]; }
}`;
const HOOKS = `
const FAKE = ${JSON.stringify(`data:text/javascript,${encodeURIComponent(FAKE_UPLOT)}`)};
export async function resolve(specifier, context, next) {
  if (specifier === "uplot") return { url: FAKE, shortCircuit: true };
  if (specifier.endsWith(".css")) return { url: "data:text/javascript,", shortCircuit: true };
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
const { Charts, formatValue, formatValues, translucent, overlapNote, compactNumber, axisLabels, axisSize, valueUpTo } =
  await import("../src/views/charts.js");

const COLUMNS = ["iteration", "d_loss", "g_loss", "d_real", "d_fake", "kl_grid", "js_grid", "w1", "modes_covered", "modes_total"];

// The charts shown only for data with modes, in their order.
const MODE_CHARTS = ["modes", "quality", "reverse-kl", "mode-histogram"];

let container;
let resized;

function makeCharts(rows = []) {
  const history = new History();
  history.replace(COLUMNS, rows.length ? new Float32Array(rows.flat()) : null);
  const charts = new Charts(container, history);
  charts.setPalette(PALETTES.ganlab);
  return { charts, history };
}

/** A history row; `modes` is [covered, total]. */
const row = (it, dLoss, gLoss, modes = [NaN, NaN]) => [it, dLoss, gLoss, 0.6, 0.4, 1.5, 0.3, NaN, ...modes];

const plot = (charts, id) => charts.plots.find((p) => p.def.id === id).plot;
const box = (id) => container.querySelector(`[data-chart="${id}"]`);

beforeEach(() => {
  const { window } = new JSDOM(`<!doctype html><div id="charts"></div>`);
  globalThis.document = window.document;
  container = window.document.getElementById("charts");
  Object.defineProperty(container, "clientWidth", { value: 320, configurable: true });
  resized = [];
  globalThis.ResizeObserver = class {
    constructor(cb) {
      resized.push(cb);
    }
    observe() {}
  };
});

afterEach(() => {
  delete globalThis.document;
  delete globalThis.ResizeObserver;
});

test("values read short: three significant digits, exponents for the very large and small", () => {
  assert.equal(formatValue(0.693147), "0.693");
  assert.equal(formatValue(12.3456), "12.3");
  assert.equal(formatValue(-2), "-2.00");
  assert.equal(formatValue(0), "0.00");
  assert.equal(formatValue(12345), "1.23e+4");
  assert.equal(formatValue(0.00012), "1.20e-4");
  assert.equal(formatValue(null), "–");
  assert.equal(formatValue(undefined), "–");
  assert.equal(formatValue(NaN), "–");
});

test("the charts are made up front, titled, in order; the modes chart waits for data with modes", () => {
  makeCharts([row(0, 1.4, 0.7)]);
  const titles = [...container.querySelectorAll(".chart")].map((c) => [c.dataset.chart, c.querySelector("h3").textContent]);
  assert.deepEqual(titles, [
    ["losses", "Loss"], ["outputs", "Mean D output"], ["divergence", "Divergence by grid (bits)"],
    ["w1", "Wasserstein-1 distance"], ["precision-recall", "Precision and recall (k-NN)"],
    ["density-coverage", "Density and coverage (k-NN)"], ["value", "Value of the game (nats)"],
    ["modes", "Modes covered"], ["quality", "High-quality fraction"],
    ["reverse-kl", "Reverse KL to even modes (nats)"], ["mode-histogram", "Samples per mode"],
  ]);
  for (const id of MODE_CHARTS) assert.equal(box(id).hidden, true, id);
  assert.equal(box("losses").hidden, false);
});

test("each plot is drawn in its box, as wide as the panel, with the palette's colours", () => {
  const { charts } = makeCharts();
  const losses = plot(charts, "losses");
  assert.equal(losses.target, box("losses"));
  assert.equal(losses.opts.width, 316);
  assert.deepEqual(losses.opts.series.slice(1).map((s) => [s.label, s.stroke]),
    [["D loss", PALETTES.ganlab.discriminator], ["G loss", PALETTES.ganlab.fake]]);
  // Colours that are not palette names are used as they are.
  assert.deepEqual(plot(charts, "divergence").opts.series.slice(1).map((s) => s.stroke), ["#333", "#e08000"]);
  charts.setPalette(PALETTES.cvd);
  assert.equal(losses.destroyed, true, "the old plots are dropped");
  assert.equal(plot(charts, "outputs").opts.series[1].stroke, PALETTES.cvd.real);
  assert.equal(container.querySelectorAll(".chart").length, 11, "rebuilt, not added to");
});

test("the plots show the history's columns by iteration", () => {
  const { charts } = makeCharts([row(0, 1.4, 0.7), row(100, 1.2, 0.9)]);
  assert.deepEqual(plot(charts, "losses").data.map((c) => c.map((v) => +v.toFixed(2))), [[0, 100], [1.4, 1.2], [0.7, 0.9]]);
  assert.deepEqual(plot(charts, "w1").data[1], [null, null], "not computed: gaps");
});

test("update redraws only when the history has changed since the last drawing", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7)]);
  const losses = plot(charts, "losses");
  assert.equal(charts.pending, false);
  assert.equal(charts.update(), false);
  assert.equal(losses.updates, 0);
  history.append(new Float32Array(row(100, 1.1, 1.0)));
  assert.equal(charts.pending, true);
  assert.equal(charts.update(), true);
  assert.equal(losses.updates, 1);
  assert.deepEqual(losses.data[0], [0, 100]);
  assert.equal(charts.update(), false);
  assert.equal(losses.updates, 1);
});

test("the modes chart appears once the data has modes, and goes when it has none", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7)]);
  history.append(new Float32Array(row(100, 1.2, 0.8, [3, 8])));
  charts.update();
  assert.equal(box("modes").hidden, false);
  assert.deepEqual(plot(charts, "modes").data.slice(1), [[null, 3], [null, 8]]);
  history.replace(COLUMNS, new Float32Array(row(0, 1, 1))); // another distribution
  charts.update();
  assert.equal(box("modes").hidden, true);
  // A count of zero modes means the data has none to count.
  history.append(new Float32Array(row(100, 1, 1, [0, 0])));
  charts.update();
  assert.equal(box("modes").hidden, true);
});

test("log scale applies to every chart but the count of modes", () => {
  const { charts } = makeCharts();
  assert.deepEqual(plot(charts, "losses").opts.scales.y, { auto: true });
  charts.setLog(true);
  for (const id of ["losses", "outputs", "divergence", "w1"]) assert.equal(plot(charts, id).opts.scales.y.distr, 4, id);
  assert.deepEqual(plot(charts, "modes").opts.scales.y, { auto: true });
  charts.setLog(false);
  assert.deepEqual(plot(charts, "w1").opts.scales.y, { auto: true });
});

test("the legend shows the latest value, or the one under the cursor", () => {
  const { charts } = makeCharts([row(0, 1.4, 0.7), row(100, 1.25, NaN)]);
  const p = plot(charts, "losses");
  const [iteration, dLoss, gLoss] = p.opts.series;
  assert.equal(iteration.value(p, null, 0, null), "100");
  assert.equal(iteration.value(p, 50, 0, 1), "50");
  assert.equal(dLoss.value(p, null, 1, null), "1.25");
  assert.equal(gLoss.value(p, null, 2, null), "0.700", "the latest value that exists");
  assert.equal(dLoss.value(p, 1.4, 1, 0), "1.40");
});

test("the plots follow the panel's width, never narrower than 200 px", () => {
  const { charts } = makeCharts();
  Object.defineProperty(container, "clientWidth", { value: 500, configurable: true });
  for (const cb of resized) cb();
  for (const { plot: pl } of charts.plots) assert.deepEqual(pl.sizes.at(-1), { width: 496, height: 110 });
  Object.defineProperty(container, "clientWidth", { value: 50, configurable: true });
  for (const cb of resized) cb();
  assert.deepEqual(charts.plots[0].plot.sizes.at(-1), { width: 200, height: 110 });
});

test("axis numbers read short: k for thousands, an exponent for millions and the very small", () => {
  const cases = [
    [0, "0"], [-0, "0"], [0.5, "0.5"], [0.693147, "0.693"], [-2, "-2"], [12.3456, "12.3"], [999, "999"],
    [1000, "1k"], [12000, "12k"], [12500, "12.5k"], [-250000, "-250k"], [999999, "1e6"],
    [1.2e6, "1.2e6"], [1234567, "1.23e6"], [-3e9, "-3e9"], [0.001, "0.001"], [0.00012, "1.2e-4"],
  ];
  for (const [v, label] of cases) assert.equal(compactNumber(v), label, String(v));
  assert.equal(compactNumber(12345, 5), "12.345k");
});

test("axis labels are never the same for two ticks: more digits when the ticks are close", () => {
  assert.deepEqual(axisLabels([0, 5000, 10000, 15000]), ["0", "5k", "10k", "15k"]);
  assert.deepEqual(axisLabels([12000, 12010, 12020]), ["12k", "12.01k", "12.02k"]);
  assert.deepEqual(axisLabels([1.2e6, 1.2001e6, 1.2002e6]), ["1.2e6", "1.2001e6", "1.2002e6"]);
  assert.deepEqual(axisLabels([0.6931, 0.6932, 0.6933]), ["0.6931", "0.6932", "0.6933"]);
  // uPlot hides some ticks of a log scale by passing null: those get no label.
  assert.deepEqual(axisLabels([0.01, null, 1, null, 100]), ["0.01", "", "1", "", "100"]);
});

test("the y axis is as wide as its longest label needs, so no label is cut", () => {
  assert.equal(axisSize(null), 44, "before uPlot has made labels");
  assert.equal(axisSize(["0", "1"]), 28, "never narrower than this");
  const narrow = axisSize(["0.5", "1", "1.5"]);
  const wide = axisSize(["0", "-1.25e6", "-2.5e6"]);
  assert.ok(wide > narrow);
  // Each character gets at least the 5.6 px a digit of the 10 px axis font takes.
  for (const labels of [["0.693", "12.5k"], ["-1.25e6"], ["1.2345e-4", "2"]]) {
    const longest = Math.max(...labels.map((l) => l.length));
    assert.ok(axisSize(labels) >= 3 + 2 + longest * 5.6, labels.join(" "));
  }
});

test("the plots' y axes use the compact labels and fit their width to them", () => {
  const { charts } = makeCharts([row(0, 1.4, 0.7)]);
  for (const { plot: p } of charts.plots) {
    const y = p.opts.axes[1];
    assert.deepEqual(y.values(p, [0, 50000, 100000]), ["0", "50k", "100k"]);
    assert.equal(y.size(p, ["0", "50k", "100k"]), axisSize(["100k"]));
    assert.ok(y.size(p, ["-1.25e6"]) > y.size(p, ["1"]));
  }
});

// ---------------------------------------------------------------- D's penalties

const WITH_PENALTIES = [...COLUMNS, "d_gp", "d_r1", "d_r2", "d_total"];
/** A history row with penalty columns: `p` is { d_gp, d_r1, d_r2 }, absent ones NaN; the
 * total is d_loss plus those present, NaN with none (as the server sends it). */
const prow = (it, dLoss, p = {}) => {
  const terms = ["d_gp", "d_r1", "d_r2"].map((k) => p[k] ?? NaN);
  const on = terms.filter((v) => !Number.isNaN(v));
  const total = on.length ? dLoss + on.reduce((a, b) => a + b, 0) : NaN;
  return [...row(it, dLoss, 0.7), ...terms, total];
};

function makePenaltyCharts(rows) {
  const history = new History();
  history.replace(WITH_PENALTIES, new Float32Array(rows.flat()));
  const charts = new Charts(container, history);
  charts.setPalette(PALETTES.ganlab);
  return { charts, history };
}

const labels = (p) => p.opts.series.slice(1).map((s) => s.label);

test("without penalties the loss chart has D's and G's losses only, whatever columns the history has", () => {
  const { charts } = makePenaltyCharts([prow(0, 1.4), prow(100, 1.3)]);
  assert.deepEqual(labels(plot(charts, "losses")), ["D loss", "G loss"]);
  // A history from before the penalty columns (an old run file) reads the same.
  const { charts: old } = makeCharts([row(0, 1.4, 0.7)]);
  assert.deepEqual(labels(plot(old, "losses")), ["D loss", "G loss"]);
});

test("with WGAN-GP the loss chart adds the weighted penalty and D's total, and says D's loss is the objective alone", () => {
  const { charts } = makePenaltyCharts([prow(0, -0.05, { d_gp: 3.5 }), prow(100, -0.2, { d_gp: 1.25 })]);
  const p = plot(charts, "losses");
  assert.deepEqual(labels(p), ["D loss (objective only)", "G loss", "λ·GP (weighted penalty)", "D total = loss + penalties"]);
  const data = p.data.map((c) => c.map((v) => (v == null ? v : +v.toFixed(3))));
  assert.deepEqual(data, [[0, 100], [-0.05, -0.2], [0.7, 0.7], [3.5, 1.25], [3.45, 1.05]]);
  const total = p.opts.series.at(-1);
  assert.equal(total.stroke, PALETTES.ganlab.discriminator, "the total in D's colour");
  assert.ok(Array.isArray(total.dash) && total.dash.length === 2, "dashed, to tell it from the objective");
  assert.equal(p.opts.series[1].dash, undefined);
  assert.equal(p.opts.series[3].value(p, null, 3, null), "1.25", "the legend reads the latest value");
});

test("R1 and R2 each get their own series; a penalty with no value anywhere gets none", () => {
  const { charts } = makePenaltyCharts([prow(0, 1.4, { d_r1: 0.02 }), prow(100, 1.3, { d_r1: 0.01, d_r2: 0.005 })]);
  const p = plot(charts, "losses");
  assert.deepEqual(labels(p).slice(2), ["γ·R1 (weighted penalty)", "γ·R2 (weighted penalty)", "D total = loss + penalties"]);
  assert.deepEqual(p.data[4].map((v) => (v == null ? v : +v.toFixed(3))), [null, 0.005], "R2 was off at first: a gap");
  assert.ok(labels(p).every((l) => !l.includes("GP")));
});

test("a penalty turned on mid-run rebuilds the loss chart with its series; the other charts keep theirs", () => {
  const { charts, history } = makePenaltyCharts([prow(0, 1.4), prow(100, 1.3)]);
  const before = plot(charts, "losses");
  const outputs = plot(charts, "outputs");
  history.append(new Float32Array(prow(200, 1.2, { d_r1: 0.04 })));
  assert.equal(charts.update(), true);
  const after = plot(charts, "losses");
  assert.notEqual(after, before);
  assert.equal(before.destroyed, true);
  assert.equal(after.target, box("losses"), "drawn in the same box, in its place");
  assert.equal(box("losses").querySelector("h3").textContent, "Loss");
  assert.deepEqual(labels(after), ["D loss (objective only)", "G loss", "γ·R1 (weighted penalty)", "D total = loss + penalties"]);
  assert.equal(plot(charts, "outputs"), outputs, "not rebuilt");
  assert.equal(outputs.updates, 1);
  // More rows with the same series only redraw.
  history.append(new Float32Array(prow(300, 1.1, { d_r1: 0.03 })));
  charts.update();
  assert.equal(plot(charts, "losses"), after);
  assert.equal(after.updates, 1);
  assert.deepEqual(after.data[3].map((v) => (v == null ? v : +v.toFixed(2))), [null, null, 0.04, 0.03]);
  // Another run without penalties: the extra series go.
  history.replace(WITH_PENALTIES, new Float32Array(prow(0, 1.4)));
  history.append(new Float32Array(prow(100, 1.3)));
  charts.update();
  assert.deepEqual(labels(plot(charts, "losses")), ["D loss", "G loss"]);
  assert.deepEqual([...container.querySelectorAll(".chart")].map((c) => c.dataset.chart),
    ["losses", "outputs", "divergence", "w1", "precision-recall", "density-coverage", "value", ...MODE_CHARTS],
    "no chart added or moved");
});

// --- the mode charts: high-quality fraction, reverse KL and the per-mode histogram ---------

const MODE_COLUMNS = ["iteration", "modes_covered", "modes_total", "high_quality_fraction", "reverse_kl"];

function makeModeCharts(rows) {
  const history = new History();
  history.replace(MODE_COLUMNS, new Float32Array(rows.flat()));
  const charts = new Charts(container, history);
  charts.setPalette(PALETTES.ganlab);
  return { charts, history };
}

/** Counts as a frame brings them (mode-histogram.js modeCountsOf). */
const counts = (iteration, nearest, highQuality, samples = 200) => ({ iteration, samples, nearest, highQuality });

test("high-quality fraction and reverse KL get their own charts, shown for data with modes", () => {
  const { charts } = makeModeCharts([[0, 2, 8, 0.25, 1.5], [100, 8, 8, 0.9, 0.02]]);
  for (const id of MODE_CHARTS) assert.equal(box(id).hidden, false, id);
  const quality = plot(charts, "quality");
  assert.deepEqual(quality.opts.series.slice(1).map((s) => [s.label, s.stroke]), [["high quality", PALETTES.ganlab.fake]]);
  assert.deepEqual(quality.data.map((c) => c.map((v) => +v.toFixed(2))), [[0, 100], [0.25, 0.9]]);
  const rkl = plot(charts, "reverse-kl");
  assert.deepEqual(rkl.data[1].map((v) => +v.toFixed(2)), [1.5, 0.02]);
  assert.equal(rkl.opts.series[1].value(rkl, null, 1, null), "0.0200", "the legend reads the latest value");
});

test("each mode chart says what it shows and on how many samples (the config's metrics section)", () => {
  const { charts } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  charts.setMetrics({ samples: 2000, every: 100 });
  const help = (id) => box(id).querySelector(".chart-help").textContent;
  assert.match(help("quality"), /2,000 generated samples/);
  assert.match(help("quality"), /within 3σ of their nearest mode/);
  assert.match(help("quality"), /own σ per axis/);
  assert.match(help("reverse-kl"), /^How unevenly G's samples share out over the modes/);
  assert.match(help("reverse-kl"), /KL\(q ‖ uniform\) in nats, q the share/);
  assert.match(help("reverse-kl"), /all 2,000 generated samples nearest each mode/);
  assert.match(help("reverse-kl"), new RegExp(`ln 8 = ${Math.log(8).toFixed(2)}`), "its largest value for these modes");
  assert.match(help("modes"), /nearest to at least one high-quality sample/);
  assert.match(help("mode-histogram"), /2,000 generated samples/);
  charts.setMetrics({ samples: 500 });
  assert.match(help("quality"), /500 generated samples/);
  assert.equal(box("losses").querySelector(".chart-help"), null, "the other charts have none");
});

test("the histogram draws the newest row's counts: one bar a mode; stale counts are not drawn", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5], [100, 3, 8, 0.3, 1.2]]);
  const bars = () => box("mode-histogram").querySelectorAll('[data-testid="mode-bar"]');
  assert.equal(bars().length, 0, "no counts yet");
  charts.setModeCounts(counts(100, [100, 50, 50, 0, 0, 0, 0, 0], [80, 10, 0, 0, 0, 0, 0, 0]));
  assert.equal(charts.pending, true);
  assert.equal(charts.update(), true);
  assert.equal(bars().length, 8);
  assert.match(box("mode-histogram").textContent, /iteration 100/);
  // A frame without a new row leaves the counts as they are.
  charts.setModeCounts(undefined);
  assert.equal(charts.pending, false);
  // A new run (reset, other data): the counts belong to no row of its history.
  history.replace(MODE_COLUMNS, new Float32Array([0, 0, 8, 0, 2]));
  charts.update();
  assert.equal(bars().length, 0);
  // A row with no counts (the generator went non-finite): nothing drawn.
  history.append(new Float32Array([100, 1, 8, 0.1, 2]));
  charts.setModeCounts(null);
  charts.update();
  assert.equal(bars().length, 0);
});

// ---------------------------------------------------------------- real-vs-real baseline

const BASELINE = {
  samples: 2000, w1_samples: 500, pairs: 12, percentiles: [5, 95], knn_k: 5, knn_samples: 1000,
  metrics: {
    kl_grid: { mean: 0.06, low: 0.05, high: 0.07 },
    js_grid: { mean: 0.018, low: 0.015, high: 0.02 },
    w1: { mean: 0.357, low: 0.293, high: 0.443 },
    reverse_kl: { mean: 0.0065, low: 0.0033, high: 0.0098 },
    precision: { mean: 0.985, low: 0.98, high: 0.99 },
    recall: { mean: 0.984, low: 0.979, high: 0.989 },
    density: { mean: 1.0, low: 0.97, high: 1.03 },
    coverage: { mean: 0.97, low: 0.965, high: 0.975 },
  },
};

/** A stand-in for uPlot's drawing context: the rectangles filled, with their colour and alpha. */
function fakeCanvas() {
  const fills = [];
  const ctx = {
    globalAlpha: 1, fillStyle: null,
    save() {}, restore() {}, beginPath() {}, rect() {}, clip() {},
    fillRect(x, y, w, h) { fills.push({ x, y, w, h, color: this.fillStyle, alpha: this.globalAlpha }); },
  };
  // y pixels: 100 at value 0, 1000 px a unit upwards.
  const u = { ctx, bbox: { left: 10, top: 0, width: 300, height: 100 }, valToPos: (v) => 100 - v * 1000 };
  return { u, fills };
}

test("with no baseline the divergence charts have their own series only, and no band help", () => {
  const { charts } = makeCharts([row(0, 1.4, 0.7)]);
  assert.deepEqual(plot(charts, "divergence").opts.series.slice(1).map((s) => s.label), ["KL(real‖fake)", "JS"]);
  assert.deepEqual(plot(charts, "w1").opts.scales.y, { auto: true });
  // The plain line stays; nothing about a band that is not there.
  assert.equal(box("w1").querySelector(".chart-help").hidden, false);
  assert.match(box("w1").querySelector(".chart-summary").textContent, /earth mover's distance\)\.$/);
  assert.doesNotMatch(box("w1").querySelector(".chart-help").textContent, /Shaded|band/);
});

test("a baseline adds a band series to each divergence chart, level at its mean, with the range in its legend", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7), row(100, 1.2, 0.9)]);
  history.baseline = BASELINE;
  assert.equal(charts.pending, true, "a new baseline is drawn");
  charts.update();
  assert.equal(charts.pending, false);
  const div = plot(charts, "divergence");
  assert.deepEqual(div.opts.series.slice(1).map((s) => [s.label, s.stroke, s.dash ?? null]), [
    ["KL(real‖fake)", "#333", null], ["JS", "#e08000", null],
    ["KL: two real samples (5–95%)", "#333", [4, 3]], ["JS: two real samples (5–95%)", "#e08000", [4, 3]],
  ]);
  assert.deepEqual(div.data.slice(3), [[0.06, 0.06], [0.018, 0.018]]);
  assert.equal(div.opts.series[3].value(div, null, 3, null), "0.0600 (0.0500–0.0700)");
  assert.equal(div.opts.series[3].value(div, 0.06, 3, 0), "0.0600 (0.0500–0.0700)", "hovered: the same");
  const w1 = plot(charts, "w1");
  assert.deepEqual(w1.opts.series.slice(1).map((s) => s.label), ["W1", "two real samples (5–95%)"]);
  assert.equal(w1.opts.series[2].value(w1, null, 2, null), "0.357 (0.293–0.443)");
  // The reverse KL's band is one real sample's own score; the other charts get none.
  assert.deepEqual(plot(charts, "reverse-kl").opts.series.slice(1).map((s) => s.label), ["KL(q ‖ uniform)", "a real sample (5–95%)"]);
  assert.deepEqual(plot(charts, "losses").opts.series.slice(1).map((s) => s.label), ["D loss", "G loss"]);
  assert.deepEqual(plot(charts, "quality").opts.series.slice(1).map((s) => s.label), ["high quality"]);
});

test("each band is shaded from its low to its high percentile across the plot, under the lines", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7)]);
  history.baseline = BASELINE;
  charts.update();
  const div = plot(charts, "divergence");
  assert.equal(div.opts.hooks.drawAxes.length, 1, "drawn with the axes, before the series");
  const { u, fills } = fakeCanvas();
  div.opts.hooks.drawAxes[0](u);
  assert.equal(fills.length, 2);
  const [kl, js] = fills;
  assert.deepEqual([kl.x, kl.w, kl.color], [10, 300, "#333"]);
  assert.ok(Math.abs(kl.y - (100 - 70)) < 1e-9 && Math.abs(kl.h - 20) < 1e-9, "from 0.07 down to 0.05");
  assert.ok(Math.abs(js.y - (100 - 20)) < 1e-9 && Math.abs(js.h - 5) < 1e-9, "from 0.020 down to 0.015");
  assert.ok(kl.alpha > 0 && kl.alpha < 0.5, "translucent");
  assert.equal(plot(charts, "losses").opts.hooks.drawAxes, undefined);
});

test("the y range holds the data and every band whole", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7)]);
  history.baseline = BASELINE;
  charts.update();
  const range = (id) => plot(charts, id).opts.scales.y.range;
  assert.deepEqual(range("w1")(null, 0.5, 0.9), ["linear", 0.293, 0.9], "the band's low under the data");
  assert.deepEqual(range("w1")(null, 0.1, 0.2), ["linear", 0.1, 0.443], "the band's high over it");
  assert.deepEqual(range("divergence")(null, 0.03, 0.04), ["linear", 0.015, 0.07], "both bands");
  assert.deepEqual(range("w1")(null, null, null), ["linear", 0.293, 0.443], "no data yet: the band");
  charts.setLog(true);
  assert.deepEqual(range("w1")(null, 0.5, 0.9), ["asinh", 0.293, 0.9]);
  assert.equal(plot(charts, "w1").opts.scales.y.distr, 4, "still a log scale");
});

test("a band's help says what it is, on how many points and how it is estimated", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  charts.setMetrics({ samples: 2000 });
  history.baseline = BASELINE;
  charts.update();
  const help = (id) => box(id).querySelector(".chart-help");
  assert.equal(help("divergence").hidden, false);
  assert.match(help("divergence").textContent, /two independent real samples of 2,000 points each/);
  assert.match(help("divergence").textContent, /5–95% over 12 pairs/);
  assert.match(help("w1").textContent, /two independent real samples of 500 points each/);
});

test("a new baseline redraws the charts with its values; one without a metric drops that band", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7), row(100, 1.2, 0.9)]);
  history.baseline = BASELINE;
  charts.update();
  const w1 = plot(charts, "w1");
  const { js_grid: _, ...noJs } = BASELINE.metrics;
  history.baseline = { ...BASELINE, metrics: { ...noJs, w1: { mean: 0.08, low: 0.05, high: 0.1 } } };
  assert.equal(charts.update(), true);
  assert.equal(plot(charts, "w1"), w1, "same series: the plot is kept, its data replaced");
  assert.deepEqual(w1.data[2], [0.08, 0.08]);
  assert.deepEqual(plot(charts, "divergence").opts.series.slice(1).map((s) => s.label),
    ["KL(real‖fake)", "JS", "KL: two real samples (5–95%)"]);
});

test("the k-NN charts plot precision, recall, density and coverage, each with its real-vs-real band", () => {
  const cols = ["iteration", "precision", "recall", "density", "coverage"];
  const history = new History();
  history.replace(cols, new Float32Array([0, 0.5, 0.25, 0.75, 0.125, 100, 0.875, 0.5, 1.25, 0.625]));
  const charts = new Charts(container, history);
  charts.setPalette(PALETTES.ganlab);
  const labels = (id) => plot(charts, id).opts.series.slice(1).map((s) => [s.label, s.stroke, s.dash ?? null]);
  const { ganlab } = PALETTES;
  assert.deepEqual(labels("precision-recall"), [["precision", ganlab.fake, null], ["recall", ganlab.real, null]]);
  assert.deepEqual(plot(charts, "density-coverage").data, [[0, 100], [0.75, 1.25], [0.125, 0.625]]);
  history.baseline = BASELINE;
  charts.setMetrics({ samples: 2000 });
  charts.update();
  assert.deepEqual(labels("precision-recall"), [
    ["precision", ganlab.fake, null], ["recall", ganlab.real, null],
    ["precision: two real samples (5–95%)", ganlab.fake, [4, 3]], ["recall: two real samples (5–95%)", ganlab.real, [4, 3]],
  ]);
  const dc = plot(charts, "density-coverage");
  assert.deepEqual(dc.data.slice(3), [[1, 1], [0.97, 0.97]], "level at the bands' means");
  assert.equal(dc.opts.series[3].value(dc, null, 3, null), "1.00 (0.970–1.03)");
  assert.deepEqual(dc.opts.scales.y.range(null, 0.125, 1.25), ["linear", 0.125, 1.25]);
  assert.deepEqual(dc.opts.scales.y.range(null, 0.1, 0.5), ["linear", 0.1, 1.03], "the bands stay in view");
  const { u, fills } = fakeCanvas();
  dc.opts.hooks.drawAxes[0](u);
  assert.deepEqual(fills.map((f) => f.color), [ganlab.fake, ganlab.real]);
  const help = box("precision-recall").querySelector(".chart-help");
  assert.equal(help.hidden, false);
  assert.match(help.textContent, /k = 5, on 1,000 samples a side/);
  assert.match(help.textContent, /a second real sample of 1,000 points scored in G's place/);
});

test("the reverse KL's help says its band is one real sample's own score", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  charts.setMetrics({ samples: 2000 });
  const help = () => box("reverse-kl").querySelector(".chart-help").textContent;
  assert.doesNotMatch(help(), /Shaded/);
  history.baseline = BASELINE;
  charts.update();
  assert.match(help(), /what a real sample of 2,000 points scores \(dashed line: the mean; band: 5–95% over 12 samples\)/);
  assert.match(box("reverse-kl").querySelector(".chart-summary").textContent, /Shaded band: a real sample's own score\.$/);
});

// --- the help's two parts, the bands' legibility and the value chart's landmarks ---------

test("numbers read side by side share one notation: exponents for all when any needs one", () => {
  const cases = [[0.00163, 0.000539, 0.0034], [0.985, 0.974, 0.993], [12345, 0.5, 2], [0, 0.0001, 1]];
  for (const values of cases) {
    const shown = formatValues(values);
    const exp = shown.map((t) => t.includes("e"));
    assert.ok(exp.every((e) => e === exp[0]), `one notation: ${shown}`);
    // Each reads back as its value to three significant digits.
    shown.forEach((t, i) => assert.ok(Math.abs(Number(t) - values[i]) <= 0.005 * Math.abs(values[i]), `${t} vs ${values[i]}`));
  }
  assert.deepEqual(formatValues([0.00163, 0.000539, 0.0034]), ["1.63e-3", "5.39e-4", "3.40e-3"]);
  assert.deepEqual(formatValues([0.985, 0.974, 0.993]), ["0.985", "0.974", "0.993"]);
  assert.deepEqual(formatValues([null, 0.5]), ["–", "0.500"]);
});

test("a colour at low alpha: rgb() and hex forms, anything else as it is", () => {
  assert.equal(translucent("rgb(0, 136, 55)", 0.2), "rgba(0, 136, 55, 0.2)");
  assert.equal(translucent("#e08000", 0.2), "rgba(224, 128, 0, 0.2)");
  assert.equal(translucent("#333", 0.5), "rgba(51, 51, 51, 0.5)");
  assert.equal(translucent("teal", 0.2), "teal");
});

test("two bands are noted as overlapping exactly when some value lies in both", () => {
  // Brute force: intervals on a grid of hundredths, overlap when a grid value is in both.
  const hundredths = (lo, hi) => Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  for (const [al, ah, bl, bh] of [[0, 5, 5, 9], [0, 4, 5, 9], [3, 6, 1, 8], [7, 9, 1, 6], [2, 2, 2, 2]]) {
    const a = { mean: (al + ah) / 200, low: al / 100, high: ah / 100 };
    const b = { mean: (bl + bh) / 200, low: bl / 100, high: bh / 100 };
    const both = hundredths(al, ah).some((v) => v >= bl && v <= bh);
    const note = overlapNote([["a", a], ["b", b]]);
    assert.equal(note !== "", both, `${[al, ah, bl, bh]}`);
  }
  assert.equal(overlapNote([["precision", { mean: 0.985, low: 0.98, high: 0.99 }], ["recall", { mean: 0.984, low: 0.979, high: 0.989 }]]),
    "The precision and recall bands overlap (means 0.985 and 0.984): one is drawn over the other.");
  assert.equal(overlapNote([["a", { mean: 0.985, low: 0.98, high: 0.99 }], ["b", { mean: 0.9851, low: 0.97, high: 0.99 }]]),
    "The a and b bands overlap (both at about 0.985): one is drawn over the other.");
  assert.equal(overlapNote([]), "");
});

test("a long help is one plain line, with how it is computed behind a closed toggle that stays as the learner left it", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  charts.setMetrics({ samples: 2000, grid: 30 });
  history.baseline = BASELINE;
  charts.update();
  for (const id of ["divergence", "w1", "precision-recall", "density-coverage", "value", "reverse-kl"]) {
    const help = box(id).querySelector(".chart-help");
    const summary = help.querySelector(".chart-summary").textContent;
    const how = help.querySelector("details.chart-how");
    assert.ok(summary.length > 0 && summary.split(/\s+/).length <= 40, `${id}: a short summary (${summary})`);
    assert.equal(how.hidden, false, id);
    assert.equal(how.open, false, `${id}: closed at first`);
    assert.equal(how.querySelector("summary").textContent, "How it's computed");
    assert.ok(how.querySelector("p").textContent.length > summary.length, `${id}: the details say more`);
  }
  assert.match(box("divergence").querySelector(".chart-how p").textContent, /30 × 30 grid/);
  assert.match(box("divergence").querySelector(".chart-how p").textContent, /two independent real samples of 2,000 points each/);
  const how = box("w1").querySelector(".chart-how");
  how.open = true;
  history.baseline = { ...BASELINE, pairs: 20 };
  charts.update();
  assert.equal(box("w1").querySelector(".chart-how"), how, "the same toggle");
  assert.equal(how.open, true, "left open");
  assert.match(how.textContent, /over 20 pairs/, "with the new words");
  // Short helps are the line alone.
  assert.equal(box("quality").querySelector(".chart-how").hidden, true);
});

test("overlapping bands get a note naming both; apart, or without a baseline, none", () => {
  const { charts, history } = makeCharts([row(0, 1.4, 0.7)]);
  const note = (id) => box(id).querySelector(".chart-band-note");
  assert.equal(note("precision-recall").hidden, true);
  history.baseline = BASELINE;
  charts.update();
  assert.equal(note("precision-recall").hidden, false);
  assert.equal(note("precision-recall").textContent,
    "The precision and recall bands overlap (means 0.985 and 0.984): one is drawn over the other.");
  assert.equal(note("divergence").hidden, true, "KL's and JS's bands are apart");
});

test("a band's legend reads in one notation, and its swatch is filled like the band and dashed like its mean", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  history.baseline = { ...BASELINE, metrics: { ...BASELINE.metrics, reverse_kl: { mean: 0.00163, low: 0.000539, high: 0.0034 } } };
  charts.update();
  const rkl = plot(charts, "reverse-kl");
  assert.equal(rkl.opts.series[2].value(rkl, null, 2, null), "1.63e-3 (5.39e-4–3.40e-3)");
  const { markers } = rkl.opts.legend;
  assert.equal(markers.fill(rkl, 2), "rgba(122, 59, 158, 0.2)", "#7a3b9e at the band's alpha");
  assert.equal(markers.fill(rkl, 1), "transparent");
  assert.deepEqual([markers.dash(rkl, 1), markers.dash(rkl, 2)], ["solid", "dashed"]);
});

test("a band narrower than a few pixels is drawn as a strip, not a line", () => {
  const { charts, history } = makeModeCharts([[0, 2, 8, 0.25, 1.5]]);
  history.baseline = { ...BASELINE, metrics: { ...BASELINE.metrics, reverse_kl: { mean: 0.002, low: 0.002, high: 0.002 } } };
  charts.update();
  const { u, fills } = fakeCanvas();
  plot(charts, "reverse-kl").opts.hooks.drawAxes[0](u);
  assert.equal(fills.length, 1);
  assert.ok(Math.abs(fills[0].h - 4) < 1e-9, `4 px tall, got ${fills[0].h}`);
  assert.ok(Math.abs(fills[0].y + fills[0].h / 2 - (100 - 2)) < 1e-9, "centred on the band");
});

const VALUE_COLUMNS = ["iteration", "v_current", "v_optimal", "v_optimal_theory"];

function makeValueChart(rows) {
  const history = new History();
  history.replace(VALUE_COLUMNS, new Float32Array(rows.flat()));
  const charts = new Charts(container, history);
  charts.setPalette(PALETTES.ganlab);
  return { charts, history, value: () => plot(charts, "value") };
}

test("the value chart has a line at −log 4 named 'G = data', keeps it and 0 in view, and never goes log", () => {
  const { charts, value } = makeValueChart([[0, -0.5, -0.3, -0.29], [100, -0.4, -0.1, -0.12]]);
  const v = value();
  const labels = v.opts.series.slice(1).map((s) => s.label);
  assert.deepEqual(labels, ["V(D, G)", "V(D*, G)", "−log 4 + 2·JS (32×32 grid)", "G = data: −log 4"]);
  const quarter = Math.log(0.25); // log D* + log(1 − D*) at D* = 1/2
  for (const y of v.data[4]) assert.ok(Math.abs(y - quarter) < 1e-12);
  assert.equal(v.opts.series[4].value(v, null, 4, null), "-1.39");
  assert.deepEqual(v.opts.scales.y.range(null, -0.5, -0.1).map((x) => (typeof x === "number" ? +x.toFixed(6) : x)),
    ["linear", +quarter.toFixed(6), 0]);
  assert.deepEqual(v.opts.scales.y.range(null, -2, -0.1).slice(1, 3).map((x) => +x.toFixed(6)), [-2, 0], "a worse D stays in view");
  charts.setLog(true);
  assert.equal(value().opts.scales.y.distr, undefined, "linear under log scale");
  assert.equal(plot(charts, "modes").opts.scales.y.distr, undefined);
  assert.equal(plot(charts, "losses").opts.scales.y.distr, 4);
  // The line's name, written on the plot just above it.
  const texts = [];
  const ctx = { save() {}, restore() {}, fillText(t, x, y) { texts.push([t, x, y, this.fillStyle]); } };
  const u = { ctx, bbox: { left: 10, top: 0, width: 300, height: 100 }, valToPos: (y) => 50 - y * 10 };
  value().opts.hooks.drawAxes.at(-1)(u);
  assert.equal(texts.length, 1);
  assert.deepEqual(texts[0].slice(0, 2), ["G = data", 14]);
  assert.ok(Math.abs(texts[0][2] - (50 - quarter * 10 - 2)) < 1e-9);
});

test("V(D, G) reads 'n/a' with why when the row has V(D*, G) but D gives none; '–' before any row", () => {
  const { value } = makeValueChart([[0, NaN, -0.3, -0.29], [100, -0.4, -0.1, -0.12], [200, NaN, -0.2, -0.2]]);
  const v = value();
  const current = v.opts.series[1];
  assert.equal(current.value(v, null, 1, null), "n/a (needs log loss, no packing)", "the newest row has none");
  assert.equal(current.value(v, null, 1, 0), "n/a (needs log loss, no packing)", "hovered row without one");
  assert.equal(current.value(v, -0.4, 1, 1), "-0.400");
  const back = makeValueChart([[0, NaN, -0.3, -0.29], [100, -0.4, -0.1, -0.12]]).value();
  assert.equal(back.opts.series[1].value(back, null, 1, null), "-0.400", "log loss again: its value");
  const packed = makeValueChart([[0, NaN, -0.3, -0.29]]).value();
  assert.equal(packed.opts.series[1].value(packed, null, 1, null), "n/a (needs log loss, no packing)");
  const empty = makeValueChart([[0, NaN, NaN, NaN]]).value();
  assert.equal(empty.opts.series[1].value(empty, null, 1, null), "–");
});

test("a legend at a past point reads the newest row at or before it, skipping gaps", () => {
  const xs = [0, 100, 200, 300, 400];
  const col = [1, null, 3, 4, null];
  // Brute force: the rows at or before, newest first, the first with a value.
  const brute = (upto) => xs.map((x, i) => [x, col[i]]).filter(([x, v]) => x <= upto && v != null).at(-1)?.[1] ?? null;
  for (const upto of [-5, 0, 50, 100, 199, 200, 350, 400, 1e9]) assert.equal(valueUpTo(col, xs, upto), brute(upto), String(upto));
  assert.equal(valueUpTo(null, xs, 100), null);
});
