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
