// The gradient field layer: at the centre of each of F x F cells over the box, an arrow along
// minus the gradient of G's loss for a fake placed there (frame array `g_field`, picture.py),
// the same convention as the arrows at the fakes. Pure: the renderer strokes the segments.

/** How the field's arrows are stroked: near black over a light halo, so that they read over
 * any heatmap colour and apart from the purple fakes and G gradients at the fakes. The PNG
 * legend's swatch (ui/exports.js) and the page's (style.css .swatch.field) match it. */
export const FIELD_STYLE = { color: "#222", halo: "rgba(255, 255, 255, 0.85)", width: 1.4, haloWidth: 3.4 };

/** Share of a cell the longest arrow spans. */
export const FIELD_FILL = 0.9;

/**
 * Arrow segments [x0, y0, x1, y1, ...] in data coordinates for a field of `size` x `size`
 * gradients (flat [gx, gy] per cell, row iy from ymin, column ix from xmin) over `box`
 * [xmin, xmax, ymin, ymax]. Each arrow starts at its cell's centre and points along minus
 * the gradient; its length grows with the square root of the gradient's size, the largest
 * spanning FIELD_FILL of a cell, so that weak pulls stay visible (the legend says so).
 * Non-finite gradients draw nothing (a zero-length segment).
 */
export function fieldSegments(gField, size, box, fill = FIELD_FILL) {
  const n = size * size;
  const out = new Float32Array(4 * n);
  if (!gField || n === 0) return out;
  const [xmin, xmax, ymin, ymax] = box;
  const cw = (xmax - xmin) / size;
  const ch = (ymax - ymin) / size;
  let maxNorm = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.hypot(gField[2 * i], gField[2 * i + 1]);
    if (Number.isFinite(g) && g > maxNorm) maxNorm = g;
  }
  const longest = fill * Math.min(cw, ch);
  for (let iy = 0; iy < size; iy++) {
    for (let ix = 0; ix < size; ix++) {
      const i = iy * size + ix;
      const x = xmin + (ix + 0.5) * cw;
      const y = ymin + (iy + 0.5) * ch;
      const gx = gField[2 * i];
      const gy = gField[2 * i + 1];
      const g = Math.hypot(gx, gy);
      const len = Number.isFinite(g) && g > 0 && maxNorm > 0 ? longest * Math.sqrt(g / maxNorm) : 0;
      out[4 * i] = x;
      out[4 * i + 1] = y;
      out[4 * i + 2] = len > 0 ? x - (gx / g) * len : x;
      out[4 * i + 3] = len > 0 ? y - (gy / g) * len : y;
    }
  }
  return out;
}
