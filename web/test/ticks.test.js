import { test } from "node:test";
import assert from "node:assert/strict";
import { scaleLinear } from "d3-scale";
import { axisTicks, Viewport } from "../src/views/math.js";
import { DistributionRenderer, MARGIN } from "../src/views/distribution-renderer.js";

// d3 writes negative numbers with a real minus sign (U+2212).
const parse = (label) => Number(label.replace("\u2212", "-").replace(/,/g, ""));

const DOMAINS = [[0.61, 0.74], [0.6001, 0.6009], [-1000, 1000], [1e-6, 3e-6], [0, 1], [-2.5, 7.3]];

test("tick labels are distinct and read back as their values, however far zoomed in", () => {
  for (const domain of DOMAINS) {
    for (const count of [2, 6, 11, 14, 20, 30]) {
      const ticks = axisTicks(scaleLinear().domain(domain), count);
      // Very few ticks asked of a narrow domain may give a single one, at a round value.
      assert.ok(ticks.length >= (count >= 6 ? 3 : 1), `${domain} x${count}: some ticks`);
      const labels = ticks.map((t) => t.label);
      assert.equal(new Set(labels).size, labels.length, `${domain} x${count}: ${labels.join(" ")}`);
      const step = ticks.length > 1 ? ticks[1].value - ticks[0].value : Math.abs(ticks[0].value);
      for (const { value, label } of ticks) {
        assert.ok(Math.abs(parse(label) - value) < step * 1e-6, `${domain} x${count}: ${label} for ${value}`);
      }
    }
  }
});

test("the labels have the precision of the ticks' step, no more", () => {
  assert.deepEqual(axisTicks(scaleLinear().domain([0.61, 0.74]), 20).slice(0, 3).map((t) => t.label), ["0.610", "0.615", "0.620"]);
  assert.deepEqual(axisTicks(scaleLinear().domain([0, 1]), 5).map((t) => t.label), ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
  assert.deepEqual(axisTicks(scaleLinear().domain([-1000, 1000]), 4).map((t) => t.label), ["\u22121,000", "\u2212500", "0", "500", "1,000"]);
});

/** A 2D context that records the text it is asked to draw. */
function recordingCanvas() {
  const texts = [];
  const ctx = new Proxy({ texts }, {
    get(target, name) {
      if (name in target) return target[name];
      if (name === "fillText") return (text, x, y) => texts.push({ text, x, y });
      return () => {};
    },
    set() {
      return true;
    },
  });
  return { getContext: () => ctx, width: 0, height: 0, texts };
}

test("the picture's axes show distinct labels when zoomed far in", () => {
  const canvas = recordingCanvas();
  const r = new DistributionRenderer(canvas);
  // 1400 x 840 px showing x in [0.61, 0.74]: 20 ticks across (a step of 0.005), which a
  // 6-tick format (a step of 0.02, two decimals) rounded to repeated labels.
  const v = Viewport.fit([0.61, 0.74, 0.3, 0.378], 1400, 840, 0);
  r.setState({ viewport: { width: v.width, height: v.height, cx: v.cx, cy: v.cy, k: v.k } });
  r.drawAxes();
  // x labels hang below the plot; y labels end just left of it.
  const left = canvas.texts.filter((t) => t.x === MARGIN.left - 6);
  const below = canvas.texts.filter((t) => !left.includes(t));
  for (const t of below) assert.equal(t.y, MARGIN.top + v.height + 6);
  assert.ok(below.length >= 10, `x labels: ${below.length}`);
  assert.ok(left.length >= 5, `y labels: ${left.length}`);
  for (const side of [below, left]) {
    const labels = side.map((t) => t.text);
    assert.equal(new Set(labels).size, labels.length, labels.join(" "));
  }
  // Each label sits where its value is.
  for (const t of below) assert.ok(Math.abs(MARGIN.left + v.x(parse(t.text)) - t.x) < 0.01, t.text);
  for (const t of left) assert.ok(Math.abs(MARGIN.top + v.y(parse(t.text)) - t.y) < 0.01, t.text);
});
