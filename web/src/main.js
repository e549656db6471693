// The page's controller: it composes one run (state/run.js) with the views and the controls.
// State lives on the server and is mirrored by the run; views subscribe to the run's events;
// this file only wires them together and schedules drawing.
import "./style.css";
import { Run } from "./state/run.js";
import { configToHash, hashToConfig, hashToExperiment } from "./state/url.js";
import { HINTS, buildNodes, labelFor, setPath } from "./state/controls.js";
import { HealthMonitor, suggestedRate } from "./state/health.js";
import { lossChange } from "./state/recipes.js";
import { freshNetworks } from "./state/fresh-networks.js";
import { PALETTES, heatmapLut } from "./views/colors.js";
import { DistributionView } from "./views/distribution-view.js";
import { NoiseView } from "./views/noise-view.js";
import { ModelGraph } from "./views/model-graph.js";
import { Charts } from "./views/charts.js";
import { DiracView } from "./views/dirac-view.js";
import { TimelineView, branchName } from "./views/timeline-view.js";
import { DrawingPad } from "./ui/drawing-pad.js";
import { Walkthrough } from "./ui/walkthrough.js";
import { Toasts, describeError } from "./ui/toasts.js";
import { DistributionPicker, popoverPlace } from "./ui/picker.js";
import { bindKeys } from "./ui/keys.js";
import { downloadBlob, downloadBytes, downloadText, runFileName } from "./ui/download.js";
import { applyPaletteToPage, legendRow, savePaletteName, savedPaletteName, showHeatScale } from "./ui/palette.js";
import { frameScale } from "./views/score-scale.js";
import { fillPresetMenu, matchingPreset } from "./ui/presets.js";
import { fillTryList, tryExperiment } from "./ui/try.js";
import { canvasToPngBlob, composePng, experimentJson, exportFileName, metricsCsv, samplesCsv } from "./ui/exports.js";
import { MovieDialog } from "./ui/movie-export.js";
import { iterationWords, pictureWords, shownGenerator, withNote } from "./ui/variant-labels.js";
import { densityWords } from "./ui/density-words.js";
import { packingWords } from "./ui/packing-words.js";
import { modeCountsOf } from "./views/mode-histogram.js";
import { installTestHook } from "./test-hook.js";
import { differences, differenceSpan, divergingLut, heatLayerWords, lensLegend, lensLevels, ratioIsOptimum, shownMode, UNDEFINED_WORDS } from "./views/heatmap-mode.js";

const PRETRAINED = new Set(["line", "gaussians", "ring", "disjoint"]);
const $ = (id) => document.getElementById(id);
// While training plays, counters, charts and thumbnails change at most this often (ms).
const READOUT_MS = 250;
// A new run plays at this many iterations a second until the learner picks another speed:
// slow enough to watch D's heatmap and the fakes move (at full speed a run is over in seconds).
const PAGE_IPS = 100;

// Write text only when it changes: an unchanged write still costs a style pass.
const setText = (el, text) => {
  if (el.textContent !== text) el.textContent = text;
};

class App {
  constructor() {
    this.pendingFrame = null;
    this.presets = [];
    this.losses = []; // GET /api/losses: each loss with its recipe
    this.schema = null;
    // framesRendered counts frames the picture has drawn; renderMs* is the drawing time (in the
    // picture's worker), mainMs* the page's own time per frame.
    this.stats = {
      framesReceived: 0, framesRendered: 0, framesSkipped: 0, messages: 0, lastFrameNumber: null,
      renderMsTotal: 0, renderMsMax: 0, mainMsTotal: 0, mainMsMax: 0, parts: {},
    };
    this.toasts = new Toasts($("toasts"));
    this.paletteName = savedPaletteName(localStorage);
    this.lastReadouts = 0;
    this.readoutsStale = false;
    this.scheduled = false;
    this.thumbFrame = null;
    this.health = new HealthMonitor();
    this.editIds = new Map(); // id -> {path, note} of a change made in the graph, awaiting the server
    this.serverDiverged = null;

    this.run = new Run();
    this.makeViews();
    this.setPalette(this.paletteName);
    this.bindControls();
    this.subscribe();
    installTestHook(this);
    this.start();
  }

  makeViews() {
    this.view = new DistributionView($("view-canvas"), $("view-tooltip"), {
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
    this.graph = new ModelGraph($("model-graph"), $("node-popover"), {
      onChange: (path, value) => this.changeConfig(path, value),
      onError: (text) => this.toasts.show(text),
      onGeneratorHover: (on) => this.view.setMorph(on),
    });
    this.charts = new Charts($("charts"), this.run.history);
    // The run's history under the picture (issue 15); hovering a chart previews its iteration.
    this.timelineView = new TimelineView($("timeline"), { run: this.run });
    this.charts.onHover = (iteration) => this.previewAt(iteration);
    this.dirac = new DiracView(
      {
        details: $("dirac-details"), canvas: $("dirac-canvas"), explain: $("dirac-explain"), sgd: $("dirac-sgd"), eigen: $("dirac-eigen"),
        settings: $("dirac-settings"), steps: $("dirac-steps"), status: $("dirac-status"),
      },
      {
        run: this.run, palette: () => PALETTES[this.paletteName],
        lossTitle: (kind) => (this.losses.find((l) => l.name === kind) || { title: kind }).title,
      },
    );
    this.walk = new Walkthrough(
      {
        panel: $("walkthrough"), steps: $("walk-steps"), text: $("walk-text"), values: $("walk-values"),
        next: $("walk-next"), play: $("walk-play"), speed: $("walk-speed"), speedValue: $("walk-speed-value"),
      },
      {
        send: (c) => this.run.send(c), view: this.view, palette: () => PALETTES[this.paletteName],
        onPhase: (network, phase) => this.graph.setFocus(network, phase),
        counters: () => ({ iteration: this.run.iteration ?? 0, gUpdates: this.run.counter.gUpdates ?? 0 }),
      },
    );
    this.pad = new DrawingPad(
      {
        dialog: $("draw-dialog"), canvas: $("draw-canvas"), brush: $("draw-brush"), brushValue: $("draw-brush-value"),
        undo: $("draw-undo"), clear: $("draw-clear"), cancel: $("draw-cancel"), apply: $("draw-apply"),
      },
      { onApply: (drawing) => this.startData({ name: "drawing", ...drawing }) },
    );
    this.picker = new DistributionPicker(
      {
        button: $("dist-button"), popover: $("dist-popover"), grid: $("dist-grid"),
        thumb: $("dist-current-thumb"), name: $("dist-current-name"),
      },
      {
        palette: () => PALETTES[this.paletteName],
        current: () => this.run.config && { name: this.run.config.data.name },
        onChoose: (name) => this.chooseDistribution(name),
        onDraw: () => this.pad.open(),
        onImport: () => $("import-file").click(),
      },
    );
    this.movie = new MovieDialog(
      {
        menu: $("file-menu"), gifButton: $("export-gif"), videoButton: $("export-video"), dialog: $("movie-dialog"), title: $("movie-title"),
        layers: $("movie-layers"), size: $("movie-size"), seconds: $("movie-seconds"), fps: $("movie-fps"),
        summary: $("movie-summary"), progressRow: $("movie-progress-row"), progress: $("movie-progress"),
        progressText: $("movie-progress-text"), start: $("movie-start"), cancel: $("movie-cancel"),
      },
      {
        run: this.run,
        layers: () => this.layers,
        layerNames: () => [...document.querySelectorAll("[data-layer]")].map((box) => ({
          // Its words, one space between parts (the tag after the name is spaced by CSS).
          layer: box.dataset.layer, label: [...box.closest("label").childNodes].map((n) => n.textContent).join(" ").replace(/\s+/g, " ").trim(),
        })),
        palette: () => PALETTES[this.paletteName],
        heatMode: () => this.heatMode ?? "d",
        legendFor: (frame, layers) => this.pngLegend(frame, layers, frame.gUpdates),
        // A 256 px frame has room for the iteration and the data only.
        titleFor: (frame, size) => {
          const branch = this.shownBranchName();
          const more = size >= 512 ? [`${this.run.config.loss.kind} loss`, ...(branch ? [`branch: ${branch}`] : [])] : [];
          return [`iteration ${frame.iteration}`, this.picker.els.name.textContent, ...more].join(" · ");
        },
        branchName: () => this.shownBranchName(),
        dataName: () => (this.run.config ? this.run.config.data.name : "run"),
        download: (blob, name) => downloadBlob(blob, name),
        say: (text) => this.toasts.show(text),
      },
    );
  }

  /** The run's events, each to the views that show it. */
  subscribe() {
    const run = this.run;
    run.on("hello", (m) => {
      this.stats.messages++;
      if (!m.resumed && !this.speedChosen && m.speed && m.speed.ips === null) this.run.setSpeed(PAGE_IPS);
      if (m.restored) {
        // The server restarted (or its engine did): the run came back from its last checkpoint.
        this.toasts.show(`The server restarted: your run goes on from its last save, at iteration ${m.iteration} (up to ${m.limits?.checkpoint_seconds ?? 10} s of training may be lost).`, "info", 8000);
      } else if (m.resumed && this.wasConnected) this.toasts.show(`Reconnected: the run goes on at iteration ${m.iteration}.`, "info", 4000);
      this.wasConnected = true;
    });
    run.on("config", (config) => this.setConfig(config));
    run.on("applied", ({ id, rebuilt }) => {
      const edit = this.editIds.get(id);
      if (edit) {
        this.editIds.delete(id);
        this.sayRebuilt(rebuilt, edit.path);
        if (edit.note) this.toasts.show(edit.note, "info", 10000);
      }
      const pending = this.resetAfterImport;
      if (!pending || pending.id !== id) return;
      this.resetAfterImport = null;
      this.onRunReset();
      this.run.reset();
      if (pending.playing) this.run.play();
    });
    run.on("reset", () => this.onRunReset());
    run.on("iteration", () => this.refreshCounters());
    run.on("playing", (playing) => this.setPlaying(playing));
    run.on("speed", (speed) => this.showSpeed(speed));
    run.on("frame", (frame) => {
      this.stats.framesReceived++;
      this.charts.setModeCounts(frame.modeCounts); // with the row it came with, not when drawn
      if (this.pendingFrame) this.drawFrame(this.pendingFrame); // never skip a received frame
      this.pendingFrame = frame;
      this.schedule();
    });
    run.on("history", (msg) => {
      // A whole history (a reload, a resume) carries its newest row's per-mode counts too.
      if (msg) this.charts.setModeCounts(modeCountsOf(msg.header, msg.arrays));
      this.schedule();
    });
    run.on("phase", ({ header, arrays }) => this.walk.onPhase(header, arrays));
    run.on("run-file", ({ bytes, header, name }) => downloadBytes(bytes, runFileName(header, name)));
    run.on("timeline", () => this.showTimeline());
    run.on("playing", () => this.showTimeline());
    run.on("branched", ({ iteration }) => {
      this.timelineToast(`You were viewing iteration ${iteration}: the change starts a new branch from there. The original run is kept: switch back to it in the list under the timeline.`);
    });
    run.on("paused-to-seek", () => this.timelineToast("Paused to show the past. Play returns to the latest iteration and trains on; Branch from here continues from the point shown."));
    run.on("loaded", (m) => {
      this.onRunReset();
      this.toasts.show(`Loaded a trained model at iteration ${m.iteration}.`, "info", 4000);
    });
    run.on("diverged", (m) => {
      this.serverDiverged = m;
      this.showHealth();
    });
    run.on("error", (m) => this.onServerError(m));
    run.on("status", ({ state, detail }) => this.onStatus(state, detail));
    run.on("fresh", () => {
      this.onRunReset();
      this.toasts.show("The server restarted and no longer had this run: it starts again from iteration 0 with the same settings.", "info", 6000);
    });
    run.on("offline-edit", () => {
      if (!this.offlineNoted) this.toasts.show("Offline: your changes are kept and sent when the server answers again.", "info", 4000);
      this.offlineNoted = true;
    });
  }

  /** Catalogue first (the schema checks a link's settings), then the connection. */
  async start() {
    await this.loadCatalogue();
    this.readLink(location.hash, { initial: true });
    this.run.connect();
    // A link pasted or edited in the address bar of an open tab starts that experiment.
    window.addEventListener("hashchange", () => {
      if (!this.run.config || location.hash === `#${configToHash(this.run.config)}`) return;
      const experiment = this.readLink(location.hash);
      if (experiment) {
        this.walk.interrupted();
        this.run.applyExperiment(experiment);
      }
    });
    this.schedule();
  }

  /** The experiment a link holds, with every setting the schema allows; one bad value loses
   * only itself, and every problem is reported at once. */
  readLink(hash, { initial = false } = {}) {
    let experiment = null;
    let errors = [];
    if (this.schema) ({ config: experiment, errors } = hashToExperiment(hash, this.schema, HINTS));
    else {
      try {
        experiment = hashToConfig(hash);
      } catch (err) {
        errors = [{ path: "", message: err.message }];
      }
    }
    if (errors.length) {
      const text = `${errors.length === 1 ? "One setting of the link was" : `${errors.length} settings of the link were`} left out, the rest applied: ${errors.map((e) => e.message).join(" ")}`;
      this.toasts.show(text, "error", 0, errors.map((e) => e.path).filter(Boolean).join(", "));
    }
    if (initial) this.run.pendingExperiment = experiment;
    return experiment;
  }

  // ---- server messages ----

  onServerError(m) {
    if (m.code === "replaced") {
      // It stays until the run is taken back (the status is clicked): then it is out of date.
      this.replacedToast?.remove();
      this.replacedToast = this.toasts.show("This session was opened in another tab. Click the status to take it back.", "info", 0);
      return;
    }
    // A lost session is started afresh by the run (the `fresh` event says so); nothing raw.
    // An engine restarted: the page reconnects and the run comes back (the hello says so).
    if (["unknown_session", "bad_token", "session_lost", "engine_restarted"].includes(m.code)) return;
    if (m.code === "server_full") {
      this.toasts.show("The server is full: it trains as many runs as it can. Retrying shortly…", "info", 5000);
      return;
    }
    this.walk.onError();
    const { text, detail } = describeError(m, (path) => labelFor(path));
    // The setting's path helps with a link or a config file; an upload's inner field does not.
    this.toasts.show(text, "error", 8000, m.code === "invalid_config" ? detail : "");
    // A refused change: show the config that is really in effect again.
    if (this.run.config) this.graph.setConfig(this.run.config);
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
    if (state === "open") {
      this.offlineNoted = false;
      this.replacedToast?.remove();
      this.replacedToast = null;
    }
  }

  /** The run started over (reset, load, a fresh session): the old picture's notices go. */
  onRunReset() {
    this.serverDiverged = null;
    this.health.reset();
    this.walk.interrupted();
    this.graph.setFocus(null, null);
    this.showHealth();
  }

  // ---- state mirrored from the run ----

  setConfig(config) {
    this.graph.setConfig(config);
    this.walk.setConfig(config);
    this.showVariantWords();
    this.health.setConfig(config);
    this.charts.setMetrics(config.metrics);
    this.followLens(config);
    if (document.activeElement !== $("seed")) $("seed").value = String(config.seed);
    const hash = `#${configToHash(config)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    const name = config.data.name;
    this.picker.showCurrent();
    const preset = matchingPreset(config, this.presets);
    if (preset) $("preset").value = preset;
    $("pretrained").disabled = !PRETRAINED.has(name);
    $("pretrained").title = PRETRAINED.has(name)
      ? `Load a model already trained on ${name} with its preset settings`
      : "Trained models exist for the line, gaussians, ring and disjoint data";
    this.readoutsStale = true;
    this.schedule();
  }

  /** The distributions the picker offers (from the server). */
  get distributions() {
    return this.picker.distributions;
  }

  get config() {
    return this.run.config;
  }

  get frame() {
    return this.run.frame;
  }

  /** Whether the picture shows the effect of every change sent so far. */
  get settled() {
    return !this.pendingFrame && this.run.changesShown && this.view.inFlight === 0;
  }

  /** Iteration and update counters from one message, so they always agree. */
  refreshCounters() {
    const c = this.run.counter;
    const it = $("iteration");
    if (c.value === null) return;
    setText(it, String(c.value));
    if (c.dUpdates !== undefined && c.dUpdates !== null) {
      it.dataset.dUpdates = String(c.dUpdates);
      it.dataset.gUpdates = String(c.gUpdates);
      setText($("updates"), `${c.dUpdates} / ${c.gUpdates}`);
    }
    this.showVariantWords();
  }

  /** The words that change with the variants in effect (ui/variant-labels.js): which
   * generator the picture's fake samples come from, and what one iteration does. */
  showVariantWords() {
    const config = this.run.config;
    const started = this.run.counter.gUpdates > 0; // all the words read of the counters
    if (!config || (this.variantWordsOf && this.variantWordsOf.config === config && this.variantWordsOf.started === started)) return;
    this.variantWordsOf = { config, started };
    const words = pictureWords(config, this.run.counter.gUpdates);
    const titled = (el, note) => {
      el.dataset.title ??= el.title; // the page's own words, kept to add notes to
      const title = withNote(el.dataset.title, note);
      if (el.title !== title) el.title = title;
    };
    const layer = (name) => document.querySelector(`[data-layer="${name}"]`).closest("label");
    setText($("fake-tag"), words.fakeTag);
    titled(layer("fake"), words.fakeNote);
    titled(layer("manifold"), words.manifoldNote);
    titled(layer("gradients"), [words.gradientsNote, this.packingWords?.gradients].filter(Boolean).join(" "));
    titled($("export-samples"), words.fakeNote);
    if ($("view-canvas").getAttribute("aria-label") !== words.canvasLabel) $("view-canvas").setAttribute("aria-label", words.canvasLabel);
    setText($("explain-fake-note"), words.explainFake);
    setText($("charts-note"), words.chartsNote);
    $("charts-note").hidden = !words.chartsNote;
    this.view.setFakeName(words.tooltipName);
    this.graph.setFakeLabel(words.thumbLabel);
    const iteration = iterationWords(config);
    if ($("step-both").title !== iteration.both) $("step-both").title = iteration.both;
    const counter = $("iteration").parentElement;
    if (counter.title !== iteration.iteration) counter.title = iteration.iteration;
  }

  /** Whether the real density layer shows the distribution's own law or an estimate from its
   * data (ui/density-words.js), as the frame says. */
  showDensityWords(f) {
    const key = `${f.realDensityKind}|${f.realDensityWidth}`;
    if (this.densityWordsOf === key) return;
    this.densityWordsOf = key;
    const words = densityWords(f.realDensityKind, f.realDensityWidth);
    setText($("density-tag"), words.tag);
    const label = document.querySelector('[data-layer="contour"]').closest("label");
    if (label.title !== words.title) label.title = words.title;
    setText($("explain-density-note"), words.note);
  }

  /** What D's numbers are when D judges packs (ui/packing-words.js), as the frame says. */
  showPackingWords(f) {
    if (this.packingWordsOf === f.partners) return;
    this.packingWordsOf = f.partners;
    const words = (this.packingWords = packingWords(f.partners));
    const label = document.querySelector('[data-layer="field"]').closest("label");
    label.dataset.title ??= label.title;
    const title = withNote(label.dataset.title, words.field);
    if (label.title !== title) label.title = title;
    this.titleHeatLayer(this.heatLayerMode ?? "d");
    setText($("packing-note").querySelector(".note-summary"), words.legend);
    setText($("packing-note").querySelector(".note-how"), words.legendHow);
    setText($("explain-packing-note"), words.field);
    $("packing-note").hidden = !words.legend;
    this.variantWordsOf = null; // the gradients layer's words include these
    this.showVariantWords();
  }

  setPlaying(playing) {
    this.refreshPlayButton();
    this.graph.setPlaying(playing);
    this.readoutsStale = true;
    this.schedule();
  }

  refreshPlayButton() {
    const b = $("play-pause");
    const on = this.walk && this.walk.enabled ? this.walk.auto : this.run.playing;
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
      this.health.setSpeedLimit(speed.ips);
    }
  }

  /** The training-health notice over the picture: the server's word on a divergence first,
   * then what the page sees in the frames and metrics. */
  showHealth() {
    const box = $("health");
    let status = this.health.status();
    if (this.serverDiverged) {
      // The server's message names the iteration and the cause; keep only the cause.
      const d = this.serverDiverged;
      const cause = (d.message || "").replace(/^training diverged at iteration \d+:\s*/i, "").split(".")[0];
      status = {
        kind: "diverged",
        text: `Training diverged at iteration ${d.iteration}${cause ? `: ${cause}` : ""}.`,
        suggestion: `Lower the learning rates (try ${suggestedRate(this.run.config)}) and press Reset.`,
      };
    }
    const key = status ? `${status.kind}|${status.text}|${status.suggestion}` : "";
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.hidden = !status;
    box.dataset.kind = status ? status.kind : "";
    box.textContent = "";
    if (status) {
      const b = document.createElement("b");
      b.textContent = status.text;
      const s = document.createElement("span");
      s.textContent = status.suggestion;
      box.append(b, s);
    }
  }

  // ---- frames and drawing ----

  drawFrame(f) {
    const t0 = performance.now();
    if (this.pendingFrame === f) this.pendingFrame = null;
    this.run.drawn(f);
    this.timed("view", () => this.view.setFrame(f, f.raw));
    this.showDensityWords(f);
    this.showPackingWords(f);
    this.noise.setFrame(f);
    this.health.observeFrame(f, t0);
    this.readoutsStale = true;
    const ms = performance.now() - t0;
    this.stats.mainMsTotal += ms;
    this.stats.mainMsMax = Math.max(this.stats.mainMsMax, ms);
  }

  /** The page's text and small pictures: counters, the graph's moving loops, charts and
   * thumbnails. While training plays they change together a few times a second (READOUT_MS),
   * not with every frame: each change of the page costs a layout, a paint and a composite. */
  updateReadouts(now) {
    const f = this.run.frame;
    if (this.readoutsStale && f) {
      this.timed("text", () => {
        if (this.run.playing) this.graph.advanceLoops();
        this.refreshCounters();
        setText($("ips"), f.playing ? (f.ips >= 100 ? f.ips.toFixed(0) : f.ips.toFixed(1)) : "0");
        this.showHeatLegend(f);
        this.health.observeHistory(this.run.history);
        this.showHealth();
      });
      this.readoutsStale = false;
    }
    this.timed("charts", () => this.charts.update());
    const empty = $("charts-empty");
    const none = this.run.history.length === 0;
    if (empty.hidden === none) {
      empty.hidden = !none;
      $("charts").hidden = none; // empty charts would show the last run's axes
      const every = this.run.config ? this.run.config.metrics.every : 100;
      empty.textContent = `The charts fill in as training runs, one point every ${every} iterations: press Play.`;
    }
    if (f && f !== this.thumbFrame) {
      this.timed("thumbnails", () => {
        this.graph.setFrame(f);
        this.picker.frameDrawn(f);
      });
      this.thumbFrame = f;
    }
    this.lastReadouts = now;
  }

  /** Ask for an animation frame (once): the page draws only when there is something new. */
  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame((t) => {
      this.scheduled = false;
      this.loop(t);
    });
  }

  get readoutsPending() {
    return this.readoutsStale || this.charts.pending || (Boolean(this.run.frame) && this.run.frame !== this.thumbFrame);
  }

  loop(now) {
    try {
      if (this.pendingFrame) this.drawFrame(this.pendingFrame);
      else if (this.view.dirty) this.view.render();
      if (this.noise.dirty) this.timed("noise", () => this.noise.render());
      // Paused or stepping: every change shows at once. Playing: on the readout tick.
      if (this.readoutsPending && (!this.run.playing || now - this.lastReadouts >= READOUT_MS)) {
        this.updateReadouts(now);
      }
    } catch (err) {
      console.error(err); // keep the page alive; the next frame may draw
    }
    if (this.pendingFrame || this.view.dirty || this.noise.dirty) {
      this.schedule();
    } else if (this.readoutsPending) {
      clearTimeout(this.readoutTimer);
      const wait = this.run.playing ? READOUT_MS - (now - this.lastReadouts) : 0;
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
    this.dirac.draw();
    applyPaletteToPage(p, lut, { style: document.documentElement.style, legend: $("heat-legend-bar") });
    this.legendBar = "d"; // the bar now shows the palette's ramp
    $("palette").value = name;
    this.thumbFrame = null;
    this.picker.build();
    this.schedule();
  }

  // ---- controls ----

  /** A change made in the graph. Picking a loss brings its usual settings in the same change
   * (state/recipes.js); nothing else applies a recipe. */
  changeConfig(path, value) {
    $("preset").value = "";
    const { set, note } = path === "loss.kind"
      ? lossChange(this.losses, value, this.run.config)
      : { set: setPath(path, value), note: null };
    // While the past is shown, the change becomes a branch from there (state/run.js `change`).
    const id = this.run.change(set);
    if (id !== null) this.editIds.set(id, { path, note });
    else if (note) this.toasts.show(note, "info", 10000); // offline: the edit is kept and applied locally
  }

  /** A network whose architecture changed starts from fresh weights while the run goes on: say so,
   * so that a learner does not take the jump in the picture for training. */
  sayRebuilt(rebuilt, path) {
    const nets = freshNetworks(rebuilt, path);
    if (!nets.length) return;
    const which = nets.join(" and the ");
    this.toasts.show(`The ${which} now ${nets.length > 1 ? "start" : "starts"} from fresh weights (${nets.length > 1 ? "their" : "its"} architecture changed); the run goes on from iteration ${this.run.iteration ?? 0}.`, "info", 5000);
  }

  // ---- the run's history (views/timeline-view.js) ----

  /** The shown branch's name when the run has branches (null: only the main run). */
  shownBranchName() {
    const t = this.run.timeline;
    return t.branches.length > 1 && t.shownBranch ? branchName(t.shownBranch) : null;
  }

  /** A note about the history: one at a time, gone after 6 s or at the next one. */
  timelineToast(text) {
    this.timelineNote?.remove();
    this.timelineNote = this.toasts.show(text, "info", 6000);
  }

  /** The past point shown: the charts' marker and the counter's colour and "of head". */
  showTimeline() {
    const t = this.run.timeline;
    this.charts.setMarker(t.past ? t.iteration : null);
    // Paused, the charts' x axes span the timeline's range, so the two line up; while the run
    // plays they follow the rows (the head moves with every frame).
    this.charts.setSpan(t.known && !this.run.playing ? { start: t.start, head: t.head } : null);
    this.schedule();
    const counter = $("iteration").parentElement;
    counter.classList.toggle("past", t.past);
    const of = $("iteration-of");
    of.hidden = !t.past;
    setText(of, t.past ? `of ${t.head}` : "");
    // The way back stays in the bar kept on screen (the timeline's own may be scrolled away).
    $("runbar-latest").hidden = !t.past;
  }

  /** Hovering a chart while the run is paused shows that iteration; leaving the charts goes
   * back to the point shown before (a playing run is not stopped by a hover). */
  previewAt(iteration) {
    const t = this.run.timeline;
    if (iteration === null) {
      const back = this.preview;
      this.preview = null;
      if (back) back.live ? this.run.goLive() : this.run.seek(back.iteration);
      return;
    }
    if (!t.known || this.timelineView.replaying || this.movie?.busy) return;
    if (this.run.playing) {
      this.preview = null; // played during a preview: the run goes on, nothing to go back to
      return;
    }
    this.preview ??= { live: t.live, iteration: t.iteration };
    this.run.seek(iteration);
  }

  togglePlay() {
    if (this.walk.enabled) {
      this.walk.setAuto(!this.walk.auto);
      this.refreshPlayButton();
      return;
    }
    if (this.run.playing) this.run.pause();
    else this.run.play();
  }

  step(phase) {
    this.walk.interrupted();
    this.run.step(phase);
  }

  reset() {
    // Branches are work a learner made on purpose: a reset drops them all, so ask first.
    const branches = this.run.timeline.branches.length;
    if (branches > 1 && !window.confirm(`Reset starts the run over and deletes its history and all ${branches} branches. Reset?`)) return;
    this.timelineNote?.remove();
    this.onRunReset();
    this.run.reset();
  }

  /** Start an experiment over from iteration 0; training goes on if it was playing. */
  startExperiment(experiment) {
    const playing = this.run.playing;
    this.onRunReset();
    this.run.applyExperiment(experiment, { keepSeed: true });
    if (playing) this.run.play();
  }

  /** Picking a distribution applies its tuned preset and starts a fresh run, as GAN Lab does;
   * "keep my networks" changes only the data. */
  chooseDistribution(name) {
    const preset = this.presets.find((p) => p.name === name);
    if (preset && !$("keep-networks").checked) {
      $("preset").value = name;
      this.startExperiment(preset.config);
    } else {
      this.startData({ name });
    }
  }

  /** New data (a registered name, a drawing) with the networks kept, from iteration 0. */
  startData(set) {
    $("preset").value = "";
    const playing = this.run.playing;
    this.onRunReset();
    this.run.setData(set);
    this.run.reset();
    if (playing) this.run.play();
  }

  // ---- the heatmap's mode: D, the optimal D* or D − D* (views/heatmap-mode.js) ----

  /** The learner picked a mode: D* needs view.optimal on (it costs the server a pass of G
   * over a fine noise grid per picture), so it is turned on, and off again with D. */
  chooseHeatMode(mode) {
    this.heatMode = mode;
    const config = this.run.config;
    if (config && config.view.optimal !== (mode !== "d")) this.run.configure({ view: { optimal: mode !== "d" } });
    this.applyHeatMode();
  }

  /** A config came: a link (or another tab) with view.optimal on shows D*; off shows D. */
  followLens(config) {
    const on = config.view.optimal;
    if (on !== this.lensOn) {
      this.lensOn = on;
      if (on && (this.heatMode ?? "d") === "d") this.heatMode = "optimal";
      if (!on) this.heatMode = "d";
    }
    this.applyHeatMode();
  }

  applyHeatMode() {
    const config = this.run.config;
    const gapOk = !config || ratioIsOptimum(config.loss.kind);
    const select = $("heat-mode");
    const gap = select.querySelector('option[value="gap"]');
    gap.disabled = !gapOk;
    gap.title = gapOk ? "" : "A Wasserstein or hinge critic's optimum is not D*: the difference would mean nothing";
    if (this.heatMode === "gap" && !gapOk) this.heatMode = "optimal";
    this.heatMode ??= "d";
    if (select.value !== this.heatMode) select.value = this.heatMode;
    this.view.setHeatMode(this.heatMode);
    this.readoutsStale = true;
    this.schedule();
  }

  /** The legend under the picture for the mode the frame can show. */
  showHeatLegend(f) {
    const config = this.run.config;
    const mode = shownMode(this.heatMode ?? "d", f, config ? config.loss.kind : "log");
    const note = $("heat-mode-note");
    const bar = $("heat-legend-bar");
    const barMode = mode === "gap" ? "gap" : "d";
    if (this.legendBar !== barMode) {
      const lut = barMode === "gap" ? divergingLut() : heatmapLut(PALETTES[this.paletteName]);
      const ctx = bar.getContext("2d");
      const img = ctx.createImageData(bar.width, 1);
      img.data.set(legendRow(lut, bar.width));
      for (let y = 0; y < bar.height; y++) ctx.putImageData(img, 0, y);
      this.legendBar = barMode;
    }
    this.titleHeatLayer(mode);
    const key = $("undefined-key");
    if (mode === "d") {
      showHeatScale(frameScale(f), { legend: $("heat-legend"), output: $("d-output") });
      note.hidden = true;
      key.hidden = true;
      return;
    }
    const t = lensLegend(mode, f, config, mode === "gap" ? lensLevels(f, "gap").span : null);
    const spans = $("heat-legend").querySelectorAll(":scope > span");
    setText(spans[0], `${t.fake} ${t.low}`);
    setText(spans[spans.length - 1], `${t.high} ${t.real}`);
    setText($("d-output"), t.line);
    setText(note.querySelector(".note-summary"), t.summary);
    setText(note.querySelector(".note-how"), t.how);
    note.hidden = false;
    setText(key.querySelector(".undefined-words"), UNDEFINED_WORDS);
    key.hidden = false;
  }

  /** The heatmap layer's name and tooltip say what it draws now (D, D* or D − D*), with the
   * packing sentence when D judges packs. */
  titleHeatLayer(mode) {
    this.heatLayerMode = mode;
    const words = heatLayerWords(mode);
    setText($("heat-layer-name"), words.name);
    const label = $("heat-layer-name").closest("label");
    const title = withNote(words.title, this.packingWords?.heatmap);
    if (label.title !== title) label.title = title;
  }

  bindControls() {
    $("heat-mode").addEventListener("change", (ev) => this.chooseHeatMode(ev.target.value));
    $("play-pause").addEventListener("click", () => this.togglePlay());
    $("step-d").addEventListener("click", () => this.step("d"));
    $("step-g").addEventListener("click", () => this.step("g"));
    $("step-both").addEventListener("click", () => this.step("both"));
    $("reset").addEventListener("click", () => this.reset());
    $("runbar-latest").addEventListener("click", () => this.run.goLive());
    $("slow-motion").addEventListener("change", (ev) => {
      const on = ev.target.checked;
      if (on && this.run.playing) this.run.pause();
      this.walk.setEnabled(on);
      if (!on) this.graph.setFocus(null, null);
      this.refreshPlayButton();
    });
    $("speed").addEventListener("change", (ev) => {
      const v = ev.target.value;
      this.speedChosen = true;
      this.run.setSpeed(v === "" ? null : Number(v));
    });
    $("preset").addEventListener("change", (ev) => this.applyPreset(ev.target.value));
    $("seed").addEventListener("change", (ev) => {
      const seed = Number(ev.target.value);
      if (!Number.isInteger(seed) || seed < 0 || seed > 2147483647) {
        this.toasts.show("The seed must be a whole number from 0 to 2,147,483,647.");
        ev.target.value = String(this.run.config.seed);
        return;
      }
      // A new seed starts the run over, so that the run is the one the seed names.
      this.onRunReset();
      this.run.configure({ seed });
      this.run.reset(seed);
    });
    $("pretrained").addEventListener("click", () => this.loadPretrained());
    $("save-run").addEventListener("click", () => this.run.save());
    $("open-run").addEventListener("change", (ev) => this.openRun(ev.target));
    $("palette").addEventListener("change", (ev) => this.setPalette(ev.target.value));
    $("zoom-reset").addEventListener("click", () => this.view.fit());
    $("log-scale").addEventListener("change", (ev) => this.charts.setLog(ev.target.checked));
    $("draw-button").addEventListener("click", () => this.pad.open());
    $("import-file").addEventListener("change", (ev) => this.importFile(ev.target));
    $("help-button").addEventListener("click", () => $("help-dialog").showModal());
    $("connection").addEventListener("click", () => {
      if (!this.run.connected) this.run.connect();
    });
    $("export-png").addEventListener("click", () => this.exportPng());
    $("export-samples").addEventListener("click", () => this.exportText("samples", () => samplesCsv(this.run.frame), "text/csv"));
    $("export-metrics").addEventListener("click", () => this.exportText("metrics", () => metricsCsv(this.run.history), "text/csv"));
    $("export-config").addEventListener("click", () => this.exportText("experiment", () => experimentJson(this.run.config), "application/json"));
    // A menu item closes its menu.
    for (const item of document.querySelectorAll("#file-menu .menu-body button")) {
      item.addEventListener("click", () => $("file-menu").removeAttribute("open"));
    }
    document.addEventListener("pointerdown", (ev) => {
      const menu = $("file-menu");
      if (menu.open && !menu.contains(ev.target)) menu.removeAttribute("open");
    });
    $("file-menu").addEventListener("keydown", (ev) => {
      if (ev.key !== "Escape") return;
      $("file-menu").removeAttribute("open");
      $("file-menu").querySelector("summary").focus();
    });
    this.bindTryPopover();
    // On phones the picture sticks under the training controls: it needs their height.
    const runbar = document.querySelector(".runbar");
    new ResizeObserver(() => document.documentElement.style.setProperty("--runbar-h", `${runbar.offsetHeight}px`)).observe(runbar);
    bindKeys(document, {
      "play-pause": () => this.togglePlay(),
      "step-d": () => this.step("d"),
      "step-g": () => this.step("g"),
      "step-both": () => this.step("both"),
      reset: () => this.reset(),
      help: () => $("help-dialog").showModal(),
      "history-back": () => this.timelineView.step(-1),
      "history-forward": () => this.timelineView.step(1),
    });
    const saved = JSON.parse(localStorage.getItem("ganlab.layers") || "{}");
    for (const box of document.querySelectorAll("[data-layer]")) {
      if (saved[box.dataset.layer] !== undefined) box.checked = saved[box.dataset.layer];
      box.addEventListener("change", () => this.syncLayers());
    }
    this.syncLayers();
  }

  bindTryPopover() {
    const button = $("try-button");
    const popover = $("try-popover");
    const toggle = (open) => {
      popover.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) {
        const place = popoverPlace(button.getBoundingClientRect(), popover.offsetWidth, window.innerWidth);
        popover.style.left = `${place.left}px`;
        popover.style.top = `${place.top}px`;
        popover.style.maxHeight = `${Math.max(160, window.innerHeight - place.top - 8)}px`;
        const first = popover.querySelector("button");
        if (first) first.focus();
      }
    };
    button.addEventListener("click", () => toggle(popover.hidden));
    document.addEventListener("pointerdown", (ev) => {
      if (!popover.hidden && !popover.contains(ev.target) && !button.contains(ev.target)) toggle(false);
    });
    popover.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") {
        toggle(false);
        button.focus();
      }
    });
    this.closeTry = () => toggle(false);
  }

  /** A one-click set-up: its experiment from iteration 0, playing, and what to watch. */
  tryThing(entry) {
    this.closeTry();
    const experiment = tryExperiment(entry, this.presets);
    if (!experiment) return;
    $("preset").value = "";
    this.onRunReset();
    this.run.applyExperiment(experiment, { keepSeed: true });
    this.run.setSpeed(entry.speed ?? null);
    this.run.play();
    this.toasts.show(`${entry.title}. ${entry.watch}`, "info", 12000);
  }

  syncLayers() {
    const layers = {};
    for (const box of document.querySelectorAll("[data-layer]")) layers[box.dataset.layer] = box.checked;
    localStorage.setItem("ganlab.layers", JSON.stringify(layers));
    this.view.setLayers(layers);
    this.layers = layers;
  }

  applyPreset(name) {
    const preset = this.presets.find((p) => p.name === name);
    if (!preset) return;
    this.startExperiment(preset.config);
    $("preset").value = name;
  }

  async loadPretrained() {
    const name = this.run.config && this.run.config.data.name;
    if (!PRETRAINED.has(name)) return;
    try {
      const res = await fetch(`pretrained/${name}.ganlab`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      this.walk.interrupted();
      if (!this.run.load(bytes)) this.toasts.show("Not connected to the server: try again once it is.");
      $("preset").value = name;
    } catch (err) {
      this.toasts.show(`The trained model could not be loaded (${err.message}).`);
    }
  }

  async openRun(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    const limits = this.run.limits;
    if (limits && file.size > limits.max_run_bytes) {
      this.toasts.show(`The run file is too large: ${(file.size / 1e6).toFixed(1)} MB, and the server takes at most ${(limits.max_run_bytes / 1e6).toFixed(0)} MB.`);
      return;
    }
    this.walk.interrupted();
    if (!this.run.load(new Uint8Array(await file.arrayBuffer()))) this.toasts.show("Not connected to the server: try again once it is.");
  }

  async importFile(input) {
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    const limits = this.run.limits;
    if (limits && file.size > limits.max_message_bytes) {
      this.toasts.show(`The file is too large: ${(file.size / 1e6).toFixed(1)} MB, and the limit is ${(limits.max_message_bytes / 1e6).toFixed(1)} MB.`);
      return;
    }
    const text = await file.text();
    const format = /\.json$/i.test(file.name) || /^\s*[[{]/.test(text) ? "json" : "csv";
    $("preset").value = "";
    // New data starts a fresh run, as a pick does, but only once the server has taken the
    // points: a refused file leaves the run as it was.
    this.resetAfterImport = { id: this.run.importPoints(format, text), playing: this.run.playing };
  }

  // ---- exports ----

  exportName(kind) {
    const c = this.run.config;
    return exportFileName(c ? c.data.name : "run", this.run.iteration ?? 0, kind);
  }

  exportText(kind, make, mime) {
    if (!this.run.config || !this.run.frame) return;
    downloadText(make(), this.exportName(kind), mime);
  }

  /** The PNG's legend: the visible layers, named by which generator the picture shows (a
   * movie's frames give their own frame, layers and G update count). */
  pngLegend(f = this.run.frame, layers = this.layers, gUpdates = this.run.counter.gUpdates) {
    // The heatmap's entry names what it shows: D (averaged over partners under packing), D*
    // or D − D* on its diverging scale.
    const mode = f ? shownMode(this.heatMode ?? "d", f, this.run.config?.loss.kind) : "d";
    const heat = { mode, partners: f?.partners ?? 1, span: mode === "gap" ? differenceSpan(differences(f)) : null };
    return {
      palette: PALETTES[this.paletteName], layers, heat,
      shown: shownGenerator(this.run.config, gUpdates),
      density: f ? f.realDensityKind : null,
    };
  }

  async exportPng() {
    if (!this.run.frame) return;
    try {
      const bitmap = await this.view.snapshot();
      const rect = $("view-canvas").getBoundingClientRect();
      const c = this.run.config;
      const canvas = composePng({
        source: bitmap, width: Math.round(rect.width), height: Math.round(rect.height),
        pixelRatio: window.devicePixelRatio || 1,
        legend: this.pngLegend(),
        title: `ganlab · ${this.picker.els.name.textContent} · iteration ${this.run.iteration ?? 0} · ${c.loss.kind} loss`,
      });
      downloadBlob(await canvasToPngBlob(canvas), this.exportName("picture"));
    } catch (err) {
      this.toasts.show(`The picture could not be exported (${err.message}).`);
    }
  }

  // ---- the catalogue: schema, distributions and presets ----

  async loadCatalogue() {
    const get = async (url) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      return res.json();
    };
    try {
      const [schema, dists, presets, losses, samples] = await Promise.all([
        get("api/schema"), get("api/distributions"), get("api/presets"), get("api/losses"),
        get("distributions.json").catch(() => ({})),
      ]);
      this.schema = schema;
      this.losses = losses;
      this.graph.setControls(buildNodes(schema));
      this.presets = presets;
      fillPresetMenu($("preset"), presets);
      fillTryList($("try-list"), presets, (entry) => this.tryThing(entry));
      this.picker.setCatalogue(dists, samples);
      if (this.run.config) this.setConfig(this.run.config);
    } catch (err) {
      this.toasts.show(`The lists of distributions and settings could not be loaded (${err.message}); reload the page to try again.`);
    }
  }
}

window.addEventListener("DOMContentLoaded", () => {
  window.ganlab = new App();
});
