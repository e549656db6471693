import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { PALETTES, heatmapLut } from "../src/views/colors.js";
import { PROBABILITY_SCALE } from "../src/views/score-scale.js";
import {
  DEFAULT_PALETTE, applyPaletteToPage, legendRow, paletteVariables, savePaletteName, savedPaletteName, showHeatScale,
} from "../src/ui/palette.js";

function fakeStorage() {
  const items = new Map();
  return { getItem: (k) => (items.has(k) ? items.get(k) : null), setItem: (k, v) => items.set(k, String(v)), items };
}

test("the chosen palette is remembered, and an unknown one falls back to the default", () => {
  const storage = fakeStorage();
  assert.equal(savedPaletteName(storage), DEFAULT_PALETTE);
  assert.ok(PALETTES[DEFAULT_PALETTE]);
  savePaletteName(storage, "cvd");
  assert.equal(savedPaletteName(storage), "cvd");
  storage.setItem("ganlab.palette", "no-such-palette");
  assert.equal(savedPaletteName(storage), DEFAULT_PALETTE);
  savePaletteName(storage, "");
  assert.equal(savedPaletteName(storage), DEFAULT_PALETTE);
});

test("the page's CSS colours come from the palette", () => {
  const p = PALETTES.cvd;
  assert.deepEqual(paletteVariables(p), {
    "--real": p.real,
    "--fake": p.fake,
    "--grad": p.gradient,
    "--disc": p.discriminator,
    "--heat": `linear-gradient(90deg, ${p.heat.join(", ")})`,
  });
});

test("the legend runs through the LUT from its first entry to its last, opaque", () => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let q = 0; q < 256; q++) lut.set([q, 255 - q, 7, 99], q * 4);
  const row = legendRow(lut, 120);
  assert.equal(row.length, 120 * 4);
  assert.deepEqual([...row.slice(0, 4)], [0, 255, 7, 255]);
  assert.deepEqual([...row.slice(119 * 4)], [255, 0, 7, 255]);
  const mid = Math.round((60 / 119) * 255);
  assert.deepEqual([...row.slice(60 * 4, 61 * 4)], [mid, 255 - mid, 7, 255]);
  for (let x = 1; x < 120; x++) assert.ok(row[x * 4] >= row[(x - 1) * 4], "fake to real, left to right");
});

test("applying a palette sets the variables and paints every row of the legend", () => {
  const p = PALETTES.ganlab;
  const lut = heatmapLut(p);
  const set = {};
  const style = { setProperty: (k, v) => { set[k] = v; } };
  const rows = [];
  const ctx = {
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
    putImageData: (img, x, y) => rows.push([x, y, [...img.data]]),
  };
  const legend = { width: 16, height: 3, getContext: (kind) => (kind === "2d" ? ctx : null) };
  applyPaletteToPage(p, lut, { style, legend });
  assert.deepEqual(set, paletteVariables(p));
  assert.deepEqual(rows.map(([x, y]) => [x, y]), [[0, 0], [0, 1], [0, 2]]);
  for (const [, , data] of rows) assert.deepEqual(data, [...legendRow(lut, 16)]);
});

// The page's own legend markup, so the labels are tested on the elements they really get.
function pageLegend() {
  const page = readFileSync(new URL("../src/index.html", import.meta.url), "utf8");
  const doc = new JSDOM(page).window.document;
  return { legend: doc.getElementById("heat-legend"), output: doc.getElementById("d-output") };
}

test("a critic's legend shows the score at the bar's ends and centre, with words", () => {
  const els = pageLegend();
  showHeatScale({ kind: "score", centre: 0.01, span: 0.003, tiny: true, flat: false }, els);
  const [left, right] = [...els.legend.querySelectorAll(":scope > span")].map((s) => s.textContent);
  assert.equal(left, "looks fake +0.0070");
  assert.equal(right, "+0.0130 looks real");
  assert.match(els.output.textContent, /critic score \+0\.0070 … \+0\.0100 … \+0\.0130/);
  assert.match(els.output.textContent, /tiny range/);
  assert.match(els.legend.title, /midway between mean D on real and on fake samples/);
  assert.ok(els.legend.querySelector("canvas"), "the bar itself is kept");
});

test("a probability's legend runs from 0 to 1", () => {
  const els = pageLegend();
  showHeatScale(PROBABILITY_SCALE, els);
  const [left, right] = [...els.legend.querySelectorAll(":scope > span")].map((s) => s.textContent);
  assert.equal(left, "looks fake 0");
  assert.equal(right, "1 looks real");
  assert.match(els.output.textContent, /probability of real 0 … 0\.5 … 1/);
});
