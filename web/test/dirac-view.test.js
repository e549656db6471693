import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import {
  DiracView, DEFAULT_STEPS, contrastWords, diracConfig, eigenWords, fieldArrows, headline, optimizerName, plotLayout, sentences,
  settingsWords,
} from "../src/views/dirac-view.js";
import { Emitter } from "../src/state/run.js";
import { recordingContext } from "../test-support/canvas.js";

function pageConfig(over = {}) {
  const base = {
    data: { name: "points", points: [[0, 0], [1, 1]] },
    loss: { kind: "log", generator: "non_saturating", clip: 0.01, gp_weight: 10, r1: 0, r2: 0, label_smoothing: 0 },
    training: { scheme: "alternating", d_steps: 2, g_steps: 1, lr_halflife: 0, batch_size: 150, unrolled_steps: 0 },
    g_optimizer: { kind: "adam", lr: 0.0004, beta1: 0, beta2: 0.99, momentum: 0, alpha: 0.99 },
    d_optimizer: { kind: "adam", lr: 0.005, beta1: 0, beta2: 0.99, momentum: 0, alpha: 0.99 },
    seed: 0,
  };
  return structuredClone({ ...base, ...over, loss: { ...base.loss, ...(over.loss || {}) }, training: { ...base.training, ...(over.training || {}) } });
}

// A small answer as the server gives it: a 3 x 3 field, a path of three points.
function answer(over = {}) {
  return {
    start: [1, 1], steps: 20000, iterations: 20000, path: [[1, 1], [0.5, -1], [0.01, 0.02]],
    half: [1.5, 3],
    field: { theta: [-1, 0, 1], psi: [-2, 0, 2], v_theta: [-2, 0, 2, -1, 0, 1, 0, 0, 4], v_psi: [1, 1, 1, 0, 0, 0, -1, -1, -1] },
    rates: { theta: 0.01, psi: 0.02 },
    verdict: { kind: "converges", words: "the point closes in on the equilibrium (0, 0)." },
    eigenvalues: [[-0.5, 0], [-0.5, 0]],
    ...over,
  };
}

test("only what the Dirac-GAN follows is sent", () => {
  const body = diracConfig(pageConfig());
  assert.deepEqual(Object.keys(body).sort(), ["d_optimizer", "g_optimizer", "loss", "training"]);
  assert.deepEqual(body.training, { scheme: "alternating", d_steps: 2, g_steps: 1, lr_halflife: 0 });
  assert.equal(body.loss.kind, "log");
});

test("the settings in words name the loss, penalties, scheme and optimizers", () => {
  const words = settingsWords(pageConfig({ loss: { r1: 1 } }), (k) => ({ log: "Log loss" })[k]);
  assert.equal(words, "Log loss, non-saturating G; R1 γ = 1; alternating steps (2 D, then 1 G per iteration); G: Adam (lr 0.0004), D: Adam (lr 0.005)");
  const gp = settingsWords(pageConfig({ loss: { kind: "wgan_gp" }, training: { scheme: "simultaneous" } }));
  assert.match(gp, /^wgan_gp; gradient penalty λ = 10; simultaneous steps;/);
  assert.match(settingsWords(pageConfig({ loss: { kind: "hinge" } })), /^hinge; no penalty;/);
});

const SGD = { kind: "sgd", lr: 0.05, momentum: 0, beta1: 0, beta2: 0.99, alpha: 0.99 };

test("the headline leads with plain gradient steps, then the page's optimizer", () => {
  // Plain SGD on both sides: one sentence, with a true minus sign in the start.
  const sgd = pageConfig({ g_optimizer: SGD, d_optimizer: SGD });
  const one = headline(answer({ start: [1, -1], plain_sgd: null }), sgd);
  assert.deepEqual(one, ["In 20000 iterations of plain gradient steps from (θ, ψ) = (1, −1), the point closes in on the equilibrium (0, 0)."]);
  const cut = headline(answer({ iterations: 40, plain_sgd: null, verdict: { words: "it blows up." } }), sgd);
  assert.deepEqual(cut, ["In 40 iterations of plain gradient steps from (θ, ψ) = (1, 1) (it stopped after 40 of 20000), it blows up."]);
  // Adam: what plain steps do first, then Adam, by name.
  const plain = { kind: "approaches", words: "the point winds in (3.1 turns)." };
  const two = headline(answer({ start: [1, -1], plain_sgd: plain }), pageConfig());
  assert.deepEqual(two, [
    "In 20000 iterations of plain gradient steps at these learning rates from (θ, ψ) = (1, −1), the point winds in (3.1 turns).",
    "With the page's Adam instead, the point closes in on the equilibrium (0, 0).",
  ]);
  const stopped = headline(answer({ iterations: 40, plain_sgd: plain, verdict: { words: "it blows up." } }), pageConfig());
  assert.equal(stopped[1], "With the page's Adam instead (it stopped after 40 of 20000 iterations), it blows up.");
});

test("the page's optimizers by name", () => {
  assert.equal(optimizerName(pageConfig()), "Adam");
  const momentum = { ...SGD, momentum: 0.9 };
  assert.equal(optimizerName(pageConfig({ d_optimizer: momentum })), "G's Adam and D's SGD with momentum");
  assert.equal(optimizerName(pageConfig({ g_optimizer: { ...SGD, kind: "rmsprop" }, d_optimizer: SGD })), "G's RMSProp and D's plain SGD");
});

test("the contrast says which one gets there and how the optimizer differs", () => {
  const circling = { kind: "circles", words: "…" };
  assert.equal(contrastWords(answer({ plain_sgd: null }), pageConfig()), "");
  assert.equal(
    contrastWords(answer({ plain_sgd: circling }), pageConfig()),
    "Adam gets there within these 20000 iterations though plain gradient steps do not: Adam and RMSProp divide each parameter's step by the recent size of its gradients, so the path need not follow the grey arrows.",
  );
  const momentum = pageConfig({ g_optimizer: { ...SGD, momentum: 0.5 }, d_optimizer: { ...SGD, momentum: 0.5 } });
  assert.equal(
    contrastWords(answer({ verdict: { kind: "circles", words: "…" }, plain_sgd: { kind: "converges", words: "…" } }), momentum),
    "Plain gradient steps get there within these 20000 iterations though SGD with momentum does not: momentum carries earlier steps on into later ones, so the path need not follow the grey arrows.",
  );
  const mixed = pageConfig({ d_optimizer: { ...SGD, momentum: 0.5 } });
  assert.equal(
    contrastWords(answer({ plain_sgd: circling }), mixed),
    "G's Adam and D's SGD with momentum get there within these 20000 iterations though plain gradient steps do not: Adam and RMSProp divide each parameter's step by the recent size of its gradients; momentum carries earlier steps on into later ones, so the path need not follow the grey arrows.",
  );
  // Both get there (or neither): no contest, only how the optimizer differs.
  assert.equal(
    contrastWords(answer({ plain_sgd: { kind: "converges", words: "…" } }), pageConfig()),
    "Adam and RMSProp divide each parameter's step by the recent size of its gradients, so the path need not follow the grey arrows.",
  );
});

test("eigenvalues in words", () => {
  assert.equal(
    eigenWords([[0, -0.5], [0, 0.5]]),
    "Near (0, 0) the field's Jacobian has eigenvalues −0.5i and 0.5i. They are purely imaginary: to first order the field only turns the point round the equilibrium and does not pull it in.",
  );
  assert.match(eigenWords([[-0.2, -0.46], [-0.2, 0.46]]), /−0\.2 − 0\.46i and −0\.2 \+ 0\.46i\. Their real parts are negative/);
  assert.match(eigenWords([[-0.5, 0], [-0.5, 0]]), /eigenvalues −0\.5 and −0\.5\. /);
  assert.match(eigenWords([[0.1, 0], [-1, 0]]), /positive real part/);
  assert.match(eigenWords([[0, 0], [0, 0]]), /Both are zero/);
  assert.match(eigenWords(null), /no eigenvalues/);
  // One colon at most in each sentence, and no internal names.
  for (const e of [[[0, -0.5], [0, 0.5]], [[-0.5, 0], [-0.5, 0]], [[0.1, 0], [-1, 0]], [[0, 0], [0, 0]], null]) {
    for (const sentence of eigenWords(e).split(". ")) assert.ok((sentence.match(/:/g) || []).length <= 1, sentence);
    assert.doesNotMatch(eigenWords(e), /_/);
  }
});

test("sentences that changed flash, the rest do not, and nothing flashes the first time", () => {
  const el = window.document.createElement("p");
  sentences(el, ["A.", "B."]);
  assert.equal(el.textContent, "A. B.");
  assert.equal(el.querySelectorAll(".dirac-changed").length, 0);
  sentences(el, ["A.", "C."]);
  assert.deepEqual([...el.querySelectorAll("span")].map((s) => [s.textContent, s.className]), [["A.", ""], ["C.", "dirac-changed"]]);
  sentences(el, ["A.", "C."]);
  assert.equal(el.querySelectorAll(".dirac-changed").length, 0);
  // Emptied, then filled again: the new sentence is a change.
  sentences(el, [""]);
  assert.equal(el.textContent, "");
  sentences(el, ["D."]);
  assert.equal(el.querySelector("span").className, "dirac-changed");
});

test("the plot maps the corners and the centre", () => {
  const l = plotLayout(362, 348, [2, 10]);
  // 46 px on the left, 16 on the right, 10 on top, 38 below: a 300 x 300 plot.
  assert.equal(l.width, 300);
  assert.equal(l.height, 300);
  assert.equal(l.x(-2), 46);
  assert.equal(l.x(2), 346);
  assert.equal(l.x(0), 196);
  assert.equal(l.y(10), 10);
  assert.equal(l.y(-10), 310);
  assert.equal(l.y(0), 160);
});

test("arrows: one iteration's step to scale on both axes, the longest one grid spacing", () => {
  const r = answer();
  const l = plotLayout(362, 348, r.half);
  const arrows = fieldArrows(r, l);
  assert.equal(arrows.length, 9);
  // Pixels per unit: 100 on θ (300 / 3), 50 on ψ (300 / 6). Steps in pixels, by hand:
  // (v_θ * 0.01 * 100, -v_ψ * 0.02 * 50) = (v_θ, -v_ψ); the longest is (4, 1), 100 px spacing.
  const longest = Math.hypot(4, 1);
  const k = 100 / longest;
  for (let j = 0; j < 3; j++) {
    for (let i = 0; i < 3; i++) {
      const a = arrows[j * 3 + i];
      const idx = j * 3 + i;
      assert.equal(a.x0, l.x(r.field.theta[i]));
      assert.equal(a.y0, l.y(r.field.psi[j]));
      assert.ok(Math.abs(a.x1 - a.x0 - r.field.v_theta[idx] * k) < 1e-9);
      assert.ok(Math.abs(a.y1 - a.y0 + r.field.v_psi[idx] * k) < 1e-9);
    }
  }
  assert.ok(Math.abs(Math.hypot(arrows[8].x1 - arrows[8].x0, arrows[8].y1 - arrows[8].y0) - 100) < 1e-9);
});

let window;
let els;
let ctx;

beforeEach(() => {
  window = new JSDOM(`<!doctype html><details><summary>s</summary><canvas></canvas></details>
    <p id="explain"></p><p id="sgd"></p><p id="eigen"></p><p id="settings"></p><p id="status"></p><select id="steps"></select>`).window;
  globalThis.window = window;
  globalThis.Option = window.Option;
  const $ = (s) => window.document.querySelector(s);
  els = { details: $("details"), canvas: $("canvas"), explain: $("#explain"), sgd: $("#sgd"), eigen: $("#eigen"), settings: $("#settings"), status: $("#status"), steps: $("#steps") };
  els.canvas.getBoundingClientRect = () => ({ left: 0, top: 0, width: 356, height: 348 });
  ctx = recordingContext();
  els.canvas.getContext = () => ctx;
});

afterEach(() => {
  delete globalThis.window;
  delete globalThis.Option;
});

/** A post that records bodies and answers when told: resolve(i, answer) or reject(i, err). */
function fakePost() {
  const calls = [];
  const post = (body) => new Promise((resolve, reject) => calls.push({ body, resolve, reject }));
  return { calls, post };
}

function open(details) {
  details.open = true;
  details.dispatchEvent(new window.Event("toggle"));
}

test("asks only when open, and again only when a followed setting changes", async () => {
  const run = new Emitter();
  const { calls, post } = fakePost();
  const view = new DiracView(els, { run, post, lossTitle: () => "Log loss", delay: 0 });
  assert.equal(els.steps.value, String(DEFAULT_STEPS));
  run.emit("config", pageConfig());
  assert.equal(calls.length, 0); // closed: nothing asked
  open(els.details);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].body, { config: diracConfig(pageConfig()), steps: DEFAULT_STEPS });
  assert.equal(els.status.textContent, "Computing…");
  const first = answer({ plain_sgd: { kind: "circles", words: "the point circles." } });
  calls[0].resolve(first);
  await view.pending;
  const lead = headline(first, pageConfig());
  assert.equal(els.explain.textContent, lead.join(" "));
  assert.match(lead[0], /plain gradient steps .* the point circles\.$/);
  assert.equal(els.sgd.textContent, contrastWords(first, pageConfig()));
  assert.match(els.sgd.textContent, /^Adam gets there/);
  assert.equal(els.status.textContent, "");
  assert.match(els.eigen.textContent, /Their real parts are negative/);
  assert.equal(els.canvas.getAttribute("aria-label"), `The Dirac-GAN's vector field and path of training. ${lead.join(" ")}`);
  assert.equal(els.explain.querySelectorAll(".dirac-changed").length, 0);
  assert.match(els.settings.textContent, /^Following: Log loss, non-saturating G; no penalty;/);
  // Drawn: the path's start and end, the arrows.
  assert.ok(ctx.calls.filter((c) => c[0] === "arc").length >= 2);
  assert.ok(ctx.calls.some((c) => c[0] === "lineTo"));
  // The data and the seed are not followed: nothing asked.
  run.emit("config", pageConfig({ data: { name: "ring8" }, seed: 4 }));
  assert.equal(calls.length, 1);
  run.emit("config", pageConfig({ loss: { r1: 1 } }));
  assert.equal(calls.length, 2);
  assert.equal(calls[1].body.config.loss.r1, 1);
  // R1 changes what plain steps do: that headline sentence flashes, Adam's does not.
  calls[1].resolve(answer({ plain_sgd: { kind: "approaches", words: "the point heads in." } }));
  await view.pending;
  const flashed = [...els.explain.querySelectorAll("span")].map((span) => span.className);
  assert.deepEqual(flashed, ["dirac-changed", ""]);
  assert.match(els.explain.textContent, /the point heads in\. With the page's Adam instead, the point closes in/);
  // Adam still gets there where plain steps do not: the same contrast, no flash.
  assert.equal(els.sgd.querySelector("span").className, "");
  els.steps.value = "1000";
  els.steps.dispatchEvent(new window.Event("change"));
  assert.equal(calls.length, 3);
  assert.equal(calls[2].body.steps, 1000);
});

test("a late answer to an older request is dropped; a refusal is shown", async () => {
  const run = new Emitter();
  const { calls, post } = fakePost();
  const view = new DiracView(els, { run, post, delay: 0 });
  open(els.details);
  run.emit("config", pageConfig());
  run.emit("config", pageConfig({ loss: { kind: "hinge" } }));
  assert.equal(calls.length, 2);
  calls[1].resolve(answer({ verdict: { words: "the newer one." } }));
  await view.pending;
  calls[0].resolve(answer({ verdict: { words: "the older one." } }));
  await new Promise((r) => setTimeout(r, 0));
  assert.match(els.explain.textContent, /the newer one\.$/);
  run.emit("config", pageConfig({ loss: { kind: "lsgan" } }));
  calls[2].reject(new Error("config.loss.kind: must be one of …"));
  await view.pending;
  assert.equal(els.status.textContent, "The game could not be computed: config.loss.kind: must be one of …");
  // The same settings are asked again at the next change (the failure is not remembered).
  run.emit("config", pageConfig({ loss: { kind: "lsgan" } }));
  assert.equal(calls.length, 4);
});

test("settings changed in quick succession ask once, for the last", async () => {
  const run = new Emitter();
  const { calls, post } = fakePost();
  new DiracView(els, { run, post, delay: 20 });
  els.details.open = true;
  for (const r1 of [0.1, 0.2, 0.3]) run.emit("config", pageConfig({ loss: { r1 } }));
  assert.equal(calls.length, 0);
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(calls.length, 1);
  assert.equal(calls[0].body.config.loss.r1, 0.3);
});
