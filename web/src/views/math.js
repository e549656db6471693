// Pure view math: no DOM. Everything here is unit tested (web/test/math.test.js).

/**
 * A view transform from data coordinates to CSS pixels with one scale for both axes
 * (shapes and gradient directions are not distorted) and y pointing up.
 */
export class Viewport {
  constructor(width, height, cx = 0, cy = 0, k = 1) {
    this.width = width;
    this.height = height;
    this.cx = cx;
    this.cy = cy;
    this.k = k; // pixels per data unit
  }

  /** Fit `box` = [xmin, xmax, ymin, ymax] into the viewport with a relative margin `pad`. */
  static fit(box, width, height, pad = 0.06) {
    const [x0, x1, y0, y1] = box;
    const bw = Math.max(x1 - x0, 1e-9);
    const bh = Math.max(y1 - y0, 1e-9);
    const k = Math.min(width / (bw * (1 + 2 * pad)), height / (bh * (1 + 2 * pad)));
    return new Viewport(width, height, (x0 + x1) / 2, (y0 + y1) / 2, k);
  }

  x(x) {
    return this.width / 2 + (x - this.cx) * this.k;
  }

  y(y) {
    return this.height / 2 - (y - this.cy) * this.k;
  }

  invert(px, py) {
    return [this.cx + (px - this.width / 2) / this.k, this.cy - (py - this.height / 2) / this.k];
  }

  /** The data rectangle on screen: [xmin, xmax, ymin, ymax]. */
  domain() {
    const [x0, y1] = this.invert(0, 0);
    const [x1, y0] = this.invert(this.width, this.height);
    return [x0, x1, y0, y1];
  }

  /** Zoom by `factor` (>1 zooms in) keeping the data point under (px, py) fixed. */
  zoomAt(px, py, factor) {
    const [x, y] = this.invert(px, py);
    const k = this.k * factor;
    // After zooming, (x, y) must still map to (px, py).
    const cx = x - (px - this.width / 2) / k;
    const cy = y + (py - this.height / 2) / k;
    return new Viewport(this.width, this.height, cx, cy, k);
  }

  /** Pan by a drag of (dx, dy) CSS pixels. */
  pan(dx, dy) {
    return new Viewport(this.width, this.height, this.cx - dx / this.k, this.cy + dy / this.k, this.k);
  }

  resize(width, height) {
    return new Viewport(width, height, this.cx, this.cy, this.k);
  }
}

/**
 * Keep a screen point inside [m, w-m] x [m, h-m]; `outside` says whether it was moved, so
 * samples outside the view stay visible as markers on its edge.
 */
export function clampToView(px, py, width, height, margin = 4) {
  const x = Math.min(Math.max(px, margin), width - margin);
  const y = Math.min(Math.max(py, margin), height - margin);
  return { x, y, outside: x !== px || y !== py };
}

/**
 * Opacity in [lo, hi] for each manifold cell (or 1D segment) from its density (probability
 * mass per area). Densities vary over orders of magnitude, so the shading is logarithmic,
 * relative to the median positive finite density; infinite density (a collapsed cell) gets
 * the highest opacity, zero or NaN the lowest.
 */
export function manifoldOpacity(density, { lo = 0.02, hi = 0.6, decades = 2 } = {}) {
  const n = density.length;
  const out = new Float32Array(n);
  const finite = [];
  for (let i = 0; i < n; i++) {
    const d = density[i];
    if (Number.isFinite(d) && d > 0) finite.push(d);
  }
  if (finite.length === 0) {
    for (let i = 0; i < n; i++) out[i] = density[i] === Infinity ? hi : lo;
    return out;
  }
  finite.sort((a, b) => a - b);
  const median = finite[Math.floor(finite.length / 2)];
  const logMedian = Math.log10(median);
  for (let i = 0; i < n; i++) {
    const d = density[i];
    let t;
    if (d === Infinity) t = 1;
    else if (!(d > 0)) t = 0;
    else t = (Math.log10(d) - logMedian + decades / 2) / decades;
    t = Math.min(Math.max(t, 0), 1);
    out[i] = lo + (hi - lo) * t;
  }
  return out;
}

/**
 * Resample a polyline by arc length: points every `spacing` along it, first and last
 * included, so a stroke's point density does not depend on how fast it was drawn.
 * @param {number[][]} points [[x, y], ...]
 */
export function resampleStroke(points, spacing) {
  if (!(spacing > 0)) throw new RangeError("spacing must be positive");
  const pts = points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  if (pts.length === 0) return [];
  const out = [[pts[0][0], pts[0][1]]];
  let carry = 0; // arc length since the last emitted point
  for (let i = 1; i < pts.length; i++) {
    const [ax, ay] = pts[i - 1];
    const [bx, by] = pts[i];
    const seg = Math.hypot(bx - ax, by - ay);
    if (seg === 0) continue;
    let t = spacing - carry;
    while (t <= seg + 1e-12) {
      const f = t / seg;
      out.push([ax + (bx - ax) * f, ay + (by - ay) * f]);
      t += spacing;
    }
    carry = seg - (t - spacing);
  }
  const last = pts[pts.length - 1];
  const tail = out[out.length - 1];
  if (Math.hypot(last[0] - tail[0], last[1] - tail[1]) > 1e-9) out.push([last[0], last[1]]);
  else if (out.length > 1) out[out.length - 1] = [last[0], last[1]]; // exact end, no rounding
  return out;
}

/** Total length of a polyline. */
export function polylineLength(points) {
  let length = 0;
  for (let i = 1; i < points.length; i++) {
    length += Math.hypot(points[i][0] - points[i - 1][0], points[i][1] - points[i - 1][1]);
  }
  return length;
}

/**
 * Canvas pixels (y down) of a square pad of `size` pixels to the unit square (y UP), clamped
 * to [0, 1].
 */
export function padToUnit(px, py, size) {
  const clamp = (v) => Math.min(Math.max(v, 0), 1);
  return [clamp(px / size), clamp(1 - py / size)];
}

/**
 * Arrow end points for the generator's update direction: from each fake sample along MINUS
 * the gradient of the generator's loss. Lengths are scaled so the longest arrow is
 * `maxLength` data units; returns Float32Array [x0, y0, x1, y1, ...].
 */
export function arrowSegments(fake, grad, maxLength) {
  const n = Math.min(fake.length, grad.length) >> 1;
  let maxNorm = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.hypot(grad[2 * i], grad[2 * i + 1]);
    if (Number.isFinite(g) && g > maxNorm) maxNorm = g;
  }
  const out = new Float32Array(4 * n);
  const s = maxNorm > 0 ? maxLength / maxNorm : 0;
  for (let i = 0; i < n; i++) {
    const x = fake[2 * i];
    const y = fake[2 * i + 1];
    let gx = grad[2 * i];
    let gy = grad[2 * i + 1];
    if (!Number.isFinite(gx) || !Number.isFinite(gy)) gx = gy = 0;
    out[4 * i] = x;
    out[4 * i + 1] = y;
    out[4 * i + 2] = x - gx * s;
    out[4 * i + 3] = y - gy * s;
  }
  return out;
}

/** Index of the point of a flat [x0, y0, x1, y1, ...] array nearest (x, y) within maxDist. */
export function nearestPoint(flat, x, y, maxDist = Infinity, dims = 2) {
  let best = -1;
  let bestD = maxDist * maxDist;
  const n = Math.floor(flat.length / dims);
  for (let i = 0; i < n; i++) {
    const dx = flat[i * dims] - x;
    const dy = dims > 1 ? flat[i * dims + 1] - y : 0;
    const d = dx * dx + dy * dy;
    if (d <= bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/**
 * D's value at (x, y) by bilinear interpolation of an (R, R) grid over `box` (row iy from ymin
 * up, column ix from xmin, cell centres on linspace(min, max, R)); null outside the box.
 */
export function gridValueAt(values, r, box, x, y) {
  const [x0, x1, y0, y1] = box;
  if (x < x0 || x > x1 || y < y0 || y > y1) return null;
  const fx = ((x - x0) / (x1 - x0)) * (r - 1);
  const fy = ((y - y0) / (y1 - y0)) * (r - 1);
  const ix = Math.min(Math.floor(fx), r - 2);
  const iy = Math.min(Math.floor(fy), r - 2);
  const tx = fx - ix;
  const ty = fy - iy;
  const v00 = values[iy * r + ix];
  const v01 = values[iy * r + ix + 1];
  const v10 = values[(iy + 1) * r + ix];
  const v11 = values[(iy + 1) * r + ix + 1];
  return (v00 * (1 - tx) + v01 * tx) * (1 - ty) + (v10 * (1 - tx) + v11 * tx) * ty;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p) {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2,
    1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2,
    6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838,
    -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let q;
  if (p < pl) {
    q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) {
    q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * Latent positions of the manifold's grid lines along one axis, as the server places them:
 * uniform noise on linspace(-1, 1, count); Gaussian noise at the quantiles (i + 0.5) / count.
 */
export function latentLines(kind, count) {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    out[i] = kind === "uniform" ? -1 + (2 * i) / (count - 1) : normalQuantile((i + 0.5) / count);
  }
  return out;
}

/** Linear interpolation between two equally long flat arrays, t in [0, 1]. */
export function lerpArrays(a, b, t) {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + (b[i] - a[i]) * t;
  return out;
}

/** Smooth step for animations. */
export function easeInOut(t) {
  const c = Math.min(Math.max(t, 0), 1);
  return c < 0.5 ? 2 * c * c : 1 - 2 * (1 - c) * (1 - c);
}

/** A short human number: 3 significant digits, exponent for very large or small. */
export function formatNumber(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toPrecision(3)).toString();
}

/** The manifold's shape without its last axis: [K] is a curve (1D noise), [M, M] a grid. */
export function isCurve(manifoldShape) {
  return manifoldShape.length === 1;
}

/**
 * Axis ticks of a d3 linear `scale` as [{ value, label }]. The labels' precision comes from
 * the same `count` as the ticks: formatting with a smaller count than the ticks were made with
 * rounds neighbouring ticks to one label when zoomed in (0.61, 0.61, 0.62, ...).
 */
export function axisTicks(scale, count) {
  const format = scale.tickFormat(count);
  return scale.ticks(count).map((value) => ({ value, label: format(value) }));
}
