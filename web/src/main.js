// The controller: connects the websocket session to the views and the controls. State lives
// on the server (config, iteration, playing); this page mirrors it and sends commands.
import "./style.css";
import { Connection } from "./protocol/connection.js";
import { prepareFrame } from "./protocol/frame.js";
import { configToHash, hashToConfig, splitExperiment } from "./state/url.js";
import { setPath } from "./state/controls.js";
import { PALETTES, heatmapLut } from "./views/colors.js";
import { DistributionView } from "./views/distribution-view.js";
import { NoiseView } from "./views/noise-view.js";
import { ModelGraph } from "./views/model-graph.js";
import { Charts } from "./views/charts.js";
import { History } from "./state/history.js";
import { IterationCounter } from "./state/iteration.js";
import { DrawingPad } from "./ui/drawing-pad.js";
import { Walkthrough } from "./ui/walkthrough.js";
import { Toasts, describeError } from "./ui/toasts.js";
import { DistributionPicker } from "./ui/picker.js";
import { bindKeys } from "./ui/keys.js";
import { downloadBytes, runFileName } from "./ui/download.js";
import { applyPaletteToPage, savePaletteName, savedPaletteName } from "./ui/palette.js";
import { fillPresetMenu, presetCommands } from "./ui/presets.js";

const PRETRAINED = new Set(["line", "gaussians", "ring", "disjoint"]);
// Commands whose effect a frame shows (its header's `applied` echoes their id).
const CHANGES = new Set(["step", "reset", "config", "data"]);
const $ = (id) => document.getElementById(id);
// Write text only when it changes: an unchanged write still costs a style pass.
// While training plays, counters, charts and thumbnails change at most this often (ms).
const READOUT_MS = 250;

const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text;
};

class App {
  constructor() {
    this.config = null;
    this.frame = null;
    this.pendingFrame = null;
    this.counter = new IterationCounter();
    this.playing = false;
    this.history = new History();
    // framesRendered counts frames the picture has drawn; renderMs* is the drawing time (in the
    // picture's worker), mainMs* the page's own time per frame.
    this.stats = {
      framesReceived: 0, framesRendered: 0, framesSkipped: 0, messages: 0, lastFrameNumber: null,
      renderMsTotal: 0, renderMsMax: 0, mainMsTotal: 0, mainMsMax: 0, parts: {},
    };
    this.pendingExperiment = null;
    this.lastChangeId = 0;
    this.presets = [];
    this.toasts = new Toasts($("toasts"));
    this.paletteName = savedPaletteName(localStorage);
    this.lastReadouts = 0;
    this.readoutsStale = false;
    this.scheduled = false;
    this.thumbFrame = null;

    try {
      this.pendingExperiment = hashToConfig(location.hash);
    } catch (err) {
      this.toasts.show(`The link's experiment could not be read (${err.message}); starting with the defaults.`);
    }

    const tooltip = $("view-tooltip");
    this.view = new DistributionView($("view-canvas"), tooltip, {
      worker: !new URLSearchParams(location.search).has("no-worker"),
      onDirty: () => this.schedule(),
      onSkipped: () => this.stats.framesSkipped++,
      onRendered: (frameNumber, ms) => {
        this.stats.framesRendered++;
        this.stats.lastFrameNumber = frameNumber;
        this.stats.renderMsTotal += ms;
        this.stats.renderMsMax = Math.max(this.stats.renderMsMax, ms);
      },
      onHover: (i) => this.noise.setHighlight(i),
    });
    this.noise = new NoiseView($("noise-canvas"), $("noise-tooltip"), {
      onDirty: () => this.schedule(),
      onHover: (i) => this.view.setHighlight(i),
    });
    this.graph = new ModelGraph($("model-graph"), {
      onChange: (path, value) => this.changeConfig(path, value),
      onError: (text) => this.toasts.show(text),
      onGeneratorHover: (on) => this.view.setMorph(on),
    });
    this.charts = new Charts($("charts"), this.history);
    this.walk = new Walkthrough(
      {
        panel: $("walkthrough"), steps: $("walk-steps"), text: $("walk-text"), values: $("walk-values"),
        next: $("walk-next"), play: $("walk-play"), speed: $("walk-speed"), speedValue: $("walk-speed-value"),
      },
      { send: (c) => this.send(c), view: this.view, palette: () => PALETTES[this.paletteName] },
    );
    this.pad = new DrawingPad(
      {
        dialog: $("draw-dialog"), canvas: $("draw-canvas"), brush: $("draw-brush"), brushValue: $("draw-brush-value"),
        undo: $("draw-undo"), clear: $("draw-clear"), cancel: $("draw-cancel"), apply: $("draw-apply"),
      },
      { onApply: (drawing) => this.send({ type: "data", set: { name: "drawing", ...drawing } }) },
    );
    this.picker = new DistributionPicker(
      {
        button: $("dist-button"), popover: $("dist-popover"), grid: $("dist-grid"),
        thumb: $("dist-current-thumb"), name: $("dist-current-name"),
      },
      {
        palette: () => PALETTES[this.paletteName],
        current: () => this.config && { name: this.config.data.name, frame: this.frame },
        onChoose: (name) => {
          $("preset").value = "";
          this.send({ type: "data", set: { name } });
        },
        onDraw: () => this.pad.open(),
        onImport: () => $("import-file").click(),
      },
    );
    this.setPalette(this.paletteName);
    this.bindControls();
    bindKeys(document, {
      "play-pause": () => this.togglePlay(),
      "step-d": () => this.step("d"),
      "step-g": () => this.step("g"),
      "step-both": () => this.step("both"),
      reset: () => this.reset(),
      help: () => $("help-dialog").showModal(),
    });
    this.connection = new Connection({
      onEvent: (m) => this.onEvent(m),
      onBinary: (m) => this.onBinary(m),
      onStatus: (s, d) => this.onStatus(s, d),
      onSessionLost: () => this.onSessionLost(),
    });
    this.connection.connect();
    this.loadCatalogue();
    // A link pasted or edited in the address bar of an open tab starts that experiment.
    window.addEventListener("hashchange", () => {
      if (!this.config || location.hash === `#${configToHash(this.config)}`) return;
      try {
        const experiment = hashToConfig(location.hash);
        if (experiment) {
          this.walk.interrupted();
          this.applyExperiment(experiment);
        }
      } catch (err) {
        this.toasts.show(`The link's experiment could not be read: ${err.message}`);
      }
    });
    this.schedule();
  }

  send(command) {
    const id = this.connection.send(command);
    if (id === null) this.toasts.show("Not connected to the server: reconnecting…", "info", 3000);
    else if (CHANGES.has(command.type) && !command.sub) this.lastChangeId = id;
    return id;
  }

  /** Whether the picture shows the effect of every change sent so far. */
  get settled() {
    return !this.pendingFrame && Boolean(this.frame) && this.view.inFlight === 0 &&
      (this.lastChangeId === 0 || this.frame.applied >= this.lastChangeId);
  }

  // ---- server messages ----

  onEvent(m) {
    this.stats.messages++;
    switch (m.type) {
      case "hello":
        this.hello = m;
        this.limits = m.limits;
        this.playing = m.playing;
        this.setConfig(m.config, { writeUrl: !this.pendingExperiment });
        this.counter.told(m.iteration);
        this.setCounters({ iteration: m.iteration });
        this.setPlaying(m.playing);
        if (m.speed) this.showSpeed(m.speed);
        if (m.resumed) {
          this.pendingExperiment = null;
          if (this.wasConnected) this.toasts.show(`Reconnected: the run goes on at iteration ${m.iteration}.`, "info", 4000);
        } else if (this.pendingExperiment) {
          this.applyExperiment(this.pendingExperiment);
          this.pendingExperiment = null;
        }
        this.wasConnected = true;
        break;
      case "config":
        this.setConfig(m.config);
        break;
      case "state":
        this.setPlaying(m.playing);
        if (m.iteration !== undefined) {
          this.counter.told(m.iteration);
          this.setCounters({ iteration: m.iteration });
        }
        break;
      case "speed":
        this.showSpeed(m);
        break;
      case "diverged":
        this.setPlaying(false);
        this.toasts.show(`Training diverged at iteration ${m.iteration}: ${m.message}`, "error", 0);
        break;
      case "loaded":
        this.toasts.show(`Loaded a trained model at iteration ${m.iteration}.`, "info", 4000);
        break;
      case "saved":
        this.saveName = m.filename;
        break;
      case "error":
        this.onServerError(m);
        break;
      default:
        break;
    }
  }

  onServerError(m) {
    if (m.code === "replaced") {
      this.toasts.show("This session was opened in another tab. Click the status to take it back.", "info", 0);
      return;
    }
    if (["unknown_session", "bad_token", "session_lost", "server_full"].includes(m.code)) {
      this.toasts.show(describeError(m), "info", 5000);
      return;
    }
    this.walk.onError();
    this.toasts.show(describeError(m));
    // A refused change: show the config that is really in effect again.
    if (this.config) this.graph.setConfig(this.config);
  }

  onBinary(msg) {
    const kind = msg.header.kind;
    if (kind === "frame") {
      this.stats.framesReceived++;
      if (this.pendingFrame) this.drawFrame(this.pendingFrame); // never skip a received frame
      this.pendingFrame = this.timed("decode", () => prepareFrame(msg, this.config));
      this.pendingFrame.ticket = this.counter.frameArrived();
      this.history.append(this.pendingFrame.historyRows);
      this.schedule();
    } else if (kind === "history") {
      this.history.replace(msg.header.history_columns || [], msg.arrays.history ? msg.arrays.history.data : null);
      this.schedule();
    } else if (kind === "phase") {
      this.walk.onPhase(msg.header, msg.arrays);
    } else if (kind === "run") {
      downloadBytes(msg.payload, runFileName(msg.header, this.saveName));
    }
  }

  onStatus(state, detail) {
    const el = $("connection");
    el.dataset.state = state;
    const text = {
      connecting: "connecting…",
      open: "connected",
      reconnecting: "reconnecting…",
      offline: "offline, retrying…",
      replaced: "open in another tab: click to take over",
      closed: "disconnected",
    }[state] || state;
    el.textContent = text;
    el.title = detail || text;
    if (state !== "open") this.setPlaying(false);
  }

  onSessionLost() {
    // Start a new session with the same experiment (from iteration 0).
    if (this.config) this.pendingExperiment = this.config;
    this.toasts.show("The server no longer has this run; starting it again from the same settings.", "info", 6000);
  }

  applyExperiment(experiment) {
    const { rest, data, seed } = splitExperiment(experiment);
    if (Object.keys(rest).length) this.send({ type: "config", set: rest });
    if (data && data.name) {
      const set = Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null && v !== undefined));
      this.send({ type: "data", set });
    }
    this.send(seed === null ? { type: "reset" } : { type: "reset", seed });
  }

  // ---- state mirrored from the server ----

  setConfig(config, { writeUrl = true } = {}) {
    this.config = config;
    this.graph.setConfig(config);
    this.walk.setConfig(config);
    if (document.activeElement !== $("seed")) $("seed").value = String(config.seed);
    if (writeUrl) {
      const hash = `#${configToHash(config)}`;
      if (location.hash !== hash) history.replaceState(null, "", hash);
    }
    const name = config.data.name;
    this.picker.showCurrent();
    $("pretrained").disabled = !PRETRAINED.has(name);
    $("pretrained").title = PRETRAINED.has(name)
      ? `Load a model already trained on ${name} with its preset settings`
      : "Trained models exist for the line, gaussians, ring and disjoint data";
  }

  /** The distributions the picker offers (from the server). */
  get distributions() {
    return this.picker.distributions;
  }

  /** The server's latest word on the iteration: a drawn frame, a state or a hello. */
  get iteration() {
    return this.counter.value;
  }

  setCounters({ iteration, dUpdates, gUpdates }) {
    const it = $("iteration");
    if (iteration !== undefined && iteration !== null) setText(it, String(iteration));
    if (dUpdates !== undefined) {
      it.dataset.dUpdates = String(dUpdates);
      it.dataset.gUpdates = String(gUpdates);
      setText($("updates"), `${dUpdates} / ${gUpdates}`);
    }
  }

  setPlaying(playing) {
    this.playing = playing;
    this.refreshPlayButton();
    this.graph.setPlaying(playing);
  }

  refreshPlayButton() {
    const b = $("play-pause");
    const on = this.walk && this.walk.enabled ? this.walk.auto : this.playing;
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("play", !on);
    b.querySelector(".icon").textContent = on ? "❚❚" : "▶";
    b.querySelector(".text").textContent = on ? "Pause" : "Play";
  }

  showSpeed(speed) {
    if (speed.ips !== undefined) {
      const sel = $("speed");
      const v = speed.ips === null ? "" : String(speed.ips);
      if (![...sel.options].some((o) => o.value === v)) sel.append(new Option(`${v} it/s`, v));
      sel.value = v;
    }
  }

  // ---- frames and drawing ----

  drawFrame(f) {
    const t0 = performance.now();
    if (this.pendingFrame === f) this.pendingFrame = null;
    this.frame = f;
    this.timed("view", () => this.view.setFrame(f, f.raw));
    this.noise.setFrame(f);
    this.counter.drawn(f.ticket, f.iteration);
    this.readoutsStale = true;
    const ms = performance.now() - t0;
    this.stats.mainMsTotal += ms;
    this.stats.mainMsMax = Math.max(this.stats.mainMsMax, ms);
  }

  /** The page's text and small pictures: counters, the graph's moving loops, charts and
   * thumbnails. While training plays they change together a few times a second (READOUT_MS),
   * not with every frame: each change of the page costs a layout, a paint and a composite,
   * which at 30 a second took more CPU than drawing the picture itself. */
  updateReadouts(now) {
    const f = this.frame;
    if (this.readoutsStale && f) {
      this.timed("text", () => {
        if (this.playing) this.graph.advanceLoops();
        this.setCounters({ iteration: this.counter.value, dUpdates: f.dUpdates, gUpdates: f.gUpdates });
        setText($("ips"), f.playing ? (f.ips >= 100 ? f.ips.toFixed(0) : f.ips.toFixed(1)) : "0");
        const prob = f.output === "probability" || f.output === "prob";
        setText($("d-output"), prob ? "D(x): probability of real" : "D(x): critic score, coloured over its range");
      });
      this.readoutsStale = false;
    }
    this.timed("charts", () => this.charts.update());
    if (f && f !== this.thumbFrame) {
      this.timed("thumbnails", () => this.graph.setFrame(f));
      this.thumbFrame = f;
    }
    this.lastReadouts = now;
  }

  /** Ask for an animation frame (once): the page draws only when there is something new, so
   * an idle page costs nothing and a streaming one paints once per frame received. */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame((t) => {
      this.scheduled = false;
      this.loop(t);
    });
  }

  get readoutsPending() {
    return this.readoutsStale || this.charts.pending || (Boolean(this.frame) && this.frame !== this.thumbFrame);
  }

  loop(now) {
    try {
      if (this.pendingFrame) this.drawFrame(this.pendingFrame);
      else if (this.view.dirty) this.view.render();
      if (this.noise.dirty) this.timed("noise", () => this.noise.render());
      // Paused or stepping: every change shows at once. Playing: on the readout tick.
      if (this.readoutsPending && (!this.playing || now - this.lastReadouts >= READOUT_MS)) {
        this.updateReadouts(now);
      }
    } catch (err) {
      console.error(err); // keep the page alive; the next frame may draw
    }
    if (this.pendingFrame || this.view.dirty || this.noise.dirty) {
      this.schedule();
    } else if (this.readoutsPending) {
      clearTimeout(this.readoutTimer);
      const wait = this.playing ? READOUT_MS - (now - this.lastReadouts) : 0;
      if (wait <= 16) this.schedule();
      else this.readoutTimer = setTimeout(() => this.schedule(), wait);
    }
  }

  /** Run `fn`, adding its time to stats.parts[name] = [total ms, max ms, count]. */
  timed(name, fn) {
    const t0 = performance.now();
    const result = fn();
    const ms = performance.now() - t0;
    const p = (this.stats.parts[name] ||= [0, 0, 0]);
    p[0] += ms;
    p[1] = Math.max(p[1], ms);
    p[2] += 1;
    return result;
  }

  setPalette(name) {
    this.paletteName = name;
    savePaletteName(localStorage, name);
    const p = PALETTES[name];
    const lut = heatmapLut(p);
    this.view.setPalette(p);
    this.noise.setPalette(p);
    this.graph.setPalette(p);
    this.graph.setLut(lut);
    this.charts.setPalette(p);
    applyPaletteToPage(p, lut, { style: document.documentElement.style, legend: $("heat-legend-bar") });
    $("palette").value = name;
    this.thumbFrame = null;
    this.picker.build();
    this.schedule();
  }

  // ---- controls ----

  changeConfig(path, value) {
    $("preset").value = "";
    this.send({ type: "config", set: setPath(path, value) });
  }

  togglePlay() {
    if (this.walk.enabled) {
      this.walk.setAuto(!this.walk.auto);
      this.refreshPlayButton();
      return;
    }
    this.send({ type: this.playing ? "pause" : "play" });
  }

  step(phase) {
    this.walk.interrupted();
    this.send({ type: "step", phase });
  }

  reset() {
    this.walk.interrupted();
    this.send({ type: "reset" });
  }

  bindControls() {
    $("play-pause").addEventListener("click", () => this.togglePlay());
    $("step-d").addEventListener("click", () => this.step("d"));
    $("step-g").addEventListener("click", () => this.step("g"));
    $("step-both").addEventListener("click", () => this.step("both"));
    $("reset").addEventListener("click", () => this.reset());
    $("slow-motion").addEventListener("change", (ev) => {
      const on = ev.target.checked;
      if (on && this.playing) this.send({ type: "pause" });
      this.walk.setEnabled(on);
      this.refreshPlayButton();
    });
    $("speed").addEventListener("change", (ev) => {
      const v = ev.target.value;
      this.send({ type: "speed", ips: v === "" ? null : Number(v) });
    });
    $("preset").addEventListener("change", (ev) => this.applyPreset(ev.target.value));
    $("seed").addEventListener("change", (ev) => {
      const seed = Number(ev.target.value);
      if (!Number.isInteger(seed) || seed < 0 || seed > 2147483647) {
        this.toasts.show("Seed: a whole number from 0 to 2147483647");
        ev.target.value = String(this.config.seed);
        return;
      }
      // A new seed starts the run over, so that the run is the one the seed names.
      this.walk.interrupted();
      this.send({ type: "config", set: { seed } });
      this.send({ type: "reset", seed });
    });
    $("pretrained").addEventListener("click", () => this.loadPretrained());
    $("save-run").addEventListener("click", () => this.send({ type: "save" }));
    $("open-run").addEventListener("change", (ev) => this.openRun(ev.target));
    $("palette").addEventListener("change", (ev) => this.setPalette(ev.target.value));
    $("zoom-reset").addEventListener("click", () => this.view.fit());
    $("log-scale").addEventListener("change", (ev) => this.charts.setLog(ev.target.checked));
    $("draw-button").addEventListener("click", () => this.pad.open());
    $("import-file").addEventListener("change", (ev) => this.importFile(ev.target));
    $("help-button").addEventListener("click", () => $("help-dialog").showModal());
    $("connection").addEventListener("click", () => {
      if (!this.connection.open) this.connection.connect();
    });
    const saved = JSON.parse(localStorage.getItem("ganlab.layers") || "{}");
    for (const box of document.querySelectorAll("[data-layer]")) {
      if (saved[box.dataset.layer] !== undefined) box.checked = saved[box.dataset.layer];
      box.addEventListener("change", () => this.syncLayers());
    }
    this.syncLayers();
  }

  syncLayers() {
    const layers = {};
    for (const box of document.querySelectorAll("[data-layer]")) layers[box.dataset.layer] = box.checked;
    localStorage.setItem("ganlab.layers", JSON.stringify(layers));
    this.view.setLayers(layers);
  }

  applyPreset(name) {
    const preset = this.presets.find((p) => p.name === name);
    if (!preset) return;
    this.walk.interrupted();
    for (const command of presetCommands(preset)) this.send(command);
    $("preset").value = name;
  }

  async loadPretrained() {
    const name = this.config && this.config.data.name;
    if (!PRETRAINED.has(name)) return;
    try {
      const res = await fetch(`pretrained/${name}.ganlab`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      this.walk.interrupted();
      if (!this.connection.sendRun(bytes)) this.toasts.show("Not connected to the server.");
      $("preset").value = name;
    } catch (err) {
      this.toasts.show(`Could not load the trained model: ${err.message}`);
    }
  }

  async openRun(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (this.limits && file.size > this.limits.max_run_bytes) {
      this.toasts.show("The run file is too large.");
      return;
    }
    this.walk.interrupted();
    if (!this.connection.sendRun(new Uint8Array(await file.arrayBuffer()))) this.toasts.show("Not connected to the server.");
  }

  async importFile(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (this.limits && file.size > this.limits.max_message_bytes) {
      this.toasts.show(`The file is too large (${(file.size / 1e6).toFixed(1)} MB; the limit is ${(this.limits.max_message_bytes / 1e6).toFixed(1)} MB).`);
      return;
    }
    const text = await file.text();
    const format = /\.json$/i.test(file.name) || /^\s*[[{]/.test(text) ? "json" : "csv";
    this.send({ type: "data", import: { format, text } });
  }

  // ---- the catalogue: distributions and presets ----

  async loadCatalogue() {
    const get = async (url) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return res.json();
    };
    try {
      const [dists, presets, samples] = await Promise.all([
        get("api/distributions"), get("api/presets"), get("distributions.json").catch(() => ({})),
      ]);
      this.presets = presets;
      fillPresetMenu($("preset"), presets);
      this.picker.setCatalogue(dists, samples);
      if (this.config) this.setConfig(this.config, { writeUrl: false });
    } catch (err) {
      this.toasts.show(`Could not load the list of distributions: ${err.message}`);
    }
  }
}

window.addEventListener("DOMContentLoaded", () => {
  window.ganlab = new App();
});
