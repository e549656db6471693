import { test } from "node:test";
import assert from "node:assert/strict";
import { REPLAY_SECONDS, SeekQueue, Timeline, replaySeconds, replayTarget } from "../src/state/timeline.js";

/** A `timeline` event as docs/protocol.md shows it. */
function event(fields = {}) {
  return {
    type: "timeline", branch: 0, live: true, iteration: 1200, start: 0, head: 1200,
    snapshots: [81, 0, 37, 600, 1100],
    branches: [{ id: 0, parent: null, from: 0, label: "main", start: 0, head: 1200 }],
    bytes: 1234567, budget: 33554432, id: null, ...fields,
  };
}

test("a new timeline is live and unknown, with nothing to show", () => {
  const t = new Timeline();
  assert.equal(t.known, false);
  assert.equal(t.past, false);
  assert.equal(t.shownBranch, null);
  assert.deepEqual(t.tree(), []);
});

test("a timeline event sets everything; snapshots are sorted", () => {
  const t = new Timeline();
  t.fromEvent(event({ live: false, iteration: 500 }));
  assert.equal(t.known, true);
  assert.equal(t.past, true);
  assert.equal(t.iteration, 500);
  assert.equal(t.head, 1200);
  assert.deepEqual(t.snapshots, [0, 37, 81, 600, 1100]);
  assert.equal(t.shownBranch.label, "main");
  assert.equal(t.budget, 33554432);
});

test("a frame header moves the shown point and the shown branch's head, and says when it changed", () => {
  const t = new Timeline();
  t.fromEvent(event());
  assert.equal(t.fromHeader({ live: true, branch: 0, start: 0, head: 1250, iteration: 1250 }), true);
  assert.equal(t.head, 1250);
  assert.equal(t.shownBranch.head, 1250, "the tree follows the growing head");
  assert.equal(t.fromHeader({ live: true, branch: 0, start: 0, head: 1250, iteration: 1250 }), false, "the same header again");
  assert.equal(t.fromHeader({ live: false, branch: 0, start: 0, head: 1250, iteration: 300 }), true);
  assert.equal(t.past, true);
  assert.equal(t.iteration, 300);
  // A header from a server without time travel: nothing changes.
  assert.equal(t.fromHeader({ iteration: 7 }), false);
  assert.equal(t.iteration, 300);
});

test("clamp keeps an iteration in [start, head] and whole", () => {
  const t = new Timeline();
  t.fromEvent(event({ start: 100, head: 900 }));
  assert.equal(t.clamp(-5), 100);
  assert.equal(t.clamp(2000), 900);
  assert.equal(t.clamp(450.6), 451);
});

/** One step at a time, written apart from stepFrom: the nearest stop strictly beyond. */
function bruteStep(stops, from, steps) {
  let at = from;
  for (let k = 0; k < Math.abs(steps); k++) {
    const beyond = stops.filter((s) => (steps > 0 ? s > at : s < at));
    if (!beyond.length) break;
    at = steps > 0 ? Math.min(...beyond) : Math.max(...beyond);
  }
  return at;
}

test("the stops are the snapshots in range, the start, the head and every hundredth between", () => {
  const t = new Timeline();
  t.fromEvent(event({ start: 10, head: 1110, snapshots: [0, 37, 81, 600, 1100, 1300] }));
  // Every hundredth of 10..1110 is every 11 iterations: 21, 32, ...
  const grid = Array.from({ length: 99 }, (_, k) => 10 + 11 * (k + 1));
  const want = [...new Set([10, 37, 81, 600, 1100, 1110, ...grid])].sort((a, b) => a - b);
  assert.deepEqual(t.stops(), want);
  t.fromEvent(event({ start: 0, head: 3, snapshots: [] }));
  assert.deepEqual(t.stops(), [0, 1, 2, 3], "a short history: every iteration");
});

test("stepping goes from stop to stop and stops at the ends", () => {
  const t = new Timeline();
  t.fromEvent(event({ start: 10, head: 1150, snapshots: [0, 37, 81, 600, 1100, 1300] }));
  const stops = t.stops();
  for (const from of [10, 11, 37, 50, 81, 599, 600, 1100, 1149, 1150]) {
    for (const steps of [-120, -10, -3, -1, 1, 2, 10, 120]) {
      assert.equal(t.stepFrom(from, steps), bruteStep(stops, from, steps), `from ${from} by ${steps}`);
    }
  }
  assert.equal(t.stepFrom(36, 1), 37, "a snapshot is a stop");
  assert.equal(t.stepFrom(38, -1), 37);
  assert.equal(t.stepFrom(1150, 1), 1150);
  assert.equal(t.stepFrom(10, -1), 10);
});

test("the tree lists each branch after its parent, with its depth", () => {
  const t = new Timeline();
  t.fromEvent(event({
    branches: [
      { id: 2, parent: 0, from: 300, label: "b", start: 300, head: 400 },
      { id: 0, parent: null, from: 0, label: "main", start: 0, head: 1200 },
      { id: 3, parent: 1, from: 600, label: "d", start: 600, head: 610 },
      { id: 1, parent: 0, from: 500, label: "a", start: 500, head: 730 },
      { id: 9, parent: 7, from: 5, label: "orphan", start: 5, head: 6 },
    ],
  }));
  assert.deepEqual(t.tree().map(({ branch, depth }) => [branch.id, depth]), [[0, 0], [1, 1], [3, 2], [2, 1], [9, 0]]);
});

test("a seek queue keeps one seek in flight and only the latest wanted iteration", () => {
  const q = new SeekQueue();
  assert.equal(q.want(100), true, "nothing in flight: send now");
  q.sent(7);
  assert.equal(q.busy, true);
  for (const it of [110, 120, 130]) assert.equal(q.want(it), false);
  assert.equal(q.answered(6), null, "an answer to an earlier command");
  assert.equal(q.answered(null), null, "a frame that answers nothing");
  assert.equal(q.busy, true);
  assert.equal(q.answered(7), 130, "the latest wanted, once");
  assert.equal(q.busy, false);
  assert.equal(q.want(140), true);
  q.sent(8);
  assert.equal(q.answered(8), null, "nothing wanted meanwhile");
  assert.equal(q.busy, false);
  q.sent(10);
  q.want(145);
  assert.equal(q.answered(11), 145, "a later command's answer: the seek was answered before it");
  q.sent(9);
  q.want(150);
  q.clear();
  assert.equal(q.busy, false);
  assert.equal(q.answered(9), null, "cleared: a late answer sends nothing");
});

test("a replay moves linearly from its start to the head and ends there", () => {
  for (const [from, head, seconds] of [[0, 1000, 10], [200, 1000, 4], [0, 7, 10]]) {
    for (let k = 0; k <= 20; k++) {
      const elapsed = (seconds * k) / 20;
      const r = replayTarget({ from, head, seconds, elapsed });
      const expected = k === 20 ? head : Math.round(from + (head - from) * (k / 20));
      assert.equal(r.iteration, expected, `${from}..${head} at ${elapsed}s`);
      assert.equal(r.done, k === 20);
    }
  }
  assert.deepEqual(replayTarget({ from: 500, head: 500, seconds: 10, elapsed: 0 }), { iteration: 500, done: true });
});

test("a replay shows the nearest snapshot within the slack, else the exact point", () => {
  const snapshots = [0, 240, 260, 700];
  // At 2.5 s of 10 s over 0..1000 the exact point is 250: 240 and 260 are as near; the first wins.
  assert.equal(replayTarget({ from: 0, head: 1000, seconds: 10, elapsed: 2.5, snapshots, slack: 20 }).iteration, 240);
  assert.equal(replayTarget({ from: 0, head: 1000, seconds: 10, elapsed: 2.55, snapshots, slack: 20 }).iteration, 260);
  assert.equal(replayTarget({ from: 0, head: 1000, seconds: 10, elapsed: 5, snapshots, slack: 20 }).iteration, 500, "none near");
  // A snapshot before the replay's start is never shown.
  assert.equal(replayTarget({ from: 300, head: 1000, seconds: 10, elapsed: 0, snapshots: [290], slack: 20 }).iteration, 300);
});

test("a replay lasts REPLAY_SECONDS at 1x for the whole history, and the rest's share from part-way", () => {
  assert.equal(replaySeconds(1, 0, 0, 1000), REPLAY_SECONDS);
  assert.equal(replaySeconds(2, 0, 0, 1000), REPLAY_SECONDS / 2);
  assert.equal(replaySeconds(1, 750, 0, 1000), REPLAY_SECONDS / 4);
  assert.equal(replaySeconds(1, 0, 0, 0), 0);
});
