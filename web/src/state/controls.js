// The hyperparameter controls of the model graph. Types, ranges and option lists come only from
// the server's config schema (GET /api/schema, see state/schema.js); this file adds what the
// schema cannot say: which node a control sits next to, its label, its help, the display names
// of option values, a menu of usual values, and when it applies. `buildNodes(schema)` joins the
// two; without a schema there are no controls to build (the page waits for /api/schema).

import { fieldSpec, checkValue } from "./schema.js";

/** The learning rates offered in the menu: GAN Lab's 1-3-10 scale, and those the defaults and
 * presets use (so that the menu shows them in order). */
const LR = [0.0001, 0.0003, 0.0004, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.03, 0.1, 0.3, 1];

const ACTIVATIONS = [
  ["relu", "ReLU"],
  ["leaky_relu", "Leaky ReLU"],
  ["tanh", "tanh"],
  ["elu", "ELU"],
  ["gelu", "GELU"],
  ["silu", "SiLU"],
];
const OPTIMIZERS = [
  ["sgd", "SGD"],
  ["adam", "Adam"],
  ["rmsprop", "RMSProp"],
];
const SCHEMES = [
  ["alternating", "Alternating"],
  ["simultaneous", "Simultaneous"],
  ["extragradient", "Extragradient"],
];

/** Decays offered for the generator's weight average: off, then ever slower averages. */
const EMA = [0, 0.9, 0.99, 0.995, 0.999, 0.9999];

/** Why the updates-per-iteration counts do not apply, or null where they do: the other
 * schemes update each network once per iteration. */
const stepsUnused = (c) => {
  const scheme = c?.training?.scheme;
  return scheme && scheme !== "alternating"
    ? `Not used now: the ${scheme} scheme updates each network once per iteration.`
    : null;
};

/** Batch sizes for the menu: powers of two from 16 up to the schema's maximum, and GAN Lab's 150. */
function batchSizes(spec) {
  const out = [150];
  for (let n = 16; spec.max === undefined ? n <= 1024 : n <= spec.max; n *= 2) out.push(n);
  // The largest allowed batch is always offered, power of two or not.
  if (spec.max !== undefined && !out.includes(spec.max)) out.push(spec.max);
  return out.sort((a, b) => a - b);
}

/** Hints for a hidden-layer stack; `who` names the network in messages ("Generator"). */
function network(prefix, node, who) {
  const lower = who.toLowerCase();
  return [
    {
      path: `${prefix}.layers`, node, label: "Hidden layers", fullLabel: `${who} hidden layers`,
      help: `How many hidden layers the ${lower} has; 0 makes it a straight linear map. One to three layers are enough for 2D data.`,
    },
    {
      path: `${prefix}.neurons`, node, label: "Neurons", fullLabel: `${who} neurons`,
      help: `Neurons in each hidden layer of the ${lower}. More neurons can bend the output into finer shapes; 8 to 64 is typical here.`,
    },
    {
      path: `${prefix}.activation`, node, label: "Activation", fullLabel: `${who} activation`, options: ACTIVATIONS,
      help: `The non-linear function after each hidden layer of the ${lower}. ReLU is the usual choice; tanh, GELU and SiLU give smoother shapes.`,
    },
  ];
}

/** Hints for an optimizer's settings; momentum and the betas apply to different optimizers. */
function optimizer(prefix, node, who) {
  const lower = who.toLowerCase();
  const isAdam = (c) => c?.[prefix]?.kind === "adam";
  return [
    {
      path: `${prefix}.kind`, node, label: "Optimizer", fullLabel: `${who} optimizer`, options: OPTIMIZERS,
      help: `How the ${lower}'s weights follow their gradients. Adam adapts the step size per weight and is the safe default; SGD is the plain rule.`,
    },
    {
      path: `${prefix}.lr`, node, label: "Learning rate", fullLabel: `${who} learning rate`, suggestions: LR,
      help: `How big a step the ${lower} takes on each update. Too large and training swings or collapses, too small and it crawls; 0.001 to 0.01 is typical.`,
    },
    {
      path: `${prefix}.momentum`, node, label: "Momentum", fullLabel: `${who} momentum`, step: 0.05, advanced: true,
      when: (c) => !isAdam(c),
      help: "How much of the previous step carries into the next (SGD and RMSProp). 0 is off; 0.9 is a common choice.",
    },
    {
      path: `${prefix}.beta1`, node, label: "Adam β1", fullLabel: `${who} Adam β1`, step: 0.05, advanced: true,
      when: isAdam,
      help: "How slowly Adam's running mean of the gradient forgets. GANs often use 0.5 instead of the usual 0.9.",
    },
    {
      path: `${prefix}.beta2`, node, label: "Adam β2", fullLabel: `${who} Adam β2`, step: 0.001, advanced: true,
      when: isAdam,
      help: "How slowly Adam's running mean of the squared gradient forgets; 0.999 is the usual value, 0.9 reacts faster.",
    },
  ];
}

/**
 * The UI hints, one per setting: `{path, label, fullLabel?, node, help, advanced?, when?(config),
 * options? ([[value, display label], ...]), suggestions? (numbers, or a function of the field's
 * schema spec, for a menu), step?, unused?(config)}`. `when` hides a control that has no meaning
 * for the config; `unused` keeps it in view but disabled, and returns the sentence that says why
 * (or null where it applies). Entries with `node: null` have no control in the graph; they only
 * name their setting in messages.
 */
export const HINTS = [
  {
    path: "noise.kind", node: "noise", label: "Distribution", fullLabel: "Noise distribution",
    options: [["uniform", "Uniform"], ["gaussian", "Gaussian"]],
    help: "Where the generator's random inputs come from: evenly spread over a square, or bell-shaped around 0.",
  },
  {
    path: "noise.dim", node: "noise", label: "Dimensions", fullLabel: "Noise dimensions",
    help: "How many random numbers feed the generator per sample. 2 matches the 2D data; 1 makes the output a curve.",
  },
  ...network("generator", "generator", "Generator"),
  ...optimizer("g_optimizer", "generator", "Generator"),
  {
    path: "training.g_steps", node: "generator", label: "G updates / iteration", fullLabel: "Generator updates per iteration",
    unused: stepsUnused,
    help: "How many times the generator is updated in each training iteration (alternating scheme); 1 is usual, 0 freezes it.",
  },
  {
    path: "generator.ema", node: "generator", label: "Weight average (EMA)", fullLabel: "Generator weight average (EMA)",
    suggestions: EMA, advanced: true,
    help: "Keeps a moving average of the generator's weights: each G update moves it 1 − this value of the way to the current weights, which smooths out training's back-and-forth. 0 is off; 0.999 is usual.",
  },
  {
    path: "view.average", node: "generator", label: "Show averaged G", fullLabel: "Show the averaged generator", advanced: true,
    when: (c) => c?.generator?.ema > 0,
    help: "The picture, the samples and the metrics show the averaged generator instead of the one being trained; training itself is unchanged.",
  },
  {
    path: "training.batch_size", node: "samples", label: "Batch size", suggestions: batchSizes,
    help: "How many real and how many fake points each update looks at. Larger batches give steadier but slower updates; GAN Lab uses 150.",
  },
  ...network("discriminator", "discriminator", "Discriminator"),
  {
    path: "discriminator.packing", node: "discriminator", label: "Packing", fullLabel: "Discriminator packing",
    help: "PacGAN: the discriminator judges this many samples together, which makes a generator that covers only a few modes easier to spot. 1 is off.",
  },
  {
    path: "discriminator.spectral_norm", node: "discriminator", label: "Spectral norm", fullLabel: "Discriminator spectral norm", advanced: true,
    help: "Divides each of the discriminator's weight matrices by its largest singular value, which limits how steep D can get and often steadies training. Off by default; SN-GAN turns it on.",
  },
  ...optimizer("d_optimizer", "discriminator", "Discriminator"),
  {
    path: "training.d_steps", node: "discriminator", label: "D updates / iteration", fullLabel: "Discriminator updates per iteration",
    unused: stepsUnused,
    help: "How many times the discriminator is updated per iteration (alternating scheme); Wasserstein losses often use 5, the others 1 or 2.",
  },
  {
    path: "loss.kind", node: "loss", label: "Loss",
    options: [["log", "Log loss (original GAN)"], ["lsgan", "Least squares"], ["wgan", "Wasserstein (clipping)"], ["wgan_gp", "Wasserstein + gradient penalty"], ["hinge", "Hinge"]],
    help: "How the discriminator's verdicts become each network's objective. Log loss is the original GAN; the Wasserstein losses often train more steadily. Picking a loss also sets its usual updates per iteration and optimizers, which you can change afterwards.",
  },
  {
    path: "loss.generator", node: "loss", label: "G loss", fullLabel: "Generator loss",
    options: [["non_saturating", "non-saturating"], ["minimax", "minimax"]],
    when: (c) => c?.loss?.kind === "log",
    help: "Non-saturating gives the generator strong gradients early on; minimax is the original formula, which often stalls at the start.",
  },
  {
    path: "loss.gp_weight", node: "loss", label: "GP weight λ", fullLabel: "Gradient penalty weight λ", step: 1,
    when: (c) => c?.loss?.kind === "wgan_gp",
    help: "How strongly the gradient penalty keeps the discriminator's slope near 1; 10 is the usual value.",
  },
  {
    path: "loss.clip", node: "loss", label: "Weight clip", step: 0.005,
    when: (c) => c?.loss?.kind === "wgan",
    help: "Every discriminator weight is clipped into ± this bound to keep it smooth; 0.01 is the usual value.",
  },
  {
    path: "loss.r1", node: "loss", label: "R1 penalty γ", step: 0.1, advanced: true,
    help: "Penalises the discriminator's slope on real points, which calms oscillation. 0 is off; try 0.1 to 10.",
  },
  {
    path: "loss.r2", node: "loss", label: "R2 penalty γ", step: 0.1, advanced: true,
    help: "Penalises the discriminator's slope on generated points, so it pushes fakes more gently. 0 is off; try 0.1 to 10.",
  },
  {
    path: "loss.label_smoothing", node: "loss", label: "Label smoothing", step: 0.05, advanced: true,
    when: (c) => c?.loss?.kind === "log" || c?.loss?.kind === "lsgan",
    help: "Real points are labelled 1 minus this value, so the discriminator is never fully sure. 0 is off; 0.1 is typical.",
  },
  {
    path: "training.lr_halflife", node: "loss", label: "LR half-life (it.)", fullLabel: "Learning-rate half-life", advanced: true,
    help: "Both learning rates halve over this many iterations, which lets training settle. 0 keeps them constant.",
  },
  {
    path: "training.scheme", node: "loss", label: "Update scheme", fullLabel: "Training scheme", options: SCHEMES, advanced: true,
    help: "How the networks take turns. Alternating (usual): D's updates, then G's. Simultaneous: both step from the same point. Extragradient: both look one step ahead, then step from the start with the gradients found there.",
  },
  {
    path: "training.unrolled_steps", node: "loss", label: "Unrolled D steps", fullLabel: "Unrolled discriminator steps", advanced: true,
    help: "G's update looks ahead through this many simulated D updates, so G cannot simply chase D's current verdict; this fights mode collapse. 0 is off; 5 is common, and each step makes G's update slower.",
  },
  {
    path: "training.instance_noise", node: "loss", label: "Instance noise σ", fullLabel: "Instance noise σ", step: 0.05, advanced: true,
    help: "Gaussian noise added to every point D sees, real and fake, so the two overlap and D's gradients stay useful; it fades to 0. σ is in units where the data spans −1 to 1. 0 is off; try 0.1.",
  },
  {
    path: "training.instance_noise_anneal", node: "loss", label: "Noise fades over (it.)", fullLabel: "Instance noise fade-out iterations", advanced: true,
    when: (c) => c?.training?.instance_noise > 0,
    help: "Iterations over which the instance noise falls linearly to 0; 2000 is the default.",
  },
  // Settings without a control in the graph: named here for messages.
  { path: "seed", node: null, label: "Seed", help: "The random seed: the same seed and settings give the same run." },
  { path: "data.name", node: null, label: "Distribution", help: "The distribution of real points to learn." },
  { path: "data.strokes", node: null, label: "Drawing", help: "The drawn distribution: strokes in the unit square." },
  { path: "data.brush_width", node: null, label: "Brush width", help: "How wide the drawn band is." },
  { path: "data.points", node: null, label: "Imported points", help: "An imported set of real points." },
  { path: "data.jitter", node: null, label: "Jitter", help: "Random spread added around each imported point." },
];

/** Each node of the graph, in its order from noise to loss; `predictions` has no controls. */
const NODE_INFO = [
  { id: "noise", title: "Noise z", help: "Random input to the generator." },
  { id: "generator", title: "Generator G", help: "A neural network that turns noise into points." },
  { id: "samples", title: "Samples", help: "Each update draws a batch of fake and of real points." },
  { id: "discriminator", title: "Discriminator D", help: "A neural network that scores how real a point looks." },
  { id: "predictions", title: "Predictions", help: "D's mean verdict on real and on fake samples." },
  { id: "loss", title: "Loss", help: "How D's predictions become each network's objective." },
];

/** The name of a setting in sentences: its hint's full label, else the dotted path. */
export function labelFor(path) {
  const hint = HINTS.find((h) => h.path === path);
  return hint ? hint.fullLabel || hint.label : path;
}

/** The display name of a setting's value ("adam" → "Adam"), as its menu shows it. */
export function optionName(path, value) {
  const hint = HINTS.find((h) => h.path === path);
  const hit = hint && hint.options && hint.options.find(([v]) => v === value);
  return hit ? hit[1] : String(value);
}

/** A control's kind from its schema spec, or null for a type no control edits. */
function kindOf(spec) {
  if (spec.options) return "select";
  return { integer: "int", number: "number", boolean: "boolean" }[spec.type] || null;
}

/** Whether `v` lies inside the spec's range (menus must not offer what the server refuses). */
function inRange(spec, v) {
  return checkValue({ ...spec, options: undefined }, v, "") === null;
}

/** One control: the hint's UI plus the schema's kind, range and choices. */
function makeControl(hint, spec) {
  const kind = kindOf(spec);
  const control = {
    path: hint.path, label: hint.label, fullLabel: hint.fullLabel || hint.label, kind,
    min: spec.min, max: spec.max, exclusiveMin: spec.exclusiveMin, exclusiveMax: spec.exclusiveMax,
    title: hint.help, help: hint.help, advanced: Boolean(hint.advanced), spec,
  };
  if (hint.step !== undefined) control.step = hint.step;
  if (hint.when) control.when = hint.when;
  if (hint.unused) control.unused = hint.unused;
  if (kind === "select") {
    const names = new Map(hint.options || []);
    control.options = spec.options.map((v) => [String(v), names.get(v) ?? String(v)]);
  }
  if (hint.suggestions && (kind === "int" || kind === "number")) {
    const list = typeof hint.suggestions === "function" ? hint.suggestions(spec) : hint.suggestions;
    control.choices = list.filter((v) => inRange(spec, v));
  }
  return control;
}

/**
 * The graph's nodes with their controls, `[{id, title, help, controls: [{path, label, kind:
 * "int"|"number"|"select"|"boolean", min, max, options, choices, step, title, help, advanced,
 * when, unused}]}]`, ranges and options from `schema` (the JSON of GET /api/schema). A hint whose path
 * the schema lacks (a server of another version) gets no control rather than a wrong one.
 */
export function buildNodes(schema) {
  return NODE_INFO.map((info) => ({
    ...info,
    controls: HINTS.filter((h) => h.node === info.id).flatMap((hint) => {
      const spec = fieldSpec(schema, hint.path);
      return spec && kindOf(spec) ? [makeControl(hint, spec)] : [];
    }),
  }));
}

/** Read a dotted path from a nested object. */
export function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

/** A nested partial object with one value at a dotted path. */
export function setPath(path, value) {
  const keys = path.split(".");
  const out = {};
  let node = out;
  keys.slice(0, -1).forEach((k) => {
    node[k] = {};
    node = node[k];
  });
  node[keys[keys.length - 1]] = value;
  return out;
}

/**
 * Parse and check a control's input text against its schema range; returns {value} or {error},
 * the error in the same sentences as a link's settings get (schema.js checkValue).
 */
export function parseControl(control, text) {
  const spec = control.spec;
  let value;
  if (control.kind === "select") {
    // Option values are strings in the DOM: map back to the schema's own value.
    value = spec.options.find((v) => String(v) === text) ?? text;
  } else if (control.kind === "boolean") {
    value = text === "true" ? true : text === "false" ? false : text;
  } else {
    const t = String(text).trim();
    value = t === "" ? NaN : Number(t);
    if (!Number.isFinite(value)) return { error: `${control.label} must be a number.` };
  }
  const error = checkValue(spec, value, control.label, control.options && spec.options.map((v, i) => [v, control.options[i][1]]));
  return error ? { error } : { value };
}
