import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";
import { NoiseView } from "../src/views/noise-view.js";
import { PALETTES } from "../src/views/colors.js";
import { recordingContext } from "../test-support/canvas.js";

// The canvas sits at (30, 40) on the page, 220 CSS pixels square. With the view's 5% margin,
// uniform noise ([-1, 1]) is drawn at 100 px per unit and Gaussian noise ([-3, 3]) at 33.3.
const RECT = { left: 30, top: 40, width: 220, height: 220 };
const CENTRE = 110;

let window;
let canvas;
let tooltip;
let ctx;
let hovered;
let dirtied;

function makeView({ withTooltip = true } = {}) {
  return new NoiseView(canvas, withTooltip ? tooltip : null, {
    onHover: (i) => hovered.push(i),
    onDirty: () => dirtied++,
  });
}

function frame({ kind = "uniform", dim = 2, noise = [0, 0, 0.5, -0.5, -1, 1], version = 1, manifoldShape = [5, 5] } = {}) {
  return { noiseKind: kind, noiseDim: dim, fakeNoise: new Float32Array(noise), configVersion: version, manifoldShape };
}

/** Move the pointer to canvas-relative CSS pixels. */
function moveTo(x, y) {
  canvas.dispatchEvent(new window.PointerEvent("pointermove", { clientX: RECT.left + x, clientY: RECT.top + y }));
}

beforeEach(() => {
  window = new JSDOM(`<!doctype html><canvas></canvas><div class="tooltip" hidden></div>`).window;
  window.devicePixelRatio = 2;
  canvas = window.document.querySelector("canvas");
  tooltip = window.document.querySelector(".tooltip");
  canvas.getBoundingClientRect = () => ({ ...RECT });
  ctx = recordingContext();
  canvas.getContext = () => ctx;
  hovered = [];
  dirtied = 0;
  globalThis.window = window;
  globalThis.ResizeObserver = class {
    observe() {}
  };
});

afterEach(() => {
  delete globalThis.window;
  delete globalThis.ResizeObserver;
});

test("the canvas is sized to its box at the screen's pixel density", () => {
  makeView();
  assert.equal(canvas.width, 440);
  assert.equal(canvas.height, 440);
});

test("hovering a noise point reports it and shows its coordinates", () => {
  const view = makeView();
  view.setFrame(frame({ dim: 3, noise: [0, 0, 0, 0.5, -0.5, 0.25, -1, 1, 0] }));
  // z = (0.5, -0.5) is 50 px right of and 50 px below the centre.
  moveTo(CENTRE + 50, CENTRE + 50);
  assert.deepEqual(hovered, [1]);
  assert.equal(tooltip.hidden, false);
  assert.equal(tooltip.textContent, "noise #1: z = (0.5, -0.5, 0.25)");
  assert.equal(view.highlight, 1);
  // Within a few pixels still counts; the top-left point is z = (-1, 1).
  moveTo(CENTRE - 100 + 5, CENTRE - 100 - 5);
  assert.equal(hovered.at(-1), 2);
});

test("away from every point nothing is highlighted and the tooltip hides; so on leaving", () => {
  const view = makeView();
  view.setFrame(frame());
  moveTo(CENTRE, CENTRE);
  assert.equal(hovered.at(-1), 0);
  moveTo(CENTRE + 25, CENTRE);
  assert.equal(hovered.at(-1), -1);
  assert.equal(tooltip.hidden, true);
  moveTo(CENTRE, CENTRE);
  canvas.dispatchEvent(new window.Event("pointerleave"));
  assert.equal(hovered.at(-1), -1);
  assert.equal(tooltip.hidden, true);
  assert.equal(view.highlight, -1);
});

test("without a tooltip element hovering still reports the point", () => {
  const view = makeView({ withTooltip: false });
  view.setFrame(frame());
  moveTo(CENTRE + 50, CENTRE + 50);
  assert.deepEqual(hovered, [1]);
});

test("before any frame, moving over the canvas does nothing", () => {
  makeView();
  moveTo(CENTRE, CENTRE);
  assert.deepEqual(hovered, []);
});

test("Gaussian noise is shown over [-3, 3], uniform over [-1, 1]", () => {
  const view = makeView();
  view.setFrame(frame({ kind: "gaussian", noise: [3, 0, 0, -3] }));
  moveTo(CENTRE + 100, CENTRE);
  assert.equal(hovered.at(-1), 0);
  moveTo(CENTRE, CENTRE + 100);
  assert.equal(hovered.at(-1), 1);
  view.setFrame(frame({ kind: "uniform", noise: [1, 0, 0, -1], version: 2 }));
  moveTo(CENTRE + 100, CENTRE);
  assert.equal(hovered.at(-1), 0);
});

test("1D noise points are spread vertically by their index so they do not overlap", () => {
  const view = makeView();
  const z = [-0.9, -0.3, 0.3, 0.9];
  view.setFrame(frame({ dim: 1, noise: z, manifoldShape: [84] }));
  for (let i = 0; i < z.length; i++) {
    const y = ((i % 17) / 16 - 0.5) * 0.6;
    moveTo(CENTRE + 100 * z[i], CENTRE - 100 * y);
    assert.equal(hovered.at(-1), i);
  }
  assert.equal(tooltip.textContent, "noise #3: z = (0.9)");
});

test("it asks to be redrawn only when what it shows changes", () => {
  const view = makeView();
  view.setPalette(PALETTES.ganlab);
  view.setFrame(frame());
  assert.equal(view.dirty, true);
  view.render();
  assert.equal(view.dirty, false);
  const before = dirtied;
  view.setFrame(frame()); // the next frame of the same run: the noise batch is fixed
  assert.equal(dirtied, before);
  assert.equal(view.dirty, false);
  view.setFrame(frame({ version: 2 })); // a new configuration: a new batch
  assert.equal(dirtied, before + 1);
  view.render();
  view.setHighlight(-1);
  assert.equal(view.dirty, false);
  view.setHighlight(2);
  assert.equal(view.dirty, true);
});

test("drawn: the latent grid lines, a label for the noise, one dot per point and a ring on the highlighted one", () => {
  const view = makeView();
  view.render();
  assert.deepEqual(ctx.calls.filter((c) => c[0] === "fillText"), [], "nothing but the background before a frame");
  view.setPalette(PALETTES.ganlab);
  view.setFrame(frame({ dim: 3, noise: [0, 0, 0, 0.5, 0.5, 0.5] }));
  view.setHighlight(1);
  ctx.calls.length = 0;
  view.render();
  const names = ctx.calls.map((c) => c[0]);
  assert.deepEqual(ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]), ["uniform noise, 3D (first two shown)"]);
  assert.equal(names.filter((n) => n === "arc").length, 2 + 1);
  const ring = ctx.calls.filter((c) => c[0] === "arc").at(-1);
  assert.deepEqual(ring.slice(1, 4).map((v) => +v.toFixed(6)), [CENTRE + 50, CENTRE - 50, 6.5]);
  // A 5 x 5 grid in 2D noise: 5 vertical and 5 horizontal lines.
  assert.equal(names.filter((n) => n === "lineTo").length, 10);
  assert.equal(ctx.fillStyle, PALETTES.ganlab.fake);
});

test("1D noise draws only vertical grid lines", () => {
  const view = makeView();
  view.setPalette(PALETTES.cvd);
  view.setFrame(frame({ dim: 1, noise: [0.1, 0.2], manifoldShape: [20] }));
  ctx.calls.length = 0;
  view.render();
  // A curve of 20 points: a quarter as many lines as points.
  assert.equal(ctx.calls.filter((c) => c[0] === "lineTo").length, 5);
  assert.deepEqual(ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]), ["uniform noise, 1D"]);
});
