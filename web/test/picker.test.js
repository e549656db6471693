import { test } from "node:test";
import assert from "node:assert/strict";
import { DistributionPicker, THUMB_SIZE, dataLabel, nextIndex, popoverPlace, thumbPoints } from "../src/ui/picker.js";

const DISTRIBUTIONS = [
  { name: "ring", title: "Ring", box: [-2, 2, -2, 2], modes: [{ mean: [1, 0] }, { mean: [0, 1] }] },
  { name: "line", title: "Line", box: [-1, 1, -1, 1] },
];

test("the button names the data: a distribution's title, or words for the user's own", () => {
  assert.equal(dataLabel("ring", DISTRIBUTIONS), "Ring");
  assert.equal(dataLabel("drawing", DISTRIBUTIONS), "your drawing");
  assert.equal(dataLabel("points", DISTRIBUTIONS), "imported points");
  assert.equal(dataLabel("spiral", DISTRIBUTIONS), "spiral"); // not (yet) in the catalogue
  assert.equal(dataLabel("ring", []), "ring");
});

test("a thumbnail shows the shipped samples, else the modes' means, else nothing", () => {
  const samples = { ring: { points: [[0.5, -0.5], [1, 2]], box: [-3, 3, -3, 3] } };
  const shipped = thumbPoints(DISTRIBUTIONS[0], samples);
  assert.ok(shipped.points instanceof Float32Array);
  assert.deepEqual([...shipped.points], [0.5, -0.5, 1, 2]);
  assert.deepEqual(shipped.box, [-3, 3, -3, 3]); // the samples' own box
  const modes = thumbPoints(DISTRIBUTIONS[0], {});
  assert.deepEqual([...modes.points], [1, 0, 0, 1]);
  assert.deepEqual(modes.box, [-2, 2, -2, 2]);
  const none = thumbPoints(DISTRIBUTIONS[1], {});
  assert.equal(none.points.length, 0);
  assert.deepEqual(none.box, [-1, 1, -1, 1]);
});

test("arrow keys move through the grid row by row and stop at its ends", () => {
  // 10 items in rows of 4.
  assert.equal(nextIndex(0, "ArrowRight", 10, 4), 1);
  assert.equal(nextIndex(0, "ArrowLeft", 10, 4), 0);
  assert.equal(nextIndex(1, "ArrowDown", 10, 4), 5);
  assert.equal(nextIndex(8, "ArrowDown", 10, 4), 8); // no row below
  assert.equal(nextIndex(5, "ArrowUp", 10, 4), 1);
  assert.equal(nextIndex(5, "Home", 10, 4), 0);
  assert.equal(nextIndex(5, "End", 10, 4), 9);
});

test("the popover opens under the button and stays inside the window", () => {
  const rect = { left: 100, bottom: 40 };
  assert.deepEqual(popoverPlace(rect, 300, 1280), { left: 100, top: 46 });
  assert.deepEqual(popoverPlace({ left: 1100, bottom: 40 }, 300, 1280), { left: 972, top: 46 });
  assert.deepEqual(popoverPlace({ left: 2, bottom: 10 }, 300, 1280), { left: 8, top: 16 });
  assert.deepEqual(popoverPlace(rect, 500, 400), { left: 8, top: 46 }); // wider than the window
});

/** A canvas whose context records the squares drawn in each colour. */
function fakeCanvas() {
  const canvas = { width: 28, height: 28, dots: {} };
  const ctx = {
    fillStyle: "", globalAlpha: 1,
    setTransform() {}, clearRect() {},
    fillRect() { (canvas.dots[ctx.fillStyle] ||= []).push([...arguments]); },
  };
  canvas.getContext = () => ctx;
  return canvas;
}

function fakeElement(extra = {}) {
  const el = {
    listeners: {}, attrs: {}, style: {}, hidden: false, focused: false, textContent: "",
    addEventListener(type, fn) { el.listeners[type] = fn; },
    setAttribute(k, v) { el.attrs[k] = v; },
    contains: (node) => node === el,
    focus() { el.focused = true; },
    ...extra,
  };
  return el;
}

function fakePicker({ current = null } = {}) {
  const doc = fakeElement({ defaultView: { innerWidth: 1000, innerHeight: 700 } });
  const first = fakeElement();
  const button = fakeElement({ getBoundingClientRect: () => ({ left: 900, bottom: 50 }) });
  const popover = fakeElement({ hidden: true, offsetWidth: 200, ownerDocument: doc, querySelector: () => first });
  const els = { button, popover, grid: null, thumb: fakeCanvas(), name: fakeElement() };
  const state = { current };
  const picker = new DistributionPicker(els, {
    palette: () => ({ real: "green" }),
    current: () => state.current,
    onChoose() {}, onDraw() {}, onImport() {},
  });
  return { picker, els, doc, first, state };
}

test("the button opens and closes the popover; a press outside or Escape closes it", () => {
  const { els, doc, first } = fakePicker();
  const { button, popover } = els;
  button.listeners.click();
  assert.equal(popover.hidden, false);
  assert.equal(button.attrs["aria-expanded"], "true");
  // Taller than the room below the button, it scrolls inside the window.
  assert.deepEqual(popover.style, { left: "792px", top: "56px", maxHeight: "636px" });
  assert.equal(first.focused, true); // the keyboard lands in the grid
  doc.listeners.pointerdown({ target: popover }); // inside: stays open
  assert.equal(popover.hidden, false);
  doc.listeners.pointerdown({ target: {} });
  assert.equal(popover.hidden, true);
  assert.equal(button.attrs["aria-expanded"], "false");
  button.listeners.click();
  popover.listeners.keydown({ key: "Enter" });
  assert.equal(popover.hidden, false);
  popover.listeners.keydown({ key: "Escape" });
  assert.equal(popover.hidden, true);
  assert.equal(button.focused, true); // the focus goes back to the button
  button.listeners.click();
  button.listeners.click();
  assert.equal(popover.hidden, true);
});

test("the button shows the current data's name and thumbnail", () => {
  const { picker, els, state } = fakePicker();
  picker.showCurrent(); // no config yet: nothing to show
  assert.equal(els.name.textContent, "");
  picker.setCatalogue(DISTRIBUTIONS, {}); // no grid on this page: only the catalogue is kept
  state.current = { name: "ring", frame: null };
  picker.showCurrent();
  assert.equal(els.name.textContent, "Ring");
  assert.equal(els.thumb.dots.green.length, 2); // the ring's two modes
  // The user's own data has no catalogue entry: the config's change blanks the thumbnail
  // (the frame then on screen still shows the old data) and the next frame drawn fills it.
  els.thumb.dots = {};
  state.current = { name: "drawing" };
  picker.showCurrent();
  assert.equal(els.name.textContent, "your drawing");
  assert.equal(els.thumb.dots.green, undefined);
  picker.frameDrawn({ real: new Float32Array([0, 0, 1, 1, 2, 2]), box: [-3, 3, -3, 3] });
  assert.equal(els.thumb.dots.green.length, 3);
  // A second import: its own first frame redraws it, never one import behind.
  els.thumb.dots = {};
  state.current = { name: "points" };
  picker.showCurrent();
  assert.equal(els.name.textContent, "imported points");
  assert.equal(els.thumb.dots.green, undefined);
  picker.frameDrawn({ real: new Float32Array([5, 5]), box: [-3, 3, -3, 3] });
  assert.equal(els.thumb.dots.green.length, 1);
  // A registered distribution's thumbnail is its own, whatever the frame.
  state.current = { name: "ring" };
  picker.showCurrent();
  els.thumb.dots = {};
  picker.frameDrawn({ real: new Float32Array([5, 5]), box: [-3, 3, -3, 3] });
  assert.equal(els.thumb.dots.green, undefined);
});

/** A page that makes elements (canvases record their dots) and a grid to build into. */
function fakeGridPage() {
  const doc = fakeElement({ defaultView: { innerWidth: 1000 } });
  doc.createElement = (tag) => {
    const el = fakeElement({ tag, dataset: {}, children: [] });
    el.append = (...children) => el.children.push(...children);
    if (tag === "canvas") Object.assign(el, fakeCanvas());
    return el;
  };
  const grid = doc.createElement("div");
  Object.defineProperty(grid, "textContent", { set() { grid.children.length = 0; } });
  grid.ownerDocument = doc;
  return { doc, grid };
}

test("the grid offers every distribution in the server's order, then drawing and importing", () => {
  const { doc, grid } = fakeGridPage();
  const chosen = [];
  const popover = fakeElement({ hidden: false, ownerDocument: doc, querySelector: () => null });
  const button = fakeElement({ getBoundingClientRect: () => ({ left: 0, bottom: 0 }) });
  const picker = new DistributionPicker(
    { button, popover, grid, thumb: fakeCanvas(), name: fakeElement() },
    {
      palette: () => ({ real: "green" }),
      current: () => null,
      onChoose: (name) => chosen.push(["choose", name, popover.hidden]),
      onDraw: () => chosen.push(["draw", popover.hidden]),
      onImport: () => chosen.push(["import", popover.hidden]),
    },
  );
  picker.setCatalogue(DISTRIBUTIONS, {}); // no grid on this page: only the catalogue is kept
  const items = grid.children;
  assert.deepEqual(items.map((b) => b.className), ["dist-item", "dist-item", "dist-item dist-draw", "dist-item dist-import"]);
  assert.deepEqual(items.slice(0, 2).map((b) => b.attrs["data-testid"]), ["dist-ring", "dist-line"]);
  assert.deepEqual(items.slice(0, 2).map((b) => b.dataset.dist), ["ring", "line"]);
  const [canvas, label] = items[0].children;
  assert.equal(canvas.tag, "canvas");
  assert.deepEqual([canvas.width, canvas.height], [THUMB_SIZE, THUMB_SIZE]);
  assert.equal(canvas.dots.green.length, 2); // the ring's modes, in the palette's real colour
  assert.equal(label.textContent, "Ring");
  // Each choice closes the popover first, then acts.
  items[1].listeners.click();
  popover.hidden = false;
  items[2].listeners.click();
  popover.hidden = false;
  items[3].listeners.click();
  assert.deepEqual(chosen, [["choose", "line", true], ["draw", true], ["import", true]]);
  // A new palette rebuilds the grid rather than adding to it.
  picker.build();
  assert.equal(grid.children.length, 4);
});
