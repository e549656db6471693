// Slow motion: one update taken apart into its five phases (generate, classify, loss,
// gradients, update), each a `step` with `sub: true`, showing the real values the server sends.
import { arrowSegments, formatNumber } from "../views/math.js";
import { shownGenerator } from "./variant-labels.js";

export const PHASES = ["generate", "classify", "loss", "gradients", "update"];

const TEXT = {
  d: {
    generate: "The discriminator's turn. A batch of noise goes through the generator to make fake samples (purple rings); a batch of real samples is drawn (green rings).",
    classify: "D scores every sample of the batch: the fill colour is its verdict, from fake (purple) to real (green).",
    loss: "D's loss measures how wrong those verdicts are: real samples should score high, fake ones low.",
    gradients: "Backpropagation: the loss's gradient with respect to each of D's weights. Their size is shown per layer.",
    update: "D's optimizer moves its weights a small step against the gradient. The heatmap shifts slightly: one update changes D's verdicts only a little, in the direction that separates this batch better.",
  },
  g: {
    generate: "The generator's turn. A fresh batch of noise goes through G to make fake samples.",
    classify: "D (held fixed now) scores each fake sample.",
    loss: "G's loss is low when D mistakes its samples for real ones.",
    gradients: "The gradient of G's loss at each fake sample: the arrows show where each sample should move (against the gradient) to fool D.",
    update: "G's optimizer changes G's weights so that its samples move along the arrows. The arrows go from each sample's old place towards its new one, magnified so the step can be seen.",
  },
};

// D's penalties as the loss phase shows them: the value's name (the weighted penalty the
// update added to D's loss, protocol `phase` values), its label with the weight from the
// config, and what the penalty does, in one sentence.
export const PENALTY_TERMS = [
  ["d_gp", (l) => `+ λ·GP${weight("λ", l?.gp_weight)}`, "λ·GP = λ·mean (|∇D| − 1)² at random points between a real and a fake sample: it keeps D's slope near 1."],
  ["d_r1", (l) => `+ γ·R1${weight("γ", l?.r1)}`, "γ·R1 = γ/2·mean |∇D|² at the real samples: it keeps D flat on the data."],
  ["d_r2", (l) => `+ γ·R2${weight("γ", l?.r2)}`, "γ·R2 = γ/2·mean |∇D|² at the fake samples: it keeps D flat on the fakes."],
];
const weight = (name, w) => (w > 0 ? ` (${name} = ${formatNumber(w)})` : "");
const TOTAL_TEXT = "D minimises the total: its objective (d loss) plus each weighted penalty, so the gradients phase is the total's gradient.";

/** The penalties among a D loss phase's `values` (those the server sent: the ones on). */
function penaltiesIn(values) {
  return values ? PENALTY_TERMS.filter(([key]) => key in values) : [];
}

/**
 * A phase's values as [label, value] rows. D's loss phase with penalties reads as a sum:
 * the objective, each weighted penalty, the total; anything else by its name.
 */
export function valueRows(network, phase, values, config = null) {
  const fmt = (v) => (Array.isArray(v) ? v.map(formatNumber).join(", ")
    : v && typeof v === "object" ? Object.entries(v).map(([a, b]) => `${a}: ${formatNumber(b)}`).join(", ")
      : formatNumber(v));
  const terms = network === "d" && phase === "loss" ? penaltiesIn(values) : [];
  if (!terms.length) return Object.entries(values || {}).map(([k, v]) => [k.replace(/_/g, " "), fmt(v)]);
  const named = new Set(["d_loss", "d_total", ...terms.map(([key]) => key)]);
  return [
    ["d loss (objective)", fmt(values.d_loss)],
    ...terms.map(([key, label]) => [label(config?.loss), fmt(values[key])]),
    ["= total D minimises", fmt(values.d_total)],
    ...Object.entries(values).filter(([k]) => !named.has(k)).map(([k, v]) => [k.replace(/_/g, " "), fmt(v)]),
  ];
}

/** σ of the instance noise D's next update adds (σ0 fading linearly to 0 over the anneal
 * iterations, from the completed `iteration`), 0 when there is none. */
export function instanceNoiseSigma(training, iteration) {
  const s0 = training?.instance_noise ?? 0;
  if (!(s0 > 0)) return 0;
  return s0 * Math.max(0, 1 - (iteration || 0) / (training.instance_noise_anneal || 1));
}

const plural = (k, word) => `${k} ${word}${k === 1 ? "" : "s"}`;

/**
 * The sentence under a phase: TEXT's, with what the variants in effect change about it
 * (`ctx`: { config, iteration, gUpdates, values }; `values`, the phase's values from the
 * server, name the penalties D's loss phase explains). Slow motion always takes one update of one
 * network at a time (the server's walk), whatever the scheme: the sentences say so.
 */
export function phaseText(network, phase, { config = null, iteration = 0, gUpdates = 0, values = null } = {}) {
  const t = config?.training || {};
  const scheme = t.scheme || "alternating";
  const k = t.unrolled_steps || 0;
  const sigma = instanceNoiseSigma(t, iteration);
  const shown = shownGenerator(config, gUpdates);
  let text = TEXT[network][phase];
  if (network === "g" && k > 0) {
    // Metz et al.'s unrolling: G is judged by D after k simulated updates (D itself stays).
    const ahead = `D after ${plural(k, "simulated update")} on fresh batches`;
    text = {
      generate: text,
      classify: `D's own weights stay fixed, but G is judged by a look-ahead copy of D: ${ahead}. That copy scores each fake sample.`,
      loss: "G's loss is low when the look-ahead D mistakes its samples for real ones.",
      gradients: `The gradient of G's loss at each fake sample: the arrows show where each sample should move (against the gradient) to fool the look-ahead D. G's weights get more: their gradient also flows back through the ${plural(k, "simulated D update")}, so it counts how D would react.`,
      update: `${text} The step also counts how the simulated D would react, so these moves can differ from the arrows of the gradients phase.`,
    }[phase];
  }
  if (phase === "generate") {
    if (network === "d" && scheme === "simultaneous") {
      text += " Slow motion takes the updates one at a time, D's first, as the alternating scheme does; with the simultaneous scheme, Play and “Both” compute D's and G's gradients at the same point and update both together.";
    } else if (network === "d" && scheme === "extragradient") {
      text += " Slow motion takes plain updates one at a time, D's first, as the alternating scheme does; with the extragradient scheme, Play and “Both” first take a look-ahead update of both networks, then update both from where they were with the gradients found there.";
    } else if (network === "g" && scheme === "simultaneous") {
      text += " D has already taken its update here; with the simultaneous scheme, G's gradient is taken at D from before it.";
    }
    if (shown && shown.averaged) text += " The rings come from G itself, the network being trained; the dots beneath are the averaged G's.";
  }
  const terms = network === "d" && phase === "loss" ? penaltiesIn(values) : [];
  if (terms.length) text += ` ${TOTAL_TEXT} ${terms.map(([, , says]) => says).join(" ")}`;
  if (phase === "classify" && sigma > 0) {
    const who = network === "d" ? "each sample" : "each fake sample";
    text += ` With instance noise, D sees ${who} moved by Gaussian noise first (σ ${formatNumber(sigma)} now, in units where the data spans −1 to 1; it fades to 0 by iteration ${t.instance_noise_anneal}); the rings show the samples before the noise.`;
  }
  return text;
}

/**
 * Arrows from each sample's place before an update to its place after, scaled so that the
 * longest is `visible` long (a real step is often a thousandth of the view): `{segments,
 * factor}`, factor 1 when the step is already visible. Segments are x0,y0,x1,y1 per sample.
 */
export function updateSegments(before, after, visible) {
  const n = Math.min(before.length, after.length) / 2;
  let longest = 0;
  for (let i = 0; i < n; i++) {
    longest = Math.max(longest, Math.hypot(after[2 * i] - before[2 * i], after[2 * i + 1] - before[2 * i + 1]));
  }
  const factor = longest > 0 && longest < visible ? visible / longest : 1;
  const segments = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = before[2 * i];
    const y = before[2 * i + 1];
    segments.set([x, y, x + (after[2 * i] - x) * factor, y + (after[2 * i + 1] - y) * factor], 4 * i);
  }
  return { segments, factor };
}

export class Walkthrough {
  constructor(els, { send, view, palette, onPhase = () => {}, counters = () => ({ iteration: 0, gUpdates: 0 }) }) {
    this.onPhaseShown = onPhase;
    this.counters = counters; // the run's completed iterations and G updates, for phaseText
    this.config = null;
    this.els = els;
    this.send = send;
    this.view = view;
    this.palette = palette;
    this.enabled = false;
    this.auto = false;
    this.plan = ["d", "g"];
    this.planIndex = 0;
    this.pending = false;
    this.timer = null;
    this.last = null;
    this.batch = {};
    this.phaseSeconds = Number(els.speed.value);
    els.next.addEventListener("click", () => this.next());
    els.play.addEventListener("click", () => this.setAuto(!this.auto));
    els.speed.addEventListener("input", () => {
      this.phaseSeconds = Number(els.speed.value);
      els.speedValue.textContent = `${this.phaseSeconds.toFixed(1)} s`;
    });
    this.renderSteps(null, null);
  }

  setConfig(config) {
    this.config = config;
    // The server's walk counts an iteration after d_steps D updates and g_steps G updates, or
    // one of each under the other schemes (Trainer.walk_plan): the plan follows it.
    const t = config.training;
    const joint = (t.scheme || "alternating") !== "alternating";
    const plan = joint ? ["d", "g"] : [...Array(t.d_steps).fill("d"), ...Array(t.g_steps).fill("g")];
    this.plan = plan.length ? plan : ["d"];
    if (this.planIndex >= this.plan.length) this.planIndex = 0;
  }

  setEnabled(on) {
    this.enabled = on;
    this.els.panel.hidden = !on;
    if (!on) {
      this.setAuto(false);
      this.view.setWalk(null);
      this.pending = false;
      this.last = null;
      this.planIndex = 0;
      this.renderSteps(null, null);
    }
  }

  setAuto(on) {
    this.auto = on && this.enabled;
    this.els.play.setAttribute("aria-pressed", String(this.auto));
    this.els.play.textContent = this.auto ? "Pause" : "Auto-play";
    clearTimeout(this.timer);
    if (this.auto && !this.pending) this.next();
  }

  /** The network whose phase comes next. */
  network() {
    if (this.last && this.last.phase !== "update") return this.last.network;
    return this.plan[this.planIndex % this.plan.length];
  }

  next() {
    if (!this.enabled || this.pending) return;
    const network = this.network();
    const id = this.send({ type: "step", phase: network, sub: true });
    if (id !== null) this.pending = true;
  }

  /** Another command interrupted the walkthrough: start the next one from the beginning. */
  interrupted() {
    this.pending = false;
    this.last = null;
    this.view.setWalk(null);
    this.renderSteps(null, null);
    this.onPhaseShown(null, null);
  }

  onError() {
    this.pending = false;
    this.setAuto(false);
  }

  onPhase(header, arrays) {
    this.pending = false;
    if (!this.enabled) return; // a late answer after slow motion was switched off
    const { network, phase } = header;
    if (phase === "update") this.planIndex = (this.planIndex + 1) % this.plan.length;
    this.last = { network, phase };
    const get = (name) => (arrays[name] ? arrays[name].data : null);
    if (phase === "generate") this.batch = { network, fake: get("fake"), real: get("real") };
    const walk = { real: this.batch.real, fake: this.batch.fake, showD: false };
    if (phase === "classify" || phase === "loss") {
      if (get("d_fake")) this.batch.dFake = get("d_fake");
      if (get("d_real")) this.batch.dReal = get("d_real");
    }
    if (phase !== "generate") {
      walk.showD = Boolean(this.batch.dFake);
      walk.dFake = this.batch.dFake;
      walk.dReal = this.batch.dReal;
    }
    if (phase === "gradients" && get("fake_grad") && this.batch.fake) {
      walk.arrows = arrowSegments(this.batch.fake, get("fake_grad"), 0.08 * this.viewExtent());
    }
    let magnified = null;
    if (phase === "update" && network === "g" && get("fake") && this.batch.fake) {
      const { segments, factor } = updateSegments(this.batch.fake, get("fake"), 0.08 * this.viewExtent());
      walk.arrows = segments;
      walk.fake = get("fake");
      walk.arrowColor = this.palette().fake;
      magnified = factor;
    }
    if (network === "g") walk.real = null;
    this.view.setWalk(walk);
    this.renderSteps(network, phase, header.values);
    if (magnified && magnified > 1.05) this.els.text.textContent += ` (Arrows magnified ×${formatNumber(magnified)}.)`;
    this.renderValues(valueRows(network, phase, header.values || {}, this.config));
    this.onPhaseShown(network, phase);
    if (this.auto) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.next(), this.phaseSeconds * 1000);
    }
  }

  /** The larger side of the data's box: arrows are drawn a fixed share of it long. */
  viewExtent() {
    const b = this.view.box;
    return b ? Math.max(b[1] - b[0], b[3] - b[2]) : 1;
  }

  renderSteps(network, phase, values = null) {
    const box = this.els.steps;
    box.textContent = "";
    for (const net of ["d", "g"]) {
      const row = document.createElement("div");
      row.className = `walk-row walk-${net}`;
      const name = document.createElement("span");
      name.className = "walk-net";
      name.textContent = net === "d" ? "D update" : "G update";
      row.append(name);
      PHASES.forEach((p, i) => {
        const s = document.createElement("span");
        s.className = "walk-phase";
        s.textContent = `${i + 1} ${p}`;
        if (net === network) {
          const current = PHASES.indexOf(phase);
          if (i === current) s.classList.add("current");
          else if (i < current) s.classList.add("done");
        }
        row.append(s);
      });
      box.append(row);
    }
    this.els.text.textContent = network ? phaseText(network, phase, { config: this.config, ...this.counters(), values }) : "Press “Next phase” to take the next update apart, or “Auto-play” to run through the phases on a timer.";
    this.els.panel.dataset.phase = phase || "";
    this.els.panel.dataset.network = network || "";
  }

  /** The phase's values, [label, value] rows (valueRows). */
  renderValues(rows) {
    const dl = this.els.values;
    dl.textContent = "";
    for (const [k, v] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      dl.append(dt, dd);
    }
  }
}
