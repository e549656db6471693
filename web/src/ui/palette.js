// Switching palettes, the page's share: the choice remembered across visits, the CSS colours
// the page's own elements use, and the heatmap's legend. (The palettes are in views/colors.js;
// each view is told of the new one by the controller.)
import { PALETTES } from "../views/colors.js";
import { scaleLegend } from "../views/score-scale.js";

const STORAGE_KEY = "ganlab.palette";
export const DEFAULT_PALETTE = "ganlab";

/** The palette chosen on an earlier visit, or the default when none (or an unknown one) was. */
export function savedPaletteName(storage) {
  const name = storage.getItem(STORAGE_KEY) || DEFAULT_PALETTE;
  return PALETTES[name] ? name : DEFAULT_PALETTE;
}

export function savePaletteName(storage, name) {
  storage.setItem(STORAGE_KEY, name);
}

/** The CSS custom properties that colour the page's legends, buttons and labels. */
export function paletteVariables(p) {
  return {
    "--real": p.real,
    "--fake": p.fake,
    "--grad": p.gradient,
    "--disc": p.discriminator,
    "--heat": `linear-gradient(90deg, ${p.heat.join(", ")})`,
  };
}

/** One row of RGBA pixels, `width` wide, running through the heatmap's LUT from fake (left)
 * to real (right). */
export function legendRow(lut, width) {
  const row = new Uint8ClampedArray(width * 4);
  for (let x = 0; x < width; x++) {
    const q = Math.round((x / (width - 1)) * 255) * 4;
    row.set([lut[q], lut[q + 1], lut[q + 2], 255], x * 4);
  }
  return row;
}

/** Colour the page: `style` is the root element's style, `legend` the legend's canvas. */
export function applyPaletteToPage(p, lut, { style, legend }) {
  for (const [name, value] of Object.entries(paletteVariables(p))) style.setProperty(name, value);
  const ctx = legend.getContext("2d");
  const img = ctx.createImageData(legend.width, 1);
  img.data.set(legendRow(lut, legend.width));
  for (let y = 0; y < legend.height; y++) ctx.putImageData(img, 0, y);
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/**
 * Label the heat legend with D's colour scale (views/score-scale.js): `legend` is the legend's
 * box (a word, the bar, a word), `output` the line beside it with the numbers at the bar's ends
 * and centre (the ends' numbers also stand by the bar, for narrow screens that hide the line);
 * how the scale was made goes in both titles. Writes only what changed (frames come often).
 */
export function showHeatScale(scale, { legend, output }) {
  const t = scaleLegend(scale);
  const spans = legend.querySelectorAll(":scope > span");
  setText(spans[0], `${t.fake} ${t.low}`);
  setText(spans[spans.length - 1], `${t.high} ${t.real}`);
  setText(output, t.line);
  for (const el of [legend, output]) if (el.title !== t.note) el.title = t.note;
}
