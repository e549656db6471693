import { test } from "node:test";
import { FIELD_STYLE } from "../src/views/field-layer.js";
import assert from "node:assert/strict";
import {
  exportFileName, samplesCsv, metricsCsv, experimentJson, legendItems, layoutLegend, composePng,
  canvasToPngBlob,
} from "../src/ui/exports.js";
import { History } from "../src/state/history.js";
import { PALETTES } from "../src/views/colors.js";

/** Parse simple CSV (no quoting: the exports hold numbers only) into a header and rows. */
function parseCsv(text) {
  assert.ok(text.endsWith("\n"), "ends with a newline");
  const [header, ...rows] = text.slice(0, -1).split("\n");
  return { header: header.split(","), rows: rows.map((r) => r.split(",")) };
}

test("file names: ganlab-<data>-<iteration>-<kind>, the data name made safe", () => {
  assert.equal(exportFileName("gaussians", 1200, "samples"), "ganlab-gaussians-1200-samples.csv");
  assert.equal(exportFileName("ring", 0, "metrics"), "ganlab-ring-0-metrics.csv");
  assert.equal(exportFileName("two_moons", 35, "experiment"), "ganlab-two_moons-35-experiment.json");
  assert.equal(exportFileName("line", 7, "picture"), "ganlab-line-7-picture.png");
  assert.equal(exportFileName("My drawing/../ x", 12.4, "picture"), "ganlab-my-drawing-x-12-picture.png");
  assert.equal(exportFileName("", null, "samples"), "ganlab-data-0-samples.csv");
  assert.throws(() => exportFileName("ring", 1, "weights"), RangeError);
});

test("the samples CSV holds every fake sample, reading back to the same floats", () => {
  const fake = new Float32Array([0.1, -2.5, 1 / 3, 1e-7, -123456.789, 0]);
  const { header, rows } = parseCsv(samplesCsv({ fake }));
  assert.deepEqual(header, ["x", "y"]);
  assert.equal(rows.length, 3);
  assert.deepEqual(Float32Array.from(rows.flat().map(Number)), fake, "bit for bit");
  assert.equal(rows[0][0], String(fake[0]), "full precision, not rounded for show");
  assert.equal(samplesCsv({ fake: new Float32Array(0) }), "x,y\n");
});

test("the metrics CSV has every history column, one line per row, empty cells for gaps", () => {
  const columns = ["iteration", "d_loss", "g_loss", "w1", "modes_covered", "modes_total"];
  const h = new History();
  h.replace(columns, new Float32Array([0, 1.386, 0.693, NaN, NaN, NaN, 100, 1.2, 0.9, 0.25, 5, 8]));
  const { header, rows } = parseCsv(metricsCsv(h));
  assert.deepEqual(header, columns);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0].slice(3), ["", "", ""]);
  assert.deepEqual(rows[1].map(Number), [100, Math.fround(1.2), Math.fround(0.9), 0.25, 5, 8]);
  h.replace(columns, null);
  assert.equal(metricsCsv(h), `${columns.join(",")}\n`, "no rows yet: the header alone");
});

test("the experiment JSON is the whole config but where it ran", () => {
  const config = {
    data: { name: "ring", strokes: null }, noise: { kind: "gaussian", dim: 2 },
    g_optimizer: { kind: "adam", lr: 0.001 }, seed: 42, device: "cuda",
  };
  const text = experimentJson(config);
  const back = JSON.parse(text);
  assert.deepEqual(back, { data: { name: "ring", strokes: null }, noise: { kind: "gaussian", dim: 2 }, g_optimizer: { kind: "adam", lr: 0.001 }, seed: 42 });
  assert.match(text, /\n {2}"seed": 42/, "indented for reading");
  assert.equal(config.device, "cuda", "the config itself is left alone");
});

test("the legend lists only the visible layers, in the palette's colours", () => {
  const p = PALETTES.cvd;
  const all = { heatmap: true, real: true, fake: true, gradients: true, manifold: true, contour: true };
  assert.deepEqual(legendItems(p, all).map((i) => i.label),
    ["D: fake \u2192 real", "real samples", "fake samples", "G gradients", "G manifold", "real density"]);
  const some = legendItems(p, { ...all, heatmap: false, gradients: false, contour: false });
  assert.deepEqual(some.map((i) => [i.layer, i.color]), [["real", p.real], ["fake", p.fake], ["manifold", p.manifold]]);
  assert.deepEqual(legendItems(p, all)[0].colors, p.heat);
  assert.deepEqual(legendItems(p, {}), []);
});

test("the legend's heatmap entry names what the heatmap shows, and the G field has its own", () => {
  const p = PALETTES.ganlab;
  const layers = { heatmap: true, field: true };
  assert.deepEqual(legendItems(p, layers).map((i) => i.label), ["D: fake \u2192 real", "G field"]);
  assert.equal(legendItems(p, layers, null, null, { mode: "d", partners: 32 })[0].label, "D: fake \u2192 real (mean over partners)");
  assert.equal(legendItems(p, layers, null, null, { mode: "d", partners: 1 })[0].label, "D: fake \u2192 real");
  const optimal = legendItems(p, layers, null, null, { mode: "optimal" })[0];
  assert.equal(optimal.label, "optimal D*: fake \u2192 real");
  assert.deepEqual(optimal.colors, p.heat);
  const gap = legendItems(p, layers, null, null, { mode: "gap", span: 0.25 })[0];
  assert.equal(gap.label, "D \u2212 D*: \u22120.25 \u2192 +0.25");
  // The diverging scale's own colours, not D's: brown through near white to teal.
  assert.deepEqual(gap.colors, ["rgb(140,81,10)", "rgb(246,246,246)", "rgb(1,102,94)"]);
  assert.notDeepEqual(gap.colors, p.heat);
  // D* and D − D* add the hatched swatch of the cells where D* is undefined; D does not.
  for (const mode of ["optimal", "gap"]) {
    const items = legendItems(p, layers, null, null, { mode, span: 0.25 });
    assert.deepEqual(items.map((i) => i.swatch), ["gradient", "hatch", "arrow"]);
    assert.equal(items[1].label, "D* undefined (no real or fake mass)");
  }
  assert.ok(!legendItems(p, layers, null, null, { mode: "d" }).some((i) => i.swatch === "hatch"));
  // The field's swatch is drawn as the picture draws it (dark, haloed), not as G gradients.
  const field = legendItems(p, { field: true, gradients: true });
  assert.equal(field[1].color, FIELD_STYLE.color);
  assert.equal(field[1].halo, FIELD_STYLE.halo);
  assert.notEqual(field[1].color, field[0].color);
});

test("the legend names the generator of the fake samples when the view shows its average", () => {
  const p = PALETTES.ganlab;
  const layers = { fake: true, manifold: true };
  const averaged = { averaged: true, short: "averaged G", detail: "averaged G, EMA 0.999", ema: 0.999, reason: "" };
  assert.deepEqual(legendItems(p, layers, averaged).map((i) => i.label), ["fake samples (averaged G, EMA 0.999)", "averaged G manifold"]);
  const itself = { averaged: false, short: "G itself", detail: "G itself: there is no average while EMA is 0", ema: 0, reason: "there is no average while EMA is 0" };
  assert.deepEqual(legendItems(p, layers, itself).map((i) => i.label), ["fake samples (G itself: there is no average while EMA is 0)", "G manifold"]);
  assert.deepEqual(legendItems(p, layers, null).map((i) => i.label), ["fake samples", "G manifold"]);
});

test("legend items wrap onto rows that fit the width", () => {
  const items = legendItems(PALETTES.ganlab, { heatmap: true, real: true, fake: true, gradients: true, manifold: true, contour: true });
  const measure = (t) => t.length * 7;
  const wide = layoutLegend(items, 2000, measure);
  assert.equal(new Set(wide.items.map((i) => i.y)).size, 1, "one row");
  const narrow = layoutLegend(items, 300, measure);
  assert.ok(narrow.height > wide.height);
  for (const it of narrow.items) {
    const right = it.x + { gradient: 36, dot: 10, arrow: 14, line: 16, ring: 12 }[it.swatch] + 5 + measure(it.label);
    assert.ok(right <= 300 - 8, `${it.label} ends at ${right}`);
  }
  assert.equal(layoutLegend([], 300, measure).height, 0);
});

/** A canvas factory whose 2D context records what is drawn. */
function fakeCanvases() {
  const made = [];
  const create = (width, height) => {
    const calls = [];
    const ctx = {
      calls,
      measureText: (t) => ({ width: t.length * 6 }),
      createLinearGradient: (...args) => {
        const g = { args, stops: [] };
        g.addColorStop = (o, c) => g.stops.push([o, c]);
        return g;
      },
    };
    for (const name of ["setTransform", "fillRect", "strokeRect", "fillText", "drawImage", "save", "restore",
      "beginPath", "arc", "fill", "stroke", "moveTo", "lineTo", "rect", "clip"]) {
      ctx[name] = (...args) => calls.push([name, ...args]);
    }
    const canvas = { width, height, getContext: () => ctx, ctx };
    made.push(canvas);
    return canvas;
  };
  return { create, made };
}

test("the PNG picture: title, the picture, then a legend strip of the visible layers", () => {
  const { create, made } = fakeCanvases();
  const source = { picture: true };
  const canvas = composePng({
    source, width: 600, height: 400, pixelRatio: 2, title: "gaussians, iteration 1200", createCanvas: create,
    legend: { palette: PALETTES.ganlab, layers: { heatmap: true, real: true, fake: true, gradients: false, manifold: false, contour: true } },
  });
  assert.equal(made.length, 1);
  assert.equal(canvas, made[0]);
  assert.equal(canvas.width, 1200);
  assert.ok(canvas.height > 2 * (24 + 400), `room for the legend: ${canvas.height}`);
  const calls = canvas.ctx.calls;
  assert.deepEqual(calls.find((c) => c[0] === "setTransform"), ["setTransform", 2, 0, 0, 2, 0, 0]);
  assert.deepEqual(calls.find((c) => c[0] === "drawImage"), ["drawImage", source, 0, 24, 600, 400]);
  const texts = calls.filter((c) => c[0] === "fillText");
  assert.deepEqual(texts.map((c) => c[1]), ["gaussians, iteration 1200", "D: fake \u2192 real", "real samples", "fake samples", "real density"]);
  for (const t of texts.slice(1)) assert.ok(t[3] > 24 + 400 && t[3] < canvas.height / 2, `${t[1]} in the strip below`);
  // The white background is painted before the picture (a PNG is otherwise transparent).
  const first = calls.findIndex((c) => c[0] === "fillRect");
  assert.ok(first >= 0 && first < calls.findIndex((c) => c[0] === "drawImage"));
});

test("the PNG's legend strip draws the averaged generator's label it is given", () => {
  const { create } = fakeCanvases();
  const shown = { averaged: true, short: "averaged G", detail: "averaged G, EMA 0.99", ema: 0.99, reason: "" };
  const canvas = composePng({
    source: "bitmap", width: 300, height: 200, createCanvas: create,
    legend: { palette: PALETTES.ganlab, layers: { fake: true }, shown },
  });
  assert.deepEqual(canvas.ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]), ["fake samples (averaged G, EMA 0.99)"]);
});

test("the PNG without a title or legend is the picture alone", () => {
  const { create } = fakeCanvases();
  const canvas = composePng({ source: "bitmap", width: 300, height: 200, createCanvas: create });
  assert.deepEqual([canvas.width, canvas.height], [300, 200]);
  assert.deepEqual(canvas.ctx.calls.find((c) => c[0] === "drawImage"), ["drawImage", "bitmap", 0, 0, 300, 200]);
  assert.deepEqual(canvas.ctx.calls.filter((c) => c[0] === "fillText"), []);
  const none = composePng({ source: "bitmap", width: 300, height: 200, createCanvas: create, legend: { palette: PALETTES.ganlab, layers: {} } });
  assert.equal(none.height, 200, "no visible layer: no strip");
});

test("a canvas becomes a PNG blob, from an OffscreenCanvas or a DOM canvas", async () => {
  const blob = new Blob(["png"], { type: "image/png" });
  const asked = [];
  assert.equal(await canvasToPngBlob({ convertToBlob: async (o) => { asked.push(o); return blob; } }), blob);
  assert.deepEqual(asked, [{ type: "image/png" }]);
  assert.equal(await canvasToPngBlob({ toBlob: (cb, type) => { asked.push(type); cb(blob); } }), blob);
  assert.equal(asked[1], "image/png");
  await assert.rejects(canvasToPngBlob({ toBlob: (cb) => cb(null) }), /PNG/);
});

test("the PNG legend says whether the density contours are the true density or an estimate", () => {
  const p = PALETTES.ganlab;
  const label = (kind) => legendItems(p, { contour: true }, null, kind).map((i) => i.label);
  assert.deepEqual(label("exact"), ["real density (true)"]);
  assert.deepEqual(label("kde"), ["real density (estimated)"]);
  assert.deepEqual(label(null), ["real density"]);
});
