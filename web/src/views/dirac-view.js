// The game in two parameters: the Dirac-GAN (Mescheder et al. 2018) under the page's settings.
// The server computes it (POST api/dirac, engine/dirac.py: the one definition of the maths);
// this view asks again when a setting it follows changes, and draws the field, the path and
// the equilibrium, with a sentence saying what the path does.
import { scaleLinear } from "d3-scale";
import { axisTicks, formatNumber } from "./math.js";
import { PALETTES } from "./colors.js";

export const STEP_CHOICES = [1000, 5000, 20000, 50000];
export const DEFAULT_STEPS = 20000;
// Room for the tick labels and axis names around the plot, in CSS pixels.
const MARGIN = { left: 46, right: 16, top: 10, bottom: 38 };

/** The part of the config the Dirac-GAN follows: nothing else is sent (a drawing's points
 * would cost a large request and change nothing here). */
export function diracConfig(config) {
  const t = config.training;
  return {
    loss: config.loss,
    training: { scheme: t.scheme, d_steps: t.d_steps, g_steps: t.g_steps, lr_halflife: t.lr_halflife },
    g_optimizer: config.g_optimizer,
    d_optimizer: config.d_optimizer,
  };
}

function optimizerWords(o) {
  const name = { sgd: "SGD", adam: "Adam", rmsprop: "RMSProp" }[o.kind] || o.kind;
  return `${name} (lr ${Number(o.lr.toPrecision(3))})`; // 0.0004, not 4.00e-4
}

/** The settings in effect, in a few words: loss, penalties, scheme and optimizers. */
export function settingsWords(config, lossTitle = (kind) => kind) {
  const l = config.loss;
  const t = config.training;
  let loss = lossTitle(l.kind);
  if (l.kind === "log") loss += l.generator === "minimax" ? ", minimax G" : ", non-saturating G";
  const penalties = [];
  if (l.kind === "wgan_gp") penalties.push(`gradient penalty λ = ${formatNumber(l.gp_weight)}`);
  if (l.kind === "wgan") penalties.push(`clipping ψ to ±${formatNumber(l.clip)}`);
  if (l.r1 > 0) penalties.push(`R1 γ = ${formatNumber(l.r1)}`);
  if (l.r2 > 0) penalties.push(`R2 γ = ${formatNumber(l.r2)}`);
  if (!penalties.length) penalties.push("no penalty");
  const scheme = t.scheme === "alternating"
    ? `alternating steps (${t.d_steps} D, then ${t.g_steps} G per iteration)`
    : `${t.scheme} steps`;
  const opts = `G: ${optimizerWords(config.g_optimizer)}, D: ${optimizerWords(config.d_optimizer)}`;
  return `${loss}; ${penalties.join(", ")}; ${scheme}; ${opts}`;
}

/** A number as a learner reads it: a true minus sign, not a hyphen. */
const signed = (x) => String(x).replace(/^-/, "−");

/** The page's optimizers by name, e.g. "Adam", or "G's Adam and D's SGD with momentum". */
export function optimizerName(config) {
  const one = (o) => {
    if (o.kind === "sgd") return o.momentum > 0 ? "SGD with momentum" : "plain SGD";
    return { adam: "Adam", rmsprop: "RMSProp" }[o.kind] || o.kind;
  };
  const g = one(config.g_optimizer);
  const d = one(config.d_optimizer);
  return g === d ? g : `G's ${g} and D's ${d}`;
}

/**
 * The headline, as sentences: first what plain gradient steps at the page's learning rates do
 * (the game's own dynamics, the grey arrows), then, when the page trains with something else,
 * what its optimizer does. Both change when a setting changes what they do.
 */
export function headline(result, config) {
  const n = result.iterations;
  const from = `from (θ, ψ) = (${result.start.map(signed).join(", ")})`;
  if (!result.plain_sgd) {
    const early = n < result.steps ? ` (it stopped after ${n} of ${result.steps})` : "";
    return [`In ${n} iterations of plain gradient steps ${from}${early}, ${result.verdict.words}`];
  }
  const early = n < result.steps ? ` (it stopped after ${n} of ${result.steps} iterations)` : "";
  return [
    `In ${result.steps} iterations of plain gradient steps at these learning rates ${from}, ${result.plain_sgd.words}`,
    `With the page's ${optimizerName(config)} instead${early}, ${result.verdict.words}`,
  ];
}

/** Only when the page's optimizers are not plain SGD: how they differ from plain steps,
 * and whether one gets to the equilibrium where the other does not. */
export function contrastWords(result, config) {
  if (!result.plain_sgd) return "";
  const name = optimizerName(config);
  const kinds = [config.g_optimizer, config.d_optimizer].map((o) => o.kind);
  const how = [];
  if (kinds.some((k) => k === "adam" || k === "rmsprop")) {
    how.push("Adam and RMSProp divide each parameter's step by the recent size of its gradients");
  }
  if ([config.g_optimizer, config.d_optimizer].some((o) => o.kind === "sgd" && o.momentum > 0)) {
    how.push("momentum carries earlier steps on into later ones");
  }
  const why = `${how.join("; ")}, so the path need not follow the grey arrows.`;
  const page = result.verdict.kind === "converges";
  const plain = result.plain_sgd.kind === "converges";
  const n = result.steps;
  const both = name.includes(" and "); // "G's Adam and D's SGD …" takes a plural verb
  if (page && !plain) return `${name} ${both ? "get" : "gets"} there within these ${n} iterations though plain gradient steps do not: ${why}`;
  if (plain && !page) return `Plain gradient steps get there within these ${n} iterations though ${name} ${both ? "do" : "does"} not: ${why}`;
  return why.charAt(0).toUpperCase() + why.slice(1);
}

/** What the eigenvalues of the field's Jacobian at (0, 0) say about small steps near it. */
export function eigenWords(eigenvalues) {
  if (!eigenvalues) {
    return "At (0, 0) the field jumps (the gradient penalty has a kink where D is flat), so its Jacobian has no eigenvalues there.";
  }
  const shown = eigenvalues.map(([re, im]) => complexWords(re, im)).join(" and ");
  const re = eigenvalues.map(([r]) => r);
  const im = eigenvalues.map(([, i]) => Math.abs(i));
  const tiny = 1e-6;
  let meaning;
  if (re.every((r) => r < -tiny)) meaning = "Their real parts are negative, so small enough plain gradient steps settle at the equilibrium";
  else if (re.some((r) => r > tiny)) meaning = "A positive real part pushes the point away from the equilibrium";
  else if (im.some((i) => i > tiny)) meaning = "They are purely imaginary: to first order the field only turns the point round the equilibrium and does not pull it in";
  else meaning = "Both are zero: the field is flat near the equilibrium, so it neither pulls nor turns the point";
  return `Near (0, 0) the field's Jacobian has eigenvalues ${shown}. ${meaning}.`;
}

function complexWords(re, im) {
  const r = Math.abs(re) < 1e-6 ? 0 : re;
  const i = Math.abs(im) < 1e-6 ? 0 : im;
  if (i === 0) return formatNumber(r).replace(/^-/, "−");
  const imag = `${formatNumber(Math.abs(i))}i`;
  if (r === 0) return `${i < 0 ? "−" : ""}${imag}`;
  return `${formatNumber(r).replace(/^-/, "−")} ${i < 0 ? "−" : "+"} ${imag}`;
}

/** Pixel mappings of a plot of [-half θ, half θ] x [-half ψ, half ψ] in a w x h canvas. */
export function plotLayout(w, h, half) {
  const left = MARGIN.left;
  const top = MARGIN.top;
  const pw = Math.max(10, w - MARGIN.left - MARGIN.right);
  const ph = Math.max(10, h - MARGIN.top - MARGIN.bottom);
  const [ht, hp] = half;
  return {
    left, top, width: pw, height: ph, half,
    x: (theta) => left + ((theta + ht) / (2 * ht)) * pw,
    y: (psi) => top + ((hp - psi) / (2 * hp)) * ph,
  };
}

/**
 * The field's arrows in pixels: at each grid point, one iteration of plain gradient steps
 * (rates times the field) drawn to scale on both axes, the longest one grid spacing long.
 * Returns [{x0, y0, x1, y1}].
 */
export function fieldArrows(result, layout) {
  const { theta, psi, v_theta: vt, v_psi: vp } = result.field;
  const sx = layout.width / (2 * layout.half[0]);
  const sy = layout.height / (2 * layout.half[1]);
  const n = theta.length;
  const dx = vt.map((v) => v * result.rates.theta * sx);
  const dy = vp.map((v) => -v * result.rates.psi * sy);
  let longest = 0;
  for (let k = 0; k < dx.length; k++) longest = Math.max(longest, Math.hypot(dx[k], dy[k]));
  const spacing = Math.min(layout.width / n, layout.height / psi.length);
  const scale = longest > 0 ? spacing / longest : 0;
  const out = [];
  for (let j = 0; j < psi.length; j++) {
    for (let i = 0; i < n; i++) {
      const k = j * n + i;
      const x0 = layout.x(theta[i]);
      const y0 = layout.y(psi[j]);
      out.push({ x0, y0, x1: x0 + dx[k] * scale, y1: y0 + dy[k] * scale });
    }
  }
  return out;
}

export class DiracView {
  /**
   * elements: {details, canvas, explain, sgd, eigen, settings, steps (a select), status}.
   * options: run (emits `config`), post(body) -> Promise of the answer (default: fetch),
   * lossTitle(kind), palette(), delay (ms).
   */
  constructor(elements, { run = null, post = postDirac, lossTitle = (k) => k, palette = () => PALETTES.ganlab, delay = 250 } = {}) {
    this.el = elements;
    this.delay = delay; // ms of quiet before asking: a dragged setting asks once
    this.timer = null;
    this.post = post;
    this.lossTitle = lossTitle;
    this.palette = palette;
    this.config = null;
    this.result = null;
    this.sentKey = null; // what the shown (or awaited) answer was asked for
    this.asked = 0; // the latest request's number: older answers are dropped
    this.pending = null; // the latest request's promise (tests wait on it)
    this.ctx = elements.canvas.getContext("2d");
    const steps = elements.steps;
    if (steps && !steps.options.length) {
      for (const n of STEP_CHOICES) steps.add(new Option(String(n), String(n), n === DEFAULT_STEPS, n === DEFAULT_STEPS));
    }
    steps?.addEventListener("change", () => this.refresh());
    elements.details.addEventListener("toggle", () => this.refresh());
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.draw()).observe(elements.canvas);
    run?.on("config", (config) => this.setConfig(config));
  }

  get steps() {
    return Number(this.el.steps?.value) || DEFAULT_STEPS;
  }

  setConfig(config) {
    this.config = config;
    this.refresh();
  }

  /** Ask again after `delay` ms without another change (at once when 0). */
  refresh() {
    if (!this.delay) return this.ask();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.ask(), this.delay);
    return this.pending;
  }

  /** Ask the server again if the section is open and what it follows has changed. */
  ask() {
    if (!this.config || !this.el.details.open) return this.pending;
    const body = { config: diracConfig(this.config), steps: this.steps };
    const key = JSON.stringify(body);
    if (key === this.sentKey) return this.pending;
    this.sentKey = key;
    const number = ++this.asked;
    const config = this.config;
    const words = settingsWords(config, this.lossTitle);
    this.el.status.textContent = "Computing…";
    this.pending = this.post(body).then(
      (result) => {
        if (number !== this.asked) return;
        this.result = result;
        this.el.status.textContent = "";
        this.el.settings.textContent = `Following: ${words}.`;
        const lead = headline(result, config);
        sentences(this.el.explain, lead);
        this.el.canvas.setAttribute("aria-label", `The Dirac-GAN's vector field and path of training. ${lead.join(" ")}`);
        if (this.el.sgd) sentences(this.el.sgd, [contrastWords(result, config)]);
        sentences(this.el.eigen, [eigenWords(result.eigenvalues)]);
        this.draw();
      },
      (err) => {
        if (number !== this.asked) return;
        this.sentKey = null; // try again at the next change
        this.el.status.textContent = `The game could not be computed: ${err.message}`;
      },
    );
    return this.pending;
  }

  draw() {
    const { canvas } = this.el;
    const rect = canvas.getBoundingClientRect();
    if (!this.result || rect.width < 20 || rect.height < 20) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(rect.width);
    const h = Math.round(rect.height);
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const r = this.result;
    const layout = plotLayout(w, h, r.half);
    const p = this.palette();
    this.drawAxes(ctx, layout);
    ctx.save();
    ctx.beginPath();
    ctx.rect(layout.left, layout.top, layout.width, layout.height);
    ctx.clip();
    drawArrows(ctx, fieldArrows(r, layout));
    // The path, then its start (hollow) and end (filled).
    ctx.strokeStyle = p.fake;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    r.path.forEach(([t, s], i) => (i ? ctx.lineTo(layout.x(t), layout.y(s)) : ctx.moveTo(layout.x(t), layout.y(s))));
    ctx.stroke();
    const [t0, s0] = r.path[0];
    const [t1, s1] = r.path[r.path.length - 1];
    ctx.lineWidth = 2;
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc(layout.x(t0), layout.y(s0), 5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = p.fake;
    ctx.beginPath();
    ctx.arc(layout.x(t1), layout.y(s1), 4.5, 0, 2 * Math.PI);
    ctx.fill();
    // The equilibrium: G on the data (θ = 0), D flat (ψ = 0).
    const ex = layout.x(0);
    const ey = layout.y(0);
    ctx.strokeStyle = p.real;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(ex - 6, ey);
    ctx.lineTo(ex + 6, ey);
    ctx.moveTo(ex, ey - 6);
    ctx.lineTo(ex, ey + 6);
    ctx.stroke();
    ctx.restore();
  }

  drawAxes(ctx, layout) {
    const { left, top, width, height, half } = layout;
    ctx.strokeStyle = "#dadce0";
    ctx.lineWidth = 1;
    ctx.strokeRect(left, top, width, height);
    ctx.beginPath();
    ctx.moveTo(layout.x(0), top);
    ctx.lineTo(layout.x(0), top + height);
    ctx.moveTo(left, layout.y(0));
    ctx.lineTo(left + width, layout.y(0));
    ctx.stroke();
    ctx.fillStyle = "#5f6368";
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const { value, label } of axisTicks(scaleLinear().domain([-half[0], half[0]]), 4)) {
      ctx.fillText(label, layout.x(value), top + height + 3);
    }
    ctx.fillText("θ: G's point (the data is at 0)", left + width / 2, top + height + 20);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const { value, label } of axisTicks(scaleLinear().domain([-half[1], half[1]]), 4)) {
      ctx.fillText(label, left - 4, layout.y(value));
    }
    ctx.save();
    ctx.translate(11, top + height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText("ψ: D's slope", 0, 0);
    ctx.restore();
  }
}

/**
 * Show `texts` in `el`, one span per sentence; a sentence that differs from the one shown
 * before it in the same place flashes (class "dirac-changed"), so after a settings change the
 * learner sees which sentences it changed. Nothing flashes the first time.
 */
export function sentences(el, texts) {
  const before = [...el.querySelectorAll(":scope > span")].map((span) => span.textContent);
  const shown = el.dataset.shown === "1";
  const spans = texts.filter(Boolean).map((text, i) => {
    const span = el.ownerDocument.createElement("span");
    span.textContent = text;
    if (shown && before[i] !== text) span.className = "dirac-changed";
    return span;
  });
  el.dataset.shown = "1";
  // A space between sentences, as in running text.
  el.replaceChildren(...spans.flatMap((span, i) => (i ? [" ", span] : [span])));
}

function drawArrows(ctx, arrows) {
  ctx.strokeStyle = "#9aa0a6";
  ctx.fillStyle = "#9aa0a6";
  ctx.lineWidth = 1;
  for (const { x0, y0, x1, y1 } of arrows) {
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (len < 1.5) {
      ctx.fillRect(x0 - 0.75, y0 - 0.75, 1.5, 1.5); // too short to point: a dot
      continue;
    }
    const ux = (x1 - x0) / len;
    const uy = (y1 - y0) / len;
    const head = Math.min(4, len / 2);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.moveTo(x1 - head * (ux - 0.6 * uy), y1 - head * (uy + 0.6 * ux));
    ctx.lineTo(x1, y1);
    ctx.lineTo(x1 - head * (ux + 0.6 * uy), y1 - head * (uy - 0.6 * ux));
    ctx.stroke();
  }
}

/** POST the request to the page's own server; a refusal's message becomes the error's. */
export async function postDirac(body) {
  const res = await fetch("api/dirac", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(typeof data.detail === "string" ? data.detail : `HTTP ${res.status}`);
  return data;
}
