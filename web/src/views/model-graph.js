// The model overview: noise -> generator -> samples -> discriminator -> predictions -> loss,
// with both gradient loops, live thumbnails in the nodes and each hyperparameter's control
// next to the node it affects (declared in state/controls.js).
import { NODES, getPath, parseControl } from "../state/controls.js";
import { formatNumber, isCurve } from "./math.js";

const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

/** Row `index` of a bar list: made once, then only what changed is written (rebuilding the
 * rows' HTML a few times a second cost a style and layout pass over the graph each time). */
function setBar(list, index, label, value, color, scaleMax) {
  let row = list.children[index];
  if (!row) {
    row = el("div", { class: "bar-row" }, el("span", { text: label }), el("span", { class: "bar" }, el("span")), el("output"));
    list.append(row);
  }
  const fill = row.children[1].firstChild;
  const out = row.children[2];
  const pct = value == null || !Number.isFinite(value) ? 0 : Math.max(0, Math.min(1, Math.abs(value) / scaleMax)) * 100;
  const width = `${pct.toFixed(1)}%`;
  if (row.shownWidth !== width) {
    fill.style.width = width;
    row.shownWidth = width;
  }
  if (row.shownColor !== color) {
    fill.style.background = color;
    row.shownColor = color;
  }
  const text = formatNumber(value);
  if (out.textContent !== text) out.textContent = text;
}

export class ModelGraph {
  constructor(container, { onChange, onError, onGeneratorHover }) {
    this.container = container;
    this.onChange = onChange;
    this.onError = onError;
    this.onGeneratorHover = onGeneratorHover;
    this.inputs = new Map(); // path -> {control, input, row}
    this.thumbs = {};
    this.config = null;
    this.palette = null;
    this.reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.build();
    new ResizeObserver(() => this.layoutEdges()).observe(container);
  }

  build() {
    const c = this.container;
    c.textContent = "";
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.classList.add("edges");
    this.svg.setAttribute("aria-hidden", "true");
    c.append(this.svg);
    this.nodes = {};
    for (const node of NODES) {
      const box = el("div", { class: `node node-${node.id}`, "data-node": node.id });
      const head = el("div", { class: "node-head" });
      const title = el("div", { class: "node-title" }, el("h3", { text: node.title }), el("p", { class: "hint", text: node.help }));
      head.append(title);
      if (node.id === "samples") {
        this.thumbs.fake = this.thumb("Fake samples");
        this.thumbs.real = this.thumb("Real samples");
        head.append(this.thumbs.fake.wrap, this.thumbs.real.wrap);
      } else if (node.id === "loss") {
        this.lossBars = el("div", { class: "loss-bars" });
        head.append(this.lossBars);
      } else {
        this.thumbs[node.id] = this.thumb(node.title);
        head.append(this.thumbs[node.id].wrap);
      }
      box.append(head);
      const body = el("div", { class: "controls" });
      const advanced = el("details", { class: "advanced" }, el("summary", { text: "more" }));
      const advancedBody = el("div", { class: "controls" });
      advanced.append(advancedBody);
      for (const control of node.controls) {
        const row = this.control(control);
        (control.advanced ? advancedBody : body).append(row);
      }
      box.append(body);
      if (advancedBody.children.length) box.append(advanced);
      if (node.id === "discriminator") {
        this.predictions = el("div", { class: "node node-predictions", "data-node": "predictions" },
          el("div", { class: "node-head" }, el("div", { class: "node-title" }, el("h3", { text: "Predictions" }),
            el("p", { class: "hint", text: "D's mean verdict on real and on fake samples." }))),
          el("div", { class: "pred-bars" }));
      }
      c.append(box);
      this.nodes[node.id] = box;
      if (node.id === "discriminator") c.append(this.predictions);
    }
    this.nodes.predictions = this.predictions;
    this.nodes.generator.addEventListener("pointerenter", () => this.onGeneratorHover(true));
    this.nodes.generator.addEventListener("pointerleave", () => this.onGeneratorHover(false));
    requestAnimationFrame(() => this.layoutEdges());
  }

  thumb(label) {
    const canvas = el("canvas", { width: "64", height: "64", role: "img", "aria-label": label });
    const wrap = el("figure", { class: "thumb" }, canvas, el("figcaption", { text: label.replace(/ [GDz]$/, "") }));
    return { canvas, wrap };
  }

  control(control) {
    const id = `ctl-${control.path.replace(/\./g, "-")}`;
    let input;
    if (control.kind === "select" || control.choices) {
      input = el("select", { id });
      for (const [value, text] of control.options || control.choices.map((v) => [String(v), String(v)])) {
        input.append(el("option", { value, text }));
      }
    } else {
      input = el("input", { id, type: "number", inputmode: "decimal" });
      if (control.min !== undefined) input.min = control.min;
      if (control.max !== undefined) input.max = control.max;
      input.step = control.step ?? (control.kind === "int" ? 1 : "any");
    }
    input.dataset.path = control.path;
    input.dataset.testid = `ctl-${control.path}`;
    input.setAttribute("data-testid", `ctl-${control.path}`);
    if (control.title) input.title = control.title;
    const row = el("div", { class: "control" }, el("label", { for: id, text: control.label }), input);
    input.addEventListener("change", () => {
      const parsed = parseControl(control, input.value);
      if (parsed.error) {
        this.onError(parsed.error);
        this.setValue(control.path, getPath(this.config, control.path));
        return;
      }
      this.onChange(control.path, parsed.value);
    });
    this.inputs.set(control.path, { control, input, row });
    return row;
  }

  setValue(path, value) {
    const entry = this.inputs.get(path);
    if (!entry || value === undefined || value === null) return;
    const { input } = entry;
    const text = String(value);
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === text)) {
      input.append(el("option", { value: text, text }));
    }
    input.value = text;
  }

  /** Show the config now in effect. */
  setConfig(config) {
    this.config = config;
    for (const [path, { control, input, row }] of this.inputs) {
      if (document.activeElement !== input) this.setValue(path, getPath(config, path));
      row.hidden = control.when ? !control.when(config) : false;
    }
    this.layoutEdges();
  }

  setPalette(palette) {
    this.palette = palette;
    this.container.style.setProperty("--real", palette.real);
    this.container.style.setProperty("--fake", palette.fake);
    this.container.style.setProperty("--grad", palette.gradient);
    this.container.style.setProperty("--disc", palette.discriminator);
  }

  setPlaying(playing) {
    this.container.classList.toggle("playing", playing);
  }

  /** March the gradient loops' dashes one step: called on the page's readout tick while
   * training (a few times a second), so the motion shares that paint instead of adding one. */
  advanceLoops() {
    if (this.reducedMotion) return;
    this.dash = ((this.dash || 0) + 4.5) % 18;
    for (const p of this.loops || []) p.style.strokeDashoffset = String(-this.dash);
  }

  /** The edges: data flow (solid) and the two gradient loops (dashed, animated while playing). */
  layoutEdges() {
    const svg = this.svg;
    const base = this.container.getBoundingClientRect();
    if (!base.width) return;
    svg.setAttribute("width", base.width);
    svg.setAttribute("height", this.container.scrollHeight);
    svg.textContent = "";
    const r = (id) => {
      const b = this.nodes[id].getBoundingClientRect();
      return { x: b.left - base.left, y: b.top - base.top, w: b.width, h: b.height };
    };
    this.loops = [];
    const path = (d, cls) => {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", d);
      p.setAttribute("class", cls);
      svg.append(p);
      if (cls.includes("loop")) this.loops.push(p);
    };
    const order = ["noise", "generator", "samples", "discriminator", "predictions", "loss"];
    for (let i = 0; i < order.length - 1; i++) {
      const a = r(order[i]);
      const b = r(order[i + 1]);
      const x = a.x + a.w / 2;
      path(`M${x},${a.y + a.h} L${x},${b.y}`, "edge flow");
    }
    const loss = r("loss");
    const disc = r("discriminator");
    const gen = r("generator");
    // D's update: from the loss up the left side into D.
    const lx = Math.max(3, loss.x - 7);
    path(`M${loss.x},${loss.y + loss.h / 2} H${lx} V${disc.y + disc.h / 2} H${disc.x}`, "edge loop loop-d");
    // G's update: from the loss up the right side, through D (gradients flow through it), into G.
    const rx = Math.min(base.width - 3, loss.x + loss.w + 7);
    path(`M${loss.x + loss.w},${loss.y + loss.h / 2} H${rx} V${gen.y + gen.h / 2} H${gen.x + gen.w}`, "edge loop loop-g");
  }

  /** Live thumbnails and numbers from a frame (cheap; called a few times a second). */
  setFrame(f) {
    const p = this.palette;
    if (!p) return;
    scatter(this.thumbs.noise.canvas, noisePoints(f), f.noiseKind === "uniform" ? [-1.1, 1.1, -1.1, 1.1] : [-3, 3, -3, 3], p.fake);
    drawManifoldThumb(this.thumbs.generator.canvas, f, p);
    scatter(this.thumbs.fake.canvas, f.fake, f.box, p.fake);
    scatter(this.thumbs.real.canvas, f.real, f.box, p.real);
    heatThumb(this.thumbs.discriminator.canvas, f, this.lut);
    const l = f.losses || {};
    const prob = f.output === "probability" || f.output === "prob";
    const predMax = prob ? 1 : Math.max(Math.abs(l.d_real ?? 0), Math.abs(l.d_fake ?? 0), 1e-9);
    const predBars = this.predictions.querySelector(".pred-bars");
    setBar(predBars, 0, "D(real)", l.d_real, p.real, predMax);
    setBar(predBars, 1, "D(fake)", l.d_fake, p.fake, predMax);
    const lossMax = Math.max(Math.abs(l.d_loss ?? 0), Math.abs(l.g_loss ?? 0), 1e-9);
    setBar(this.lossBars, 0, "D loss", l.d_loss, p.discriminator, lossMax);
    setBar(this.lossBars, 1, "G loss", l.g_loss, p.fake, lossMax);
  }

  setLut(lut) {
    this.lut = lut;
  }
}

function noisePoints(f) {
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

function drawManifoldThumb(canvas, f, p) {
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

function heatThumb(canvas, f, lut) {
  if (!lut) return;
  const ctx = canvas.getContext("2d");
  const r = f.gridSize;
  const w = canvas.width;
  const img = ctx.createImageData(w, w);
  for (let py = 0; py < w; py++) {
    const iy = Math.min(r - 1, Math.floor(((w - 1 - py) / w) * r));
    for (let px = 0; px < w; px++) {
      const ix = Math.min(r - 1, Math.floor((px / w) * r));
      const q = f.dGridQ[iy * r + ix] * 4;
      const o = (py * w + px) * 4;
      img.data[o] = lut[q];
      img.data[o + 1] = lut[q + 1];
      img.data[o + 2] = lut[q + 2];
      img.data[o + 3] = 200;
    }
  }
  ctx.putImageData(img, 0, 0);
}

