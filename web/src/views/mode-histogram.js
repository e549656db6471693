// The live per-mode histogram: of the generated samples a metric row evaluated, the share
// whose nearest mode is each mode, and the share that is also within 3σ of it (high quality),
// against the even share 1/K. The counts come from the server with the newest metric row
// (docs/protocol.md `mode_nearest`, `mode_high_quality`).

const SVG = "http://www.w3.org/2000/svg";

/** The counts a decoded frame or history message carries, or null when it has none. */
export function modeCountsOf(header, arrays) {
  if (!arrays.mode_nearest || !arrays.mode_high_quality) return null;
  return {
    iteration: header.mode_iteration ?? null,
    samples: header.mode_samples,
    nearest: Array.from(arrays.mode_nearest.data),
    highQuality: Array.from(arrays.mode_high_quality.data),
  };
}

/** Shares of all evaluated samples: nearest each mode, and high quality there; the even share
 * 1/K; and the top of the scale (the largest of these, rounded up to a tenth, at most 1). */
export function modeShares(counts) {
  const n = counts.samples > 0 ? counts.samples : 1;
  const nearest = counts.nearest.map((c) => c / n);
  const highQuality = counts.highQuality.map((c) => c / n);
  const even = 1 / counts.nearest.length;
  const top = Math.min(1, Math.ceil(Math.max(even, ...nearest) * 10 - 1e-9) / 10);
  return { nearest, highQuality, even, top };
}

const NEAREST_OPACITY = 0.35;
const percent = (v) => `${(100 * v).toFixed(v < 0.1 && v > 0 ? 1 : 0)}%`;

/** The histogram in its own box (a `.chart` of the charts' grid). */
export class ModeHistogram {
  constructor(box) {
    const doc = box.ownerDocument;
    this.box = box;
    this.counts = null;
    this.color = "#333";
    this.plot = doc.createElement("div");
    this.plot.className = "mode-plot";
    this.top = doc.createElement("span");
    this.top.className = "mode-top";
    this.svg = doc.createElementNS(SVG, "svg");
    this.svg.setAttribute("class", "mode-bars");
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.svg.setAttribute("role", "img");
    this.plot.append(this.top, this.svg);
    this.legend = doc.createElement("p");
    this.legend.className = "mode-legend";
    this.caption = doc.createElement("p");
    this.caption.className = "mode-caption";
    this.caption.dataset.testid = "mode-caption";
    box.append(this.plot, this.legend, this.caption);
    this.drawLegend();
  }

  /** The bars' colour: solid for high quality, faint for all samples nearest a mode. */
  setColor(color) {
    this.color = color;
    this.drawLegend();
    this.draw();
  }

  /** New counts (null: none to show). */
  set(counts) {
    this.counts = counts;
    this.draw();
  }

  drawLegend() {
    const doc = this.box.ownerDocument;
    this.legend.textContent = "";
    const key = (kind, text) => {
      const item = doc.createElement("span");
      const swatch = doc.createElement("i");
      swatch.className = `mode-swatch ${kind}`;
      swatch.style[kind === "even" ? "borderColor" : "background"] = this.color;
      item.append(swatch, text);
      return item;
    };
    this.legend.append(
      key("nearest", "all samples nearest the mode"),
      key("quality", "of them high quality"),
      key("even", "even share 1/K"),
    );
  }

  draw() {
    const svg = this.svg;
    svg.textContent = "";
    const c = this.counts;
    if (!c) {
      this.top.textContent = "";
      this.caption.textContent = "Waiting for the next metric row.";
      svg.setAttribute("aria-label", "no per-mode counts yet");
      return;
    }
    const { nearest, highQuality, even, top } = modeShares(c);
    const k = nearest.length;
    // One unit of width a mode (a bar of 0.7 and a gap), heights in shares of `top`.
    svg.setAttribute("viewBox", `0 0 ${k} 1`);
    const doc = svg.ownerDocument;
    const rect = (x, h, w, opacity) => {
      const r = doc.createElementNS(SVG, "rect");
      const height = Math.min(1, h / top);
      r.setAttribute("x", String(x));
      r.setAttribute("y", String(1 - height));
      r.setAttribute("width", String(w));
      r.setAttribute("height", String(height));
      r.setAttribute("fill", this.color);
      r.setAttribute("fill-opacity", String(opacity));
      return r;
    };
    for (let j = 0; j < k; j++) {
      const g = doc.createElementNS(SVG, "g");
      g.setAttribute("class", "mode-bar");
      g.dataset.testid = "mode-bar";
      const title = doc.createElementNS(SVG, "title");
      title.textContent = `mode ${j + 1}: ${percent(nearest[j])} of samples nearest it, ${percent(highQuality[j])} high quality`;
      g.append(title, rect(j + 0.15, nearest[j], 0.7, NEAREST_OPACITY), rect(j + 0.15, highQuality[j], 0.7, 1));
      svg.append(g);
    }
    const line = doc.createElementNS(SVG, "line");
    const y = String(1 - even / top);
    for (const [name, value] of [["x1", "0"], ["x2", String(k)], ["y1", y], ["y2", y]]) line.setAttribute(name, value);
    line.setAttribute("stroke", this.color);
    line.setAttribute("stroke-dasharray", "4 3");
    line.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(line);
    svg.setAttribute("aria-label", `share of samples nearest each of ${k} modes`);
    this.top.textContent = percent(top);
    const total = highQuality.reduce((a, b) => a + b, 0);
    const samples = Number(c.samples).toLocaleString("en-US");
    this.caption.textContent = `${k} modes, ${samples} samples at iteration ${c.iteration ?? "?"}; ${percent(total)} high quality.`;
  }
}
