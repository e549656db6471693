// The noise space: the fixed noise points behind the fake samples, and the latent grid whose
// image is the manifold. Hovering a noise point highlights its fake sample, and back.
import { Viewport, isCurve, latentLines, nearestPoint, formatNumber } from "./math.js";

export class NoiseView {
  constructor(canvas, tooltip, { onHover = () => {}, onDirty = () => {} } = {}) {
    this.onDirty = onDirty;
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.tooltip = tooltip;
    this.onHover = onHover;
    this.frame = null;
    this.palette = null;
    this.highlight = -1;
    this.points = null; // (x, y) drawn per noise point
    this._dirty = true;
    this.resize();
    new ResizeObserver(() => {
      this.resize();
      this.dirty = true;
    }).observe(canvas);
    canvas.addEventListener("pointermove", (ev) => this.hover(ev));
    canvas.addEventListener("pointerleave", () => {
      this.onHover(-1);
      this.setHighlight(-1);
      if (this.tooltip) this.tooltip.hidden = true;
    });
  }

  /** Needs drawing: the page schedules an animation frame. */
  get dirty() {
    return this._dirty;
  }

  set dirty(value) {
    this._dirty = value;
    if (value) this.onDirty();
  }

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    this.dpr = window.devicePixelRatio || 1;
    this.w = Math.max(40, Math.round(rect.width));
    this.h = Math.max(40, Math.round(rect.height));
    this.canvas.width = Math.round(this.w * this.dpr);
    this.canvas.height = Math.round(this.h * this.dpr);
    this.layout();
  }

  layout() {
    const f = this.frame;
    const extent = f && f.noiseKind === "uniform" ? 1 : 3;
    this.viewport = Viewport.fit([-extent, extent, -extent, extent], this.w, this.h, 0.05);
  }

  setPalette(palette) {
    this.palette = palette;
    this.dirty = true;
  }

  setFrame(f) {
    const kindChanged = !this.frame || this.frame.noiseKind !== f.noiseKind;
    this.frame = f;
    if (kindChanged) this.layout();
    const n = f.fakeNoise.length / f.noiseDim;
    // The noise batch is fixed for a configuration: redraw only when it changes.
    if (!this.points || this.points.length !== 2 * n || this.pointsKey !== f.configVersion) {
      this.points = new Float32Array(2 * n);
      for (let i = 0; i < n; i++) {
        this.points[2 * i] = f.fakeNoise[i * f.noiseDim];
        // 1D noise: spread the points vertically by index so they do not overlap.
        this.points[2 * i + 1] = f.noiseDim > 1 ? f.fakeNoise[i * f.noiseDim + 1] : ((i % 17) / 16 - 0.5) * 0.6;
      }
      this.pointsKey = f.configVersion;
      this.dirty = true;
    }
  }

  setHighlight(i) {
    if (i !== this.highlight) {
      this.highlight = i;
      this.dirty = true;
    }
  }

  hover(ev) {
    if (!this.points) return;
    const r = this.canvas.getBoundingClientRect();
    const [x, y] = this.viewport.invert(ev.clientX - r.left, ev.clientY - r.top);
    const i = nearestPoint(this.points, x, y, 8 / this.viewport.k);
    this.setHighlight(i);
    this.onHover(i);
    if (!this.tooltip) return;
    if (i < 0) {
      this.tooltip.hidden = true;
      return;
    }
    const f = this.frame;
    const z = Array.from(f.fakeNoise.subarray(i * f.noiseDim, (i + 1) * f.noiseDim)).map(formatNumber);
    this.tooltip.textContent = `noise #${i}: z = (${z.join(", ")})`;
    this.tooltip.hidden = false;
    const px = Math.min(ev.clientX - r.left + 12, Math.max(0, this.w - 160));
    this.tooltip.style.transform = `translate(${px}px, ${ev.clientY - r.top + 12}px)`;
  }

  render() {
    const ctx = this.ctx;
    const f = this.frame;
    const v = this.viewport;
    this.dirty = false;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.w, this.h);
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, this.w, this.h);
    if (!f || !this.palette) return;
    // Latent grid lines: each band between two lines holds the same probability mass.
    const lines = latentLines(f.noiseKind, isCurve(f.manifoldShape) ? Math.round(f.manifoldShape[0] / 4) : f.manifoldShape[0]);
    ctx.strokeStyle = "#ccc";
    ctx.lineWidth = 1;
    ctx.beginPath();
    const [x0, x1, y0, y1] = v.domain();
    for (const z of lines) {
      ctx.moveTo(v.x(z), v.y(y0));
      ctx.lineTo(v.x(z), v.y(y1));
      if (f.noiseDim > 1) {
        ctx.moveTo(v.x(x0), v.y(z));
        ctx.lineTo(v.x(x1), v.y(z));
      }
    }
    ctx.stroke();
    ctx.fillStyle = "#666";
    ctx.font = "11px system-ui, sans-serif";
    const label = `${f.noiseKind} noise, ${f.noiseDim}D${f.noiseDim > 2 ? " (first two shown)" : ""}`;
    ctx.fillText(label, 6, 14);
    const p = this.points;
    const n = p.length >> 1;
    ctx.fillStyle = this.palette.fake;
    ctx.globalAlpha = 0.85;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const X = v.x(p[2 * i]);
      const Y = v.y(p[2 * i + 1]);
      ctx.moveTo(X + 2.3, Y);
      ctx.arc(X, Y, 2.3, 0, 2 * Math.PI);
    }
    ctx.fill();
    ctx.globalAlpha = 1;
    if (this.highlight >= 0 && this.highlight < n) {
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(v.x(p[2 * this.highlight]), v.y(p[2 * this.highlight + 1]), 6.5, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
}
