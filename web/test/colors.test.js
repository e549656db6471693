import { test } from "node:test";
import assert from "node:assert/strict";
import { rgb } from "d3-color";
import { PALETTES, heatmapLut, overWhite } from "../src/views/colors.js";

const channels = (css) => {
  const c = rgb(css);
  return [c.r, c.g, c.b];
};

test("both palettes name every colour the views ask for, as valid CSS colours", () => {
  const keys = ["name", "real", "fake", "gradient", "discriminator", "manifold", "contour", "heat"];
  for (const [id, p] of Object.entries(PALETTES)) {
    assert.deepEqual(Object.keys(p).sort(), [...keys].sort(), id);
    for (const k of keys.filter((k) => k !== "name" && k !== "heat")) {
      assert.ok(rgb(p[k]).displayable(), `${id}.${k} = ${p[k]}`);
    }
    assert.equal(p.heat.length, 3, `${id}: fake - undecided - real`);
    // The heatmap's ends are the sample colours' family: its fake end is not its real end.
    assert.notDeepEqual(channels(p.heat[0]), channels(p.heat[2]));
  }
  assert.notEqual(PALETTES.ganlab.real, PALETTES.cvd.real);
});

test("heatmap lookup table runs fake colour - grey - real colour", () => {
  const lut = heatmapLut(PALETTES.ganlab);
  assert.equal(lut.length, 1024);
  assert.deepEqual(Array.from(lut.slice(0, 4)), [163, 62, 189, 255]);
  assert.deepEqual(Array.from(lut.slice(1020, 1024)), [0, 136, 55, 255]);
  const mid = Array.from(lut.slice(4 * 127, 4 * 127 + 3));
  assert.ok(mid.every((c) => c > 200), `middle is light grey: ${mid}`);
  const cvd = heatmapLut(PALETTES.cvd, 128);
  assert.equal(cvd[3], 128);
  assert.notDeepEqual(Array.from(cvd.slice(0, 3)), Array.from(lut.slice(0, 3)));
});

test("every entry of the lookup table carries the requested alpha, and its ends are the palette's", () => {
  for (const p of Object.values(PALETTES)) {
    const lut = heatmapLut(p, 77);
    for (let q = 0; q < 256; q++) assert.equal(lut[4 * q + 3], 77);
    assert.deepEqual(Array.from(lut.slice(0, 3)), channels(p.heat[0]));
    assert.deepEqual(Array.from(lut.slice(1020, 1023)), channels(p.heat[2]));
  }
});

test("heatmap colours are shown at their opacity over white, opaque", () => {
  const lut = new Uint8ClampedArray([0, 100, 255, 255]);
  assert.deepEqual([...overWhite(lut, 0.55)], [115, 170, 255, 255]);
  assert.deepEqual([...overWhite(lut, 1)], [0, 100, 255, 255]);
});

test("seen through opacity 0 every colour is the white page, and the input is left alone", () => {
  const lut = heatmapLut(PALETTES.cvd, 10);
  const before = Array.from(lut);
  const white = overWhite(lut, 0);
  assert.equal(white.length, lut.length);
  assert.ok(white.every((v) => v === 255));
  assert.deepEqual(Array.from(lut), before);
});
