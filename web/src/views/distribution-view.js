// The layered picture of data space on one canvas: D's heatmap, the real density contour,
// the generator's manifold, real and fake samples, gradient arrows, axes; zoom, pan, hover.
import { contours } from "d3-contour";
import { scaleLinear } from "d3-scale";
import { heatmapLut, withAlpha } from "./colors.js";
import {
  Viewport, arrowSegments, clampToView, easeInOut, formatNumber, gridValueAt, latentLines,
  manifoldOpacity, nearestPoint,
} from "./math.js";

const MARGIN = { left: 38, right: 8, top: 8, bottom: 24 };
const ALPHA_BUCKETS = 12;

export class DistributionView {
  constructor(canvas, tooltip, { onHover = () => {}, onView = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.tooltip = tooltip;
    this.onHover = onHover;
    this.onView = onView;
    this.frame = null;
    this.layers = { heatmap: true, real: true, fake: true, gradients: true, manifold: true, contour: false };
    this.palette = null;
    this.lut = null;
    this.heatCanvas = document.createElement("canvas");
    this.viewport = null;
    this.fitted = false;
    this.box = null;
    this.highlight = -1;
    this.pointer = null;
    this.walk = null;
    this.morphStart = null;
    this.contourCache = { key: null, paths: null };
    this.dirty = true;
    this.rendered = 0;
    this.resize();
    this.attachPointer();
    new ResizeObserver(() => {
      this.resize();
      this.requestRender();
    }).observe(canvas);
  }

  setPalette(palette) {
    this.palette = palette;
    this.lut = heatmapLut(palette);
    this.heatKey = null;
    this.requestRender();
  }

  setLayers(layers) {
    this.layers = { ...this.layers, ...layers };
    this.requestRender();
  }

  setFrame(frame) {
    const boxChanged = !this.box || frame.box.some((v, i) => v !== this.box[i]);
    this.frame = frame;
    this.box = frame.box;
    if (boxChanged) this.fit();
    this.heatKey = null;
    this.requestRender();
  }

  setWalk(walk) {
    this.walk = walk;
    this.requestRender();
  }

  setHighlight(index) {
    if (index === this.highlight) return;
    this.highlight = index;
    this.requestRender();
  }

  /** Animate the latent grid folding into the manifold while `on` (generator hovered). */
  setMorph(on) {
    this.morphStart = on ? performance.now() : null;
    this.requestRender();
  }

  requestRender() {
    this.dirty = true;
  }

  get animating() {
    return this.morphStart !== null;
  }

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(50, Math.round(rect.width));
    const h = Math.max(50, Math.round(rect.height));
    this.cssWidth = w;
    this.cssHeight = h;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(h * dpr);
    const pw = w - MARGIN.left - MARGIN.right;
    const ph = h - MARGIN.top - MARGIN.bottom;
    if (!this.viewport || !this.fitted) {
      this.viewport = this.box ? Viewport.fit(this.box, pw, ph) : new Viewport(pw, ph, 0.5, 0.5, Math.min(pw, ph));
    } else {
      this.viewport = this.viewport.resize(pw, ph);
      if (this.autoFit) this.fit();
    }
  }

  fit() {
    if (!this.box) return;
    this.viewport = Viewport.fit(this.box, this.viewport.width, this.viewport.height);
    this.fitted = true;
    this.autoFit = true;
    this.requestRender();
  }

  attachPointer() {
    const c = this.canvas;
    let drag = null;
    const local = (ev) => {
      const r = c.getBoundingClientRect();
      return [ev.clientX - r.left - MARGIN.left, ev.clientY - r.top - MARGIN.top];
    };
    c.addEventListener("wheel", (ev) => {
      if (!this.viewport) return;
      ev.preventDefault();
      const [px, py] = local(ev);
      this.viewport = this.viewport.zoomAt(px, py, Math.exp(-ev.deltaY * 0.0015));
      this.autoFit = false;
      this.requestRender();
    }, { passive: false });
    c.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY, moved: false };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener("pointermove", (ev) => {
      if (drag) {
        const dx = ev.clientX - drag.x;
        const dy = ev.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 0) {
          this.viewport = this.viewport.pan(dx, dy);
          this.autoFit = false;
          drag.x = ev.clientX;
          drag.y = ev.clientY;
          drag.moved = true;
          c.style.cursor = "grabbing";
        }
      }
      this.pointer = local(ev);
      this.hover();
      this.requestRender();
    });
    const end = () => {
      drag = null;
      c.style.cursor = "";
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("pointerleave", () => {
      this.pointer = null;
      this.tooltip.hidden = true;
      this.onHover(-1);
      this.setHighlight(-1);
    });
    c.addEventListener("dblclick", () => this.fit());
  }

  hover() {
    const f = this.frame;
    if (!f || !this.pointer) return;
    const v = this.viewport;
    const [px, py] = this.pointer;
    if (px < 0 || py < 0 || px > v.width || py > v.height) {
      this.tooltip.hidden = true;
      return;
    }
    const [x, y] = v.invert(px, py);
    const radius = 8 / v.k;
    let html = "";
    let fakeIndex = -1;
    if (this.layers.fake) fakeIndex = nearestPoint(f.fake, x, y, radius);
    if (fakeIndex >= 0) {
      html = `<b class="c-fake">fake #${fakeIndex}</b> (${formatNumber(f.fake[2 * fakeIndex])}, ${formatNumber(f.fake[2 * fakeIndex + 1])})<br>D = ${formatNumber(f.fakeD[fakeIndex])}`;
    } else {
      const r = this.layers.real ? nearestPoint(f.real, x, y, radius) : -1;
      if (r >= 0) {
        html = `<b class="c-real">real</b> (${formatNumber(f.real[2 * r])}, ${formatNumber(f.real[2 * r + 1])})<br>D = ${formatNumber(f.realD[r])}`;
      } else {
        const d = gridValueAt(f.dGrid, f.gridSize, f.box, x, y);
        html = `(${formatNumber(x)}, ${formatNumber(y)})${d === null ? "" : `<br>D ≈ ${formatNumber(d)}`}`;
      }
    }
    this.highlight = fakeIndex;
    this.onHover(fakeIndex);
    this.tooltip.innerHTML = html;
    this.tooltip.hidden = false;
    const tx = Math.min(px + MARGIN.left + 14, this.cssWidth - 150);
    this.tooltip.style.transform = `translate(${tx}px, ${py + MARGIN.top + 12}px)`;
  }

  /** Draw now. Returns true when something was drawn. */
  render() {
    const f = this.frame;
    const ctx = this.ctx;
    const v = this.viewport;
    if (!this.palette) return false;
    this.dirty = false;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.cssWidth, this.cssHeight);
    ctx.fillStyle = "#fff";
    ctx.fillRect(MARGIN.left, MARGIN.top, v.width, v.height);
    if (!f) return false;
    ctx.save();
    ctx.translate(MARGIN.left, MARGIN.top);
    ctx.beginPath();
    ctx.rect(0, 0, v.width, v.height);
    ctx.clip();
    if (this.layers.heatmap) this.drawHeatmap(f);
    if (this.layers.contour) this.drawContour(f);
    if (this.morphStart !== null) this.drawMorph(f);
    else if (this.layers.manifold) this.drawManifold(f);
    if (this.layers.real) this.drawPoints(f.real, this.palette.real, 2.1, 0.75, false);
    if (this.layers.fake) this.drawPoints(f.fake, this.palette.fake, 2.6, 0.95, true);
    if (this.layers.gradients) this.drawGradients(f);
    if (this.highlight >= 0 && this.highlight < f.fake.length / 2) this.drawHighlight(f);
    if (this.walk) this.drawWalk(f);
    ctx.restore();
    this.drawAxes();
    this.rendered++;
    return true;
  }

  drawHeatmap(f) {
    const r = f.gridSize;
    const hc = this.heatCanvas;
    if (this.heatKey !== f.frameNumber) {
      if (hc.width !== r) {
        hc.width = r;
        hc.height = r;
        this.heatImage = null;
      }
      const hctx = hc.getContext("2d");
      if (!this.heatImage) this.heatImage = hctx.createImageData(r, r);
      const px = this.heatImage.data;
      const lut = this.lut;
      const g = f.dGridQ;
      for (let iy = 0; iy < r; iy++) {
        const row = (r - 1 - iy) * r; // image rows go down, grid rows go up
        for (let ix = 0; ix < r; ix++) {
          const q = g[iy * r + ix] * 4;
          const o = (row + ix) * 4;
          px[o] = lut[q];
          px[o + 1] = lut[q + 1];
          px[o + 2] = lut[q + 2];
          px[o + 3] = 255;
        }
      }
      hctx.putImageData(this.heatImage, 0, 0);
      this.heatKey = f.frameNumber;
    }
    const [x0, x1, y0, y1] = f.box;
    const dx = (x1 - x0) / (r - 1);
    const dy = (y1 - y0) / (r - 1);
    const v = this.viewport;
    const ctx = this.ctx;
    ctx.save();
    ctx.globalAlpha = 0.55;
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = "high";
    const left = v.x(x0 - dx / 2);
    const top = v.y(y1 + dy / 2);
    ctx.drawImage(hc, left, top, v.x(x1 + dx / 2) - left, v.y(y0 - dy / 2) - top);
    ctx.restore();
  }

  drawContour(f) {
    const r = f.gridSize;
    const key = `${f.configVersion}:${r}:${f.box.join(",")}`;
    if (this.contourCache.key !== key) {
      const values = Array.from(f.realDensityQ);
      let max = 0;
      for (const q of values) if (q > max) max = q;
      const thresholds = [0.1, 0.3, 0.5, 0.7, 0.9].map((t) => t * max);
      this.contourCache = { key, polygons: max > 0 ? contours().size([r, r]).thresholds(thresholds)(values) : [] };
    }
    const [x0, x1, y0, y1] = f.box;
    const sx = (x1 - x0) / (r - 1);
    const sy = (y1 - y0) / (r - 1);
    const v = this.viewport;
    const ctx = this.ctx;
    ctx.save();
    ctx.strokeStyle = this.palette.contour;
    ctx.lineWidth = 1.2;
    ctx.setLineDash([4, 3]);
    this.contourCache.polygons.forEach((geo, level) => {
      ctx.globalAlpha = 0.35 + 0.13 * level;
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
      ctx.stroke();
    });
    ctx.restore();
  }

  drawManifold(f, points = f.manifold) {
    const ctx = this.ctx;
    const v = this.viewport;
    const alpha = manifoldOpacity(f.manifoldDensity, { lo: 0.03, hi: 0.55 });
    ctx.save();
    if (f.manifoldShape.length === 2) {
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
    if (f.manifoldShape.length === 2) {
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
    this.requestRender(); // keep animating
  }

  drawPoints(flat, color, radius, alpha, outline) {
    const ctx = this.ctx;
    const v = this.viewport;
    const n = flat.length >> 1;
    const inside = new Path2D();
    const outside = new Path2D();
    for (let i = 0; i < n; i++) {
      const c = clampToView(v.x(flat[2 * i]), v.y(flat[2 * i + 1]), v.width, v.height, radius + 1);
      if (c.outside) {
        outside.moveTo(c.x + radius, c.y);
        outside.arc(c.x, c.y, radius, 0, 2 * Math.PI);
      } else {
        inside.moveTo(c.x + radius, c.y);
        inside.arc(c.x, c.y, radius, 0, 2 * Math.PI);
      }
    }
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.fillStyle = color;
    ctx.fill(inside);
    if (outline) {
      ctx.globalAlpha = 0.9;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 0.6;
      ctx.stroke(inside);
    }
    // Samples outside the view: hollow markers on its edge.
    ctx.globalAlpha = 0.9;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.2;
    ctx.stroke(outside);
    ctx.restore();
  }

  drawGradients(f) {
    const [x0, x1, y0, y1] = f.box;
    const seg = arrowSegments(f.fake, f.fakeGrad, 0.08 * Math.max(x1 - x0, y1 - y0));
    this.drawArrows(seg, this.palette.gradient, 0.85);
  }

  drawArrows(seg, color, alpha) {
    const ctx = this.ctx;
    const v = this.viewport;
    ctx.save();
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.1;
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
    const ring = (flat, color, values) => {
      const n = flat.length >> 1;
      for (let i = 0; i < n; i++) {
        const c = clampToView(v.x(flat[2 * i]), v.y(flat[2 * i + 1]), v.width, v.height, 4);
        ctx.beginPath();
        ctx.arc(c.x, c.y, 3.6, 0, 2 * Math.PI);
        if (values) {
          const q = Math.round(Math.min(Math.max(values[i], 0), 1) * 255) * 4;
          ctx.fillStyle = `rgb(${this.lut[q]}, ${this.lut[q + 1]}, ${this.lut[q + 2]})`;
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
    const [x0, x1, y0, y1] = v.domain();
    ctx.save();
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#999";
    ctx.lineWidth = 1;
    ctx.strokeRect(MARGIN.left + 0.5, MARGIN.top + 0.5, v.width - 1, v.height - 1);
    const xs = scaleLinear().domain([x0, x1]);
    const ys = scaleLinear().domain([y0, y1]);
    const fmt = xs.tickFormat(6);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    ctx.beginPath();
    for (const t of xs.ticks(Math.max(2, Math.floor(v.width / 70)))) {
      const X = MARGIN.left + v.x(t);
      ctx.moveTo(X, MARGIN.top + v.height);
      ctx.lineTo(X, MARGIN.top + v.height + 4);
      ctx.fillText(fmt(t), X, MARGIN.top + v.height + 6);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const fy = ys.tickFormat(6);
    for (const t of ys.ticks(Math.max(2, Math.floor(v.height / 60)))) {
      const Y = MARGIN.top + v.y(t);
      ctx.moveTo(MARGIN.left - 4, Y);
      ctx.lineTo(MARGIN.left, Y);
      ctx.fillText(fy(t), MARGIN.left - 6, Y);
    }
    ctx.stroke();
    ctx.restore();
  }
}

export { withAlpha };
