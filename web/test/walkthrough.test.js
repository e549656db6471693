import { test, beforeEach, afterEach, mock } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";
import { PENALTY_TERMS, PHASES, Walkthrough, instanceNoiseSigma, phaseText, updateSegments, valueRows } from "../src/ui/walkthrough.js";

// The page's own markup, so the panel is tested with the elements it really gets.
const PAGE = readFileSync(new URL("../src/index.html", import.meta.url), "utf8");
const PALETTE = { fake: "rgb(1, 2, 3)" };

let doc;
let sent; // the commands the walkthrough sent
let walks; // what it asked the picture to overlay
let answer; // what send() returns: a command id, or null when offline

function make(options = {}) {
  const $ = (id) => doc.getElementById(id);
  const view = { box: [0, 2, 0, 1], setWalk: (w) => walks.push(w) };
  const w = new Walkthrough(
    {
      panel: $("walkthrough"), steps: $("walk-steps"), text: $("walk-text"), values: $("walk-values"),
      next: $("walk-next"), play: $("walk-play"), speed: $("walk-speed"), speedValue: $("walk-speed-value"),
    },
    { send: (c) => (sent.push(c), answer), view, palette: () => PALETTE, ...options },
  );
  return { w, $ };
}

/** The phase chips as the user sees them: "current", "done" or "" per phase, per network. */
function chips() {
  const out = {};
  for (const row of doc.querySelectorAll("#walk-steps .walk-row")) {
    const net = row.classList.contains("walk-d") ? "d" : "g";
    out[net] = [...row.querySelectorAll(".walk-phase")].map((s) =>
      s.classList.contains("current") ? "current" : s.classList.contains("done") ? "done" : "");
  }
  return out;
}

const f32 = (...v) => ({ data: new Float32Array(v) });
const none = ["", "", "", "", ""];

beforeEach(() => {
  doc = new JSDOM(PAGE).window.document;
  globalThis.document = doc;
  sent = [];
  walks = [];
  answer = 1;
  mock.timers.enable({ apis: ["setTimeout"] });
});

afterEach(() => {
  mock.timers.reset();
  delete globalThis.document;
});

test("before any step the panel lists both updates' five phases and says how to start", () => {
  const { $ } = make();
  assert.deepEqual(PHASES, ["generate", "classify", "loss", "gradients", "update"]);
  const rows = [...doc.querySelectorAll("#walk-steps .walk-row")];
  assert.deepEqual(rows.map((r) => r.querySelector(".walk-net").textContent), ["D update", "G update"]);
  assert.deepEqual([...rows[0].querySelectorAll(".walk-phase")].map((s) => s.textContent),
    ["1 generate", "2 classify", "3 loss", "4 gradients", "5 update"]);
  assert.deepEqual(chips(), { d: none, g: none });
  assert.match($("walk-text").textContent, /Next phase/);
  assert.equal($("walkthrough").hidden, true);
});

test("switched off, the buttons send nothing; switched on, the panel shows and Next asks for one phase", () => {
  const { w, $ } = make();
  $("walk-next").click();
  assert.deepEqual(sent, []);
  w.setEnabled(true);
  assert.equal($("walkthrough").hidden, false);
  $("walk-next").click();
  assert.deepEqual(sent, [{ type: "step", phase: "d", sub: true }]);
  // Until the server answers, further clicks do not pile up requests.
  $("walk-next").click();
  assert.equal(sent.length, 1);
});

test("a request that could not be sent does not block the next one", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  answer = null;
  $("walk-next").click();
  answer = 1;
  $("walk-next").click();
  assert.equal(sent.length, 2);
});

test("each answer moves the highlighted phase on, and after D's update comes G's", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  const phases = [];
  for (const phase of PHASES) {
    $("walk-next").click();
    phases.push(sent.at(-1).phase);
    w.onPhase({ network: "d", phase }, {});
    assert.equal($("walkthrough").dataset.phase, phase);
    assert.equal($("walkthrough").dataset.network, "d");
  }
  assert.deepEqual(phases, ["d", "d", "d", "d", "d"]);
  assert.deepEqual(chips(), { d: ["done", "done", "done", "done", "current"], g: none });
  assert.match($("walk-text").textContent, /D's optimizer moves its weights/);
  $("walk-next").click();
  assert.equal(sent.at(-1).phase, "g");
  w.onPhase({ network: "g", phase: "loss" }, {});
  assert.deepEqual(chips(), { d: none, g: ["done", "done", "current", "", ""] });
  assert.match($("walk-text").textContent, /G's loss is low/);
  w.onPhase({ network: "g", phase: "update" }, {});
  $("walk-next").click();
  assert.equal(sent.at(-1).phase, "d", "after G's update the plan starts over");
});

test("the plan follows the config's D and G updates per iteration", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  w.setConfig({ training: { d_steps: 2, g_steps: 1 } });
  const order = [];
  for (let i = 0; i < 4; i++) {
    $("walk-next").click();
    const net = sent.at(-1).phase;
    order.push(net);
    w.onPhase({ network: net, phase: "update" }, {});
  }
  assert.deepEqual(order, ["d", "d", "g", "d"]);
  // A config with no updates at all still has something to show.
  w.setConfig({ training: { d_steps: 0, g_steps: 0 } });
  $("walk-next").click();
  assert.equal(sent.at(-1).phase, "d");
});

test("under the simultaneous and extragradient schemes the plan is one D and one G update", () => {
  for (const scheme of ["simultaneous", "extragradient"]) {
    const { w, $ } = make();
    w.setEnabled(true);
    w.setConfig({ training: { d_steps: 3, g_steps: 2, scheme } });
    const order = [];
    for (let i = 0; i < 4; i++) {
      $("walk-next").click();
      const net = sent.at(-1).phase;
      order.push(net);
      w.onPhase({ network: net, phase: "update" }, {});
    }
    assert.deepEqual(order, ["d", "g", "d", "g"], scheme);
  }
});

test("the picture's overlay shows the batch, D's verdicts once known, and the gradient arrows", () => {
  const { w } = make();
  w.setEnabled(true);
  w.onPhase({ network: "d", phase: "generate" }, { fake: f32(0, 0, 1, 1), real: f32(5, 5) });
  let walk = walks.at(-1);
  assert.deepEqual(Array.from(walk.fake), [0, 0, 1, 1]);
  assert.deepEqual(Array.from(walk.real), [5, 5]);
  assert.equal(walk.showD, false);
  w.onPhase({ network: "d", phase: "classify" }, { d_fake: f32(0.1, 0.2), d_real: f32(0.9) });
  walk = walks.at(-1);
  assert.equal(walk.showD, true);
  assert.deepEqual(Array.from(walk.dFake).map((v) => +v.toFixed(2)), [0.1, 0.2]);
  assert.deepEqual(Array.from(walk.dReal).map((v) => +v.toFixed(2)), [0.9]);
  assert.deepEqual(Array.from(walk.fake), [0, 0, 1, 1], "the same batch stays on screen");
  w.onPhase({ network: "d", phase: "gradients" }, { fake_grad: f32(1, 0, 0, -0.5) });
  walk = walks.at(-1);
  // Against the gradient, the longest arrow 8% of the box's larger side (2): 0.16 long.
  assert.deepEqual(Array.from(walk.arrows).map((v) => +v.toFixed(4)), [0, 0, -0.16, 0, 1, 1, 1, 1.08]);
  assert.equal(walk.showD, true);
});

test("G's update draws each fake sample's move from its old place to its new one", () => {
  const { w } = make();
  w.setEnabled(true);
  w.onPhase({ network: "g", phase: "generate" }, { fake: f32(0, 0, 1, 1), real: f32(5, 5) });
  assert.equal(walks.at(-1).real, null, "G's turn draws no real samples");
  w.onPhase({ network: "g", phase: "update" }, { fake: f32(0.5, 0, 1, 2) });
  const walk = walks.at(-1);
  assert.deepEqual(Array.from(walk.arrows), [0, 0, 0.5, 0, 1, 1, 1, 2]);
  assert.deepEqual(Array.from(walk.fake), [0.5, 0, 1, 2]);
  assert.equal(walk.arrowColor, PALETTE.fake);
});

test("the values the server sends are listed by name, short", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  w.onPhase({ network: "d", phase: "loss", values: { d_loss: 0.693147, grad_norm: [1.23456, 0.0001],
    mean_d: { real: 0.8, fake: 0.25 } } }, {});
  const dl = $("walk-values");
  assert.deepEqual([...dl.querySelectorAll("dt")].map((e) => e.textContent), ["d loss", "grad norm", "mean d"]);
  assert.deepEqual([...dl.querySelectorAll("dd")].map((e) => e.textContent),
    ["0.693", "1.23, 1.00e-4", "real: 0.8, fake: 0.25"]);
  w.onPhase({ network: "d", phase: "gradients" }, {});
  assert.equal(dl.children.length, 0, "a phase without values clears the old ones");
});

test("auto-play asks for the next phase after the chosen time, and pauses", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  const speed = $("walk-speed");
  speed.value = "2.5";
  speed.dispatchEvent(new doc.defaultView.Event("input"));
  assert.equal($("walk-speed-value").textContent, "2.5 s");
  $("walk-play").click();
  assert.equal($("walk-play").getAttribute("aria-pressed"), "true");
  assert.equal($("walk-play").textContent, "Pause");
  assert.equal(sent.length, 1, "starting auto-play takes the first phase at once");
  w.onPhase({ network: "d", phase: "generate" }, {});
  mock.timers.tick(2499);
  assert.equal(sent.length, 1);
  mock.timers.tick(1);
  assert.equal(sent.length, 2);
  w.onPhase({ network: "d", phase: "classify" }, {});
  $("walk-play").click();
  assert.equal($("walk-play").getAttribute("aria-pressed"), "false");
  assert.equal($("walk-play").textContent, "Auto-play");
  mock.timers.tick(60000);
  assert.equal(sent.length, 2);
});

test("a refused step stops auto-play and lets the user try again", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  w.setAuto(true);
  assert.equal(sent.length, 1);
  w.onError();
  assert.equal(w.auto, false);
  assert.equal($("walk-play").textContent, "Auto-play");
  $("walk-next").click();
  assert.equal(sent.length, 2);
});

test("auto-play cannot run while slow motion is off", () => {
  const { $ } = make();
  $("walk-play").click();
  assert.equal($("walk-play").getAttribute("aria-pressed"), "false");
  assert.deepEqual(sent, []);
});

test("another command interrupts: the overlay goes and the next update starts from its beginning", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  $("walk-next").click();
  w.onPhase({ network: "d", phase: "generate" }, { fake: f32(0, 0) });
  $("walk-next").click();
  w.interrupted();
  assert.equal(walks.at(-1), null);
  assert.deepEqual(chips(), { d: none, g: none });
  $("walk-next").click();
  assert.equal(sent.length, 3, "no longer waiting for the interrupted answer");
});

test("switching slow motion off hides the panel, clears the overlay and ignores late answers", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  w.setAuto(true);
  w.onPhase({ network: "d", phase: "update" }, {});
  w.setEnabled(false);
  assert.equal($("walkthrough").hidden, true);
  assert.equal(w.auto, false);
  assert.equal(walks.at(-1), null);
  const drawn = walks.length;
  w.onPhase({ network: "g", phase: "generate" }, { fake: f32(0, 0) });
  assert.equal(walks.length, drawn);
  assert.deepEqual(chips(), { d: none, g: none });
  mock.timers.tick(60000);
  assert.equal(sent.length, 1);
  // Back on, it starts with D again (the plan position was reset).
  w.setEnabled(true);
  $("walk-next").click();
  assert.equal(sent.at(-1).phase, "d");
});

// ---------------------------------------------------------------- updateSegments

const rounded = (a, d = 6) => Array.from(a).map((v) => +v.toFixed(d));

test("updateSegments magnifies a tiny step so that the longest arrow is `visible` long", () => {
  // Sample 0 moves 0.002 to the right, sample 1 moves 0.001 up: the longest becomes 0.1 (x50).
  const before = new Float32Array([0, 0, 1, 1]);
  const after = new Float32Array([0.002, 0, 1, 1.001]);
  const { segments, factor } = updateSegments(before, after, 0.1);
  assert.ok(Math.abs(factor - 50) < 1e-3, String(factor));
  assert.ok(segments instanceof Float32Array);
  assert.equal(segments.length, 8);
  // x0, y0 at the old place; x1, y1 along the move, scaled by the same factor for every sample.
  assert.deepEqual(rounded(segments, 4), [0, 0, 0.1, 0, 1, 1, 1, 1.05]);
  const longest = Math.hypot(segments[2] - segments[0], segments[3] - segments[1]);
  assert.ok(Math.abs(longest - 0.1) < 1e-6);
});

test("updateSegments leaves a step that is already visible, or exactly visible, at its true size", () => {
  const before = [0, 0, 2, 2];
  const after = [0.3, 0.4, 2, 1.9]; // 0.5 and 0.1 long
  const big = updateSegments(before, after, 0.1);
  assert.equal(big.factor, 1);
  assert.deepEqual(rounded(big.segments), [0, 0, 0.3, 0.4, 2, 2, 2, 1.9]);
  const exact = updateSegments([0, 0], [0.5, 0], 0.5);
  assert.equal(exact.factor, 1);
  assert.deepEqual(Array.from(exact.segments), [0, 0, 0.5, 0]);
});

test("updateSegments with nothing moved draws zero-length arrows, factor 1 (no division by zero)", () => {
  const { segments, factor } = updateSegments([1, 2, 3, 4], [1, 2, 3, 4], 0.1);
  assert.equal(factor, 1);
  assert.deepEqual(Array.from(segments), [1, 2, 1, 2, 3, 4, 3, 4]);
  const empty = updateSegments([], [], 0.1);
  assert.equal(empty.factor, 1);
  assert.equal(empty.segments.length, 0);
});

test("updateSegments pairs samples up to the shorter batch", () => {
  const { segments, factor } = updateSegments([0, 0, 1, 1, 9, 9], [0, 1, 1, 1], 0.5);
  assert.equal(factor, 1);
  assert.deepEqual(Array.from(segments), [0, 0, 0, 1, 1, 1, 1, 1]);
});

test("a magnified G update says so in the text; a visible one does not", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  // The box is 2 wide: arrows are made 0.16 long. A 0.016 step is magnified x10.
  w.onPhase({ network: "g", phase: "generate" }, { fake: f32(0, 0) });
  w.onPhase({ network: "g", phase: "update" }, { fake: f32(0.016, 0) });
  assert.deepEqual(rounded(walks.at(-1).arrows, 4), [0, 0, 0.16, 0]);
  assert.match($("walk-text").textContent, /magnified ×10/);
  w.onPhase({ network: "g", phase: "generate" }, { fake: f32(0, 0) });
  w.onPhase({ network: "g", phase: "update" }, { fake: f32(1, 0) });
  assert.doesNotMatch($("walk-text").textContent, /magnified ×/);
});

// ---------------------------------------------------------------- onPhase

test("onPhase is told the network and phase of every phase shown, and (null, null) when interrupted", () => {
  const shown = [];
  const { w } = make({ onPhase: (network, phase) => shown.push([network, phase]) });
  assert.deepEqual(shown, [], "nothing at construction");
  w.setEnabled(true);
  for (const phase of PHASES) w.onPhase({ network: "d", phase }, {});
  w.onPhase({ network: "g", phase: "generate" }, {});
  assert.deepEqual(shown, [...PHASES.map((p) => ["d", p]), ["g", "generate"]]);
  w.interrupted();
  assert.deepEqual(shown.at(-1), [null, null]);
  assert.equal(shown.length, 7);
});

test("onPhase is not called for a late answer after slow motion was switched off", () => {
  const shown = [];
  const { w } = make({ onPhase: (network, phase) => shown.push([network, phase]) });
  w.setEnabled(true);
  w.onPhase({ network: "d", phase: "loss" }, {});
  w.setEnabled(false);
  w.onPhase({ network: "d", phase: "gradients" }, {});
  assert.deepEqual(shown, [["d", "loss"]]);
});

/** A config with the fields the sentences read. */
const cfg = ({ scheme = "alternating", unrolled = 0, noise = 0, anneal = 2000, ema = 0, average = false } = {}) => ({
  generator: { ema },
  view: { average },
  training: { d_steps: 1, g_steps: 1, scheme, unrolled_steps: unrolled, instance_noise: noise, instance_noise_anneal: anneal },
});
const every = (fn) => ["d", "g"].flatMap((net) => PHASES.map((phase) => fn(net, phase)));

test("for a plain run each phase's sentence is the usual one", () => {
  const plain = every((net, phase) => phaseText(net, phase, { config: cfg(), iteration: 10, gUpdates: 10 }));
  assert.deepEqual(plain, every((net, phase) => phaseText(net, phase)));
  assert.match(phaseText("g", "classify", { config: cfg() }), /^D \(held fixed now\) scores each fake sample\.$/);
  assert.match(phaseText("d", "generate", { config: cfg() }), /^The discriminator's turn\./);
  // Spectral norm changes no sentence: D's gradients are still those of its own weights.
  const sn = { ...cfg(), discriminator: { spectral_norm: true } };
  assert.deepEqual(every((net, phase) => phaseText(net, phase, { config: sn })), plain);
});

test("under the simultaneous and extragradient schemes, the sentences say slow motion takes one update at a time", () => {
  const sim = { config: cfg({ scheme: "simultaneous" }) };
  assert.match(phaseText("d", "generate", sim), /^The discriminator's turn\..* Slow motion takes the updates one at a time, D's first, as the alternating scheme does; with the simultaneous scheme, Play and “Both” compute D's and G's gradients at the same point/);
  assert.match(phaseText("g", "generate", sim), /D has already taken its update here; with the simultaneous scheme, G's gradient is taken at D from before it\.$/);
  const extra = { config: cfg({ scheme: "extragradient" }) };
  assert.match(phaseText("d", "generate", extra), /Slow motion takes plain updates one at a time.*extragradient scheme, Play and “Both” first take a look-ahead update of both networks/);
  assert.doesNotMatch(phaseText("g", "generate", extra), /simultaneous/);
  // Only the turn's first phase carries it.
  assert.equal(phaseText("d", "loss", sim), phaseText("d", "loss"));
});

test("with unrolled steps, G's phases say G is judged by a look-ahead D and its gradient flows through it", () => {
  const un = { config: cfg({ unrolled: 5 }) };
  assert.doesNotMatch(phaseText("g", "classify", un), /held fixed now\) scores/);
  assert.match(phaseText("g", "classify", un), /D's own weights stay fixed, but G is judged by a look-ahead copy of D: D after 5 simulated updates on fresh batches/);
  assert.match(phaseText("g", "loss", un), /the look-ahead D mistakes its samples/);
  assert.match(phaseText("g", "gradients", un), /to fool the look-ahead D\. .*flows back through the 5 simulated D updates/);
  assert.match(phaseText("g", "update", un), /^G's optimizer changes G's weights.*The step also counts how the simulated D would react/);
  assert.match(phaseText("g", "classify", { config: cfg({ unrolled: 1 }) }), /D after 1 simulated update on/);
  // D's own updates are not unrolled.
  for (const phase of PHASES) assert.equal(phaseText("d", phase, un), phaseText("d", phase));
});

test("with instance noise, the classify phases say D sees noisy points, with σ as it is now", () => {
  const at = (iteration) => ({ config: cfg({ noise: 0.2, anneal: 1000 }), iteration });
  assert.match(phaseText("d", "classify", at(0)), /D sees each sample moved by Gaussian noise first \(σ 0\.2 now, in units where the data spans −1 to 1; it fades to 0 by iteration 1000\)/);
  assert.match(phaseText("g", "classify", at(250)), /D sees each fake sample moved by Gaussian noise first \(σ 0\.15 now/);
  // Faded out: nothing is added, and nothing is said.
  assert.equal(phaseText("d", "classify", at(1000)), phaseText("d", "classify"));
  assert.equal(phaseText("d", "loss", at(0)), phaseText("d", "loss"));
});

test("σ of the instance noise fades linearly from σ0 to 0 over the anneal iterations", () => {
  const t = { instance_noise: 0.4, instance_noise_anneal: 100 };
  assert.equal(instanceNoiseSigma(t, 0), 0.4);
  assert.ok(Math.abs(instanceNoiseSigma(t, 25) - 0.3) < 1e-12);
  assert.equal(instanceNoiseSigma(t, 100), 0);
  assert.equal(instanceNoiseSigma(t, 500), 0);
  assert.equal(instanceNoiseSigma({ instance_noise: 0, instance_noise_anneal: 100 }, 0), 0);
  assert.equal(instanceNoiseSigma({}, 0), 0);
});

test("with the averaged view, the batch's rings are said to come from G itself, not the averaged dots", () => {
  const avg = { config: cfg({ ema: 0.999, average: true }), gUpdates: 3 };
  assert.match(phaseText("d", "generate", avg), /The rings come from G itself, the network being trained; the dots beneath are the averaged G's\.$/);
  assert.match(phaseText("g", "generate", avg), /the dots beneath are the averaged G's/);
  // No average yet (or none at all): the dots are G's too, nothing to tell apart.
  assert.equal(phaseText("d", "generate", { ...avg, gUpdates: 0 }), phaseText("d", "generate"));
  assert.equal(phaseText("d", "generate", { config: cfg({ average: true }), gUpdates: 3 }), phaseText("d", "generate"));
});

test("the panel's sentence follows the config and the run's counters", () => {
  let counters = { iteration: 0, gUpdates: 0 };
  const { w, $ } = make({ counters: () => counters });
  w.setEnabled(true);
  w.setConfig(cfg({ noise: 0.5, anneal: 100, unrolled: 2 }));
  w.onPhase({ network: "d", phase: "classify" }, {});
  assert.match($("walk-text").textContent, /σ 0\.5 now/);
  counters = { iteration: 50, gUpdates: 50 };
  w.onPhase({ network: "g", phase: "classify" }, {});
  assert.match($("walk-text").textContent, /^D's own weights stay fixed, but G is judged by a look-ahead copy of D: D after 2 simulated updates/);
  assert.match($("walk-text").textContent, /σ 0\.25 now/);
});

// ---------------------------------------------------------------- D's penalties

const lossCfg = (loss) => ({ ...cfg(), loss: { kind: "log", gp_weight: 10, r1: 0, r2: 0, ...loss } });

test("D's loss phase with WGAN-GP lists the objective, the weighted penalty and the total, and says what each is", () => {
  const { w, $ } = make();
  w.setEnabled(true);
  w.setConfig(lossCfg({ kind: "wgan_gp", gp_weight: 10 }));
  w.onPhase({ network: "d", phase: "loss", values: { d_loss: -0.0531, d_gp: 3.606, d_total: 3.5529 } }, {});
  const dl = $("walk-values");
  assert.deepEqual([...dl.querySelectorAll("dt")].map((e) => e.textContent),
    ["d loss (objective)", "+ λ·GP (λ = 10)", "= total D minimises"]);
  assert.deepEqual([...dl.querySelectorAll("dd")].map((e) => e.textContent), ["-0.0531", "3.61", "3.55"]);
  const text = $("walk-text").textContent;
  assert.match(text, /^D's loss measures how wrong those verdicts are/);
  assert.match(text, /D minimises the total: its objective \(d loss\) plus each weighted penalty, so the gradients phase is the total's gradient\./);
  assert.match(text, /λ·GP = λ·mean \(\|∇D\| − 1\)² at random points between a real and a fake sample/);
  assert.doesNotMatch(text, /R1|R2/);
});

test("R1 and R2 each get their row and sentence, with γ from the config, in a fixed order", () => {
  const values = { d_loss: 1.37, d_r2: 0.0053, d_r1: 0.0115, d_total: 1.3868 };
  const rows = valueRows("d", "loss", values, lossCfg({ r1: 2, r2: 0.5 }));
  assert.deepEqual(rows, [
    ["d loss (objective)", "1.37"], ["+ γ·R1 (γ = 2)", "0.0115"], ["+ γ·R2 (γ = 0.5)", "0.0053"], ["= total D minimises", "1.39"],
  ]);
  const text = phaseText("d", "loss", { values });
  assert.match(text, /γ·R1 = γ\/2·mean \|∇D\|² at the real samples.*γ·R2 = γ\/2·mean \|∇D\|² at the fake samples/);
  assert.doesNotMatch(text, /GP/);
  // Without a config the weights are not guessed.
  assert.equal(valueRows("d", "loss", values)[1][0], "+ γ·R1");
  assert.deepEqual(PENALTY_TERMS.map(([key]) => key), ["d_gp", "d_r1", "d_r2"]);
});

test("without penalties D's loss phase reads as before, and G's loss phase never mentions them", () => {
  assert.equal(phaseText("d", "loss", { values: { d_loss: 0.69 } }), phaseText("d", "loss"));
  assert.deepEqual(valueRows("d", "loss", { d_loss: 0.693147 }), [["d loss", "0.693"]]);
  assert.equal(phaseText("g", "loss", { values: { g_loss: 0.7, d_gp: 1 } }), phaseText("g", "loss"));
  // Only the loss phase explains them.
  assert.equal(phaseText("d", "gradients", { values: { d_gp: 1, grad_norm: 2 } }), phaseText("d", "gradients"));
  assert.deepEqual(valueRows("d", "gradients", { grad_norm: 2 }), [["grad norm", "2"]]);
});

test("a value the server could not send (non-finite) shows as a dash, not a number", () => {
  const rows = valueRows("d", "loss", { d_loss: 1, d_gp: null, d_total: null }, lossCfg({ kind: "wgan_gp" }));
  assert.deepEqual(rows.map(([, v]) => v), ["1", "–", "–"]);
});
