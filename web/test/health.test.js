import { test } from "node:test";
import assert from "node:assert/strict";
import { HealthMonitor, HEALTH_DEFAULTS, medianDistance, pointStats, suggestedRate } from "../src/state/health.js";
import { History } from "../src/state/history.js";

const COLUMNS = ["iteration", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm",
  "kl_grid", "js_grid", "w1", "modes_covered", "modes_total", "high_quality_fraction", "reverse_kl"];

/** A repeatable stream of numbers in [0, 1). */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `n` points of eight Gaussians on a circle of radius 2 (the "gaussians" data), flat xy. */
function gaussians(n, seed) {
  const rnd = random(seed);
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const a = (2 * Math.PI * (i % 8)) / 8;
    out[2 * i] = 2 * Math.cos(a) + 0.1 * (rnd() - 0.5);
    out[2 * i + 1] = 2 * Math.sin(a) + 0.1 * (rnd() - 0.5);
  }
  return out;
}

const REAL = gaussians(480, 1);
const BOX = [-2.5, 2.5, -2.5, 2.5];
const LOSSES = { d_loss: 1.38, g_loss: 0.71, d_real: 0.5, d_fake: 0.49 };

/** A frame as prepareFrame makes it; by default a well trained run playing at full speed. */
const frame = (over = {}) => ({
  iteration: 5000, playing: true, ips: 180, box: BOX, real: REAL, fake: gaussians(240, 2), losses: LOSSES, ...over,
});

/** `fakes` moved by (dx, dy) or shrunk towards (x, y) by `scale`. */
const shifted = (flat, dx, dy) => flat.map((v, i) => v + (i % 2 ? dy : dx));
const shrunk = (flat, x, y, scale) => flat.map((v, i) => (i % 2 ? y : x) + (v - (i % 2 ? y : x)) * scale);

/** A History of [iteration, covered, total] rows. */
function modesHistory(rows) {
  const h = new History();
  const flat = rows.flatMap(([it, covered, total]) => COLUMNS.map((c) => (
    c === "iteration" ? it : c === "modes_covered" ? covered : c === "modes_total" ? total : 0.5)));
  h.replace(COLUMNS, new Float32Array(flat));
  return h;
}

test("a healthy, trained-looking run has nothing to report", () => {
  const m = new HealthMonitor();
  assert.equal(m.status(), null, "nothing seen yet");
  for (let k = 0; k < 20; k++) m.observeFrame(frame({ iteration: 1000 + 100 * k }), 1000 * k);
  m.observeHistory(modesHistory([[600, 8, 8], [800, 8, 8], [1000, 7, 8], [1200, 8, 8]]));
  assert.equal(m.status(), null);
  // A frame before the first update (no losses yet) is fine too.
  m.observeFrame(frame({ losses: {} }), 30000);
  assert.equal(m.status(), null);
});

test("non-finite fakes or losses mean the training diverged", () => {
  const m = new HealthMonitor();
  const fake = gaussians(240, 2);
  fake[17] = NaN;
  m.observeFrame(frame({ fake }), 0);
  const s = m.status();
  assert.equal(s.kind, "diverged");
  assert.match(s.text, /^Training diverged: .*(infinity|NaN)/);
  assert.equal(s.suggestion, "Lower the learning rates (try 0.001) and press Reset.");
  // The server sends a loss that is no longer a finite number as null.
  m.observeFrame(frame({ losses: { ...LOSSES, g_loss: null } }), 100);
  assert.equal(m.status().kind, "diverged");
  m.observeFrame(frame({ fake: shifted(gaussians(240, 2), Infinity, 0) }), 200);
  assert.equal(m.status().kind, "diverged");
  // Recovered (say after a reset with lower rates): the notice goes.
  m.observeFrame(frame(), 300);
  assert.equal(m.status(), null);
});

test("fakes far outside the picture mean the training diverged; a few strays do not", () => {
  const m = new HealthMonitor();
  const half = 2.5;
  // The median fake 4.5 half-sizes from the data's centre: off screen, but not yet diverged.
  m.observeFrame(frame({ fake: shifted(gaussians(240, 2), 4.5 * half, 0) }), 0);
  assert.equal(m.status(), null);
  m.observeFrame(frame({ fake: shifted(gaussians(240, 2), 0, -6 * half) }), 100);
  const s = m.status();
  assert.equal(s.kind, "diverged");
  assert.equal(s.text, "Training diverged: the fake samples flew far outside the picture.");
  // A third of the fakes flung far away: the median is still on the data.
  const fake = gaussians(240, 2);
  for (let i = 0; i < 80; i++) fake[2 * i] = 1e6;
  m.observeFrame(frame({ fake }), 200);
  assert.equal(m.status(), null);
});

test("the suggested learning rate is below the current ones", () => {
  const config = (g, d) => ({ g_optimizer: { lr: g }, d_optimizer: { lr: d } });
  assert.equal(suggestedRate(null), 0.001);
  assert.equal(suggestedRate(config(0.01, 0.05)), 0.001);
  assert.equal(suggestedRate(config(0.001, 0.002)), 0.0001);
  assert.equal(suggestedRate(config(0.0003, 0.001)), 0.00003);
  const m = new HealthMonitor();
  m.setConfig(config(0.001, 0.001));
  m.observeFrame(frame({ losses: { d_loss: null } }), 0);
  assert.equal(m.status().suggestion, "Lower the learning rates (try 0.0001) and press Reset.");
});

test("covering at most one mode for a sustained window after the warm-up is a collapse", () => {
  const m = new HealthMonitor();
  m.observeFrame(frame(), 0);
  // During the warm-up every run starts bunched up: nothing to say.
  m.observeHistory(modesHistory([[0, 1, 8], [100, 1, 8], [200, 0, 8], [300, 1, 8], [400, 1, 8]]));
  assert.equal(m.status(), null);
  // Three rows but only 200 iterations: too short.
  m.observeHistory(modesHistory([[400, 6, 8], [600, 1, 8], [700, 1, 8], [800, 1, 8]]));
  assert.equal(m.status(), null);
  // 300 iterations over two rows: too few rows.
  m.observeHistory(modesHistory([[400, 6, 8], [600, 1, 8], [900, 1, 8]]));
  assert.equal(m.status(), null);
  m.observeHistory(modesHistory([[400, 6, 8], [600, 1, 8], [700, 1, 8], [800, 1, 8], [900, 1, 8]]));
  const s = m.status();
  assert.equal(s.kind, "collapsed");
  assert.equal(s.text, "Mode collapse: the fake samples cover only 1 of the 8 modes of the data.");
  assert.match(s.suggestion, /press Reset\.$/);
  m.observeHistory(modesHistory([[500, 0, 4], [600, 0, 4], [700, 0, 4], [800, 0, 4]]));
  assert.equal(m.status().text, "Mode collapse: the fake samples cover none of the 4 modes of the data.");
  // Recovered: the latest row covers more than one mode.
  m.observeHistory(modesHistory([[600, 1, 8], [700, 1, 8], [800, 1, 8], [900, 1, 8], [1000, 3, 8]]));
  assert.equal(m.status(), null);
  // Rows without a mode count (thinned or not computed) are skipped, not counted as healthy.
  m.observeHistory(modesHistory([[600, 1, 8], [700, 1, 8], [800, NaN, NaN], [900, 1, 8]]));
  assert.equal(m.status().kind, "collapsed");
});

test("without modes, fakes bunched into a spot for a sustained window are a collapse", () => {
  const m = new HealthMonitor();
  const spot = shrunk(gaussians(240, 2), 1, 1, 0.01);
  assert.ok(pointStats(spot).spread < HEALTH_DEFAULTS.spreadFraction * pointStats(REAL).spread);
  // Before the warm-up: nothing, however long.
  for (const it of [0, 150, 300, 450]) m.observeFrame(frame({ iteration: it, fake: spot }), it);
  assert.equal(m.status(), null);
  m.observeFrame(frame({ iteration: 600, fake: spot }), 600);
  m.observeFrame(frame({ iteration: 750, fake: spot }), 750);
  // Paused: more frames of the same iteration are no more evidence.
  for (let k = 0; k < 5; k++) m.observeFrame(frame({ iteration: 750, fake: spot, playing: false }), 800 + k);
  assert.equal(m.status(), null);
  m.observeFrame(frame({ iteration: 850, fake: spot }), 850);
  assert.equal(m.status(), null, "three frames, but only 250 iterations");
  m.observeFrame(frame({ iteration: 900, fake: spot }), 900);
  const s = m.status();
  assert.equal(s.kind, "collapsed");
  assert.match(s.text, /^Mode collapse: the fake samples have bunched up/);
  // Spread out again: healthy.
  m.observeFrame(frame({ iteration: 1000 }), 1000);
  assert.equal(m.status(), null);
  // A run that spreads half as wide as the data is not collapsed.
  for (const it of [1100, 1300, 1500, 1700]) m.observeFrame(frame({ iteration: it, fake: shrunk(gaussians(240, 2), 0, 0, 0.5) }), it);
  assert.equal(m.status(), null);
});

test("data with modes is judged by its modes, not by the fakes' spread", () => {
  const m = new HealthMonitor();
  m.observeHistory(modesHistory([[600, 5, 8], [900, 6, 8]]));
  const spot = shrunk(gaussians(240, 2), 2, 0, 0.01);
  for (const it of [600, 800, 1000, 1200]) m.observeFrame(frame({ iteration: it, fake: spot }), it);
  assert.equal(m.status(), null);
});

test("playing at under 5 it/s for 3 seconds is slow; faster again, or paused, is not", () => {
  const m = new HealthMonitor();
  m.observeFrame(frame({ ips: 2.4 }), 10000);
  m.observeFrame(frame({ ips: 2.2 }), 11000);
  m.observeFrame(frame({ ips: 2.5 }), 12900);
  assert.equal(m.status(), null, "not yet 3 seconds");
  m.observeFrame(frame({ ips: 2.3 }), 13000);
  const s = m.status();
  assert.equal(s.kind, "slow");
  assert.equal(s.text, "Training is slow: 2.3 iterations a second.");
  assert.ok(s.suggestion.length > 10);
  m.observeFrame(frame({ ips: 40 }), 14000);
  assert.equal(m.status(), null, "fast again");
  m.observeFrame(frame({ ips: 3 }), 15000);
  m.observeFrame(frame({ ips: 3 }), 17000);
  assert.equal(m.status(), null, "the 3 seconds start over");
  m.observeFrame(frame({ ips: 3 }), 18000);
  assert.equal(m.status().kind, "slow");
  m.observeFrame(frame({ ips: 0, playing: false }), 19000);
  m.observeFrame(frame({ ips: 0, playing: false }), 25000);
  assert.equal(m.status(), null, "paused is not slow");
});

test("a run capped at a low speed on purpose is slow only under half its cap", () => {
  const m = new HealthMonitor();
  m.setSpeedLimit(2);
  for (const t of [0, 2000, 4000]) m.observeFrame(frame({ ips: 1.9 }), t);
  assert.equal(m.status(), null);
  for (const t of [5000, 7000, 9000]) m.observeFrame(frame({ ips: 0.5 }), t);
  assert.equal(m.status().kind, "slow");
  m.setSpeedLimit(null);
  for (const t of [10000, 12000, 14000]) m.observeFrame(frame({ ips: 1.9 }), t);
  assert.equal(m.status().kind, "slow", "no cap: under 5 it/s is slow");
});

test("a divergence is told before a slow run", () => {
  const m = new HealthMonitor();
  for (const t of [0, 2000, 4000]) m.observeFrame(frame({ ips: 1, losses: { d_loss: null } }), t);
  assert.equal(m.status().kind, "diverged");
});

test("reset forgets the run; so does the iteration count going back", () => {
  const m = new HealthMonitor();
  const spot = shrunk(gaussians(240, 2), 1, 1, 0.01);
  for (const it of [600, 800, 1000]) m.observeFrame(frame({ iteration: it, fake: spot }), it);
  assert.equal(m.status().kind, "collapsed");
  m.reset();
  assert.equal(m.status(), null);
  for (const it of [600, 800, 1000]) m.observeFrame(frame({ iteration: it, fake: spot }), it);
  assert.equal(m.status().kind, "collapsed");
  // A reset by another tab or a loaded run: the count starts again, the evidence with it.
  m.observeFrame(frame({ iteration: 700, fake: spot }), 1100);
  assert.equal(m.status(), null);
  m.observeHistory(modesHistory([[600, 1, 8], [700, 1, 8], [800, 1, 8], [900, 1, 8]]));
  assert.equal(m.status().kind, "collapsed");
  m.reset();
  assert.equal(m.status(), null);
});

test("the median distance and spread are those of the points", () => {
  assert.equal(medianDistance(new Float32Array([3, 4, 0, 1, 0, 2]), 0, 0), 2);
  assert.equal(medianDistance(new Float32Array([3, 4, 0, 1]), 0, 0), 3);
  const s = pointStats(new Float32Array([-1, 0, 1, 0, 0, -1, 0, 1]));
  assert.deepEqual([s.cx, s.cy, s.spread], [0, 0, 1]);
});

test("fakes that run off while D is frozen are blamed on the frozen D, not the learning rates", async () => {
  const { HealthMonitor } = await import("../src/state/health.js");
  const m = new HealthMonitor();
  m.setConfig({ training: { d_steps: 0 }, g_optimizer: { lr: 0.001 }, d_optimizer: { lr: 0.001 } });
  const real = new Float32Array([0, 0, 1, 1, 0, 1, 1, 0]);
  const fake = new Float32Array([50, 50, 51, 51, 52, 50, 50, 52]);
  m.observeFrame({ iteration: 10, fake, real, box: [0, 1, 0, 1], playing: true, ips: 100, losses: {} }, 0);
  const s = m.status();
  assert.equal(s.kind, "diverged");
  assert.match(s.suggestion, /frozen/);
  assert.doesNotMatch(s.suggestion, /learning rate/);
});
