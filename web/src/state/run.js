// One training run as the page knows it: its connection, the config mirrored from the
// server, the metric history, the latest frame and the play state. Views subscribe to its
// events; two runs on a page are two of these. It knows nothing of drawing.
import { Connection } from "../protocol/connection.js";
import { prepareFrame } from "../protocol/frame.js";
import { History } from "./history.js";
import { IterationCounter } from "./iteration.js";
import { SeekQueue, Timeline } from "./timeline.js";
import { splitExperiment } from "./url.js";
import { merge } from "./merge.js";

// Commands whose effect a frame shows (its header's `applied` echoes their id).
const CHANGES = new Set(["step", "reset", "config", "data", "seek", "live", "branch"]);
// Commands that change what the run is: kept while offline and replayed on reconnection.
const EDITS = new Set(["config", "data"]);

/** A tiny event emitter: `on(type, fn)` returns the function that unsubscribes. */
export class Emitter {
  constructor() {
    this.listeners = new Map();
  }

  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, detail) {
    for (const fn of this.listeners.get(type) || []) fn(detail);
  }
}

/**
 * Events: `hello` (message), `config` (config), `frame` (prepared frame), `history` (),
 * `playing` (bool), `iteration` (number), `status` ({state, detail}), `error` (message),
 * `phase` ({header, arrays}), `run-file` ({bytes, name}), `loaded` (message), `speed` (speed),
 * `diverged` (message), `applied` ({id, rebuilt}) when a change the run sent took effect (rebuilt: the config's sections that changed), `fresh` ({reason}) when the run starts over from iteration 0 in a new
 * session (the server lost the old one), `offline-edit` (command) for an edit kept to send
 * later, `timeline` (Timeline) when the history shown changed (state/timeline.js), `branched`
 * ({iteration, set}) when a change made while the past is shown became a branch.
 */
export class Run extends Emitter {
  /** `connection` may be given (tests); by default one to the page's own server. */
  constructor({ connection = null, experiment = null } = {}) {
    super();
    this.config = null;
    this.frame = null;
    this.history = new History();
    this.counter = new IterationCounter();
    this.playing = false;
    this.hello = null;
    this.limits = null;
    this.speed = null;
    this.lastChangeId = 0;
    // Changes sent and not yet shown by a drawn frame (a refused one is dropped from it).
    this.changeIds = [];
    this.wasConnected = false;
    // The experiment to apply once connected (a link's settings, or the run to restart).
    this.pendingExperiment = experiment;
    // Edits made while offline: applied, in order, once a session answers.
    this.offlineEdits = [];
    // The run's history (issue 15): what is shown, and one seek in flight at a time.
    this.timeline = new Timeline();
    this.seeks = new SeekQueue();
    this.connection = connection || new Connection(this.handlers());
    if (connection) connection.handlers = this.handlers();
  }

  handlers() {
    return {
      onEvent: (m) => this.onEvent(m),
      onBinary: (m) => this.onBinary(m),
      onStatus: (state, detail) => this.onStatus(state, detail),
      onSessionLost: () => this.onSessionLost(),
    };
  }

  connect() {
    this.connection.connect();
  }

  get connected() {
    return this.connection.open;
  }

  /** The server's latest word on the iteration: a drawn frame, a state or a hello. */
  get iteration() {
    return this.counter.value;
  }

  // ---- commands ----

  /** Send a command; returns its id, or null when offline (an edit is then kept for later). */
  send(command) {
    const id = this.connection.send(command);
    if (id === null) {
      if (EDITS.has(command.type)) {
        this.offlineEdits.push(command);
        this.applyLocally(command);
        this.emit("offline-edit", command);
      }
      return null;
    }
    if (CHANGES.has(command.type) && !command.sub) {
      this.changeIds.push(id);
      this.lastChangeId = id;
    }
    return id;
  }

  /** Mirror an offline edit in the config the page shows, so the control keeps its value. */
  applyLocally(command) {
    if (!this.config) return;
    if (command.type === "config") this.config = merge(this.config, command.set);
    else if (command.type === "data" && command.set) this.config = { ...this.config, data: { ...this.config.data, ...command.set } };
    else return;
    this.emit("config", this.config);
  }

  play() {
    return this.send({ type: "play" });
  }

  pause() {
    return this.send({ type: "pause" });
  }

  step(phase, sub = false) {
    return this.send(sub ? { type: "step", phase, sub: true } : { type: "step", phase });
  }

  reset(seed = null) {
    return this.send(seed === null ? { type: "reset" } : { type: "reset", seed });
  }

  configure(set) {
    return this.send({ type: "config", set });
  }

  setData(set) {
    return this.send({ type: "data", set });
  }

  importPoints(format, text) {
    return this.send({ type: "data", import: { format, text } });
  }

  setSpeed(ips) {
    return this.send({ type: "speed", ips });
  }

  save() {
    return this.send({ type: "save" });
  }

  // ---- time travel (docs/protocol.md `seek`, `live`, `branch`) ----

  /** Show the run at `iteration`. Scrubbing calls this many times a second: one seek is in
   * flight at a time, and only the latest iteration wanted meanwhile is sent when it is
   * answered. Returns the id sent, or null when the iteration waits (or offline). */
  seek(iteration) {
    const it = this.timeline.known ? this.timeline.clamp(iteration) : Math.round(iteration);
    if (!this.seeks.want(it)) return null;
    const id = this.send({ type: "seek", iteration: it });
    if (id !== null) this.seeks.sent(id);
    return id;
  }

  /** Back to the head of the shown branch, or to branch `branch` at its head. */
  goLive(branch = null) {
    this.seeks.clear(); // a seek answered later must not take the page back to the past
    return this.send(branch === null ? { type: "live" } : { type: "live", branch });
  }

  /** A new branch from `iteration` (default: the shown point) with `set` applied there. */
  branch({ iteration = null, set = null } = {}) {
    this.seeks.clear();
    const command = { type: "branch" };
    if (iteration !== null) command.iteration = iteration;
    if (set) command.set = set;
    return this.send(command);
  }

  /** A learner's change of settings: applied to the live run, or, while the page shows the
   * past, as a new branch from the shown point (the original run is kept). */
  change(set) {
    if (!this.timeline.past || !this.connected) return this.configure(set);
    const iteration = this.timeline.iteration;
    const id = this.branch({ iteration, set });
    this.emit("branched", { iteration, set, id });
    return id;
  }

  /** Load a run file's bytes; false when offline. */
  load(bytes) {
    return this.connection.sendRun(bytes);
  }

  /** Start an experiment (a full or partial config) over: its settings, its data, a reset. */
  applyExperiment(experiment, { keepSeed = false } = {}) {
    const { rest, data, seed } = splitExperiment(experiment);
    if (Object.keys(rest).length) this.configure(rest);
    if (data && data.name) {
      const set = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));
      this.setData(set);
    }
    return this.reset(seed === null || keepSeed ? null : seed);
  }

  /** Whether the latest frame shows the effect of every change sent so far. */
  get changesShown() {
    return Boolean(this.frame) && (this.lastChangeId === 0 || this.frame.applied >= this.lastChangeId);
  }

  // ---- what the server says ----

  onEvent(m) {
    switch (m.type) {
      case "hello":
        this.onHello(m);
        break;
      case "config":
        // The server leaves `data` out when it did not change (it can be 20,000 points).
        // (Spread over the old one, the sections keep their order: links list them in it.)
        this.config = "data" in m.config || !this.config ? m.config : { ...this.config, ...m.config };
        if (m.rebuilt && m.rebuilt.includes("reset")) this.emit("reset", m);
        this.takeBaseline(m);
        this.emit("config", this.config);
        if (m.id !== undefined && m.id !== null) this.emit("applied", { id: m.id, rebuilt: m.rebuilt || [] });
        break;
      case "state":
        // A seek stopped a playing run to show the past: say so (the server paused it).
        if (m.reason === "seek" && this.playing && !m.playing) this.emit("paused-to-seek", m);
        this.setPlaying(m.playing);
        if (m.iteration !== undefined) {
          this.counter.told(m.iteration, m.d_updates, m.g_updates);
          this.emit("iteration", m.iteration);
        }
        break;
      case "speed":
        this.speed = m;
        this.emit("speed", m);
        break;
      case "diverged":
        this.setPlaying(false);
        this.emit("diverged", m);
        break;
      case "loaded":
        this.emit("loaded", m);
        break;
      case "saved":
        this.saveName = m.filename;
        break;
      case "timeline":
        this.timeline.fromEvent(m);
        this.emit("timeline", this.timeline);
        break;
      case "error":
        this.refused(m.id);
        this.seekAnswered(m.id);
        this.emit("error", m);
        break;
      default:
        break;
    }
  }

  /** The real-vs-real baseline a hello or config event brings: kept on the history, as the
   * charts compare its columns with it (docs/protocol.md `baseline`). */
  takeBaseline(m) {
    if (m.baseline) this.history.baseline = m.baseline;
  }

  onHello(m) {
    this.hello = m;
    this.takeBaseline(m);
    this.limits = m.limits;
    this.config = m.config;
    this.counter.told(m.iteration, m.d_updates, m.g_updates);
    this.setPlaying(m.playing);
    if (m.speed) {
      this.speed = m.speed;
      this.emit("speed", m.speed);
    }
    // The hello carries the run's timeline (a resumed session's may show a past point).
    if (m.timeline) this.timeline.fromEvent(m.timeline);
    else if (!m.resumed) this.timeline.clear();
    this.seeks.clear();
    this.emit("timeline", this.timeline);
    const edits = this.offlineEdits.splice(0);
    const experiment = this.pendingExperiment;
    this.pendingExperiment = null;
    this.emit("hello", m);
    this.emit("config", m.config);
    this.emit("iteration", m.iteration);
    if (!m.resumed) {
      // A new session: forget the old run's history and pictures before anything is drawn.
      if (this.wasConnected) {
        this.history.replace([], null);
        this.frame = null;
        this.emit("history");
      }
      if (experiment) this.applyExperiment(experiment);
    }
    for (const edit of edits) this.send(edit);
    this.wasConnected = true;
  }

  onBinary(msg) {
    const kind = msg.header.kind;
    if (kind === "frame") {
      const frame = prepareFrame(msg, this.config);
      frame.ticket = this.counter.frameArrived();
      frame.header ??= msg.header;
      this.history.append(frame.historyRows);
      const moved = this.timeline.fromHeader(msg.header);
      this.emit("frame", frame);
      if (moved) this.emit("timeline", this.timeline);
      this.seekAnswered(msg.header.applied);
    } else if (kind === "history") {
      this.history.replace(msg.header.history_columns || [], msg.arrays.history ? msg.arrays.history.data : null);
      this.emit("history", msg);
    } else if (kind === "phase") {
      this.emit("phase", { header: msg.header, arrays: msg.arrays });
    } else if (kind === "run") {
      this.emit("run-file", { bytes: msg.payload, header: msg.header, name: this.saveName });
    }
  }

  /** A seek was answered (a frame or an error with its id or a later one): send the latest
   * iteration wanted meanwhile, if any. */
  seekAnswered(id) {
    const next = this.seeks.answered(id);
    if (next !== null) this.seek(next);
  }

  /** A change the server refused will never show in a frame: wait only for the others. */
  refused(id) {
    const at = this.changeIds.indexOf(id);
    if (at < 0) return;
    this.changeIds.splice(at, 1);
    this.lastChangeId = this.changeIds.at(-1) ?? 0;
  }

  /** A frame was drawn: it is now the latest picture and, unless newer news came, the
   * iteration shown. */
  drawn(frame) {
    this.frame = frame;
    if (frame.applied != null) this.changeIds = this.changeIds.filter((id) => id > frame.applied);
    this.counter.drawn(frame.ticket, frame.iteration, frame.dUpdates, frame.gUpdates);
  }

  onStatus(state, detail) {
    if (state !== "open") {
      this.setPlaying(false);
      this.seeks.clear(); // its answer will not come
    }
    this.emit("status", { state, detail });
  }

  onSessionLost() {
    // The server no longer has the run (it restarted): start the same experiment afresh.
    if (this.config && !this.pendingExperiment) this.pendingExperiment = this.config;
    this.emit("fresh", { reason: "lost" });
  }

  setPlaying(playing) {
    if (this.playing === playing) return;
    this.playing = playing;
    this.emit("playing", playing);
  }
}
