// The timeline under the picture (issue 15): the run's history from its first showable
// iteration to the head of the shown branch, on the same x range as the charts. Drag or click
// to show a past iteration, arrow keys to step between snapshots, "Back to live", "Branch
// from here", the tree of branches, and a replay of the history as a movie. It draws what
// `run.timeline` (state/timeline.js) says and sends its wishes through the run.
import { REPLAY_SPEEDS, replaySeconds, replayTarget } from "../state/timeline.js";
import { labelFor, optionName } from "../state/controls.js";

const SVG = "http://www.w3.org/2000/svg";
// The snapshot ticks are drawn in a 0..TICK_SPAN wide box stretched over the track.
const TICK_SPAN = 1000;
// While the run plays live, the head moves with every frame: the timeline follows it at most
// this often (ms), as the page's counters do (each change of the page costs a layout).
const LIVE_RENDER_MS = 250;
// A replay asks for a new picture at most this often (ms); the seek queue drops the rest.
const REPLAY_TICK_MS = 40;
// A replay shows a snapshot instead of the exact point when one lies within this share of
// the history (snapshots are the fastest points to show).
const REPLAY_SLACK = 1 / 200;

const number = (n) => Number(n).toLocaleString("en-US");

/** Where `iteration` sits on a track `width` px wide showing start..head (px from its left). */
export function positionOf(iteration, start, head, width) {
  if (head <= start) return width;
  return (Math.min(head, Math.max(start, iteration)) - start) / (head - start) * width;
}

/** The iteration under `x` px from the left of a track `width` px wide showing start..head. */
export function iterationAt(x, start, head, width) {
  if (width <= 0 || head <= start) return head;
  return Math.round(start + (Math.min(width, Math.max(0, x)) / width) * (head - start));
}

/** What the picture shows (`text`: the live head, or a past point) and, in the past, how to
 * leave it (`how`: a second sentence, left out on phones). */
export function stateWords(t, playing = false) {
  if (!t.known) return { text: "", how: "" };
  const branch = t.branches.length > 1 && t.shownBranch ? ` on branch “${branchName(t.shownBranch)}”` : "";
  // ("latest", not "live": a learner reads "live" as "training now", and it may be paused)
  if (t.live) return { text: `Latest iteration: ${number(t.iteration)}${branch}${playing ? ", training" : ", paused"}.`, how: "" };
  return {
    text: `Viewing iteration ${number(t.iteration)} of ${number(t.head)}${branch}: the past, paused.`,
    how: "Play, a step or Back to latest return to the latest iteration; a changed setting starts a branch from here.",
  };
}

/** A branch's name in the page's words: its change with the settings' own labels ("G
 * learning rate: 0.003"), from the server's [path, value] pairs; "main" for the first. */
export function branchName(b) {
  if (b.parent === null || b.parent === undefined) return b.label || "main run";
  if (!b.change) return b.label === "copy" ? `copy from ${number(b.from)}` : b.label || `branch ${b.id}`;
  const parts = b.change.filter(([, v]) => v !== "…").map(([p, v]) => `${labelFor(p)}: ${optionName(p, v)}`);
  return parts.join(", ") || b.label;
}

/** A branch's entry in the tree: its name, where it starts and how far it has run. */
export function branchWords(b) {
  const name = branchName(b);
  const from = b.parent === null || b.parent === undefined ? `${number(b.start)}` : `from ${number(b.from)}`;
  return { name, span: `${from} → ${number(b.head)}` };
}

// The mark of the shown past iteration on the charts: the timeline's amber (style.css), as a
// translucent band with a thin line at its centre, so it never reads as one of the series.
export const MARKER_COLOR = "#b45309";
export const MARKER_BAND = "rgba(232, 113, 10, 0.3)";
const MARKER_BAND_PX = 6;

/** On a chart (a uPlot `u`): a vertical mark at `iteration` across the plot, when it is in
 * view (null: none). The charts call it after drawing their series. */
export function drawMarker(u, iteration) {
  if (iteration === null || iteration === undefined) return;
  const x = u.valToPos(iteration, "x", true);
  const { ctx, bbox } = u;
  if (!(x >= bbox.left && x <= bbox.left + bbox.width)) return;
  const ratio = globalThis.devicePixelRatio || 1;
  ctx.save();
  ctx.fillStyle = MARKER_BAND;
  ctx.fillRect(x - (MARKER_BAND_PX / 2) * ratio, bbox.top, MARKER_BAND_PX * ratio, bbox.height);
  ctx.strokeStyle = MARKER_COLOR;
  ctx.lineWidth = ratio;
  ctx.setLineDash([]); // a dashed series drawn before leaves its dash set
  ctx.beginPath();
  ctx.moveTo(x, bbox.top);
  ctx.lineTo(x, bbox.top + bbox.height);
  ctx.stroke();
  ctx.restore();
}

/** A chart's x range: its rows' (min..max, null when it has none), widened to `span`
 * ({start, head}: the timeline's range) when one is given. */
export function spanRange(min, max, span) {
  if (min === null || min === undefined || !span) return [min ?? null, max ?? null];
  return [Math.min(min, span.start), Math.max(max, span.head)];
}

/** The iteration of the row under a chart's cursor (a uPlot `u`), or null when none. */
export function hoveredIteration(u) {
  const idx = u.cursor.idx;
  const it = idx === null || idx === undefined ? null : u.data[0][idx];
  return it === null || it === undefined ? null : Math.round(it);
}

export class TimelineView {
  /** `root`: an empty element to build in; `run`: the page's Run. */
  constructor(root, { run }) {
    this.root = root;
    this.run = run;
    this.doc = root.ownerDocument;
    this.dragging = false;
    this.target = null; // the iteration last asked for by this view, until the run shows it
    this.replay = null; // {from, seconds, t0, last, timer} while a replay runs
    this.speed = 1;
    this.build();
    run.on("timeline", () => this.requestRender());
    run.on("error", () => this.requestRender()); // a refused seek: show where the run is
    run.on("playing", (playing) => {
      if (playing) this.stopReplay();
    });
    this.render();
  }

  build() {
    const el = (tag, cls, attrs = {}) => {
      const e = this.doc.createElement(tag);
      if (cls) e.className = cls;
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      return e;
    };
    this.root.classList.add("timeline");
    this.root.hidden = true;
    const track = (this.track = el("div", "timeline-track", {
      "data-testid": "timeline", role: "slider", tabindex: "0",
      "aria-label": "Run history: drag or use the arrow keys to see a past iteration",
      title: "The run's history: drag or click to see a past iteration. Arrow keys step to the next snapshot or hundredth of the history (Shift: ten steps); Home: the start; End: back to live",
    }));
    this.fill = el("div", "timeline-fill");
    this.ticks = this.doc.createElementNS(SVG, "svg");
    this.ticks.setAttribute("class", "timeline-ticks");
    this.ticks.setAttribute("viewBox", `0 0 ${TICK_SPAN} 10`);
    this.ticks.setAttribute("preserveAspectRatio", "none");
    this.ticks.setAttribute("aria-hidden", "true");
    this.tickPath = this.doc.createElementNS(SVG, "path");
    this.ticks.append(this.tickPath);
    this.thumb = el("div", "timeline-thumb", { "aria-hidden": "true" });
    this.headMark = el("div", "timeline-head", { "aria-hidden": "true", title: "The latest iteration of the shown branch" });
    // The iteration under the pointer, over the track.
    this.hoverLabel = el("span", "timeline-hover", { "aria-hidden": "true" });
    this.hoverLabel.hidden = true;
    track.append(this.fill, this.ticks, this.headMark, this.thumb, this.hoverLabel);

    const scale = el("div", "timeline-scale", { "aria-hidden": "true" });
    this.startLabel = el("span");
    this.snapLabel = el("span", "timeline-snaps");
    this.headLabel = el("span");
    scale.append(this.startLabel, this.snapLabel, this.headLabel);

    const row = el("div", "timeline-row");
    this.state = el("span", "timeline-state", { role: "status" });
    this.words = el("span", "", { "data-testid": "timeline-state" });
    this.how = el("span", "timeline-how");
    this.state.append(this.words, this.how);
    this.liveButton = el("button", "timeline-live primary", { type: "button", "data-testid": "live", title: "Back to the head of the shown branch (End)" });
    this.liveButton.textContent = "Back to latest";
    this.branchButton = el("button", "", { type: "button", "data-testid": "branch", title: "Start a new branch from the iteration shown: the run as it was here, continued separately (the original is kept)" });
    this.branchButton.textContent = "Branch from here";
    this.replayButton = el("button", "", { type: "button", "data-testid": "replay", "aria-pressed": "false", title: "Play the history as a movie from the start (or from the point shown) to the head" });
    this.speedSelect = el("select", "", { "data-testid": "replay-speed", "aria-label": "Replay speed", title: "Replay speed: at 1× the whole history takes 10 seconds" });
    for (const s of REPLAY_SPEEDS) {
      const o = this.doc.createElement("option");
      o.value = String(s);
      o.textContent = `${s}×`;
      if (s === this.speed) o.selected = true;
      this.speedSelect.append(o);
    }
    const buttons = el("span", "timeline-buttons");
    buttons.append(this.liveButton, this.branchButton, this.replayButton, this.speedSelect);
    row.append(this.state, buttons);

    this.tree = el("ol", "timeline-branches", { "data-testid": "branches", "aria-label": "Branches of the run" });
    this.root.append(track, scale, row, this.tree);

    track.addEventListener("pointerdown", (ev) => this.pointerDown(ev));
    track.addEventListener("pointermove", (ev) => this.pointerMove(ev));
    track.addEventListener("pointerup", (ev) => this.pointerUp(ev));
    track.addEventListener("pointercancel", (ev) => this.pointerUp(ev));
    track.addEventListener("pointerleave", () => (this.hoverLabel.hidden = true));
    track.addEventListener("keydown", (ev) => this.keyDown(ev));
    this.liveButton.addEventListener("click", () => this.goLive());
    this.branchButton.addEventListener("click", () => {
      this.stopReplay();
      this.run.branch();
    });
    this.replayButton.addEventListener("click", () => (this.replay ? this.stopReplay() : this.startReplay()));
    this.speedSelect.addEventListener("change", () => {
      this.speed = Number(this.speedSelect.value);
      if (this.replay) this.startReplay(this.shown); // the same point, the new pace
    });
    this.tree.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-branch]");
      if (!b) return;
      this.stopReplay();
      this.target = null;
      this.run.goLive(Number(b.dataset.branch));
    });
  }

  get timeline() {
    return this.run.timeline;
  }

  /** The iteration the timeline shows: the one being dragged to, else the run's. */
  get shown() {
    return this.target ?? this.timeline.iteration;
  }

  // ---- the learner's wishes ----

  /** Show `iteration` (a drag, a click, a key, a replay). */
  seekTo(iteration) {
    const t = this.timeline;
    const it = t.clamp(iteration);
    // The head is the live point: going there is going live (and the run may play on).
    if (it >= t.head && !this.replay && !this.dragging) return this.goLive();
    this.target = it;
    if (it >= t.head && !this.replay) this.run.goLive();
    else this.run.seek(it);
    this.render();
  }

  goLive() {
    this.stopReplay();
    this.target = null;
    this.run.goLive();
  }

  xOf(ev) {
    const r = this.track.getBoundingClientRect();
    return { x: ev.clientX - r.left, width: r.width };
  }

  pointerDown(ev) {
    if (!this.timeline.known || ev.button > 0) return;
    this.stopReplay();
    this.dragging = true;
    this.track.setPointerCapture?.(ev.pointerId);
    this.track.focus({ preventScroll: true });
    const { x, width } = this.xOf(ev);
    this.seekTo(iterationAt(x, this.timeline.start, this.timeline.head, width));
    ev.preventDefault();
  }

  pointerMove(ev) {
    const t = this.timeline;
    const { x, width } = this.xOf(ev);
    const it = iterationAt(x, t.start, t.head, width);
    if (t.known && ev.pointerType !== "touch") {
      setText(this.hoverLabel, number(it));
      this.hoverLabel.style.left = `${(positionOf(it, t.start, t.head, 1) * 100).toFixed(3)}%`;
      this.hoverLabel.hidden = false;
    }
    if (this.dragging && it !== this.target) this.seekTo(it);
  }

  pointerUp(ev) {
    if (!this.dragging) return;
    this.dragging = false;
    this.track.releasePointerCapture?.(ev.pointerId);
  }

  keyDown(ev) {
    const t = this.timeline;
    if (!t.known || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const steps = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[ev.key];
    if (steps) this.step(ev.shiftKey ? steps * 10 : steps);
    else if (ev.key === "Home") this.seekTo(t.start);
    else if (ev.key === "End") this.goLive();
    else return;
    // The page's own shortcuts (ui/keys.js) must not see it too.
    ev.preventDefault();
    ev.stopPropagation();
  }

  /** Step `steps` snapshots from the point shown (negative: back). */
  step(steps) {
    if (!this.timeline.known) return;
    this.stopReplay();
    this.seekTo(this.timeline.stepFrom(this.shown, steps));
  }

  // ---- replay ----

  get replaying() {
    return Boolean(this.replay);
  }

  /** Play the history as a movie from `from` (default: the point shown, or the start when the
   * page is live) to the head, at the chosen speed; it ends live at the head. */
  startReplay(from = null) {
    const t = this.timeline;
    if (!t.known) return;
    this.stopReplay();
    const start = from ?? (t.live ? t.start : t.iteration);
    this.replay = { from: start, head: t.head, seconds: replaySeconds(this.speed, start, t.start, t.head), t0: performance.now(), last: null, timer: null };
    this.replayTick();
    this.render();
  }

  replayTick() {
    const r = this.replay;
    if (!r) return;
    const t = this.timeline;
    const elapsed = (performance.now() - r.t0) / 1000;
    const at = replayTarget({ from: r.from, head: r.head, seconds: r.seconds, elapsed, snapshots: t.snapshots, slack: (t.head - t.start) * REPLAY_SLACK });
    if (at.done) {
      this.replay = null;
      this.target = null;
      this.run.goLive();
      this.render();
      return;
    }
    if (at.iteration !== r.last) {
      r.last = at.iteration;
      this.target = at.iteration;
      this.run.seek(at.iteration);
      this.render();
    }
    r.timer = setTimeout(() => this.replayTick(), REPLAY_TICK_MS);
  }

  stopReplay() {
    if (!this.replay) return;
    clearTimeout(this.replay.timer);
    this.replay = null;
    this.render();
  }

  // ---- drawing ----

  /** Draw now, or, while the run plays live, at most every LIVE_RENDER_MS. */
  requestRender() {
    if (!(this.run.playing && this.timeline.live)) {
      clearTimeout(this.renderTimer);
      this.renderTimer = null;
      this.render();
      return;
    }
    if (this.renderTimer) return;
    const wait = Math.max(0, LIVE_RENDER_MS - (performance.now() - (this.renderedAt ?? -Infinity)));
    this.renderTimer = setTimeout(() => {
      this.renderTimer = null;
      this.render();
    }, wait);
  }

  render() {
    this.renderedAt = performance.now();
    const t = this.timeline;
    this.root.hidden = !t.known;
    if (!t.known) return;
    // Every seek answered (or refused): follow the run again.
    if (this.target !== null && !this.dragging && !this.replay && !this.run.seeks.busy) this.target = null;
    const shown = this.shown;
    const pct = (it) => `${(positionOf(it, t.start, t.head, 1) * 100).toFixed(3)}%`;
    this.fill.style.width = pct(shown);
    this.thumb.style.left = pct(shown);
    this.root.classList.toggle("past", t.past);
    this.track.setAttribute("aria-valuemin", String(t.start));
    this.track.setAttribute("aria-valuemax", String(t.head));
    this.track.setAttribute("aria-valuenow", String(shown));
    this.track.setAttribute("aria-valuetext", t.live && this.target === null ? `iteration ${number(shown)}, the latest` : `iteration ${number(shown)} of ${number(t.head)}`);
    this.drawTicks();
    setText(this.startLabel, number(t.start));
    setText(this.headLabel, t.live ? `${number(t.head)} (latest)` : `latest ${number(t.head)}`);
    const inside = t.snapshots.filter((s) => s >= t.start && s <= t.head).length;
    // (the list comes with each seek and pause: while the run trains live it is not current)
    const count = inside && !t.live ? `ticks: ${inside} saved point${inside === 1 ? "" : "s"}, the fastest to show` : "";
    setText(this.snapLabel, count);
    const words = this.replay ? { text: `Replaying: iteration ${number(shown)} of ${number(t.head)}.`, how: "" } : stateWords(t, this.run.playing);
    setText(this.words, words.text);
    setText(this.how, words.how ? ` ${words.how}` : "");
    this.liveButton.hidden = t.live;
    this.liveButton.disabled = t.live;
    this.replayButton.textContent = this.replay ? "■ Stop replay" : "▶ Replay";
    this.replayButton.setAttribute("aria-pressed", String(Boolean(this.replay)));
    this.replayButton.disabled = t.head <= t.start;
    this.renderTree();
  }

  drawTicks() {
    const t = this.timeline;
    const key = `${t.start}|${t.head}|${t.snapshots.length}|${t.snapshots.at(-1)}`;
    if (this.ticksKey === key) return;
    this.ticksKey = key;
    let d = "";
    for (const s of t.snapshots) {
      if (s < t.start || s > t.head) continue;
      d += `M${(positionOf(s, t.start, t.head, TICK_SPAN)).toFixed(1)} 0V10`;
    }
    this.tickPath.setAttribute("d", d);
  }

  renderTree() {
    const t = this.timeline;
    const entries = t.tree();
    // One branch has nothing to switch to: the list appears with the first branch made.
    this.tree.hidden = entries.length < 2;
    const key = JSON.stringify([t.branch, entries.map(({ branch: b, depth }) => [b.id, b.label, b.from, b.start, b.head, depth])]);
    if (this.treeKey === key) return;
    this.treeKey = key;
    this.tree.textContent = "";
    for (const { branch: b, depth } of entries) {
      const li = this.doc.createElement("li");
      li.style.setProperty("--depth", String(depth));
      const button = this.doc.createElement("button");
      button.type = "button";
      button.dataset.branch = String(b.id);
      button.dataset.testid = "branch-entry";
      const current = b.id === t.branch;
      if (current) button.setAttribute("aria-current", "true");
      const words = branchWords(b);
      const name = this.doc.createElement("span");
      name.className = "branch-name";
      name.textContent = `${depth ? "↳ " : ""}${words.name}`;
      const span = this.doc.createElement("span");
      span.className = "branch-span";
      span.textContent = words.span;
      button.append(name, span);
      button.title = current ? `Shown: ${words.name}, iterations ${words.span}` : `Switch to ${words.name} at its head (iteration ${number(b.head)})`;
      li.append(button);
      this.tree.append(li);
    }
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
