import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { ModeHistogram, modeCountsOf, modeShares } from "../src/views/mode-histogram.js";

let box;

beforeEach(() => {
  const { window } = new JSDOM(`<!doctype html><div class="chart"></div>`);
  box = window.document.querySelector(".chart");
});

afterEach(() => {
  box = null;
});

const COUNTS = { iteration: 300, samples: 400, nearest: [200, 100, 100, 0], highQuality: [150, 20, 0, 0] };

test("counts are read from a message's header and arrays; a message without them has none", () => {
  const header = { mode_iteration: 300, mode_samples: 400 };
  const arrays = { mode_nearest: { data: Int32Array.from([200, 100, 100, 0]) }, mode_high_quality: { data: Int32Array.from([150, 20, 0, 0]) } };
  assert.deepEqual(modeCountsOf(header, arrays), COUNTS);
  assert.equal(modeCountsOf({}, {}), null);
});

test("shares are of all evaluated samples; the scale tops at the largest share rounded up to a tenth", () => {
  const s = modeShares(COUNTS);
  assert.deepEqual(s.nearest, [0.5, 0.25, 0.25, 0]);
  assert.deepEqual(s.highQuality, [0.375, 0.05, 0, 0]);
  assert.equal(s.even, 0.25);
  assert.equal(s.top, 0.5);
  // An even spread over 8 modes: the even share itself sets the scale (0.125 -> 0.2).
  assert.equal(modeShares({ samples: 80, nearest: Array(8).fill(10), highQuality: Array(8).fill(0) }).top, 0.2);
  // Everything on one mode: the full scale, never past it.
  assert.equal(modeShares({ samples: 50, nearest: [50, 0], highQuality: [50, 0] }).top, 1);
});

test("one bar a mode, heights in shares of the scale, and the even share as a line", () => {
  const h = new ModeHistogram(box);
  h.setColor("#123456");
  h.set(COUNTS);
  const bars = [...box.querySelectorAll('[data-testid="mode-bar"]')];
  assert.equal(bars.length, 4);
  const heights = bars.map((g) => [...g.querySelectorAll("rect")].map((r) => Number(r.getAttribute("height"))));
  // Scale top 0.5: nearest 0.5, 0.25, 0.25, 0 -> 1, 0.5, 0.5, 0; high quality 0.375 -> 0.75, 0.05 -> 0.1.
  assert.deepEqual(heights, [[1, 0.75], [0.5, 0.1], [0.5, 0], [0, 0]]);
  const first = bars[0].querySelectorAll("rect");
  assert.equal(first[0].getAttribute("fill-opacity"), "0.35", "all samples nearest: faint");
  assert.equal(first[1].getAttribute("fill-opacity"), "1", "high quality: solid");
  assert.equal(first[1].getAttribute("fill"), "#123456");
  assert.match(bars[1].querySelector("title").textContent, /mode 2: 25% of samples nearest it, 5\.0% high quality/);
  const line = box.querySelector("line");
  assert.equal(Number(line.getAttribute("y1")), 0.5, "1/4 of a 0.5 scale: halfway up");
  assert.equal(box.querySelector(".mode-top").textContent, "50%");
  assert.equal(box.querySelector(".mode-caption").textContent, "4 modes, 400 samples at iteration 300; 43% high quality.");
  assert.match(box.querySelector(".mode-legend").textContent, /all samples nearest the mode.*of them high quality.*even share 1\/K/);
});

test("without counts it draws no bars and says it waits", () => {
  const h = new ModeHistogram(box);
  h.set(COUNTS);
  h.set(null);
  assert.equal(box.querySelectorAll('[data-testid="mode-bar"]').length, 0);
  assert.equal(box.querySelector(".mode-top").textContent, "");
  assert.match(box.querySelector(".mode-caption").textContent, /Waiting for the next metric row/);
});
