// The run's history as the page knows it (issue 15, docs/protocol.md `timeline`): which branch
// is shown, whether at its head (live) or at a past iteration, the range that can be shown,
// the snapshot iterations (seeking there is fastest) and the tree of branches. Fed by the
// server's `timeline` events and by every frame's header; it knows nothing of the connection
// or of drawing. `SeekQueue` keeps scrubbing to one seek in flight; `replayTarget` says where
// a replay is at a given moment.

// Arrow keys stop at least every this-many-th of the history.
export const STOP_GRID = 100;

/** The history of one run: a `timeline` event sets all of it, a frame's header the moving part. */
export class Timeline {
  constructor() {
    this.clear();
  }

  /** Nothing known yet (a new session, before its first `timeline`). */
  clear() {
    this.known = false;
    this.branch = 0;
    this.live = true;
    this.iteration = 0;
    this.start = 0;
    this.head = 0;
    this.snapshots = [];
    this.branches = [];
    this.bytes = null;
    this.budget = null;
  }

  /** A `timeline` event: the whole state at once. */
  fromEvent(m) {
    this.known = true;
    this.branch = m.branch;
    this.live = m.live;
    this.iteration = m.iteration;
    this.start = m.start;
    this.head = m.head;
    // Sorted, so that stepping between them can search them.
    this.snapshots = [...(m.snapshots || [])].sort((a, b) => a - b);
    this.branches = (m.branches || []).map((b) => ({ ...b }));
    this.bytes = m.bytes ?? null;
    this.budget = m.budget ?? null;
  }

  /** A frame's header (live, branch, start, head, iteration): returns whether what the
   * timeline shows changed. A header without `live` (an older server) changes nothing. */
  fromHeader(h) {
    if (h.live === undefined) return false;
    const before = this.key();
    this.known = true;
    this.live = h.live;
    if (h.branch !== undefined) this.branch = h.branch;
    if (h.start !== undefined) this.start = h.start;
    if (h.head !== undefined) this.head = h.head;
    this.iteration = h.iteration;
    // The shown branch grows as it trains: its entry in the tree follows.
    const b = this.shownBranch;
    if (b && h.head !== undefined) b.head = h.head;
    return this.key() !== before;
  }

  key() {
    return `${this.known}|${this.branch}|${this.live}|${this.iteration}|${this.start}|${this.head}`;
  }

  /** Whether the page shows a past point of its branch (not its head). */
  get past() {
    return this.known && !this.live;
  }

  get shownBranch() {
    return this.branches.find((b) => b.id === this.branch) || null;
  }

  /** `iteration` brought into the range that can be shown, as a whole number. */
  clamp(iteration) {
    return Math.min(this.head, Math.max(this.start, Math.round(iteration)));
  }

  /** The iteration `steps` stops from `from` (negative: back), the stops being those of
   * `stops()`; it stops at the ends. From a point between two stops, one step lands on the
   * neighbouring stop in that direction. */
  stepFrom(from, steps) {
    const stops = this.stops();
    if (!stops.length || !steps) return this.clamp(from);
    let i;
    if (steps > 0) {
      i = stops.findIndex((s) => s > from); // the first stop after `from`
      if (i < 0) return stops.at(-1);
      i += steps - 1;
    } else {
      i = findLastIndex(stops, (s) => s < from); // the last stop before `from`
      if (i < 0) return stops[0];
      i += steps + 1;
    }
    return stops[Math.min(stops.length - 1, Math.max(0, i))];
  }

  /** The iterations arrow keys stop at (sorted, unique): the snapshots in range (the fastest
   * to show), the start, the head, and every hundredth of the range between, so that a
   * history with few snapshots still steps finely. */
  stops() {
    const inside = this.snapshots.filter((s) => s >= this.start && s <= this.head);
    const grid = [];
    for (let k = 1; k < STOP_GRID; k++) grid.push(this.start + Math.round((k * (this.head - this.start)) / STOP_GRID));
    return [...new Set([this.start, ...inside, ...grid, this.head])].sort((a, b) => a - b);
  }

  /** The branches in tree order (each after its parent, children in id order), with their
   * depth: what the page lists. A branch whose parent is unknown is a root. */
  tree() {
    const ids = new Set(this.branches.map((b) => b.id));
    const children = new Map();
    for (const b of [...this.branches].sort((x, y) => x.id - y.id)) {
      const parent = b.parent !== null && b.parent !== undefined && ids.has(b.parent) ? b.parent : null;
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(b);
    }
    const out = [];
    const walk = (parent, depth) => {
      for (const b of children.get(parent) || []) {
        out.push({ branch: b, depth });
        walk(b.id, depth + 1);
      }
    };
    walk(null, 0);
    return out;
  }
}

function findLastIndex(values, pred) {
  for (let i = values.length - 1; i >= 0; i--) if (pred(values[i])) return i;
  return -1;
}

/**
 * One seek in flight at a time. Scrubbing asks for many iterations a second; each seek is
 * answered in order, so sending them all would queue answers the learner no longer wants.
 * While one is in flight only the latest wanted iteration is kept, and sent when the answer
 * (its frame, or an error) arrives.
 */
export class SeekQueue {
  constructor() {
    this.inFlight = null; // the id of the seek sent and not yet answered
    this.wanted = null; // the latest iteration asked for since
  }

  /** The learner wants `iteration`: true when it should be sent now; otherwise it is kept. */
  want(iteration) {
    if (this.inFlight === null) return true;
    this.wanted = iteration;
    return false;
  }

  /** The seek with this id was sent. */
  sent(id) {
    this.inFlight = id;
  }

  /** A message with this id answered (a frame's `applied`, an error's `id`): the iteration
   * to send next, or null. Commands are answered in order and ids grow, so an answer to a
   * later command answers the seek too (the server may drop a frame for a newer one); an
   * answer to an earlier one changes nothing. */
  answered(id) {
    if (this.inFlight === null || id === null || id === undefined || id < this.inFlight) return null;
    this.inFlight = null;
    const next = this.wanted;
    this.wanted = null;
    return next;
  }

  /** Forget everything (back to live, the connection dropped, a new history). */
  clear() {
    this.inFlight = null;
    this.wanted = null;
  }

  get busy() {
    return this.inFlight !== null;
  }
}

// Replay speeds: how long the whole history (start to head) takes, in seconds, at each.
export const REPLAY_SECONDS = 10;
export const REPLAY_SPEEDS = [0.5, 1, 2, 4, 8];

/**
 * Where a replay from `from` to `head` lasting `seconds` is after `elapsed` seconds: the
 * iteration to show, the snapshot nearest the exact point when one lies within `slack`
 * iterations (a snapshot is the fastest point to show), and `done` once the head is reached.
 */
export function replayTarget({ from, head, seconds, elapsed, snapshots = [], slack = 0 }) {
  if (elapsed >= seconds || head <= from) return { iteration: head, done: true };
  const exact = from + ((head - from) * elapsed) / seconds;
  let best = Math.round(exact);
  let gap = Infinity;
  for (const s of snapshots) {
    const d = Math.abs(s - exact);
    if (s >= from && s <= head && d <= slack && d < gap) {
      best = s;
      gap = d;
    }
  }
  return { iteration: best, done: false };
}

/** How many seconds a replay of the whole history lasts at `speed` (1 = REPLAY_SECONDS). */
export function replaySeconds(speed, from, start, head) {
  const whole = REPLAY_SECONDS / speed;
  // From a point part-way, only the rest is played, at the same pace.
  return head > start ? (whole * (head - from)) / (head - start) : 0;
}
