// What the page's export buttons produce: the fake samples and the metric history as CSV, the
// experiment as JSON, the picture as a PNG with a legend. The texts and the legend's layout are
// pure; drawing takes its canvas from a factory, so it is tested without a real canvas
// (web/test/exports.test.js).

import { makeCanvas } from "../views/distribution-renderer.js";
import { legendLabels } from "./variant-labels.js";
import { DIVERGING as DIVERGING_STOPS, UNDEFINED_WORDS } from "../views/heatmap-mode.js";
import { FIELD_STYLE } from "../views/field-layer.js";

const EXTENSIONS = { samples: "csv", metrics: "csv", experiment: "json", picture: "png" };

/** The export's file name: ganlab-<data>-<iteration>-<kind>.<ext>, kind one of samples,
 * metrics, experiment, picture. The data name is reduced to characters safe in any file
 * system (a drawing or an import may be named anything). */
export function exportFileName(dataName, iteration, kind) {
  const ext = EXTENSIONS[kind];
  if (!ext) throw new RangeError(`unknown export: ${kind}`);
  const data = String(dataName || "").toLowerCase().replace(/[^a-z0-9_]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40) || "data";
  const it = Number.isFinite(iteration) && iteration >= 0 ? Math.round(iteration) : 0;
  return `ganlab-${data}-${it}-${kind}.${ext}`;
}

/** The frame's fake samples as CSV: a header "x,y", then one line per sample at full
 * precision (String of the number reads back to the same float). */
export function samplesCsv(frame) {
  const fake = frame && frame.fake ? frame.fake : [];
  const lines = ["x,y"];
  for (let i = 0; i + 1 < fake.length; i += 2) lines.push(`${String(fake[i])},${String(fake[i + 1])}`);
  return `${lines.join("\n")}\n`;
}

/** The metric history (a History) as CSV: a header of all its columns, one line per row, an
 * empty cell where a value was not computed. */
export function metricsCsv(history) {
  const columns = history.columns;
  const data = columns.map((c) => history.column(c));
  const lines = [columns.join(",")];
  for (let r = 0; r < history.length; r++) {
    lines.push(data.map((col) => (col[r] == null ? "" : String(col[r]))).join(","));
  }
  return `${lines.join("\n")}\n`;
}

/** The experiment's full config as indented JSON, without `device` (where it ran, not what
 * it is: the same file should reproduce the run on any machine). */
export function experimentJson(config) {
  const rest = Object.fromEntries(Object.entries(config).filter(([key]) => key !== "device"));
  return `${JSON.stringify(rest, null, 2)}\n`;
}

// The picture draws D's colours at this opacity over white (distribution-renderer.js); the
// legend's gradient does too, so that it matches.
const HEAT_OPACITY = 0.55;

/** The legend's entries for the layers that are on (`layers`: { heatmap, real, fake,
 * gradients, manifold, contour } as the page's checkboxes say), in the palette's colours.
 * `shown` (variant-labels.js shownGenerator) says which generator made the fake samples;
 * `densityKind` ("exact" or "kde", from the frame) whether the contours are the true density. */
export function legendItems(palette, layers, shown = null, densityKind = null, heat = null) {
  const density = { exact: "real density (true)", kde: "real density (estimated)" }[densityKind] || "real density";
  const words = legendLabels(shown);
  const all = [
    heatItem(palette, heat),
    // D* and D − D* leave hatched cells where D* is undefined.
    ...(heat && heat.mode && heat.mode !== "d" ? [{ layer: "heatmap", swatch: "hatch", label: `D* ${UNDEFINED_WORDS}` }] : []),
    { layer: "real", swatch: "dot", color: palette.real, label: "real samples" },
    { layer: "fake", swatch: "dot", color: palette.fake, label: words.fake },
    { layer: "gradients", swatch: "arrow", color: palette.gradient, label: "G gradients" },
    { layer: "field", swatch: "arrow", color: FIELD_STYLE.color, halo: FIELD_STYLE.halo, label: "G field" },
    { layer: "manifold", swatch: "line", color: palette.manifold, label: words.manifold },
    { layer: "contour", swatch: "ring", color: palette.contour, label: density },
  ];
  return all.filter((item) => layers && layers[item.layer]);
}

/** The heatmap's legend entry. `heat` (null: D itself): { mode: "d", "optimal" (D*) or
 * "gap" (D − D*), span (the diverging scale's half-width, for "gap"), partners (packs each
 * value averages under packing; 1 or absent without packing) }. */
export function heatItem(palette, heat) {
  const mode = heat?.mode ?? "d";
  if (mode === "gap") {
    const span = heat.span;
    const colors = DIVERGING_STOPS.map((c) => `rgb(${c.join(",")})`);
    return { layer: "heatmap", swatch: "gradient", colors, label: `D \u2212 D*: \u2212${span} \u2192 +${span}` };
  }
  if (mode === "optimal") return { layer: "heatmap", swatch: "gradient", colors: palette.heat, label: "optimal D*: fake \u2192 real" };
  const packed = heat?.partners > 1 ? " (mean over partners)" : "";
  return { layer: "heatmap", swatch: "gradient", colors: palette.heat, label: `D: fake \u2192 real${packed}` };
}

const FONT = "12px system-ui, sans-serif";
const TITLE_FONT = "600 13px system-ui, sans-serif";
const TITLE_HEIGHT = 24;
const ROW_HEIGHT = 20;
const PAD = 8;
const SWATCH = { gradient: 36, hatch: 14, dot: 10, arrow: 14, line: 16, ring: 12 };
const SWATCH_GAP = 5;
const ITEM_GAP = 16;

/** Where each legend item goes: rows that wrap at `width`; `measure(text)` is a label's width.
 * Returns { items: [{ ...item, x, y }] (y: the row's centre, from the strip's top), height }. */
export function layoutLegend(items, width, measure) {
  const out = [];
  let x = PAD;
  let row = 0;
  for (const item of items) {
    const w = SWATCH[item.swatch] + SWATCH_GAP + measure(item.label);
    if (x > PAD && x + w > width - PAD) {
      row++;
      x = PAD;
    }
    out.push({ ...item, x, y: PAD / 2 + row * ROW_HEIGHT + ROW_HEIGHT / 2 });
    x += w + ITEM_GAP;
  }
  return { items: out, height: items.length ? (row + 1) * ROW_HEIGHT + PAD : 0 };
}

/** Draw a legend item's swatch at (x, y = its row's centre). */
function drawSwatch(ctx, item, x, y) {
  ctx.save();
  if (item.swatch === "gradient") {
    const w = SWATCH.gradient;
    const g = ctx.createLinearGradient(x, 0, x + w, 0);
    item.colors.forEach((c, i) => g.addColorStop(i / Math.max(1, item.colors.length - 1), c));
    ctx.globalAlpha = HEAT_OPACITY;
    ctx.fillStyle = g;
    ctx.fillRect(x, y - 5, w, 10);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.strokeRect(x + 0.5, y - 4.5, w - 1, 9);
  } else if (item.swatch === "dot") {
    ctx.fillStyle = item.color;
    ctx.beginPath();
    ctx.arc(x + 5, y, 4, 0, 2 * Math.PI);
    ctx.fill();
  } else if (item.swatch === "hatch") {
    // As the picture's hatch under undefined D* cells (distribution-renderer.js).
    ctx.fillStyle = "#fff";
    ctx.fillRect(x, y - 5, SWATCH.hatch, 10);
    ctx.save();
    ctx.beginPath();
    ctx.rect(x, y - 5, SWATCH.hatch, 10);
    ctx.clip();
    ctx.strokeStyle = "#c4c4c4";
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (let d = -10; d < SWATCH.hatch; d += 4) {
      ctx.moveTo(x + d, y + 5);
      ctx.lineTo(x + d + 10, y - 5);
    }
    ctx.stroke();
    ctx.restore();
    ctx.strokeStyle = "#999";
    ctx.strokeRect(x + 0.5, y - 4.5, SWATCH.hatch - 1, 9);
  } else if (item.swatch === "arrow") {
    ctx.beginPath();
    ctx.moveTo(x, y + 4);
    ctx.lineTo(x + 13, y - 4);
    ctx.moveTo(x + 13, y - 4);
    ctx.lineTo(x + 7, y - 4);
    ctx.moveTo(x + 13, y - 4);
    ctx.lineTo(x + 10, y + 1);
    if (item.halo) {
      ctx.strokeStyle = item.halo;
      ctx.lineWidth = 3.5;
      ctx.stroke();
    }
    ctx.strokeStyle = item.color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  } else if (item.swatch === "line") {
    ctx.strokeStyle = item.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.moveTo(x, y + 3);
    ctx.lineTo(x + 8, y - 3);
    ctx.lineTo(x + 16, y + 1);
    ctx.stroke();
  } else {
    ctx.strokeStyle = item.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(x + 6, y, 5, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * The picture with an optional title above and a legend strip below, on a new canvas made by
 * `createCanvas(w, h)` (an OffscreenCanvas, else a DOM canvas). `source` (an ImageBitmap or a
 * canvas of the current picture) is drawn at `width` x `height` CSS pixels, the whole at
 * `pixelRatio` device pixels per CSS pixel. `legend`: { palette, layers, shown }. Returns the
 * canvas.
 */
export function composePng({ source, width, height, pixelRatio = 1, legend = null, title = "", createCanvas = makeCanvas }) {
  const canvas = createCanvas(1, 1);
  let ctx = canvas.getContext("2d");
  ctx.font = FONT;
  // measureText exists on every real context; the estimate is for contexts that lack it.
  const measure = (text) => (ctx.measureText ? ctx.measureText(text).width : text.length * 7);
  const items = legend ? legendItems(legend.palette, legend.layers, legend.shown, legend.density, legend.heat) : [];
  const strip = layoutLegend(items, width, measure);
  const top = title ? TITLE_HEIGHT : 0;
  const total = top + height + strip.height;
  // Resizing clears the canvas and its state: size it first, then draw.
  canvas.width = Math.round(width * pixelRatio);
  canvas.height = Math.round(total * pixelRatio);
  ctx = canvas.getContext("2d");
  ctx.setTransform(pixelRatio, 0, 0, pixelRatio, 0, 0);
  ctx.fillStyle = "#fff"; // a PNG is transparent where nothing is drawn: legends read on white
  ctx.fillRect(0, 0, width, total);
  if (title) {
    ctx.font = TITLE_FONT;
    ctx.fillStyle = "#222";
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    ctx.fillText(title, PAD, TITLE_HEIGHT / 2);
  }
  ctx.drawImage(source, 0, top, width, height);
  ctx.font = FONT;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (const item of strip.items) {
    const y = top + height + item.y;
    drawSwatch(ctx, item, item.x, y);
    ctx.fillStyle = "#333";
    ctx.fillText(item.label, item.x + SWATCH[item.swatch] + SWATCH_GAP, y);
  }
  return canvas;
}

/** A canvas' picture as a PNG Blob (OffscreenCanvas or DOM canvas). */
export function canvasToPngBlob(canvas) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type: "image/png" });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("the picture could not be encoded as PNG"))), "image/png");
  });
}
