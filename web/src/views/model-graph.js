// The model overview: a graph drawn left to right, noise -> generator -> samples ->
// discriminator -> predictions -> loss, with both gradient loops. Each node is compact: its
// title, a live thumbnail and a one-line summary; its hyperparameters open next to it in a
// popover (built from the server's schema, state/controls.js). Slow motion lights up the nodes
// and edges a phase works on and dims the rest.
import { getPath, parseControl } from "../state/controls.js";
import { formatNumber } from "./math.js";
import { drawManifoldThumb, heatThumb, noisePoints, scatter } from "./thumbnails.js";

const SVG = "http://www.w3.org/2000/svg";

/** The graph's nodes in data-flow order, with what a learner reads on each. */
export const GRAPH_NODES = [
  { id: "noise", title: "Noise z", name: "Noise", letter: "z", help: "Random input to the generator." },
  { id: "generator", title: "Generator G", name: "Generator", letter: "G", help: "A neural network that turns noise into points." },
  { id: "samples", title: "Samples", help: "Each update draws a batch of fake and of real points." },
  { id: "discriminator", title: "Discriminator D", name: "Discriminator", letter: "D", help: "A neural network that scores how real a point looks." },
  { id: "predictions", title: "Predictions", help: "D's mean verdict on real and on fake samples." },
  { id: "loss", title: "Loss", help: "How D's predictions become each network's objective." },
];

/** What each slow-motion phase works on: the nodes it lights up, for each network's turn. */
export const PHASE_FOCUS = {
  generate: { d: ["noise", "generator", "samples"], g: ["noise", "generator", "samples"] },
  classify: { d: ["samples", "discriminator", "predictions"], g: ["samples", "discriminator", "predictions"] },
  loss: { d: ["predictions", "loss"], g: ["predictions", "loss"] },
  gradients: { d: ["loss", "predictions", "discriminator"], g: ["loss", "predictions", "discriminator", "samples", "generator"] },
  update: { d: ["discriminator"], g: ["generator"] },
};

const LOSS_NAMES = { log: "Log loss", lsgan: "Least squares", wgan: "Wasserstein", wgan_gp: "WGAN-GP", hinge: "Hinge" };
const ACT = { relu: "ReLU", leaky_relu: "Leaky ReLU", tanh: "tanh", elu: "ELU", gelu: "GELU", silu: "SiLU" };
const OPT = { adam: "Adam", sgd: "SGD", rmsprop: "RMSProp" };

/** A control's help, and why it does not apply now where it does not. */
function helpOf(entry) {
  const help = entry.control.help || entry.control.title || "";
  return entry.unused ? `${entry.unused} ${help}` : help;
}

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

/** One line that says what a node is set to, e.g. "2 × 16 ReLU · Adam 0.001". */
export function nodeSummary(id, config) {
  if (!config) return "";
  const net = (n) => (n.layers === 0 ? "linear" : `${n.layers} × ${n.neurons} ${ACT[n.activation] || n.activation}`);
  // Learning rates as typed (0.0004), not in scientific notation.
  const opt = (o) => `${OPT[o.kind] || o.kind} ${String(o.lr)}`;
  const t = config.training;
  // The counts of updates per iteration belong to the alternating scheme only.
  const alternating = !t.scheme || t.scheme === "alternating";
  const steps = (k) => (!alternating ? "" : k === 0 ? " · frozen" : k !== 1 ? ` · ${k}×` : "");
  switch (id) {
    case "noise":
      return `${config.noise.kind === "uniform" ? "Uniform" : "Gaussian"}, ${config.noise.dim}D`;
    case "generator": {
      // "shown": the picture shows the average (view.average), not G itself.
      const ema = config.generator.ema > 0 ? (config.view?.average ? " · EMA (shown)" : " · EMA") : "";
      return `${net(config.generator)} · ${opt(config.g_optimizer)}${steps(t.g_steps)}${ema}`;
    }
    case "samples":
      return `batch ${t.batch_size}`;
    case "discriminator": {
      const pack = config.discriminator.packing > 1 ? ` · pack ${config.discriminator.packing}` : "";
      const sn = config.discriminator.spectral_norm ? " · SN" : "";
      return `${net(config.discriminator)} · ${opt(config.d_optimizer)}${steps(t.d_steps)}${pack}${sn}`;
    }
    case "loss": {
      const scheme = alternating ? "" : ` · ${t.scheme}`;
      const unrolled = t.unrolled_steps > 0 ? ` · unrolled ${t.unrolled_steps}` : "";
      const noise = t.instance_noise > 0 ? ` · noise σ ${t.instance_noise}` : "";
      return `${LOSS_NAMES[config.loss.kind] || config.loss.kind}${scheme}${unrolled}${noise}`;
    }
    default:
      return "";
  }
}

/** Row `index` of a bar list: made once, then only what changed is written. */
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
  /**
   * container: the element the graph fills; popover: the element node settings open in.
   * onChange(path, value), onError(text), onGeneratorHover(on), onOpen(id|null).
   */
  constructor(container, popover, { onChange, onError, onGeneratorHover = () => {}, onOpen = () => {} }) {
    this.container = container;
    this.popover = popover;
    this.onChange = onChange;
    this.onError = onError;
    this.onGeneratorHover = onGeneratorHover;
    this.onOpen = onOpen;
    this.inputs = new Map(); // path -> {control, input, row}
    this.panels = {};
    this.thumbs = {};
    this.config = null;
    this.palette = null;
    this.openId = null;
    this.focus = null;
    this.reducedMotion = matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.build();
    new ResizeObserver(() => this.layoutEdges()).observe(container);
    const doc = container.ownerDocument;
    doc.addEventListener("pointerdown", (ev) => {
      if (this.openId && !popover.contains(ev.target) && !this.nodes[this.openId].contains(ev.target)) this.open(null);
    });
    popover.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        const id = this.openId;
        this.open(null);
        if (id) this.nodes[id].focus();
      }
    });
  }

  build() {
    const c = this.container;
    c.textContent = "";
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.classList.add("edges");
    this.svg.setAttribute("aria-hidden", "true");
    const row = el("div", { class: "graph-row" });
    c.append(this.svg, row);
    this.nodes = {};
    this.summaries = {};
    for (const node of GRAPH_NODES) {
      const box = el("div", {
        class: `node node-${node.id}`, "data-node": node.id, "data-testid": `node-${node.id}`,
        title: node.help,
      });
      // The letter (G, D, z) gives way first where the graph is narrow.
      box.append(node.letter
        ? el("h3", {}, node.name, el("span", { class: "node-letter", text: ` ${node.letter}` }))
        : el("h3", { text: node.title }));
      const body = el("div", { class: "node-body" });
      if (node.id === "samples") {
        this.thumbs.fake = this.thumb("Fake samples");
        this.thumbs.real = this.thumb("Real samples");
        body.append(this.thumbs.fake.wrap, this.thumbs.real.wrap);
      } else if (node.id === "predictions") {
        this.predBars = el("div", { class: "pred-bars" });
        body.append(this.predBars);
      } else if (node.id === "loss") {
        this.lossBars = el("div", { class: "loss-bars" });
        body.append(this.lossBars);
      } else {
        this.thumbs[node.id] = this.thumb(node.title);
        body.append(this.thumbs[node.id].wrap);
      }
      box.append(body);
      this.summaries[node.id] = el("p", { class: "node-summary" });
      box.append(this.summaries[node.id]);
      row.append(box);
      this.nodes[node.id] = box;
    }
    this.nodes.generator.addEventListener("pointerenter", () => this.onGeneratorHover(true));
    this.nodes.generator.addEventListener("pointerleave", () => this.onGeneratorHover(false));
    requestAnimationFrame(() => this.layoutEdges());
  }

  thumb(label) {
    const canvas = el("canvas", { width: "64", height: "64", role: "img", "aria-label": label });
    return { canvas, wrap: canvas };
  }

  /** The controls of each node, from the schema (state/controls.js buildNodes). A node with
   * controls becomes a button that opens them. */
  setControls(nodes) {
    this.inputs.clear();
    this.popover.textContent = "";
    this.panels = {};
    for (const node of nodes) {
      if (!node.controls.length || !this.nodes[node.id]) continue;
      const panel = el("div", { class: "node-panel", "data-panel": node.id, hidden: "" });
      panel.append(el("h3", { text: `${node.title}: settings` }), el("p", { class: "hint", text: node.help }));
      const body = el("div", { class: "controls" });
      const advanced = el("details", { class: "advanced" }, el("summary", { text: "more settings" }));
      const advancedBody = el("div", { class: "controls" });
      advanced.append(advancedBody);
      for (const control of node.controls) (control.advanced ? advancedBody : body).append(this.control(control));
      panel.append(body);
      if (advancedBody.children.length) panel.append(advanced);
      // The focused or hovered setting's help, in words (a title alone shows only on hover).
      const help = el("p", { class: "control-help hint", "aria-live": "polite", text: "Hover or focus a setting to see what it does." });
      panel.append(help);
      const show = (ev) => {
        const input = ev.target.closest("[data-path]") || ev.target.closest(".control")?.querySelector("[data-path]");
        const entry = input && this.inputs.get(input.dataset.path);
        if (entry) help.textContent = `${entry.control.label}: ${helpOf(entry)}`;
      };
      panel.addEventListener("focusin", show);
      panel.addEventListener("pointerover", show);
      this.popover.append(panel);
      this.panels[node.id] = panel;
      const box = this.nodes[node.id];
      box.classList.add("has-settings");
      box.tabIndex = 0;
      box.setAttribute("role", "button");
      box.setAttribute("aria-haspopup", "dialog");
      box.setAttribute("aria-expanded", "false");
      box.setAttribute("aria-label", `${node.title}: ${node.help} Open its settings.`);
      if (!box.dataset.bound) {
        box.dataset.bound = "1";
        box.addEventListener("click", (ev) => {
          if (ev.target.closest("canvas") && ev.detail > 1) return;
          this.open(this.openId === node.id ? null : node.id);
        });
        box.addEventListener("keydown", (ev) => {
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            this.open(this.openId === node.id ? null : node.id);
          }
        });
      }
    }
    if (this.config) this.setConfig(this.config);
  }

  /** Open the settings of node `id` next to it (null closes them). */
  open(id) {
    if (id && !this.panels[id]) return;
    this.openId = id;
    for (const [pid, panel] of Object.entries(this.panels)) {
      panel.hidden = pid !== id;
      this.nodes[pid].setAttribute("aria-expanded", String(pid === id));
      this.nodes[pid].classList.toggle("open", pid === id);
    }
    this.popover.hidden = !id;
    if (id) {
      this.place(id);
      const first = this.panels[id].querySelector("select, input");
      if (first) first.focus({ preventScroll: true });
      // On a phone the graph sits low on the page: bring the settings into view.
      if (this.popover.scrollIntoView) this.popover.scrollIntoView({ block: "nearest" });
    }
    this.onOpen(id);
  }

  /** Under the node, kept inside the window. */
  place(id) {
    const b = this.nodes[id].getBoundingClientRect();
    const view = this.container.ownerDocument.defaultView;
    const p = this.popover;
    const w = p.offsetWidth;
    const left = Math.max(8, Math.min(b.left, view.innerWidth - w - 8));
    p.style.left = `${left + view.scrollX}px`;
    p.style.top = `${b.bottom + 6 + view.scrollY}px`;
  }

  control(control) {
    const id = `ctl-${control.path.replace(/\./g, "-")}`;
    let input;
    if (control.kind === "boolean") {
      input = el("input", { id, type: "checkbox" });
    } else if (control.kind === "select" || control.choices) {
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
    input.setAttribute("data-testid", `ctl-${control.path}`);
    const help = control.help || control.title || "";
    if (help) input.title = help;
    const label = el("label", { for: id, text: control.label });
    if (help) label.title = help;
    const row = el("div", { class: "control" }, label, input);
    input.addEventListener("change", () => {
      const parsed = parseControl(control, input.type === "checkbox" ? String(input.checked) : input.value);
      if (parsed.error) {
        this.onError(parsed.error);
        this.setValue(control.path, getPath(this.config, control.path));
        return;
      }
      this.onChange(control.path, parsed.value);
    });
    this.inputs.set(control.path, { control, input, row, label, unused: null });
    return row;
  }

  setValue(path, value) {
    const entry = this.inputs.get(path);
    if (!entry || value === undefined || value === null) return;
    const { input } = entry;
    if (input.type === "checkbox") {
      input.checked = value === true;
      return;
    }
    const text = String(value);
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === text)) {
      input.append(el("option", { value: text, text }));
    }
    input.value = text;
  }

  /** Show the config now in effect. */
  setConfig(config) {
    this.config = config;
    for (const [path, entry] of this.inputs) {
      const { control, input, row } = entry;
      if (document.activeElement !== input) this.setValue(path, getPath(config, path));
      row.hidden = control.when ? !control.when(config) : false;
      this.markUnused(entry, control.unused ? control.unused(config) : null);
    }
    for (const node of GRAPH_NODES) {
      const text = nodeSummary(node.id, config);
      if (this.summaries[node.id].textContent !== text) {
        this.summaries[node.id].textContent = text;
        this.summaries[node.id].title = text; // the whole line, where a narrow node cuts it short
      }
    }
    this.layoutEdges();
  }

  /** A control that does not apply to the config stays in view, disabled, saying why. */
  markUnused(entry, reason) {
    if (entry.unused === reason) return;
    entry.unused = reason;
    const { input, row, label } = entry;
    input.disabled = Boolean(reason);
    row.classList.toggle("unused", Boolean(reason));
    input.title = helpOf(entry);
    label.title = input.title;
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

  /** Slow motion: light up what phase `phase` of `network`'s update works on (null: all). */
  setFocus(network, phase) {
    const focus = network && phase ? PHASE_FOCUS[phase][network] : null;
    this.focus = focus ? { network, phase, nodes: new Set(focus) } : null;
    this.container.classList.toggle("walking", Boolean(focus));
    for (const [id, box] of Object.entries(this.nodes)) box.classList.toggle("active", Boolean(focus && focus.includes(id)));
    this.layoutEdges();
  }

  /** March the gradient loops' dashes one step (on the page's readout tick while training). */
  advanceLoops() {
    if (this.reducedMotion) return;
    this.dash = ((this.dash || 0) + 4.5) % 18;
    for (const p of this.loops || []) p.style.strokeDashoffset = String(-this.dash);
  }

  /** The edges: data flow (arrows between neighbours) and the two gradient loops, dashed,
   * from the loss back to the network each one updates. */
  layoutEdges() {
    const svg = this.svg;
    const base = this.container.getBoundingClientRect();
    if (!base.width) return;
    svg.setAttribute("width", base.width);
    svg.setAttribute("height", this.container.scrollHeight);
    svg.textContent = "";
    const defs = document.createElementNS(SVG, "defs");
    defs.innerHTML = '<marker id="graph-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="#9aa0a6"/></marker>';
    svg.append(defs);
    const r = (id) => {
      const b = this.nodes[id].getBoundingClientRect();
      return { x: b.left - base.left, y: b.top - base.top, w: b.width, h: b.height };
    };
    this.loops = [];
    const focus = this.focus;
    const path = (d, cls, lit) => {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", d);
      p.setAttribute("class", `${cls}${lit ? " lit" : ""}`);
      if (cls.includes("flow")) p.setAttribute("marker-end", "url(#graph-arrow)");
      svg.append(p);
      if (cls.includes("loop")) this.loops.push(p);
    };
    const order = GRAPH_NODES.map((n) => n.id);
    for (let i = 0; i < order.length - 1; i++) {
      const a = r(order[i]);
      const b = r(order[i + 1]);
      const lit = Boolean(focus && focus.nodes.has(order[i]) && focus.nodes.has(order[i + 1]) && focus.phase !== "gradients");
      if (b.y >= a.y + a.h) {
        // The next node starts a new row (narrow screens): down, across, down.
        const midY = a.y + a.h + (b.y - a.y - a.h) / 2;
        path(`M${a.x + a.w / 2},${a.y + a.h} V${midY} H${b.x + b.w / 2} V${b.y - 1}`, "edge flow", lit);
      } else {
        const y = a.y + Math.min(a.h, b.h) / 2;
        path(`M${a.x + a.w},${y} H${b.x - 1}`, "edge flow", lit);
      }
    }
    const loss = r("loss");
    const loop = (target, depth, cls, network) => {
      const t = r(target);
      const y = Math.max(loss.y + loss.h, t.y + t.h) + depth;
      const lit = Boolean(focus && focus.network === network && (focus.phase === "gradients" || focus.phase === "update"));
      path(`M${loss.x + loss.w / 2},${loss.y + loss.h} V${y} H${t.x + t.w / 2} V${t.y + t.h}`, cls, lit);
    };
    loop("discriminator", 7, "edge loop loop-d", "d");
    loop("generator", 15, "edge loop loop-g", "g");
  }

  /** Name the samples node's fake thumbnail (its samples may come from the averaged G). */
  setFakeLabel(label) {
    const c = this.thumbs.fake.canvas;
    if (c.getAttribute("aria-label") === label) return;
    c.setAttribute("aria-label", label);
    c.title = label;
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
    setBar(this.predBars, 0, "D(real)", l.d_real, p.real, predMax);
    setBar(this.predBars, 1, "D(fake)", l.d_fake, p.fake, predMax);
    const lossMax = Math.max(Math.abs(l.d_loss ?? 0), Math.abs(l.g_loss ?? 0), 1e-9);
    setBar(this.lossBars, 0, "D loss", l.d_loss, p.discriminator, lossMax);
    setBar(this.lossBars, 1, "G loss", l.g_loss, p.fake, lossMax);
  }

  setLut(lut) {
    this.lut = lut;
  }
}
