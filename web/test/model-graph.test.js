import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";
import { buildNodes } from "../src/state/controls.js";
import { ModelGraph, PHASE_FOCUS, nodeSummary } from "../src/views/model-graph.js";
import { PALETTES } from "../src/views/colors.js";
import { recordingContext } from "../test-support/canvas.js";

const SCHEMA = JSON.parse(readFileSync(new URL("./fixtures/schema.json", import.meta.url)));
const NODES = buildNodes(SCHEMA);

const CONFIG = {
  noise: { kind: "gaussian", dim: 2 },
  generator: { layers: 2, neurons: 16, activation: "relu" },
  discriminator: { layers: 2, neurons: 16, activation: "relu", packing: 1 },
  g_optimizer: { kind: "adam", lr: 0.001, momentum: 0, beta1: 0.5, beta2: 0.999 },
  d_optimizer: { kind: "sgd", lr: 0.01, momentum: 0.9, beta1: 0.5, beta2: 0.999 },
  loss: { kind: "log", generator: "non_saturating", gp_weight: 10, clip: 0.01, r1: 0, label_smoothing: 0 },
  training: { batch_size: 128, d_steps: 1, g_steps: 1, lr_halflife: 0 },
};

// jsdom has no canvas: each canvas gets a context that records what is drawn on it.
let window;
let doc;
let container;
let changes;
let errors;
let hovers;
let resizeCallbacks;
let frameCallbacks;
let reducedMotion;

let opened;

function makeGraph({ controls = true } = {}) {
  const g = new ModelGraph(container, doc.getElementById("node-popover"), {
    onChange: (path, value) => changes.push([path, value]),
    onError: (msg) => errors.push(msg),
    onGeneratorHover: (on) => hovers.push(on),
    onOpen: (id) => opened.push(id),
  });
  if (controls) g.setControls(NODES);
  return g;
}

const input = (path) => doc.querySelector(`[data-testid="ctl-${path}"]`);
const rowOf = (path) => input(path).closest(".control");

function change(path, value) {
  const el = input(path);
  el.value = value;
  el.dispatchEvent(new window.Event("change"));
}

function frame(extra = {}) {
  return {
    noiseKind: "gaussian",
    noiseDim: 2,
    fakeNoise: new Float32Array([0, 0, 1, -1]),
    fake: new Float32Array([0.5, 0.5, 0.25, 0.75]),
    real: new Float32Array([0.1, 0.1]),
    box: [0, 1, 0, 1],
    manifold: new Float32Array([0, 0, 1, 1, 2, 2]),
    manifoldShape: [3],
    gridSize: 2,
    dGridQ: new Uint8Array([0, 255, 128, 64]),
    output: "score",
    losses: { d_loss: 2, g_loss: -1, d_real: 0.5, d_fake: -0.25 },
    ...extra,
  };
}

/** The bar lists as the user reads them: label, fill width and value. */
function bars(selector) {
  return [...doc.querySelectorAll(`${selector} .bar-row`)].map((row) => [
    row.children[0].textContent, row.querySelector(".bar > span").style.width, row.querySelector("output").textContent,
  ]);
}

beforeEach(() => {
  window = new JSDOM(`<!doctype html><div id="model-graph"></div><div id="node-popover" hidden></div>`).window;
  opened = [];
  doc = window.document;
  container = doc.getElementById("model-graph");
  changes = [];
  errors = [];
  hovers = [];
  resizeCallbacks = [];
  frameCallbacks = [];
  reducedMotion = false;
  window.HTMLCanvasElement.prototype.getContext = function () {
    this.recorder ||= recordingContext();
    return this.recorder;
  };
  Object.assign(globalThis, {
    document: doc,
    matchMedia: (q) => ({ matches: q.includes("reduce") && reducedMotion }),
    ResizeObserver: class {
      constructor(cb) {
        resizeCallbacks.push(cb);
      }
      observe() {}
    },
    requestAnimationFrame: (cb) => frameCallbacks.push(cb),
  });
});

afterEach(() => {
  for (const k of ["document", "matchMedia", "ResizeObserver", "requestAnimationFrame"]) delete globalThis[k];
});

test("the nodes run from noise to loss, and every control sits in the settings of the node it affects", () => {
  makeGraph();
  const order = [...container.querySelectorAll(".graph-row > .node")].map((n) => n.dataset.node);
  assert.deepEqual(order, ["noise", "generator", "samples", "discriminator", "predictions", "loss"]);
  assert.deepEqual([...container.querySelectorAll(".node")].map((n) => n.dataset.testid), order.map((id) => `node-${id}`));
  for (const node of NODES) {
    for (const control of node.controls) {
      const el = input(control.path);
      assert.ok(el, `no input for ${control.path}`);
      assert.equal(el.closest(".node-panel").dataset.panel, node.id, control.path);
      assert.equal(Boolean(el.closest("details.advanced")), Boolean(control.advanced), `${control.path} advanced`);
      assert.equal(doc.querySelector(`label[for="${el.id}"]`).textContent, control.label);
    }
  }
  assert.equal(container.querySelectorAll(".node-loss .loss-bars").length, 1);
  assert.equal(container.querySelectorAll(".node-samples canvas").length, 2, "fake and real thumbnails");
});

test("each control is the right kind of input with the declared limits and choices", () => {
  makeGraph();
  const layers = input("generator.layers");
  assert.equal(layers.tagName, "INPUT");
  assert.equal(layers.type, "number");
  assert.deepEqual([layers.min, layers.max, layers.step], ["0", "8", "1"]);
  assert.match(layers.title, /hidden layers/); // its help, on hover and focus
  assert.equal(input("loss.r1").step, "0.1");
  const act = input("generator.activation");
  assert.equal(act.tagName, "SELECT");
  assert.deepEqual([...act.options].map((o) => [o.value, o.text]),
    [["relu", "ReLU"], ["leaky_relu", "Leaky ReLU"], ["tanh", "tanh"], ["elu", "ELU"], ["gelu", "GELU"], ["silu", "SiLU"]]);
  // A number with a few usual values is a menu of them.
  const lr = input("g_optimizer.lr");
  assert.equal(lr.tagName, "SELECT");
  assert.ok([...lr.options].some((o) => o.value === "0.003"));
});

test("a change is reported with its path and value, as a number where the control is numeric", () => {
  makeGraph();
  change("generator.layers", "4");
  change("generator.activation", "tanh");
  change("g_optimizer.lr", "0.01");
  change("training.batch_size", "256");
  assert.deepEqual(changes, [
    ["generator.layers", 4], ["generator.activation", "tanh"], ["g_optimizer.lr", 0.01], ["training.batch_size", 256],
  ]);
  assert.deepEqual(errors, []);
});

test("a value out of range is refused with a message and the setting in effect comes back", () => {
  const g = makeGraph();
  g.setConfig(CONFIG);
  change("generator.layers", "12");
  assert.deepEqual(changes, []);
  assert.equal(errors.length, 1);
  assert.equal(errors[0], "Hidden layers can be at most 8.");
  assert.equal(input("generator.layers").value, "2");
  change("noise.dim", "1.5");
  assert.match(errors[1], /whole number/);
  assert.equal(input("noise.dim").value, "2");
});

test("the config in effect is shown, and only the controls that apply to it", () => {
  const g = makeGraph();
  g.setConfig(CONFIG);
  assert.equal(input("generator.neurons").value, "16");
  assert.equal(input("noise.kind").value, "gaussian");
  assert.equal(input("d_optimizer.lr").value, "0.01");
  // Adam for G: its betas show and momentum hides; SGD for D: the other way round.
  assert.equal(rowOf("g_optimizer.momentum").hidden, true);
  assert.equal(rowOf("g_optimizer.beta1").hidden, false);
  assert.equal(rowOf("d_optimizer.momentum").hidden, false);
  assert.equal(rowOf("d_optimizer.beta1").hidden, true);
  // The log loss: its generator variant shows, the Wasserstein settings do not.
  assert.equal(rowOf("loss.generator").hidden, false);
  assert.equal(rowOf("loss.gp_weight").hidden, true);
  assert.equal(rowOf("loss.clip").hidden, true);
  g.setConfig({ ...CONFIG, loss: { ...CONFIG.loss, kind: "wgan_gp", gp_weight: 5 } });
  assert.equal(rowOf("loss.generator").hidden, true);
  assert.equal(rowOf("loss.gp_weight").hidden, false);
  assert.equal(input("loss.gp_weight").value, "5");
});

test("a value that is not among a menu's choices is added to it rather than lost", () => {
  const g = makeGraph();
  g.setConfig({ ...CONFIG, g_optimizer: { ...CONFIG.g_optimizer, lr: 0.002 } });
  const lr = input("g_optimizer.lr");
  assert.equal(lr.value, "0.002");
  assert.equal([...lr.options].filter((o) => o.value === "0.002").length, 1);
  g.setConfig({ ...CONFIG, g_optimizer: { ...CONFIG.g_optimizer, lr: 0.002 } });
  assert.equal([...lr.options].filter((o) => o.value === "0.002").length, 1, "added once");
});

test("the control being typed in is not overwritten by an update from the server", () => {
  const g = makeGraph();
  g.setConfig(CONFIG);
  const neurons = input("generator.neurons");
  neurons.focus();
  neurons.value = "3";
  g.setConfig({ ...CONFIG, generator: { ...CONFIG.generator, neurons: 32, layers: 5 } });
  assert.equal(neurons.value, "3");
  assert.equal(input("generator.layers").value, "5");
});

test("a frame fills the loss and prediction bars, scaled to the larger of each pair", () => {
  const g = makeGraph();
  g.setFrame(frame());
  assert.deepEqual(bars(".loss-bars"), [], "nothing is drawn before the colours are known");
  g.setPalette(PALETTES.ganlab);
  g.setLut(new Uint8ClampedArray(1024).fill(9));
  g.setFrame(frame());
  assert.deepEqual(bars(".loss-bars"), [["D loss", "100%", "2"], ["G loss", "50%", "-1"]]);
  assert.deepEqual(bars(".pred-bars"), [["D(real)", "100%", "0.5"], ["D(fake)", "50%", "-0.25"]]);
  const fills = [...doc.querySelectorAll(".pred-bars .bar > span")].map((s) => s.style.background);
  assert.deepEqual(fills, ["rgb(0, 136, 55)", "rgb(163, 62, 189)"]);
  // Probabilities are shown on their own scale, 0 to 1; a missing value shows as a dash.
  const rows = [...doc.querySelectorAll(".pred-bars .bar-row")];
  g.setFrame(frame({ output: "probability", losses: { d_loss: 1, d_real: 0.25 } }));
  assert.deepEqual(bars(".pred-bars"), [["D(real)", "25%", "0.25"], ["D(fake)", "0%", "–"]]);
  assert.deepEqual(bars(".loss-bars"), [["D loss", "100%", "1"], ["G loss", "0%", "–"]]);
  assert.deepEqual([...doc.querySelectorAll(".pred-bars .bar-row")], rows, "rows are updated, not rebuilt");
});

test("a frame draws the node thumbnails", () => {
  const g = makeGraph();
  g.setPalette(PALETTES.cvd);
  g.setLut(new Uint8ClampedArray(1024).fill(7));
  g.setFrame(frame());
  const calls = (node, i = 0) => container.querySelectorAll(`.node-${node} canvas`)[i].recorder.calls;
  const rects = (node, i) => calls(node, i).filter((c) => c[0] === "fillRect").length;
  // A white background, then one small square per sample.
  assert.equal(rects("noise"), 1 + 2);
  assert.equal(rects("samples", 0), 1 + 2);
  assert.equal(rects("samples", 1), 1 + 1);
  assert.equal(calls("generator").filter((c) => c[0] === "lineTo").length, 2, "a 1D manifold: a curve");
  const put = calls("discriminator").find((c) => c[0] === "putImageData");
  assert.ok(put, "the heatmap thumbnail is drawn");
  assert.equal(put[1].data[0], 7);
});

test("the samples node's fake thumbnail is named by the generator it shows", () => {
  const g = makeGraph();
  const fake = container.querySelectorAll(".node-samples canvas")[0];
  assert.equal(fake.getAttribute("aria-label"), "Fake samples");
  g.setFakeLabel("Fake samples (averaged G)");
  assert.equal(fake.getAttribute("aria-label"), "Fake samples (averaged G)");
  assert.equal(fake.title, "Fake samples (averaged G)");
  assert.equal(container.querySelectorAll(".node-samples canvas")[1].getAttribute("aria-label"), "Real samples");
});

test("hovering the generator is reported, to fold the noise grid into the manifold", () => {
  makeGraph();
  const gen = container.querySelector(".node-generator");
  gen.dispatchEvent(new window.Event("pointerenter"));
  gen.dispatchEvent(new window.Event("pointerleave"));
  assert.deepEqual(hovers, [true, false]);
});

test("palette colours become CSS variables; playing is a class on the graph", () => {
  const g = makeGraph();
  g.setPalette(PALETTES.cvd);
  assert.equal(container.style.getPropertyValue("--real"), PALETTES.cvd.real);
  assert.equal(container.style.getPropertyValue("--fake"), PALETTES.cvd.fake);
  assert.equal(container.style.getPropertyValue("--grad"), PALETTES.cvd.gradient);
  assert.equal(container.style.getPropertyValue("--disc"), PALETTES.cvd.discriminator);
  g.setPlaying(true);
  assert.ok(container.classList.contains("playing"));
  g.setPlaying(false);
  assert.ok(!container.classList.contains("playing"));
});

// Lay the nodes out in a row, 120 px apart, as the stylesheet would at laptop width.
function layOut() {
  container.getBoundingClientRect = () => ({ left: 0, top: 0, width: 720, height: 120 });
  [...container.querySelectorAll(".graph-row > .node")].forEach((n, i) => {
    n.getBoundingClientRect = () => ({ left: 10 + 120 * i, top: 0, width: 100, height: 80 });
  });
}

test("the edges join the nodes left to right, with the two gradient loops under them, once laid out", () => {
  makeGraph();
  const svg = container.querySelector("svg.edges");
  for (const cb of frameCallbacks) cb();
  assert.equal(svg.querySelectorAll("path.edge").length, 0, "not laid out yet: nothing to join");
  layOut();
  for (const cb of resizeCallbacks) cb();
  const flows = [...svg.querySelectorAll("path.flow")].map((p) => p.getAttribute("d"));
  assert.equal(flows.length, 5);
  assert.equal(flows[0], "M110,40 H129"); // noise's right side to the generator's left
  const loops = [...svg.querySelectorAll("path.loop")];
  assert.deepEqual(loops.map((p) => p.getAttribute("class")), ["edge loop loop-d", "edge loop loop-g"]);
  // Both loops leave the loss from below; D's enters D from below, G's runs deeper to G.
  assert.equal(loops[0].getAttribute("d"), "M660,80 V87 H420 V80");
  assert.equal(loops[1].getAttribute("d"), "M660,80 V95 H180 V80");
  assert.equal(svg.getAttribute("width"), "720");
});

test("a node whose next one starts a new row (a phone) is joined down and across", () => {
  const g = makeGraph();
  container.getBoundingClientRect = () => ({ left: 0, top: 0, width: 360, height: 240 });
  [...container.querySelectorAll(".graph-row > .node")].forEach((n, i) => {
    n.getBoundingClientRect = () => ({ left: 10 + 120 * (i % 3), top: 110 * Math.floor(i / 3), width: 100, height: 80 });
  });
  g.layoutEdges();
  const flows = [...container.querySelectorAll("path.flow")].map((p) => p.getAttribute("d"));
  assert.equal(flows[2], "M300,80 V95 H60 V109"); // samples (end of row 1) to D (start of row 2)
});

test("a node with settings opens them next to it, by click or keyboard, and Escape closes them", () => {
  const g = makeGraph();
  const popover = doc.getElementById("node-popover");
  const gen = container.querySelector(".node-generator");
  assert.equal(gen.getAttribute("role"), "button");
  assert.equal(gen.tabIndex, 0);
  gen.dispatchEvent(new window.MouseEvent("click", { bubbles: true }));
  assert.equal(popover.hidden, false);
  assert.equal(gen.getAttribute("aria-expanded"), "true");
  const panels = [...popover.querySelectorAll(".node-panel")].filter((p) => !p.hidden).map((p) => p.dataset.panel);
  assert.deepEqual(panels, ["generator"]);
  assert.equal(doc.activeElement, input("generator.layers"), "the keyboard lands in the settings");
  // Another node's settings replace them; the predictions node has none to open.
  container.querySelector(".node-loss").dispatchEvent(new window.KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
  assert.equal(g.openId, "loss");
  assert.equal(container.querySelector(".node-predictions").getAttribute("role"), null);
  popover.dispatchEvent(new window.KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
  assert.equal(popover.hidden, true);
  assert.equal(doc.activeElement, container.querySelector(".node-loss"), "the focus goes back to the node");
  assert.deepEqual(opened, ["generator", "loss", null]);
});

test("the focused setting's help shows in words under the settings", () => {
  makeGraph();
  const neurons = input("generator.neurons");
  neurons.dispatchEvent(new window.FocusEvent("focusin", { bubbles: true }));
  const help = neurons.closest(".node-panel").querySelector(".control-help").textContent;
  assert.match(help, /^Neurons: .*neurons/i);
  input("generator.activation").dispatchEvent(new window.Event("pointerover", { bubbles: true }));
  assert.match(neurons.closest(".node-panel").querySelector(".control-help").textContent, /^Activation: /);
});

test("each node says in one line what it is set to", () => {
  const g = makeGraph();
  g.setConfig(CONFIG);
  const summary = (id) => container.querySelector(`.node-${id} .node-summary`).textContent;
  assert.equal(summary("noise"), "Gaussian, 2D");
  assert.equal(summary("generator"), "2 × 16 ReLU · Adam 0.001");
  assert.equal(summary("discriminator"), "2 × 16 ReLU · SGD 0.01");
  assert.equal(summary("samples"), "batch 128");
  assert.equal(summary("loss"), "Log loss");
  const loss = container.querySelector(".node-loss .node-summary");
  assert.equal(loss.title, "Log loss", "the whole line, where a narrow node cuts it short");
  g.setConfig({ ...CONFIG, training: { ...CONFIG.training, scheme: "extragradient" } });
  assert.equal(loss.title, "Log loss · extragradient");
  g.setConfig(CONFIG);
  assert.equal(nodeSummary("discriminator", { ...CONFIG, discriminator: { ...CONFIG.discriminator, layers: 0, packing: 2 }, training: { ...CONFIG.training, d_steps: 3 } }),
    "linear · SGD 0.01 · 3× · pack 2");
  assert.equal(nodeSummary("discriminator", { ...CONFIG, training: { ...CONFIG.training, d_steps: 0 } }), "2 × 16 ReLU · SGD 0.01 · frozen");
  assert.equal(nodeSummary("generator", { ...CONFIG, g_optimizer: { ...CONFIG.g_optimizer, lr: 0.0004 } }), "2 × 16 ReLU · Adam 0.0004");
});

test("slow motion lights up the nodes and edges of its phase and dims the rest", () => {
  const g = makeGraph();
  layOut();
  g.setFocus("d", "classify");
  assert.ok(container.classList.contains("walking"));
  const lit = [...container.querySelectorAll(".node.active")].map((n) => n.dataset.node);
  assert.deepEqual(lit, ["samples", "discriminator", "predictions"]);
  const litFlows = [...container.querySelectorAll("path.flow.lit")].length;
  assert.equal(litFlows, 2, "samples -> D -> predictions");
  g.setFocus("g", "gradients");
  assert.deepEqual([...container.querySelectorAll("path.loop.lit")].map((p) => p.getAttribute("class")), ["edge loop loop-g lit"]);
  g.setFocus("d", "update");
  assert.deepEqual([...container.querySelectorAll(".node.active")].map((n) => n.dataset.node), ["discriminator"]);
  g.setFocus(null, null);
  assert.ok(!container.classList.contains("walking"));
  assert.equal(container.querySelectorAll(".node.active").length, 0);
  // Every phase names nodes that exist, for both networks.
  for (const [phase, nets] of Object.entries(PHASE_FOCUS)) {
    for (const ids of Object.values(nets)) for (const id of ids) assert.ok(container.querySelector(`.node-${id}`), `${phase}: ${id}`);
  }
});

test("the gradient loops march while training, unless the user prefers reduced motion", () => {
  const g = makeGraph();
  layOut();
  g.layoutEdges();
  const loop = container.querySelector("path.loop-d");
  g.advanceLoops();
  assert.equal(loop.style.strokeDashoffset, "-4.5");
  g.advanceLoops();
  assert.equal(loop.style.strokeDashoffset, "-9");
  reducedMotion = true;
  const still = makeGraph();
  layOut();
  still.layoutEdges();
  still.advanceLoops();
  assert.equal(container.querySelector("path.loop-d").style.strokeDashoffset, "");
});

test("a yes/no setting is a checkbox: a click reports true or false, and the config sets it", () => {
  const g = makeGraph();
  g.setConfig({ ...CONFIG, discriminator: { ...CONFIG.discriminator, spectral_norm: false } });
  const sn = input("discriminator.spectral_norm");
  assert.equal(sn.tagName, "INPUT");
  assert.equal(sn.type, "checkbox");
  assert.equal(sn.checked, false);
  assert.equal(doc.querySelector(`label[for="${sn.id}"]`).textContent, "Spectral norm");
  sn.click();
  sn.click();
  assert.deepEqual(changes, [["discriminator.spectral_norm", true], ["discriminator.spectral_norm", false]]);
  g.setConfig({ ...CONFIG, discriminator: { ...CONFIG.discriminator, spectral_norm: true } });
  assert.equal(sn.checked, true);
  g.setConfig({ ...CONFIG, discriminator: { ...CONFIG.discriminator, spectral_norm: false } });
  assert.equal(sn.checked, false);
  assert.deepEqual(errors, []);
});

test("the averaged view shows only with a weight average; the noise's fade-out only with noise", () => {
  const g = makeGraph();
  const config = { ...CONFIG, generator: { ...CONFIG.generator, ema: 0 }, view: { average: false }, training: { ...CONFIG.training, instance_noise: 0, instance_noise_anneal: 2000 } };
  g.setConfig(config);
  assert.equal(rowOf("view.average").hidden, true);
  assert.equal(rowOf("training.instance_noise_anneal").hidden, true);
  g.setConfig({ ...config, generator: { ...config.generator, ema: 0.999 }, training: { ...config.training, instance_noise: 0.1 } });
  assert.equal(rowOf("view.average").hidden, false);
  assert.equal(rowOf("training.instance_noise_anneal").hidden, false);
  assert.equal(input("generator.ema").value, "0.999");
  assert.equal(input("training.instance_noise_anneal").value, "2000");
});

test("updates per iteration stay in view but disabled under another scheme, and the help says why", () => {
  const g = makeGraph();
  const at = (scheme) => ({ ...CONFIG, training: { ...CONFIG.training, d_steps: 5, scheme } });
  g.setConfig(at("alternating"));
  const d = input("training.d_steps");
  assert.equal(d.disabled, false);
  assert.equal(rowOf("training.d_steps").classList.contains("unused"), false);
  assert.doesNotMatch(d.title, /Not used/);
  g.setConfig(at("simultaneous"));
  for (const path of ["training.d_steps", "training.g_steps"]) {
    assert.equal(rowOf(path).hidden, false, path);
    assert.equal(input(path).disabled, true, path);
    assert.ok(rowOf(path).classList.contains("unused"), path);
    assert.match(input(path).title, /^Not used now: the simultaneous scheme/);
  }
  assert.equal(d.value, "5", "the value stays readable");
  assert.equal(doc.querySelector(`label[for="${d.id}"]`).title, d.title);
  // The help line under the settings says it too, on hover of the row.
  d.closest(".controls").querySelector(`label[for="${d.id}"]`).dispatchEvent(new window.Event("pointerover", { bubbles: true }));
  assert.match(d.closest(".node-panel").querySelector(".control-help").textContent, /^D updates \/ iteration: Not used now/);
  g.setConfig(at("alternating"));
  assert.equal(d.disabled, false);
  assert.equal(rowOf("training.d_steps").classList.contains("unused"), false);
  assert.doesNotMatch(d.title, /Not used/);
});

test("the summaries name spectral norm, the weight average, the scheme, unrolling and instance noise", () => {
  const t = CONFIG.training;
  assert.equal(nodeSummary("discriminator", { ...CONFIG, discriminator: { ...CONFIG.discriminator, spectral_norm: true } }), "2 × 16 ReLU · SGD 0.01 · SN");
  assert.equal(nodeSummary("generator", { ...CONFIG, generator: { ...CONFIG.generator, activation: "gelu", ema: 0.999 } }), "2 × 16 GELU · Adam 0.001 · EMA");
  assert.equal(nodeSummary("loss", { ...CONFIG, training: { ...t, scheme: "extragradient", unrolled_steps: 5 } }), "Log loss · extragradient · unrolled 5");
  assert.equal(nodeSummary("loss", { ...CONFIG, training: { ...t, scheme: "alternating" } }), "Log loss");
  // The picture's generator: "(shown)" when it is the average.
  assert.equal(nodeSummary("generator", { ...CONFIG, generator: { ...CONFIG.generator, ema: 0.999 }, view: { average: true } }), "2 × 16 ReLU · Adam 0.001 · EMA (shown)");
  assert.equal(nodeSummary("generator", { ...CONFIG, view: { average: true } }), "2 × 16 ReLU · Adam 0.001", "no average: nothing to show");
  assert.equal(nodeSummary("loss", { ...CONFIG, training: { ...t, instance_noise: 0.1 } }), "Log loss · noise σ 0.1");
  // Counts of updates per iteration are only shown where they apply.
  const five = { ...t, d_steps: 5 };
  assert.equal(nodeSummary("discriminator", { ...CONFIG, training: five }), "2 × 16 ReLU · SGD 0.01 · 5×");
  assert.equal(nodeSummary("discriminator", { ...CONFIG, training: { ...five, scheme: "simultaneous" } }), "2 × 16 ReLU · SGD 0.01");
});
