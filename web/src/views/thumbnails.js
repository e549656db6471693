// The small pictures of the model graph's nodes and the distribution picker: scatter plots,
// the manifold's outline and D's heatmap, drawn on small canvases a few times a second.
import { isCurve } from "./math.js";
import { heatLevels } from "./distribution-renderer.js";

export function noisePoints(f) {
  const n = f.fakeNoise.length / f.noiseDim;
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = f.fakeNoise[i * f.noiseDim];
    out[2 * i + 1] = f.noiseDim > 1 ? f.fakeNoise[i * f.noiseDim + 1] : 0;
  }
  return out;
}

function prepare(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return ctx;
}

function mapper(canvas, box) {
  const [x0, x1, y0, y1] = box;
  const s = Math.min(canvas.width / (x1 - x0), canvas.height / (y1 - y0)) * 0.9;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return [(x) => canvas.width / 2 + (x - cx) * s, (y) => canvas.height / 2 - (y - cy) * s];
}

export function scatter(canvas, flat, box, color) {
  const ctx = prepare(canvas);
  const [X, Y] = mapper(canvas, box);
  ctx.fillStyle = color;
  ctx.globalAlpha = 0.8;
  const n = flat.length >> 1;
  const step = Math.max(1, Math.floor(n / 300));
  for (let i = 0; i < n; i += step) ctx.fillRect(X(flat[2 * i]) - 1, Y(flat[2 * i + 1]) - 1, 2, 2);
  ctx.globalAlpha = 1;
}

export function drawManifoldThumb(canvas, f, p) {
  const ctx = prepare(canvas);
  const [X, Y] = mapper(canvas, f.box);
  ctx.strokeStyle = p.manifold;
  ctx.lineWidth = 0.7;
  const pts = f.manifold;
  ctx.beginPath();
  if (isCurve(f.manifoldShape)) {
    const k = f.manifoldShape[0];
    for (let i = 0; i < k; i++) (i ? ctx.lineTo : ctx.moveTo).call(ctx, X(pts[2 * i]), Y(pts[2 * i + 1]));
  } else {
    const m = f.manifoldShape[0];
    for (let i = 0; i < m; i += 2) {
      for (let j = 0; j < m; j++) (j ? ctx.lineTo : ctx.moveTo).call(ctx, X(pts[2 * (i * m + j)]), Y(pts[2 * (i * m + j) + 1]));
    }
    for (let j = 0; j < m; j += 2) {
      for (let i = 0; i < m; i++) (i ? ctx.lineTo : ctx.moveTo).call(ctx, X(pts[2 * (i * m + j)]), Y(pts[2 * (i * m + j) + 1]));
    }
  }
  ctx.stroke();
}

export function heatThumb(canvas, f, lut) {
  if (!lut) return;
  const ctx = canvas.getContext("2d");
  const r = f.gridSize;
  const w = canvas.width;
  const img = ctx.createImageData(w, w);
  const levels = f.dGrid ? heatLevels(f) : f.dGridQ; // the picture's own colour scale
  for (let py = 0; py < w; py++) {
    const iy = Math.min(r - 1, Math.floor(((w - 1 - py) / w) * r));
    for (let px = 0; px < w; px++) {
      const ix = Math.min(r - 1, Math.floor((px / w) * r));
      const q = levels[iy * r + ix] * 4;
      const o = (py * w + px) * 4;
      img.data[o] = lut[q];
      img.data[o + 1] = lut[q + 1];
      img.data[o + 2] = lut[q + 2];
      img.data[o + 3] = 200;
    }
  }
  ctx.putImageData(img, 0, 0);
}

