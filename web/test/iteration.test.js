import { test } from "node:test";
import assert from "node:assert/strict";
import { IterationCounter } from "../src/state/iteration.js";

test("a frame drawn after a later state message does not overwrite its iteration", () => {
  const c = new IterationCounter();
  const ticket = c.frameArrived(); // frame at 265 arrives, waits for an animation frame
  c.told(268); // the pause reply: training stopped at 268
  assert.equal(c.drawn(ticket, 265), false);
  assert.equal(c.value, 268);
});

test("frames that arrive after the last state message set the iteration", () => {
  const c = new IterationCounter();
  c.told(0);
  const a = c.frameArrived();
  const b = c.frameArrived();
  assert.equal(c.drawn(a, 10), true);
  assert.equal(c.drawn(b, 20), true);
  assert.equal(c.value, 20);
  c.told(0); // a reset: the iteration goes back
  assert.equal(c.value, 0);
  const d = c.frameArrived();
  assert.equal(c.drawn(d, 3), true);
  assert.equal(c.value, 3);
});

test("told() and drawn() carry the update counters with the iteration", () => {
  const c = new IterationCounter();
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [null, null, null]);
  c.told(10, 20, 10);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [10, 20, 10]);
  const t = c.frameArrived();
  assert.equal(c.drawn(t, 15, 45, 15), true);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [15, 45, 15]);
});

test("a frame drawn after a newer state changes neither the iteration nor the update counters", () => {
  const c = new IterationCounter();
  const t = c.frameArrived(); // frame at 265 (530 D, 265 G updates) waits for an animation frame
  c.told(268, 536, 268);
  assert.equal(c.drawn(t, 265, 530, 265), false);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [268, 536, 268]);
  // A frame that arrived after that state is newer again.
  const u = c.frameArrived();
  assert.equal(c.drawn(u, 269, 538, 269), true);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [269, 538, 269]);
});

test("told() or drawn() without counters keeps the previous ones", () => {
  const c = new IterationCounter();
  c.told(5, 10, 5);
  c.told(6);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [6, 10, 5]);
  c.told(7, undefined, undefined);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [7, 10, 5]);
  const t = c.frameArrived();
  assert.equal(c.drawn(t, 8), true);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [8, 10, 5]);
  // Zero is a counter, not a missing one (a reset).
  c.told(0, 0, 0);
  assert.deepEqual([c.value, c.dUpdates, c.gUpdates], [0, 0, 0]);
});
