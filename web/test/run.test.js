import { test } from "node:test";
import assert from "node:assert/strict";
import { Emitter, Run } from "../src/state/run.js";

// A stand-in for protocol/connection.js: the test plays the server through the handlers the Run
// installs on it. `send` numbers commands like the real one and answers null while offline.
class FakeConnection {
  constructor() {
    this.handlers = null;
    this.online = false;
    this.nextId = 1;
    this.sent = [];
    this.runs = [];
    this.connects = 0;
  }

  get open() {
    return this.online;
  }

  connect() {
    this.connects++;
  }

  send(command) {
    if (!this.online) return null;
    const id = this.nextId++;
    this.sent.push({ ...command, id });
    return id;
  }

  sendRun(bytes) {
    if (!this.online) return false;
    this.runs.push(bytes);
    return true;
  }

  // ---- the server's side ----

  /** A session answers: `open` status, then its hello (new unless `resumed`). */
  hello(fields = {}) {
    this.online = true;
    const m = { type: "hello", protocol: 1, session: "s", token: "t", resumed: false, config: CONFIG,
      iteration: 0, d_updates: 0, g_updates: 0, playing: false, speed: { ips: null, fps: 30 }, limits: LIMITS, ...fields };
    this.handlers.onStatus("open", m.resumed ? "resumed" : "new");
    this.handlers.onEvent(m);
    return m;
  }

  /** The connection drops; the session is kept on the server. */
  drop() {
    this.online = false;
    this.handlers.onStatus("offline", "connection closed (1006)");
  }

  /** The server no longer has the session (it restarted). */
  lose() {
    this.online = false;
    this.handlers.onSessionLost(4404);
    this.handlers.onStatus("offline", "unknown session");
  }

  event(m) {
    this.handlers.onEvent(m);
  }

  binary(m) {
    this.handlers.onBinary(m);
  }

  /** The commands sent since the last call, without their ids. */
  take() {
    const out = this.sent.map(({ id, ...c }) => c);
    this.sent = [];
    return out;
  }
}

const LIMITS = { max_message_bytes: 1048576, max_run_bytes: 67108864, max_points: 20000, commands_per_second: 50, session_timeout_s: 600 };
const CONFIG = Object.freeze({
  seed: 7,
  device: "cpu",
  data: { name: "ring", strokes: null, points: null, brush_width: 0.04 },
  noise: { kind: "uniform", dim: 2 },
  generator: { layers: 2, neurons: 16 },
  training: { d_steps: 1, g_steps: 1 },
});
// What a new session starts with on the server (not the run above).
const DEFAULT = { seed: 0, device: "cpu", data: { name: "gaussians", strokes: null, points: null, brush_width: 0.04 },
  noise: { kind: "gaussian", dim: 2 }, generator: { layers: 1, neurons: 8 }, training: { d_steps: 1, g_steps: 1 } };

const EVENTS = ["hello", "config", "frame", "history", "playing", "iteration", "status", "error", "phase",
  "run-file", "loaded", "speed", "diverged", "fresh", "offline-edit", "reset"];

/** A run on a fake connection, with every event it emits logged as [type, detail]. */
function setup(options = {}) {
  const conn = new FakeConnection();
  const run = new Run({ connection: conn, ...options });
  const log = [];
  for (const type of EVENTS) run.on(type, (detail) => log.push([type, detail]));
  const types = () => log.map(([t]) => t);
  const clear = () => log.splice(0);
  return { conn, run, log, types, clear };
}

const HISTORY_COLUMNS = ["iteration", "d_loss"];

/** A decoded `history` message. */
function historyMessage(rows, columns = HISTORY_COLUMNS) {
  return {
    header: { kind: "history", history_columns: columns },
    arrays: rows ? { history: { data: new Float32Array(rows), shape: [rows.length / columns.length, columns.length], dtype: "f4" } } : {},
  };
}

/** A decoded `frame` message with the smallest arrays prepareFrame reads (one sample each). */
function frameMessage(header = {}, historyRows = null) {
  const f4 = (...v) => ({ data: new Float32Array(v), shape: [v.length / 2, 2], dtype: "f4" });
  const u1 = (n) => ({ data: new Uint8Array(n).fill(255), shape: [n], dtype: "u1", min: 0, max: 1 });
  const arrays = {
    real: f4(0, 0), real_d: u1(1), fake: f4(1, 1), fake_noise: f4(0.5, 0.5), fake_d: u1(1), fake_grad: f4(0, 1),
    d_grid: { ...u1(4), shape: [2, 2] }, manifold: f4(0, 0, 1, 1), manifold_density: { data: new Float32Array([1]), shape: [1], dtype: "f4" },
    real_density: { ...u1(4), shape: [2, 2] },
  };
  if (historyRows) arrays.history = { data: new Float32Array(historyRows), shape: [historyRows.length / 2, 2], dtype: "f4" };
  return {
    header: { kind: "frame", frame: 1, iteration: 0, d_updates: 0, g_updates: 0, playing: false, ips: 0, applied: null,
      config_version: 1, box: [0, 1, 0, 1], output: "prob", noise_dim: 2, ...header },
    arrays,
  };
}

/** The frame the run emitted for a frame message (what the page later hands to `drawn`). */
function receive(conn, run, header, historyRows) {
  let frame = null;
  const off = run.on("frame", (f) => (frame = f));
  conn.binary(frameMessage(header, historyRows));
  off();
  assert.ok(frame, "a frame message emits `frame`");
  return frame;
}

// ---------------------------------------------------------------- Emitter

test("Emitter calls every listener of a type with the detail, and only those", () => {
  const e = new Emitter();
  const calls = [];
  e.on("a", (d) => calls.push(["a1", d]));
  e.on("a", (d) => calls.push(["a2", d]));
  e.on("b", (d) => calls.push(["b", d]));
  e.emit("a", 5);
  assert.deepEqual(calls, [["a1", 5], ["a2", 5]]);
  e.emit("nobody-listens", 1); // no listeners: nothing happens, nothing throws
  assert.equal(calls.length, 2);
});

test("Emitter: on() returns the function that unsubscribes that listener only", () => {
  const e = new Emitter();
  const calls = [];
  const off = e.on("x", () => calls.push(1));
  e.on("x", () => calls.push(2));
  off();
  e.emit("x");
  assert.deepEqual(calls, [2]);
  // The same function added twice is one listener.
  const once = () => calls.push(3);
  e.on("y", once);
  e.on("y", once);
  e.emit("y");
  assert.deepEqual(calls, [2, 3]);
});

// ---------------------------------------------------------------- connecting

test("a given connection gets the run's handlers; connect and connected go through it", () => {
  const { conn, run } = setup();
  assert.deepEqual(Object.keys(conn.handlers).sort(), ["onBinary", "onEvent", "onSessionLost", "onStatus"]);
  assert.equal(run.connected, false);
  run.connect();
  assert.equal(conn.connects, 1);
  conn.online = true;
  assert.equal(run.connected, true);
  assert.equal(run.iteration, null, "no iteration before the server said one");
  assert.equal(run.config, null);
});

test("hello mirrors config, iteration, counters, play state, limits and speed, and says so", () => {
  const { conn, run, log, types } = setup();
  // Listeners see the mirrored state when they are called.
  const seen = {};
  run.on("config", () => (seen.config = run.config));
  run.on("iteration", () => (seen.iteration = run.iteration));
  const hello = conn.hello({ iteration: 120, d_updates: 240, g_updates: 120, playing: true, speed: { ips: 50, fps: 20 } });
  assert.equal(run.hello, hello);
  assert.equal(run.config, CONFIG);
  assert.equal(run.limits, LIMITS);
  assert.deepEqual(run.speed, { ips: 50, fps: 20 });
  assert.equal(run.playing, true);
  assert.equal(run.iteration, 120);
  assert.deepEqual([run.counter.dUpdates, run.counter.gUpdates], [240, 120]);
  for (const type of ["hello", "config", "iteration", "playing", "speed", "status"]) assert.ok(types().includes(type), type);
  assert.equal(log.find(([t]) => t === "hello")[1], hello);
  assert.equal(log.find(([t]) => t === "config")[1], CONFIG);
  assert.equal(log.find(([t]) => t === "iteration")[1], 120);
  assert.equal(log.find(([t]) => t === "playing")[1], true);
  assert.deepEqual(log.find(([t]) => t === "status")[1], { state: "open", detail: "new" });
  assert.deepEqual(seen, { config: CONFIG, iteration: 120 });
  assert.ok(types().indexOf("hello") < types().indexOf("config"), "hello comes first");
  assert.deepEqual(conn.take(), [], "a plain new session gets no commands");
});

test("a hello that does not change the play state emits no `playing`", () => {
  const { conn, types } = setup();
  conn.hello({ playing: false, speed: undefined });
  assert.equal(types().includes("playing"), false);
  assert.equal(types().includes("speed"), false, "no speed in the hello: no speed event");
});

// ---------------------------------------------------------------- experiments

test("a link's experiment is applied on the new session: its settings, its data, a reset with its seed", () => {
  const experiment = {
    seed: 42, device: "cuda", generator: { layers: 3 }, training: { d_steps: 2 },
    data: { name: "drawing", strokes: [[[0, 0], [1, 1]]], brush_width: 0.05, points: null },
  };
  const { conn, run, types } = setup({ experiment });
  assert.equal(run.pendingExperiment, experiment);
  conn.hello();
  assert.deepEqual(conn.take(), [
    { type: "config", set: { generator: { layers: 3 }, training: { d_steps: 2 } } }, // no seed, data or device
    { type: "data", set: { name: "drawing", strokes: [[[0, 0], [1, 1]]], brush_width: 0.05 } }, // nulls left out
    { type: "reset", seed: 42 },
  ]);
  assert.equal(run.pendingExperiment, null);
  assert.equal(types().includes("history"), false, "the first session has no old history to clear");
  // It is applied once: a later new session (not a lost one) does not start it again.
  conn.drop();
  conn.hello();
  assert.deepEqual(conn.take(), []);
});

test("pendingExperiment set after construction is applied the same way; without seed or data only settings and a reset go", () => {
  const { conn, run } = setup();
  run.pendingExperiment = { generator: { neurons: 32 } };
  conn.hello();
  assert.deepEqual(conn.take(), [{ type: "config", set: { generator: { neurons: 32 } } }, { type: "reset" }]);
});

test("a data set without a name is not sent; an experiment of data alone sends no config", () => {
  const { conn, run } = setup();
  run.applyExperiment({ data: { brush_width: 0.1 } });
  run.applyExperiment({ data: { name: "moons", points: undefined }, seed: 3 });
  assert.deepEqual(conn.take(), []); // offline: nothing goes, and a reset is not kept
  conn.hello();
  assert.deepEqual(conn.take(), [{ type: "data", set: { name: "moons" } }], "only the data edit was kept offline");
  const id = run.applyExperiment({ data: { brush_width: 0.1 } });
  assert.deepEqual(conn.take(), [{ type: "reset" }]);
  assert.equal(typeof id, "number", "applyExperiment returns the reset's id");
});

test("a resumed session keeps its run: a pending experiment is not applied to it", () => {
  const { conn, run } = setup();
  run.pendingExperiment = { generator: { layers: 5 }, seed: 9 };
  conn.hello({ resumed: true });
  assert.deepEqual(conn.take(), []);
});

test("applyExperiment with keepSeed resets without the experiment's seed", () => {
  const { conn, run } = setup();
  conn.hello();
  run.applyExperiment({ ...CONFIG, seed: 99 }, { keepSeed: true });
  const sent = conn.take();
  assert.deepEqual(sent.at(-1), { type: "reset" });
  assert.deepEqual(sent[0], { type: "config", set: { noise: CONFIG.noise, generator: CONFIG.generator, training: CONFIG.training } });
  run.applyExperiment({ ...CONFIG, seed: 99 });
  assert.deepEqual(conn.take().at(-1), { type: "reset", seed: 99 });
});

test("after the server lost the session the run starts the same experiment over, with a fresh history", () => {
  const { conn, run, log, types, clear } = setup();
  conn.hello({ config: CONFIG, iteration: 300 });
  conn.binary(historyMessage([0, 1.5, 100, 1.2]));
  const frame = receive(conn, run, { iteration: 300 }, [300, 1.1]);
  run.drawn(frame);
  assert.equal(run.history.length, 3);
  clear();
  conn.lose();
  assert.deepEqual(log.find(([t]) => t === "fresh"), ["fresh", { reason: "lost" }]);
  assert.equal(run.pendingExperiment, CONFIG, "the last config is what starts again");
  clear();
  conn.hello({ config: DEFAULT, iteration: 0 });
  assert.equal(run.history.length, 0);
  assert.deepEqual(run.history.columns, []);
  assert.equal(run.frame, null, "the old run's picture is gone");
  assert.ok(types().includes("history"));
  assert.ok(types().indexOf("history") > types().indexOf("config"), "cleared after the new config is known");
  assert.deepEqual(conn.take(), [
    { type: "config", set: { noise: CONFIG.noise, generator: CONFIG.generator, training: CONFIG.training } },
    { type: "data", set: { name: "ring", brush_width: 0.04 } },
    { type: "reset", seed: 7 },
  ]);
  assert.equal(run.iteration, 0);
});

test("a lost session before any hello keeps the link's experiment instead of a config it never had", () => {
  const experiment = { generator: { layers: 4 } };
  const { conn, run, types } = setup({ experiment });
  conn.lose();
  assert.equal(run.pendingExperiment, experiment);
  assert.ok(types().includes("fresh"));
  conn.hello();
  assert.deepEqual(conn.take(), [{ type: "config", set: { generator: { layers: 4 } } }, { type: "reset" }]);
});

test("a lost session does not replace an experiment that is already waiting", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.drop();
  const link = { generator: { layers: 1 }, seed: 5 };
  run.pendingExperiment = link;
  conn.lose();
  assert.equal(run.pendingExperiment, link);
  conn.hello({ config: DEFAULT });
  assert.deepEqual(conn.take(), [{ type: "config", set: { generator: { layers: 1 } } }, { type: "reset", seed: 5 }]);
});

test("a session resumed after a dropped connection keeps its history and picture", () => {
  const { conn, run, types, clear } = setup();
  conn.hello();
  conn.binary(historyMessage([0, 1.5]));
  run.drawn(receive(conn, run, {}));
  conn.drop();
  clear();
  conn.hello({ resumed: true, iteration: 10 });
  assert.equal(run.history.length, 1);
  assert.notEqual(run.frame, null);
  assert.equal(types().includes("history"), false);
  assert.equal(types().includes("fresh"), false);
});

// ---------------------------------------------------------------- offline edits

test("edits made offline are mirrored in the config, announced, and sent in order after the next hello", () => {
  const { conn, run, log, clear } = setup();
  conn.hello();
  conn.drop();
  clear();
  assert.equal(run.configure({ generator: { layers: 5 } }), null);
  assert.deepEqual(run.config.generator, { layers: 5, neurons: 16 }, "merged deeply, the rest kept");
  assert.equal(run.config.noise, CONFIG.noise);
  assert.equal(CONFIG.generator.layers, 2, "the server's config object is not changed");
  assert.equal(run.setData({ name: "moons" }), null);
  assert.deepEqual(run.config.data, { ...CONFIG.data, name: "moons" });
  assert.deepEqual(log.map(([t]) => t), ["config", "offline-edit", "config", "offline-edit"]);
  assert.deepEqual(log[0][1].generator, { layers: 5, neurons: 16 });
  assert.deepEqual(log[1][1], { type: "config", set: { generator: { layers: 5 } } });
  assert.deepEqual(log[3][1], { type: "data", set: { name: "moons" } });
  assert.deepEqual(conn.take(), []);
  conn.hello({ resumed: true, config: CONFIG });
  assert.equal(run.config, CONFIG, "the server's word replaces the mirror");
  assert.deepEqual(conn.take(), [
    { type: "config", set: { generator: { layers: 5 } } },
    { type: "data", set: { name: "moons" } },
  ]);
  assert.deepEqual(run.offlineEdits, []);
  // Sent once: another hello does not send them again.
  conn.drop();
  conn.hello({ resumed: true });
  assert.deepEqual(conn.take(), []);
});

test("play, pause, steps, resets, speed and save are not kept while offline", () => {
  const { conn, run, types, clear } = setup();
  conn.hello();
  conn.drop();
  clear();
  for (const send of [() => run.play(), () => run.pause(), () => run.step("d"), () => run.step("g", true), () => run.reset(1),
    () => run.setSpeed(10), () => run.save()]) assert.equal(send(), null);
  assert.deepEqual(types(), []);
  assert.deepEqual(run.offlineEdits, []);
  conn.hello({ resumed: true });
  assert.deepEqual(conn.take(), []);
});

test("an edit made before the first hello is kept (nothing to mirror yet) and sent after the link's experiment", () => {
  const { conn, run, log } = setup({ experiment: { generator: { layers: 3 } } });
  run.configure({ training: { d_steps: 3 } });
  run.importPoints("csv", "1,2\n3,4");
  assert.equal(run.config, null);
  assert.deepEqual(log.map(([t]) => t), ["offline-edit", "offline-edit"]);
  conn.hello();
  assert.deepEqual(conn.take(), [
    { type: "config", set: { generator: { layers: 3 } } },
    { type: "reset" },
    { type: "config", set: { training: { d_steps: 3 } } },
    { type: "data", import: { format: "csv", text: "1,2\n3,4" } },
  ]);
});

test("an imported file kept offline does not change the mirrored config", () => {
  const { conn, run, types, clear } = setup();
  conn.hello();
  conn.drop();
  clear();
  run.importPoints("json", "[[0, 0]]");
  assert.equal(run.config, CONFIG);
  assert.deepEqual(types(), ["offline-edit"]);
});

test("after a lost session, offline edits go after the restarted experiment", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.lose();
  run.configure({ generator: { neurons: 64 } });
  conn.hello({ config: DEFAULT });
  const sent = conn.take();
  assert.deepEqual(sent.map((c) => c.type), ["config", "data", "reset", "config"]);
  assert.deepEqual(sent.at(-1), { type: "config", set: { generator: { neurons: 64 } } });
  assert.deepEqual(sent[2], { type: "reset", seed: 7 });
});

test("an edit sent while online is not mirrored locally: the server's `config` answer is", () => {
  const { conn, run, types, clear } = setup();
  conn.hello();
  clear();
  assert.equal(typeof run.configure({ generator: { layers: 6 } }), "number");
  assert.equal(run.config, CONFIG);
  assert.deepEqual(types(), []);
  assert.deepEqual(run.offlineEdits, []);
});

// ---------------------------------------------------------------- commands

test("commands go out in the protocol's shapes", () => {
  const { conn, run } = setup();
  conn.hello();
  run.play();
  run.pause();
  run.step("both");
  run.step("g", true);
  run.reset();
  run.reset(5);
  run.reset(0);
  run.configure({ seed: 1 });
  run.setData({ name: "ring" });
  run.importPoints("json", "[]");
  run.setSpeed(null);
  run.setSpeed(30);
  run.save();
  assert.deepEqual(conn.take(), [
    { type: "play" }, { type: "pause" }, { type: "step", phase: "both" }, { type: "step", phase: "g", sub: true },
    { type: "reset" }, { type: "reset", seed: 5 }, { type: "reset", seed: 0 }, { type: "config", set: { seed: 1 } },
    { type: "data", set: { name: "ring" } }, { type: "data", import: { format: "json", text: "[]" } },
    { type: "speed", ips: null }, { type: "speed", ips: 30 }, { type: "save" },
  ]);
});

test("load hands the bytes to the connection and says false while offline", () => {
  const { conn, run } = setup();
  const bytes = new Uint8Array([1, 2, 3]);
  assert.equal(run.load(bytes), false);
  conn.hello();
  assert.equal(run.load(bytes), true);
  assert.deepEqual(conn.runs, [bytes]);
});

// ---------------------------------------------------------------- events

test("`state` sets the play state (emitting `playing` only on a change) and the counters", () => {
  const { conn, run, log, types, clear } = setup();
  conn.hello();
  clear();
  conn.event({ type: "state", playing: true, reason: "command", iteration: 10, d_updates: 20, g_updates: 10 });
  assert.equal(run.playing, true);
  assert.equal(run.iteration, 10);
  assert.deepEqual([run.counter.dUpdates, run.counter.gUpdates], [20, 10]);
  assert.deepEqual(log, [["playing", true], ["iteration", 10]]);
  clear();
  conn.event({ type: "state", playing: true, iteration: 12, d_updates: 24, g_updates: 12 });
  assert.deepEqual(types(), ["iteration"], "still playing: no `playing` event");
  clear();
  conn.event({ type: "state", playing: false });
  assert.deepEqual(log, [["playing", false]], "a state without counters leaves them");
  assert.equal(run.iteration, 12);
  assert.deepEqual([run.counter.dUpdates, run.counter.gUpdates], [24, 12]);
});

test("a `config` event replaces the config; one whose rebuilt list has `reset` also emits `reset`", () => {
  const { conn, run, log, clear } = setup();
  conn.hello();
  clear();
  const next = { ...CONFIG, seed: 8 };
  const m = { type: "config", config: next, rebuilt: ["generator", "reset"], id: 3 };
  conn.event(m);
  assert.equal(run.config, next);
  assert.deepEqual(log, [["reset", m], ["config", next]]);
  clear();
  conn.event({ type: "config", config: CONFIG, rebuilt: ["optimizer"] });
  conn.event({ type: "config", config: CONFIG });
  assert.deepEqual(log.map(([t]) => t), ["config", "config"], "no reset without `reset` rebuilt");
});

test("speed, diverged, loaded, error and saved are mirrored or passed on; other events are ignored", () => {
  const { conn, run, log, clear } = setup();
  conn.hello();
  conn.event({ type: "state", playing: true });
  clear();
  const speed = { type: "speed", ips: 20, fps: 30 };
  conn.event(speed);
  assert.equal(run.speed, speed);
  const diverged = { type: "diverged", iteration: 40, message: "NaN" };
  conn.event(diverged);
  assert.equal(run.playing, false);
  const loaded = { type: "loaded", iteration: 1200 };
  conn.event(loaded);
  const error = { type: "error", code: "invalid_config", message: "no", field: "generator.layers", id: 4 };
  conn.event(error);
  conn.event({ type: "saved", filename: "ganlab-ring-1200.ganlab", bytes: 10 });
  assert.equal(run.saveName, "ganlab-ring-1200.ganlab");
  conn.event({ type: "pong", t: 1 });
  conn.event({ type: "ack", id: 4, command: "step" });
  assert.deepEqual(log, [["speed", speed], ["playing", false], ["diverged", diverged], ["loaded", loaded], ["error", error]]);
});

test("any status but open stops the play state and every status is passed on", () => {
  const { conn, run, log, clear } = setup();
  conn.hello({ playing: true });
  clear();
  run.onStatus("open", "new");
  assert.equal(run.playing, true, "open does not stop it");
  run.onStatus("reconnecting", "");
  assert.equal(run.playing, false);
  assert.deepEqual(log, [["status", { state: "open", detail: "new" }], ["playing", false], ["status", { state: "reconnecting", detail: "" }]]);
});

// ---------------------------------------------------------------- binary messages

test("a `history` message replaces the history; a missing array leaves it empty", () => {
  const { conn, run, types } = setup();
  conn.binary(historyMessage([0, 1.5, 100, NaN]));
  assert.deepEqual(run.history.columns, HISTORY_COLUMNS);
  assert.deepEqual(run.history.column("iteration"), [0, 100]);
  assert.deepEqual(run.history.column("d_loss"), [1.5, null]);
  assert.deepEqual(types(), ["history"]);
  conn.binary(historyMessage(null, ["iteration"]));
  assert.deepEqual(run.history.columns, ["iteration"]);
  assert.equal(run.history.length, 0);
  assert.deepEqual(types(), ["history", "history"]);
});

test("a frame is prepared with the config's noise kind, ticketed, and its history rows appended", () => {
  const { conn, run, types } = setup();
  conn.hello();
  conn.binary(historyMessage([0, 1.5]));
  const a = receive(conn, run, { iteration: 50, d_updates: 100, g_updates: 50, applied: null }, [50, 1.25]);
  assert.equal(a.iteration, 50);
  assert.equal(a.noiseKind, "uniform", "from run.config");
  assert.equal(typeof a.ticket, "number");
  assert.deepEqual(run.history.column("iteration"), [0, 50]);
  assert.deepEqual(run.history.column("d_loss"), [1.5, 1.25]);
  const b = receive(conn, run, { iteration: 51 });
  assert.ok(b.ticket > a.ticket, "tickets increase in arrival order");
  assert.equal(run.frame, null, "a received frame is not the shown one until drawn");
  assert.ok(types().includes("frame"));
});

test("a phase message is passed on with its header and arrays; a run file with the saved name", () => {
  const { conn, log, clear } = setup();
  conn.hello();
  clear();
  const phase = { header: { kind: "phase", network: "g", phase: "loss", index: 2, values: { g_loss: 0.7 } }, arrays: { fake: { data: new Float32Array(2) } } };
  conn.binary(phase);
  assert.deepEqual(log, [["phase", { header: phase.header, arrays: phase.arrays }]]);
  assert.equal(log[0][1].arrays, phase.arrays);
  clear();
  conn.event({ type: "saved", filename: "ganlab-ring-7.ganlab", bytes: 3 });
  const payload = new Uint8Array([9, 8, 7]);
  const header = { kind: "run", filename: "ganlab-ring-7.ganlab" };
  conn.binary({ header, arrays: {}, payload });
  assert.deepEqual(log, [["run-file", { bytes: payload, header, name: "ganlab-ring-7.ganlab" }]]);
  clear();
  conn.binary({ header: { kind: "mystery" }, arrays: {} });
  assert.deepEqual(log, []);
});

test("drawn() shows the frame and its counters, unless a newer state arrived after it", () => {
  const { conn, run } = setup();
  conn.hello();
  const old = receive(conn, run, { iteration: 265, d_updates: 530, g_updates: 265 });
  conn.event({ type: "state", playing: false, reason: "command", iteration: 268, d_updates: 536, g_updates: 268 });
  run.drawn(old);
  assert.equal(run.frame, old, "it is still the latest picture");
  assert.equal(run.iteration, 268, "the pause's iteration stands");
  assert.deepEqual([run.counter.dUpdates, run.counter.gUpdates], [536, 268]);
  const next = receive(conn, run, { iteration: 270, d_updates: 540, g_updates: 270 });
  run.drawn(next);
  assert.equal(run.frame, next);
  assert.equal(run.iteration, 270);
  assert.deepEqual([run.counter.dUpdates, run.counter.gUpdates], [540, 270]);
});

test("changesShown waits for a frame that applied the last step, reset, config or data change", () => {
  const { conn, run } = setup();
  conn.hello();
  assert.equal(run.changesShown, false, "no frame yet");
  run.drawn(receive(conn, run, { applied: undefined }));
  assert.equal(run.changesShown, true, "nothing was changed, whatever the frame says it applied");
  run.drawn(receive(conn, run, { applied: null }));
  assert.equal(run.changesShown, true);
  const step = run.step("d");
  assert.equal(run.lastChangeId, step);
  assert.equal(run.changesShown, false);
  run.drawn(receive(conn, run, { applied: step - 1 }));
  assert.equal(run.changesShown, false);
  run.drawn(receive(conn, run, { applied: step }));
  assert.equal(run.changesShown, true);
  // Play, pause, speed, save and walkthrough phases are not changes a frame must show.
  run.play();
  run.setSpeed(5);
  run.save();
  run.step("g", true);
  assert.equal(run.lastChangeId, step);
  assert.equal(run.changesShown, true);
  for (const change of [() => run.reset(), () => run.configure({ seed: 2 }), () => run.setData({ name: "line" })]) {
    const id = change();
    assert.equal(run.lastChangeId, id);
    assert.equal(run.changesShown, false);
    run.drawn(receive(conn, run, { applied: id }));
    assert.equal(run.changesShown, true);
  }
  // A frame that applied a later command (one that is not a change) covers the change too.
  const id = run.reset();
  const later = run.play();
  run.drawn(receive(conn, run, { applied: later }));
  assert.ok(later > id);
  assert.equal(run.changesShown, true);
});

test("offline edits count as changes once they are sent after the hello", () => {
  const { conn, run } = setup();
  conn.hello();
  run.drawn(receive(conn, run, { applied: null }));
  conn.drop();
  run.configure({ seed: 3 });
  assert.equal(run.lastChangeId, 0, "nothing was sent yet");
  conn.hello({ resumed: true });
  const [sent] = conn.sent;
  assert.equal(run.lastChangeId, sent.id);
  assert.equal(run.changesShown, false);
});

test("a refused change is not waited for: changesShown follows the changes the server took", () => {
  const { run, conn } = (() => {
    const conn = { handlers: null, open: true, nextId: 1, send() { return this.nextId++; }, sendRun() { return true; }, connect() {} };
    return { run: new Run({ connection: conn }), conn };
  })();
  run.drawn({ applied: 0, ticket: 1, iteration: 0, dUpdates: 0, gUpdates: 0 });
  const step = run.step("both");
  const bad = run.importPoints("csv", "x,y\nbanana");
  assert.equal(run.changesShown, false);
  conn.handlers.onEvent({ type: "error", code: "invalid_points", message: "line 2", id: bad });
  assert.equal(run.lastChangeId, step, "the step before it is still to be shown");
  assert.equal(run.changesShown, false);
  run.drawn({ applied: step, ticket: 2, iteration: 1, dUpdates: 1, gUpdates: 1 });
  assert.equal(run.changesShown, true);
  // Refused with nothing else pending: shown at once.
  const worse = run.configure({ generator: { neurons: 999 } });
  conn.handlers.onEvent({ type: "error", code: "invalid_config", message: "no", id: worse });
  assert.equal(run.changesShown, true);
});

test("a config event without `data` keeps the data the run had (the server leaves it out when unchanged)", () => {
  const { conn, run } = setup();
  conn.hello({ config: { ...CONFIG, data: { name: "points", points: [[0, 1], [1, 0]] } } });
  const { data: _dropped, ...withoutData } = { ...CONFIG, seed: 9 };
  conn.handlers.onEvent({ type: "config", config: withoutData, rebuilt: ["seed"], id: null });
  assert.equal(run.config.seed, 9);
  assert.deepEqual(run.config.data, { name: "points", points: [[0, 1], [1, 0]] });
  assert.deepEqual(Object.keys(run.config), Object.keys(CONFIG), "the sections keep their order");
  conn.handlers.onEvent({ type: "config", config: { ...CONFIG, data: { name: "ring8" } }, rebuilt: ["data"], id: null });
  assert.deepEqual(run.config.data, { name: "ring8" });
});

test("a whole history's event carries its message, so views read what came with it (per-mode counts)", () => {
  const { conn, log } = setup();
  conn.hello({ config: CONFIG, iteration: 100 });
  const msg = historyMessage([0, 1.5, 100, 1.2]);
  conn.binary(msg);
  const event = log.find(([t]) => t === "history");
  assert.ok(event, "a history event was emitted");
  assert.equal(event[1].header.kind, "history");
  assert.deepEqual(Array.from(event[1].arrays.history.data), Array.from(new Float32Array([0, 1.5, 100, 1.2])));
});

// ---------------------------------------------------------------- baseline

test("the real-vs-real baseline of a hello or config event is kept on the history before `config` is emitted", () => {
  const { conn, run } = setup();
  const seen = [];
  run.on("config", () => seen.push(run.history.baseline));
  const first = { samples: 2000, w1_samples: 500, pairs: 12, percentiles: [5, 95], metrics: { w1: { mean: 0.36, low: 0.29, high: 0.44 } } };
  conn.hello({ baseline: first });
  assert.equal(run.history.baseline, first);
  const other = { ...first, metrics: { w1: { mean: 0.08, low: 0.05, high: 0.1 } } };
  conn.event({ type: "config", config: { metrics: CONFIG.metrics }, rebuilt: ["data"], baseline: other });
  assert.equal(run.history.baseline, other);
  assert.deepEqual(seen, [first, other], "listeners see the new baseline with the config");
  conn.event({ type: "config", config: { metrics: CONFIG.metrics }, rebuilt: [] });
  assert.equal(run.history.baseline, other, "an event without one keeps the last");
});

// ---------------------------------------------------------------- time travel (state/timeline.js)

const TIMELINE = { type: "timeline", branch: 0, live: true, iteration: 1200, start: 0, head: 1200, snapshots: [0, 600],
  branches: [{ id: 0, parent: null, from: 0, label: "main", start: 0, head: 1200 }], bytes: 1000, budget: 33554432, id: null };

/** The id the fake connection gave the last command sent. */
const lastId = (conn) => conn.nextId - 1;

test("a timeline event sets the run's timeline and is emitted to views", () => {
  const { conn, run } = setup();
  conn.hello();
  const seen = [];
  run.on("timeline", (t) => seen.push(t.head));
  conn.event(TIMELINE);
  assert.equal(run.timeline.known, true);
  assert.equal(run.timeline.head, 1200);
  assert.deepEqual(seen, [1200]);
});

test("a frame's header moves the timeline (emitted only when it changed) and is kept on the frame", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.event(TIMELINE);
  const seen = [];
  run.on("timeline", (t) => seen.push([t.live, t.iteration]));
  const f = receive(conn, run, { live: false, branch: 0, start: 0, head: 1200, iteration: 500 });
  assert.equal(f.header.live, false);
  receive(conn, run, { live: false, branch: 0, start: 0, head: 1200, iteration: 500 });
  receive(conn, run, { live: true, branch: 0, start: 0, head: 1200, iteration: 1200 });
  assert.deepEqual(seen, [[false, 500], [true, 1200]]);
});

test("scrubbing keeps one seek in flight and sends only the latest wanted iteration when it is answered", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.event(TIMELINE);
  conn.take();
  assert.notEqual(run.seek(100), null);
  const first = lastId(conn);
  for (const it of [110, 120, 130, 5000]) assert.equal(run.seek(it), null, "waits");
  assert.deepEqual(conn.take(), [{ type: "seek", iteration: 100 }], "only the first went out");
  // A frame answering something earlier does not free it.
  receive(conn, run, { live: false, iteration: 100, head: 1200, applied: first - 1 });
  assert.deepEqual(conn.take(), []);
  receive(conn, run, { live: false, iteration: 100, head: 1200, applied: first });
  assert.deepEqual(conn.take(), [{ type: "seek", iteration: 1200 }], "the latest wanted, clamped to the head");
  receive(conn, run, { live: true, iteration: 1200, head: 1200, applied: lastId(conn) });
  assert.deepEqual(conn.take(), [], "nothing more was wanted");
});

test("a refused seek frees the queue too", () => {
  const { conn, run } = setup();
  conn.hello();
  run.seek(10);
  run.seek(20);
  conn.take();
  conn.event({ type: "error", code: "bad_seek", message: "iteration must be from 0 to 5", id: lastId(conn) });
  assert.deepEqual(conn.take(), [{ type: "seek", iteration: 20 }]);
});

test("back to live forgets a wanted seek, and a dropped connection forgets the one in flight", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.event(TIMELINE);
  run.seek(10);
  const seekId = lastId(conn);
  run.seek(20);
  run.goLive();
  run.goLive(3);
  assert.deepEqual(conn.take(), [{ type: "seek", iteration: 10 }, { type: "live" }, { type: "live", branch: 3 }]);
  receive(conn, run, { live: false, iteration: 10, head: 1200, applied: seekId });
  assert.deepEqual(conn.take(), [], "the wanted 20 is not sent after going live");
  run.seek(30);
  conn.drop();
  conn.hello({ resumed: true });
  conn.take();
  assert.notEqual(run.seek(40), null, "after a reconnection a seek goes out at once");
});

test("a change of settings while the past is shown becomes a branch from the shown point, and says so", () => {
  const { conn, run, clear } = setup();
  conn.hello();
  conn.event(TIMELINE);
  const branched = [];
  run.on("branched", (b) => branched.push(b));
  run.change({ g_optimizer: { lr: 0.003 } });
  assert.deepEqual(conn.take(), [{ type: "config", set: { g_optimizer: { lr: 0.003 } } }], "live: a plain config change");
  clear();
  receive(conn, run, { live: false, iteration: 500, head: 1200 });
  const id = run.change({ g_optimizer: { lr: 0.003 } });
  assert.deepEqual(conn.take(), [{ type: "branch", iteration: 500, set: { g_optimizer: { lr: 0.003 } } }]);
  assert.deepEqual(branched, [{ iteration: 500, set: { g_optimizer: { lr: 0.003 } }, id }]);
  assert.equal(run.changesShown, false, "a branch waits for its frame like any change");
  run.branch();
  assert.deepEqual(conn.take(), [{ type: "branch" }], "no iteration: the shown point");
});

test("a new session forgets the old timeline", () => {
  const { conn, run } = setup();
  conn.hello();
  conn.event({ ...TIMELINE, live: false, iteration: 5 });
  assert.equal(run.timeline.past, true);
  conn.lose();
  conn.hello();
  assert.equal(run.timeline.known, false);
  assert.equal(run.timeline.past, false);
});

test("a hello's timeline is the run's timeline", () => {
  const { conn, run } = setup();
  const seen = [];
  run.on("timeline", (t) => seen.push(t.head));
  conn.hello({ timeline: { ...TIMELINE, head: 77, iteration: 77 } });
  assert.equal(run.timeline.known, true);
  assert.equal(run.timeline.head, 77);
  assert.deepEqual(seen, [77]);
});
