import { test } from "node:test";
import assert from "node:assert/strict";
import { PALETTES, heatmapLut } from "../src/views/colors.js";
import {
  DEFAULT_PALETTE, applyPaletteToPage, legendRow, paletteVariables, savePaletteName, savedPaletteName,
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
