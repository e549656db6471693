// Every hyperparameter control, declared once: which node of the model graph it sits next to,
// its config path, its kind and its choices. The model graph builds its controls from this.

const LR = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1];
const ACTIVATIONS = [
  ["relu", "ReLU"],
  ["leaky_relu", "Leaky ReLU"],
  ["tanh", "tanh"],
  ["elu", "ELU"],
];
const OPTIMIZERS = [
  ["sgd", "SGD"],
  ["adam", "Adam"],
  ["rmsprop", "RMSProp"],
];

function network(prefix, who) {
  return [
    { path: `${prefix}.layers`, label: "Hidden layers", kind: "int", min: 0, max: 8, title: `${who}: number of hidden layers (0 = a linear map)` },
    { path: `${prefix}.neurons`, label: "Neurons", kind: "int", min: 1, max: 512, title: `${who}: neurons in each hidden layer` },
    { path: `${prefix}.activation`, label: "Activation", kind: "select", options: ACTIVATIONS },
  ];
}

function optimizer(prefix, who) {
  return [
    { path: `${prefix}.kind`, label: "Optimizer", kind: "select", options: OPTIMIZERS },
    { path: `${prefix}.lr`, label: "Learning rate", kind: "number", choices: LR, min: 1e-6, max: 10, title: `${who}'s learning rate` },
    { path: `${prefix}.momentum`, label: "Momentum", kind: "number", min: 0, max: 0.999, step: 0.05, advanced: true, when: (c) => c[prefix].kind !== "adam" },
    { path: `${prefix}.beta1`, label: "Adam β1", kind: "number", min: 0, max: 0.999, step: 0.05, advanced: true, when: (c) => c[prefix].kind === "adam" },
    { path: `${prefix}.beta2`, label: "Adam β2", kind: "number", min: 0, max: 0.9999, step: 0.001, advanced: true, when: (c) => c[prefix].kind === "adam" },
  ];
}

export const NODES = [
  {
    id: "noise",
    title: "Noise z",
    help: "Random input to the generator.",
    controls: [
      { path: "noise.kind", label: "Distribution", kind: "select", options: [["uniform", "Uniform"], ["gaussian", "Gaussian"]] },
      { path: "noise.dim", label: "Dimensions", kind: "int", min: 1, max: 8 },
    ],
  },
  {
    id: "generator",
    title: "Generator G",
    help: "A neural network that turns noise into points.",
    controls: [
      ...network("generator", "Generator"),
      ...optimizer("g_optimizer", "The generator"),
      { path: "training.g_steps", label: "G updates / iteration", kind: "int", min: 0, max: 10 },
    ],
  },
  {
    id: "samples",
    title: "Samples",
    help: "Each update draws a batch of fake and of real points.",
    controls: [
      { path: "training.batch_size", label: "Batch size", kind: "int", min: 1, max: 4096, choices: [16, 32, 64, 128, 150, 256, 512, 1024] },
    ],
  },
  {
    id: "discriminator",
    title: "Discriminator D",
    help: "A neural network that scores how real a point looks.",
    controls: [
      ...network("discriminator", "Discriminator"),
      { path: "discriminator.packing", label: "Packing", kind: "int", min: 1, max: 4, title: "PacGAN: D judges this many samples at once" },
      ...optimizer("d_optimizer", "The discriminator"),
      { path: "training.d_steps", label: "D updates / iteration", kind: "int", min: 0, max: 10 },
    ],
  },
  {
    id: "loss",
    title: "Loss",
    help: "How D's predictions become each network's objective.",
    controls: [
      {
        path: "loss.kind", label: "Loss", kind: "select",
        options: [["log", "Log loss (original GAN)"], ["lsgan", "Least squares"], ["wgan", "Wasserstein (clipping)"], ["wgan_gp", "Wasserstein + gradient penalty"], ["hinge", "Hinge"]],
      },
      { path: "loss.generator", label: "G loss", kind: "select", options: [["non_saturating", "non-saturating"], ["minimax", "minimax"]], when: (c) => c.loss.kind === "log" },
      { path: "loss.gp_weight", label: "GP weight λ", kind: "number", min: 0, max: 1000, step: 1, when: (c) => c.loss.kind === "wgan_gp" },
      { path: "loss.clip", label: "Weight clip", kind: "number", min: 0.0001, max: 10, step: 0.005, when: (c) => c.loss.kind === "wgan" },
      { path: "loss.r1", label: "R1 penalty γ", kind: "number", min: 0, max: 1000, step: 0.1, advanced: true },
      { path: "loss.label_smoothing", label: "Label smoothing", kind: "number", min: 0, max: 0.5, step: 0.05, advanced: true, when: (c) => c.loss.kind === "log" || c.loss.kind === "lsgan" },
      { path: "training.lr_halflife", label: "LR half-life (it.)", kind: "int", min: 0, max: 10000000, advanced: true, title: "Both learning rates halve over this many iterations; 0 keeps them constant" },
    ],
  },
];

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

/** Parse and check a control's input text; returns {value} or {error}. */
export function parseControl(control, text) {
  if (control.kind === "select") return { value: text };
  const v = Number(text);
  if (text === "" || !Number.isFinite(v)) return { error: `${control.label}: enter a number` };
  if (control.kind === "int" && !Number.isInteger(v)) return { error: `${control.label}: enter a whole number` };
  if (control.min !== undefined && v < control.min) return { error: `${control.label}: at least ${control.min}` };
  if (control.max !== undefined && v > control.max) return { error: `${control.label}: at most ${control.max}` };
  return { value: v };
}
