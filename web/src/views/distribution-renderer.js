// Draws the layered picture of data space on a canvas: the real density contour, the
// generator's manifold, real and fake samples, gradient arrows, the slow-motion overlay and the
// axes, over D's heatmap. No DOM: it runs in a worker on an OffscreenCanvas (off the main
// thread), or on the page's own canvas where OffscreenCanvas is missing.
import { contours } from "d3-contour";
import { scaleLinear } from "d3-scale";
import { heatmapLut, overWhite } from "./colors.js";
import { frameScale, isProbability, rampLevel } from "./score-scale.js";
import { divergingLut, lensLevels } from "./heatmap-mode.js";
import { FIELD_STYLE, fieldSegments } from "./field-layer.js";
import {
  Viewport, arrowSegments, axisTicks, clampToView, easeInOut, isCurve, latentLines, manifoldOpacity,
} from "./math.js";

/** The picture's axis ticks for viewport `v`: {x: [{value, label}], y: [...]}, about one
 * every 70 px across and 60 px up. */
export function viewTicks(v) {
  const [x0, x1, y0, y1] = v.domain();
  return {
    x: axisTicks(scaleLinear().domain([x0, x1]), Math.max(2, Math.floor(v.width / 70))),
    y: axisTicks(scaleLinear().domain([y0, y1]), Math.max(2, Math.floor(v.height / 60))),
  };
}

export const MARGIN = { left: 38, right: 8, top: 8, bottom: 24 };
// The real density's contours enclose the densest cells holding these shares of its mass.
// Levels set by mass read the same whatever the peak: a fraction of the maximum put every
// line inside the few sharpest modes once the density was the true one.
export const DENSITY_MASS = [0.9, 0.6, 0.3];
const ALPHA_BUCKETS = 12;
// D's colours are shown at this opacity over white, so that samples stand out on them.
const HEAT_OPACITY = 0.55;
// The period in CSS pixels of the hatch under undefined D* cells.
const HATCH = 7;
// D − D*'s diverging colours, lighter than opaque so that samples stand out on them, but
// stronger than D's: at D's opacity small differences faded into the white middle.
const GAP_LUT = overWhite(divergingLut(), 0.8);

/** The colour table's entry (0-255) for each of D's grid values, on the frame's scale
 * (score-scale.js). Probabilities arrive already quantized over [0, 1], one level per entry. */
export function heatLevels(f, scale = frameScale(f)) {
  if (isProbability(f.output) && f.dGridQ) return f.dGridQ;
  const values = f.dGrid;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = rampLevel(scale, values[i]);
  return out;
}

/** The fill of a walkthrough ring showing D's value `v`: the heatmap's colour for it. */
export function walkFill(lut, scale, v) {
  const q = rampLevel(scale, v) * 4;
  return `rgb(${lut[q]}, ${lut[q + 1]}, ${lut[q + 2]})`;
}

/** A canvas of w x h pixels off the page: an OffscreenCanvas where there is one. */
export function makeCanvas(w, h) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(w, h);
  const c = document.createElement("canvas");
  c.width = w;
  c.height = h;
  return c;
}

/** The density levels whose regions {value >= level} hold each of `fractions` of the total
 * of `values` (cells of equal area): the highest-density regions of those masses. Levels that
 * coincide (flat densities) are given once; ascending. */
export function massThresholds(values, fractions) {
  const sorted = Float64Array.from(values).sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  const levels = new Set();
  if (!(total > 0)) return [];
  for (const p of fractions) {
    let cum = 0;
    let i = 0;
    while (i < sorted.length && cum < p * total) cum += sorted[i++];
    levels.add(sorted[Math.max(0, i - 1)]);
  }
  return [...levels].sort((a, b) => a - b);
}

/** A cheap fingerprint of a point set: equal sets give equal keys. */
export function pointsKey(flat) {
  let a = 0;
  let b = 0;
  for (let i = 0; i < flat.length; i++) {
    a += flat[i];
    b += flat[i] * ((i % 7) + 1);
  }
  return `${flat.length}:${a}:${b}`;
}

export class DistributionRenderer {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.frame = null;
    this.layers = {};
    this.palette = null;
    this.lut = null;
    this.viewport = null;
    this.highlight = -1;
    this.walk = null;
    this.morphStart = null;
    this.animating = false;
    this.contourCache = { key: null, polygons: [] };
    this.heatLut = null;
    this.realLayer = null; // the real samples, drawn once per view (they do not change)
    this.realKey = null;
    this.heat = null; // a canvas with one pixel per grid point
    this.heatImage = null;
    this.heatKey = null;
    this.heatMode = "d"; // D, "optimal" (D*) or "gap" (D − D*): heatmap-mode.js
    this.hatch = null; // the pattern under undefined D* cells
    this.sprites = {};
    this.cssWidth = 0;
    this.cssHeight = 0;
    this.dpr = 1;
  }

  /** Update any of: size {width, height, dpr}, viewport {width, height, cx, cy, k}, layers,
   * palette, highlight, walk, morph (bool). */
  setState(state) {
    if (state.size) {
      const { width, height, dpr } = state.size;
      this.cssWidth = width;
      this.cssHeight = height;
      this.dpr = dpr;
      const w = Math.round(width * dpr);
      const h = Math.round(height * dpr);
      if (this.canvas.width !== w) this.canvas.width = w;
      if (this.canvas.height !== h) this.canvas.height = h;
      this.sprites = {};
    }
    if (state.viewport) {
      const v = state.viewport;
      this.viewport = new Viewport(v.width, v.height, v.cx, v.cy, v.k);
    }
    if (state.layers) this.layers = state.layers;
    if (state.palette) {
      this.palette = state.palette;
      this.lut = heatmapLut(state.palette);
      this.heatLut = overWhite(this.lut, HEAT_OPACITY);
      this.heatKey = null;
      this.sprites = {};
    }
    if (state.highlight !== undefined) this.highlight = state.highlight;
    if (state.heatMode !== undefined) this.heatMode = state.heatMode;
    if (state.walk !== undefined) this.walk = state.walk;
    if (state.morph !== undefined) this.morphStart = state.morph ? performance.now() : null;
  }

  setFrame(frame) {
    this.frame = frame;
  }

  /** Draw now. Returns true when a frame was drawn. */
  render() {
    const f = this.frame;
    const ctx = this.ctx;
    const v = this.viewport;
    this.animating = false;
    if (!this.palette || !v) return false;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.cssWidth, this.cssHeight);
    ctx.fillStyle = "#fff"; // the plot area; the heatmap may not reach its edges
    ctx.fillRect(MARGIN.left, MARGIN.top, v.width, v.height);
    if (!f) return false;
    ctx.save();
    ctx.translate(MARGIN.left, MARGIN.top);
    ctx.beginPath();
    ctx.rect(0, 0, v.width, v.height);
    ctx.clip();
    if (this.layers.heatmap) this.drawHeatmap(f);
    if (this.morphStart !== null) this.drawMorph(f);
    else if (this.layers.manifold) this.drawManifold(f);
    // Under the samples, whose dots stay readable over its arrows.
    if (this.layers.field && f.gField) this.drawField(f);
    if (this.layers.real) this.drawReal(f);
    // Over the real samples: the true density of tight modes lies within their dots.
    if (this.layers.contour) this.drawContour(f);
    if (this.layers.fake) this.drawPoints(f.fake, this.palette.fake, 2.6, 0.95, true);
    if (this.layers.gradients) this.drawGradients(f);
    if (this.highlight >= 0 && this.highlight < f.fake.length / 2) this.drawHighlight(f);
    if (this.walk) this.drawWalk(f);
    ctx.restore();
    this.drawAxes();
    return true;
  }

  /** D's heatmap: one pixel per grid point, stretched over the box (bilinear); pixel centres
   * sit on the grid points, so the image spans half a cell beyond the box. */
  drawHeatmap(f) {
    const r = f.gridSize;
    // D* and D − D* come with frames made with view.optimal on; until one comes, D.
    const mode = this.heatMode !== "d" && f.dOptimal ? this.heatMode : "d";
    const key = `${f.frameNumber}|${mode}`;
    if (this.heatKey !== key) {
      if (!this.heat || this.heat.width !== r) {
        this.heat = makeCanvas(r, r);
        this.heatImage = this.heat.getContext("2d").createImageData(r, r);
      }
      const px = this.heatImage.data;
      const lens = mode === "d" ? null : lensLevels(f, mode);
      const lut = mode === "gap" ? GAP_LUT : this.heatLut;
      const g = lens ? lens.levels : heatLevels(f);
      for (let iy = 0; iy < r; iy++) {
        const row = (r - 1 - iy) * r; // image rows go down, grid rows go up
        for (let ix = 0; ix < r; ix++) {
          const q = g[iy * r + ix] * 4;
          const o = (row + ix) * 4;
          px[o] = lut[q];
          px[o + 1] = lut[q + 1];
          px[o + 2] = lut[q + 2];
          px[o + 3] = lens && !lens.defined[iy * r + ix] ? 0 : 255; // undefined D*: blank
        }
      }
      this.heat.getContext("2d").putImageData(this.heatImage, 0, 0);
      this.heatKey = key;
    }
    const [x0, x1, y0, y1] = f.box;
    const dx = (x1 - x0) / (r - 1);
    const dy = (y1 - y0) / (r - 1);
    const v = this.viewport;
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "low";
    const left = v.x(x0 - dx / 2);
    const top = v.y(y1 + dy / 2);
    const w = v.x(x1 + dx / 2) - left;
    const h = v.y(y0 - dy / 2) - top;
    // Undefined D* cells are transparent: a hatch under the image shows through them, so
    // they do not read as white "can't tell" (the legend's hatched swatch matches).
    if (mode !== "d") {
      ctx.save();
      ctx.fillStyle = this.hatchPattern();
      ctx.fillRect(left, top, w, h);
      ctx.restore();
    }
    ctx.drawImage(this.heat, left, top, w, h);
  }

  /** Grey diagonal lines on white, repeating every HATCH pixels. */
  hatchPattern() {
    if (!this.hatch) {
      const tile = makeCanvas(HATCH, HATCH);
      const c = tile.getContext("2d");
      c.fillStyle = "#fff";
      c.fillRect(0, 0, HATCH, HATCH);
      c.strokeStyle = "#c4c4c4";
      c.lineWidth = 1;
      c.beginPath();
      // One diagonal and the two corner pieces that continue it across the tile's edges.
      c.moveTo(0, HATCH);
      c.lineTo(HATCH, 0);
      c.moveTo(-1, 1);
      c.lineTo(1, -1);
      c.moveTo(HATCH - 1, HATCH + 1);
      c.lineTo(HATCH + 1, HATCH - 1);
      c.stroke();
      this.hatch = this.ctx.createPattern(tile, "repeat");
    }
    return this.hatch;
  }

  drawContour(f) {
    const r = f.gridSize;
    const key = `${f.configVersion}:${r}:${f.box.join(",")}`;
    if (this.contourCache.key !== key) {
      const values = Array.from(f.realDensityQ);
      const thresholds = massThresholds(values, DENSITY_MASS);
      this.contourCache = { key, polygons: thresholds.length ? contours().size([r, r]).thresholds(thresholds)(values) : [] };
    }
    const [x0, x1, y0, y1] = f.box;
    const sx = (x1 - x0) / (r - 1);
    const sy = (y1 - y0) / (r - 1);
    const v = this.viewport;
    const ctx = this.ctx;
    ctx.save();
    const levels = this.contourCache.polygons.length;
    this.contourCache.polygons.forEach((geo, level) => {
      ctx.beginPath();
      for (const polygon of geo.coordinates) {
        for (const ring of polygon) {
          ring.forEach(([cx, cy], i) => {
            const X = v.x(x0 + (cx - 0.5) * sx);
            const Y = v.y(y0 + (cy - 0.5) * sy);
            if (i === 0) ctx.moveTo(X, Y);
            else ctx.lineTo(X, Y);
          });
          ctx.closePath();
        }
      }
      // A light halo under each dashed line keeps it readable over the dots it encloses;
      // the densest (innermost) level is the darkest.
      ctx.setLineDash([]);
      ctx.globalAlpha = 0.55;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2.6;
      ctx.stroke();
      ctx.setLineDash([4, 3]);
      ctx.globalAlpha = 0.5 + (0.5 * (level + 1)) / levels;
      ctx.strokeStyle = this.palette.contour;
      ctx.lineWidth = 1.2;
      ctx.stroke();
    });
    ctx.restore();
  }

  drawManifold(f, points = f.manifold) {
    const ctx = this.ctx;
    const v = this.viewport;
    const alpha = manifoldOpacity(f.manifoldDensity, { lo: 0.03, hi: 0.55 });
    ctx.save();
    if (isCurve(f.manifoldShape)) {
      // 1D noise: a curve, each segment shaded by its density.
      const k = f.manifoldShape[0];
      ctx.lineWidth = 3;
      ctx.lineCap = "round";
      ctx.strokeStyle = this.palette.manifold;
      for (let b = 0; b < ALPHA_BUCKETS; b++) {
        ctx.beginPath();
        for (let i = 0; i < k - 1; i++) {
          if (Math.min(ALPHA_BUCKETS - 1, Math.floor(((alpha[i] - 0.03) / 0.52) * ALPHA_BUCKETS)) !== b) continue;
          ctx.moveTo(v.x(points[2 * i]), v.y(points[2 * i + 1]));
          ctx.lineTo(v.x(points[2 * i + 2]), v.y(points[2 * i + 3]));
        }
        ctx.globalAlpha = 0.15 + (0.85 * (b + 0.5)) / ALPHA_BUCKETS;
        ctx.stroke();
      }
      ctx.restore();
      return;
    }
    const m = f.manifoldShape[0];
    const P = (i, j) => [v.x(points[2 * (i * m + j)]), v.y(points[2 * (i * m + j) + 1])];
    ctx.fillStyle = this.palette.manifold;
    for (let b = 0; b < ALPHA_BUCKETS; b++) {
      ctx.beginPath();
      let any = false;
      for (let i = 0; i < m - 1; i++) {
        for (let j = 0; j < m - 1; j++) {
          const a = alpha[i * (m - 1) + j];
          if (Math.min(ALPHA_BUCKETS - 1, Math.floor(((a - 0.03) / 0.52) * ALPHA_BUCKETS)) !== b) continue;
          const p0 = P(i, j);
          const p1 = P(i, j + 1);
          const p2 = P(i + 1, j + 1);
          const p3 = P(i + 1, j);
          ctx.moveTo(p0[0], p0[1]);
          ctx.lineTo(p1[0], p1[1]);
          ctx.lineTo(p2[0], p2[1]);
          ctx.lineTo(p3[0], p3[1]);
          ctx.closePath();
          any = true;
        }
      }
      if (any) {
        ctx.globalAlpha = 0.03 + (0.52 * (b + 0.5)) / ALPHA_BUCKETS;
        ctx.fill();
      }
    }
    this.strokeGrid(points, m, 0.35);
    ctx.restore();
  }

  strokeGrid(points, m, alpha) {
    const ctx = this.ctx;
    const v = this.viewport;
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = this.palette.manifold;
    ctx.lineWidth = 0.6;
    ctx.beginPath();
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const o = 2 * (i * m + j);
        if (j === 0) ctx.moveTo(v.x(points[o]), v.y(points[o + 1]));
        else ctx.lineTo(v.x(points[o]), v.y(points[o + 1]));
      }
    }
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < m; i++) {
        const o = 2 * (i * m + j);
        if (i === 0) ctx.moveTo(v.x(points[o]), v.y(points[o + 1]));
        else ctx.lineTo(v.x(points[o]), v.y(points[o + 1]));
      }
    }
    ctx.stroke();
  }

  /** The latent grid, placed over the box, folding into the manifold and back. */
  drawMorph(f) {
    const period = 3200;
    const phase = ((performance.now() - this.morphStart) % period) / period;
    const t = easeInOut(phase < 0.5 ? phase * 2.4 : (1 - phase) * 2.4);
    const [x0, x1, y0, y1] = f.box;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const half = Math.max(x1 - x0, y1 - y0) / 2;
    const ctx = this.ctx;
    ctx.save();
    if (isCurve(f.manifoldShape)) {
      const k = f.manifoldShape[0];
      const lines = latentLines(f.noiseKind, k);
      const zmax = Math.max(...lines.map(Math.abs)) || 1;
      const pts = new Float32Array(2 * k);
      for (let i = 0; i < k; i++) {
        const sx = cx + (lines[i] / zmax) * half * 0.9;
        pts[2 * i] = sx + (f.manifold[2 * i] - sx) * t;
        pts[2 * i + 1] = cy + (f.manifold[2 * i + 1] - cy) * t;
      }
      this.drawManifold(f, pts);
    } else {
      const m = f.manifoldShape[0];
      const lines = latentLines(f.noiseKind, m);
      const zmax = Math.max(...lines.map(Math.abs)) || 1;
      const pts = new Float32Array(2 * m * m);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < m; j++) {
          const o = 2 * (i * m + j);
          // Grid point (i, j) is latent (z0 = lines[j], z1 = lines[i]) as the server lays it out.
          const sx = cx + (lines[j] / zmax) * half * 0.9;
          const sy = cy + (lines[i] / zmax) * half * 0.9;
          pts[o] = sx + (f.manifold[o] - sx) * t;
          pts[o + 1] = sy + (f.manifold[o + 1] - sy) * t;
        }
      }
      ctx.lineWidth = 1;
      this.strokeGrid(pts, m, 0.8);
    }
    ctx.restore();
    this.animating = true; // keep animating
  }

  /** A pre-rendered dot: blitting it is far cheaper than filling hundreds of arcs. */
  sprite(color, radius, outline) {
    const key = `${color}|${radius}|${outline}|${this.dpr}`;
    let sp = this.sprites[key];
    if (!sp) {
      const size = Math.ceil(2 * radius + 2);
      const c = makeCanvas(Math.ceil(size * this.dpr), Math.ceil(size * this.dpr));
      const x = c.getContext("2d");
      x.scale(this.dpr, this.dpr);
      x.beginPath();
      x.arc(size / 2, size / 2, radius, 0, 2 * Math.PI);
      if (outline === "hollow") {
        x.strokeStyle = color;
        x.lineWidth = 1.2;
        x.stroke();
      } else {
        x.fillStyle = color;
        x.fill();
        if (outline) {
          x.strokeStyle = "rgba(255, 255, 255, 0.9)";
          x.lineWidth = 0.6;
          x.stroke();
        }
      }
      // A bitmap is a fixed image: drawing it skips the snapshot a canvas source needs.
      const image = c.transferToImageBitmap ? c.transferToImageBitmap() : c;
      sp = this.sprites[key] = { canvas: image, size };
    }
    return sp;
  }

  /** The real samples are the same in every frame of a run: draw them once per view and
   * data into a layer of their own, then copy that layer (rasterizing hundreds of dots each
   * frame cost more than the rest of the picture). */
  drawReal(f) {
    const v = this.viewport;
    const key = [pointsKey(f.real), v.width, v.height, v.cx, v.cy, v.k, this.dpr, this.palette.real].join("|");
    if (this.realKey !== key) {
      const w = Math.ceil(v.width * this.dpr);
      const h = Math.ceil(v.height * this.dpr);
      if (!this.realLayer || this.realLayer.width !== w || this.realLayer.height !== h) this.realLayer = makeCanvas(w, h);
      const ctx = this.realLayer.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, w, h);
      ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
      this.drawPoints(f.real, this.palette.real, 2.1, 0.75, false, ctx);
      this.realKey = key;
    }
    this.ctx.drawImage(this.realLayer, 0, 0, v.width, v.height);
  }

  drawPoints(flat, color, radius, alpha, outline, ctx = this.ctx) {
    const v = this.viewport;
    const n = flat.length >> 1;
    const inside = this.sprite(color, radius, outline);
    const outside = this.sprite(color, radius, "hollow");
    const half = inside.size / 2;
    ctx.save();
    ctx.globalAlpha = alpha;
    for (let i = 0; i < n; i++) {
      const c = clampToView(v.x(flat[2 * i]), v.y(flat[2 * i + 1]), v.width, v.height, radius + 1);
      // Samples outside the view: hollow markers on its edge.
      const sp = c.outside ? outside : inside;
      ctx.drawImage(sp.canvas, c.x - half, c.y - half, sp.size, sp.size);
    }
    ctx.restore();
  }

  drawGradients(f) {
    const [x0, x1, y0, y1] = f.box;
    const seg = arrowSegments(f.fake, f.fakeGrad, 0.08 * Math.max(x1 - x0, y1 - y0));
    this.drawArrows(seg, this.palette.gradient, 0.85);
  }

  drawField(f) {
    const s = FIELD_STYLE;
    this.drawArrows(fieldSegments(f.gField, f.gFieldSize, f.box), s.color, 1, s.width, { color: s.halo, width: s.haloWidth });
  }

  /** Arrows along `seg`; `halo` ({color, width}) strokes a wider line under them first. */
  drawArrows(seg, color, alpha, width = 1.1, halo = null) {
    const ctx = this.ctx;
    const v = this.viewport;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.lineJoin = halo ? "round" : "miter";
    ctx.beginPath();
    for (let i = 0; i < seg.length; i += 4) {
      const ax = v.x(seg[i]);
      const ay = v.y(seg[i + 1]);
      const bx = v.x(seg[i + 2]);
      const by = v.y(seg[i + 3]);
      const len = Math.hypot(bx - ax, by - ay);
      if (len < 0.5) continue;
      ctx.moveTo(ax, ay);
      ctx.lineTo(bx, by);
      const head = Math.min(4, len * 0.4);
      const ux = (bx - ax) / len;
      const uy = (by - ay) / len;
      ctx.moveTo(bx, by);
      ctx.lineTo(bx - head * (ux - 0.5 * uy), by - head * (uy + 0.5 * ux));
      ctx.moveTo(bx, by);
      ctx.lineTo(bx - head * (ux + 0.5 * uy), by - head * (uy - 0.5 * ux));
    }
    if (halo) {
      ctx.strokeStyle = halo.color;
      ctx.lineWidth = halo.width;
      ctx.stroke();
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.stroke();
    ctx.restore();
  }

  drawHighlight(f) {
    const ctx = this.ctx;
    const v = this.viewport;
    const i = this.highlight;
    const c = clampToView(v.x(f.fake[2 * i]), v.y(f.fake[2 * i + 1]), v.width, v.height, 6);
    ctx.save();
    ctx.strokeStyle = "#111";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(c.x, c.y, 6.5, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.restore();
  }

  /** The slow-motion overlay: the batch of the current phase. */
  drawWalk() {
    const w = this.walk;
    const ctx = this.ctx;
    const v = this.viewport;
    // D's verdicts in the colours the heatmap gives the same values: the picture's scale (the
    // batch's D is the picture's D, so one value has one colour on both).
    const scale = frameScale(this.frame);
    const ring = (flat, color, values) => {
      const n = flat.length >> 1;
      for (let i = 0; i < n; i++) {
        const c = clampToView(v.x(flat[2 * i]), v.y(flat[2 * i + 1]), v.width, v.height, 4);
        ctx.beginPath();
        ctx.arc(c.x, c.y, 3.6, 0, 2 * Math.PI);
        if (values) {
          ctx.fillStyle = walkFill(this.lut, scale, values[i]);
          ctx.fill();
        }
        ctx.strokeStyle = color;
        ctx.lineWidth = 1.5;
        ctx.stroke();
      }
    };
    ctx.save();
    if (w.real) ring(w.real, this.palette.real, w.showD ? w.dReal : null);
    if (w.fake) ring(w.fake, this.palette.fake, w.showD ? w.dFake : null);
    if (w.arrows) this.drawArrows(w.arrows, w.arrowColor || this.palette.gradient, 1);
    ctx.restore();
  }

  drawAxes() {
    const ctx = this.ctx;
    const v = this.viewport;
    ctx.save();
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, v.width - 1, v.height - 1);
    const ticks = viewTicks(v);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.beginPath();
    for (const { value, label } of ticks.x) {
      const X = MARGIN.left + v.x(value);
      ctx.moveTo(X, MARGIN.top + v.height);
      ctx.lineTo(X, MARGIN.top + v.height + 4);
      ctx.fillText(label, X, MARGIN.top + v.height + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const { value, label } of ticks.y) {
      const Y = MARGIN.top + v.y(value);
      ctx.moveTo(MARGIN.left - 4, Y);
      ctx.lineTo(MARGIN.left, Y);
      ctx.fillText(label, MARGIN.left - 6, Y);
    }
    ctx.stroke();
    ctx.restore();
  }
}
