// The run's history as a movie, made in the page: the frames are fetched one by one with
// `seek` (docs/protocol.md), drawn off-screen by the page's own renderer with the PNG export's
// title and legend (exports.js), and encoded by well-kept libraries: gifenc for GIF,
// mediabunny (WebCodecs and a muxer) for MP4 with H.264, or WebM where H.264 cannot be encoded.
// Choosing the frames, the format and the progress words is pure and tested in
// web/test/movie-export.test.js; the dialog at the end only wires these to the page.
import * as gifenc from "gifenc";
import { BufferTarget, CanvasSource, Mp4OutputFormat, Output, Quality, WebMOutputFormat, canEncodeVideo } from "mediabunny";
import { DistributionRenderer, MARGIN, makeCanvas } from "../views/distribution-renderer.js";
import { Viewport } from "../views/math.js";
import { composePng, exportFileName } from "./exports.js";

// gifenc's ES build exports its functions by name; its CommonJS build (what Node loads) puts
// them on the default export.
const GIF = gifenc.quantize ? gifenc : gifenc.default;

/** Frame sizes offered (square, in pixels); the first frame sets the video's size. */
export const MOVIE_SIZES = [256, 512, 768];
export const MOVIE_DEFAULTS = { size: 512, seconds: 10, fps: 30 };
// The inputs' ranges: a longer or denser movie takes longer to make than to watch.
export const MOVIE_LIMITS = { seconds: [1, 60], fps: [1, 60] };

/** How many frames a movie of `seconds` at `fps` frames a second has (at least one). */
export function frameCount(seconds, fps) {
  return Math.max(1, Math.round(seconds * fps));
}

/**
 * The iterations a movie shows: `count` spread evenly over start..head (both ends included),
 * each moved to the nearest snapshot (an iteration the server can show without replaying
 * training) that lies within half a step of it (of two as near, the earlier). Each snapshot
 * lies in at most one frame's half-step window, so the iterations stay distinct and
 * increasing. A history with fewer iterations than frames gives one frame per iteration.
 */
export function chooseIterations({ start, head, count, snapshots = [] }) {
  const span = head - start;
  if (!(span >= 0)) return [];
  if (span + 1 <= count) return Array.from({ length: span + 1 }, (_, i) => start + i);
  if (count === 1) return [head];
  const step = span / (count - 1);
  const sorted = Float64Array.from(snapshots).sort();
  const out = [];
  let s = 0;
  for (let k = 0; k < count; k++) {
    // The ends stay exact: the movie runs from the first iteration to the head.
    const target = k === count - 1 ? head : start + k * step;
    let best = Math.round(target);
    if (k > 0 && k < count - 1) {
      const lo = target - step / 2;
      const hi = target + step / 2;
      while (s < sorted.length && sorted[s] < lo) s++;
      let gap = Infinity;
      for (let j = s; j < sorted.length && sorted[j] < hi; j++) {
        const d = Math.abs(sorted[j] - target);
        if (d < gap) {
          gap = d;
          best = sorted[j];
        }
      }
    }
    out.push(best);
  }
  return out;
}

/** The video formats tried in order: MP4 with H.264 where the browser encodes it (Debian's
 * Chromium may not), else WebM with VP9, else VP8. */
export const VIDEO_FORMATS = [
  { container: "mp4", codec: "avc", ext: "mp4", mime: "video/mp4", label: "MP4" },
  { container: "webm", codec: "vp9", ext: "webm", mime: "video/webm", label: "WebM" },
  { container: "webm", codec: "vp8", ext: "webm", mime: "video/webm", label: "WebM" },
];

/** The first of VIDEO_FORMATS that `canEncode(codec, {width, height})` allows (mediabunny's
 * canEncodeVideo asks WebCodecs' isConfigSupported), or null where none is (no WebCodecs). */
export async function pickVideoFormat(size = MOVIE_DEFAULTS.size, canEncode = canEncodeVideo) {
  for (const format of VIDEO_FORMATS) {
    try {
      if (await canEncode(format.codec, { width: size, height: size })) return format;
    } catch {
      // An encoder that throws on the question cannot be used either.
    }
  }
  return null;
}

/** The movie's file name: ganlab-<data>-<first>-<last>-movie.<ext>, the data name made safe
 * by the same rule as every other export's. */
export function movieFileName(dataName, first, last, ext) {
  const base = exportFileName(dataName, last, "picture").replace(/-picture\.png$/, "");
  const from = Number.isFinite(first) && first >= 0 ? Math.round(first) : 0;
  return base.replace(/-(\d+)$/, `-${from}-$1-movie.${ext}`);
}

/**
 * What the progress bar shows: `stage` is "frames" (`done` of `total` frames drawn),
 * "finishing" (the file is being written), "done", "cancelled" or "failed" (`error`).
 * Returns { value (0 to 1, or null for no bar), text }.
 */
export function progressView({ stage, done = 0, total = 0, error = "" }) {
  if (stage === "frames") return { value: total > 0 ? done / total : 0, text: `frame ${done} of ${total}` };
  if (stage === "finishing") return { value: 1, text: `all ${total} frames drawn: writing the file…` };
  if (stage === "done") return { value: 1, text: `done: ${total} frames` };
  if (stage === "cancelled") return { value: null, text: `cancelled after ${done} of ${total} frames` };
  if (stage === "failed") return { value: null, text: `failed: ${error}` };
  throw new RangeError(`unknown stage: ${stage}`);
}

/** What the dialog says the movie will be. */
export function movieSummary({ iterations, seconds, fps }) {
  const n = iterations.length;
  if (!n) return "There is no history to show yet: train first.";
  if (n === 1) return `The history holds only iteration ${iterations[0].toLocaleString("en-US")}: train first.`;
  const first = iterations[0].toLocaleString("en-US");
  const last = iterations[n - 1].toLocaleString("en-US");
  const wanted = frameCount(seconds, fps);
  const shown = `${(n / fps).toFixed(1)} s at ${fps} frames/s`;
  if (n < wanted) return `${n} frames (${shown}), one per iteration from ${first} to ${last}: the history is shorter than ${wanted} frames.`;
  const every = (iterations[n - 1] - iterations[0]) / Math.max(1, n - 1);
  return `${n} frames (${shown}), iterations ${first} to ${last}, about one every ${every < 10 ? every.toFixed(1) : Math.round(every).toLocaleString("en-US")} iterations.`;
}

/** The header of a prepared frame: its `header` where the frame keeps one, else the frame. */
function headerOf(frame) {
  return frame.header || frame;
}

/** Where the page is (the run's Timeline, state/timeline.js): live at the head, or at a past
 * iteration of a branch. Returned to after the export. */
export function placeOf(timeline) {
  if (!timeline || !timeline.known || timeline.live) return { live: true };
  return { live: false, iteration: timeline.iteration, branch: timeline.branch ?? null };
}

/** The command that goes back to `place` (placeOf). */
export function returnCommand(place) {
  if (place.live) return { type: "live" };
  const command = { type: "seek", iteration: place.iteration };
  if (place.branch !== null && place.branch !== undefined) command.branch = place.branch;
  return command;
}

/** Thrown when the learner cancels. */
export class Cancelled extends Error {
  constructor() {
    super("cancelled");
    this.name = "Cancelled";
  }
}

/**
 * The frames at `iterations`, in order, fetched with seeks on `run` (state/run.js: `send`
 * and the `frame`, `error` and `status` events). At most `inFlight` seeks are unanswered at
 * a time (the server draws one picture for the latest of the seeks it has: more would go
 * unanswered), and the next is sent the moment a frame arrives, so that the server computes
 * it while the page draws and encodes the one before; at most `ahead` answered frames wait.
 * A seek's answer is the first frame at its iteration whose `applied` is at least its id.
 * An `error` for a seek, a lost connection, no answer within `timeoutMs` or `signal`
 * aborting (Cancelled) ends it.
 */
export async function* seekFrames(run, iterations, { inFlight = 1, ahead = 2, timeoutMs = 30000, signal = null, clock = setTimeout, unclock = clearTimeout } = {}) {
  const queue = []; // {iteration, id, frame}, in the order sent
  let failure = null;
  let wake = null;
  let next = 0;
  const notify = () => {
    if (wake) wake();
  };
  // Send seeks while fewer than `inFlight` are unanswered and fewer than `ahead` frames wait.
  const pump = () => {
    while (!failure && next < iterations.length) {
      const unanswered = queue.filter((q) => !q.frame).length;
      if (unanswered >= inFlight || queue.length - unanswered >= ahead) return;
      const iteration = iterations[next++];
      const id = run.send({ type: "seek", iteration });
      if (id === null) {
        failure = new Error("not connected to the server");
        return;
      }
      queue.push({ iteration, id, frame: null });
    }
  };
  const offs = [
    run.on("frame", (frame) => {
      const first = queue.find((q) => !q.frame);
      if (!first || frame.iteration !== first.iteration) return;
      // The seek's answer: a frame drawn after it was applied (or, where a server leaves
      // `applied` out, one marked as a past point).
      if ((frame.applied != null && frame.applied >= first.id) || headerOf(frame).live === false) {
        first.frame = frame;
        pump();
        notify();
      }
    }),
    run.on("error", (m) => {
      if (queue.some((q) => q.id === m.id)) {
        failure = new Error(m.message || m.code || "the server refused a seek");
        notify();
      }
    }),
    run.on("status", ({ state }) => {
      if (state !== "open") {
        failure = new Error("the connection to the server was lost");
        notify();
      }
    }),
  ];
  const onAbort = () => {
    failure = new Cancelled();
    notify();
  };
  if (signal) signal.addEventListener("abort", onAbort);
  try {
    if (signal && signal.aborted) throw new Cancelled();
    while (next < iterations.length || queue.length) {
      pump();
      if (failure) throw failure;
      const waiting = queue[0];
      if (!waiting.frame) {
        await new Promise((resolve) => {
          const timer = clock(() => {
            failure ??= new Error(`the server did not answer the seek to iteration ${waiting.iteration} within ${timeoutMs / 1000} s`);
            resolve();
          }, timeoutMs);
          wake = () => {
            unclock(timer);
            resolve();
          };
        });
        wake = null;
      }
      if (failure) throw failure;
      yield queue.shift().frame;
    }
  } finally {
    for (const off of offs) off();
    if (signal) signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Draws movie frames: `size` x `size` pixels, the title (with the frame's iteration) on top,
 * the page's picture of the frame in the middle and the legend strip under it, as the PNG
 * export lays them out. `legendFor(frame)` and `titleFor(frame, size)` give the words;
 * `layers`, `palette` and `heatMode` are the renderer's (views/distribution-renderer.js). The
 * picture fits the data's box, whatever the page's zoom.
 */
export class MovieFrames {
  constructor({ size, layers, palette, heatMode = "d", legendFor, titleFor, createCanvas = makeCanvas }) {
    this.size = size;
    this.legendFor = legendFor;
    this.titleFor = titleFor;
    this.createCanvas = createCanvas;
    this.picture = createCanvas(size, size);
    this.renderer = new DistributionRenderer(this.picture);
    this.renderer.setState({ layers, palette, heatMode });
    this.height = null;
    this.box = null;
  }

  /** The drawn frame: a canvas of size x size. */
  draw(frame) {
    const size = this.size;
    const legend = this.legendFor(frame);
    const title = this.titleFor(frame, size);
    // The title and legend take what they need; the picture gets the rest of the square.
    const chrome = composePng({ source: this.picture, width: size, height: 0, legend, title, createCanvas: this.createCanvas }).height;
    const height = Math.max(MARGIN.top + MARGIN.bottom + 16, size - chrome);
    if (height !== this.height || !this.box || frame.box.some((v, i) => v !== this.box[i])) {
      this.height = height;
      this.box = frame.box;
      const v = Viewport.fit(frame.box, size - MARGIN.left - MARGIN.right, height - MARGIN.top - MARGIN.bottom);
      this.renderer.setState({
        size: { width: size, height, dpr: 1 },
        viewport: { width: v.width, height: v.height, cx: v.cx, cy: v.cy, k: v.k },
      });
    }
    this.renderer.setFrame(frame);
    this.renderer.render();
    return composePng({ source: this.picture, width: size, height, legend, title, createCanvas: this.createCanvas });
  }
}

// A GIF frame's palette is chosen from about this many of its pixels.
const PALETTE_SAMPLES = 16384;

/** Every `stride`-th pixel of an RGBA image (a copy): what its palette is chosen from. An
 * odd stride walks across the columns of an even-width image instead of down a few of them. */
export function samplePixels(rgba, stride) {
  const n = Math.floor(rgba.length / 4 / stride);
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const o = i * stride * 4;
    out[i * 4] = rgba[o];
    out[i * 4 + 1] = rgba[o + 1];
    out[i * 4 + 2] = rgba[o + 2];
    out[i * 4 + 3] = rgba[o + 3];
  }
  return out;
}

/** The stride that samples about PALETTE_SAMPLES of `pixels` pixels: odd, at least 1. */
export function paletteStride(pixels) {
  return Math.max(1, Math.round(pixels / PALETTE_SAMPLES)) | 1;
}

/** A GIF being written (gifenc): a palette of up to 256 colours per frame, chosen on a
 * 5-6-5-bit histogram of a sample of its pixels (all of them cost about 100 ms a frame at
 * 512 px, the sample under 20 ms for the same colours; a 4-4-4 histogram of all was as fast
 * but banded D's heatmap). GIF delays are whole hundredths of a second: 30 frames/s plays at
 * 33. */
export function gifWriter({ size, fps }) {
  const encoder = GIF.GIFEncoder();
  const delay = 1000 / fps;
  const stride = paletteStride(size * size);
  return {
    label: "GIF",
    ext: "gif",
    add(canvas) {
      const rgba = canvas.getContext("2d").getImageData(0, 0, size, size).data;
      const palette = GIF.quantize(samplePixels(rgba, stride), 256, { format: "rgb565" });
      const index = GIF.applyPalette(rgba, palette, "rgb565");
      encoder.writeFrame(index, size, size, { palette, delay });
    },
    async finish() {
      encoder.finish();
      return new Blob([encoder.bytes()], { type: "image/gif" });
    },
    cancel() {},
  };
}

/** A video being written by mediabunny: each frame is copied to one canvas that the
 * encoder reads (CanvasSource), at k / fps seconds. */
export async function videoWriter({ size, fps, format, createCanvas = makeCanvas }) {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext("2d");
  const output = new Output({
    format: format.container === "mp4" ? new Mp4OutputFormat({ fastStart: "in-memory" }) : new WebMOutputFormat(),
    target: new BufferTarget(),
  });
  const source = new CanvasSource(canvas, { codec: format.codec, quality: new Quality("high") });
  output.addVideoTrack(source, { frameRate: fps });
  await output.start();
  let k = 0;
  return {
    label: format.label,
    ext: format.ext,
    async add(frame) {
      ctx.drawImage(frame, 0, 0);
      await source.add(k / fps, 1 / fps);
      k++;
    },
    async finish() {
      await output.finalize();
      return new Blob([output.target.buffer], { type: format.mime });
    },
    cancel() {
      output.cancel().catch(() => {});
    },
  };
}

/**
 * Record a movie: fetch each of `iterations` (seekFrames), draw it (`frames`: MovieFrames),
 * add it to `writer`, report progress ({stage, done, total}) to `onProgress`; returns the
 * file's Blob. Cancelled or failed, the writer is dropped and the error thrown.
 */
export async function recordMovie({ run, iterations, frames, writer, onProgress = () => {}, signal = null, seek = {} }) {
  const total = iterations.length;
  let done = 0;
  onProgress({ stage: "frames", done, total });
  try {
    for await (const frame of seekFrames(run, iterations, { signal, ...seek })) {
      await writer.add(frames.draw(frame));
      done++;
      onProgress({ stage: "frames", done, total });
    }
    if (signal && signal.aborted) throw new Cancelled();
    onProgress({ stage: "finishing", done, total });
    return await writer.finish();
  } catch (err) {
    writer.cancel();
    throw err;
  }
}

/**
 * The page's movie dialog. `els`: { gifButton, videoButton, dialog, title, layers (a
 * fieldset to fill), size, seconds, fps, summary, progressRow, progress, progressText, start,
 * cancel }. `page`: { run (state/run.js, with its `timeline`), layers() (the page's layers),
 * layerNames() ([{layer, label}]), palette(), heatMode(), legendFor(frame, layers),
 * titleFor(frame, size), dataName(), download(blob, name), say(text), branchName() (the
 * shown branch's name, or null without branches) }.
 */
export class MovieDialog {
  constructor(els, page) {
    this.els = els;
    this.page = page;
    this.kind = "gif";
    this.videoFormat = null;
    this.busy = null; // the AbortController of the export under way
    els.gifButton.addEventListener("click", () => this.open("gif"));
    els.videoButton.addEventListener("click", () => this.open("video"));
    els.start.addEventListener("click", () => this.start());
    els.cancel.addEventListener("click", () => this.cancel());
    els.dialog.addEventListener("cancel", (ev) => {
      // Escape: cancel the export under way, or close.
      ev.preventDefault();
      this.cancel();
    });
    for (const input of [els.size, els.seconds, els.fps]) input.addEventListener("input", () => this.refresh());
    // Asked when the menu holding the buttons first opens, not while the page starts.
    this.detection = null;
    if (els.menu) els.menu.addEventListener("toggle", () => this.detectVideo(), { once: true });
    else this.detectVideo();
  }

  /** Which video format this browser can write (once): the button says it. */
  detectVideo() {
    this.detection ??= pickVideoFormat(MOVIE_DEFAULTS.size).then((f) => {
      this.videoFormat = f;
      const b = this.els.videoButton;
      b.disabled = !f;
      b.textContent = `Movie (${f ? f.label : "video"})…`;
      b.title = f
        ? `The history as a ${f.label} video (${f.codec === "avc" ? "H.264" : f.codec.toUpperCase()}), with the layers, size and length you choose`
        : "This browser cannot encode video (no WebCodecs encoder for H.264, VP9 or VP8): export a GIF instead";
      return f;
    });
    return this.detection;
  }

  /** The start, head and snapshots of the shown branch (the run's Timeline); before the
   * server has told them, from iteration 0 to the counter. */
  range() {
    const t = this.page.run.timeline;
    if (t && t.known) return { start: t.start, head: t.head, snapshots: t.snapshots };
    return { start: 0, head: this.page.run.iteration ?? 0, snapshots: [] };
  }

  options() {
    const clamp = (v, [lo, hi], fallback) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback);
    return {
      size: Number(this.els.size.value) || MOVIE_DEFAULTS.size,
      seconds: clamp(Number(this.els.seconds.value), MOVIE_LIMITS.seconds, MOVIE_DEFAULTS.seconds),
      fps: Math.round(clamp(Number(this.els.fps.value), MOVIE_LIMITS.fps, MOVIE_DEFAULTS.fps)),
    };
  }

  iterations() {
    const { seconds, fps } = this.options();
    return chooseIterations({ ...this.range(), count: frameCount(seconds, fps) });
  }

  chosenLayers() {
    const layers = {};
    for (const box of this.els.layers.querySelectorAll("input[data-movie-layer]")) layers[box.dataset.movieLayer] = box.checked;
    return layers;
  }

  async open(kind) {
    if (this.busy) return;
    this.kind = kind;
    if (kind === "video" && !(await this.detectVideo())) return;
    const name = kind === "gif" ? "GIF" : this.videoFormat?.label ?? "video";
    this.els.title.textContent = `Export the history as a movie (${name})`;
    // The layers: the page's, as they are now.
    const on = this.page.layers();
    const box = this.els.layers;
    for (const old of box.querySelectorAll("label")) old.remove();
    for (const { layer, label } of this.page.layerNames()) {
      const row = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.dataset.movieLayer = layer;
      input.dataset.testid = `movie-layer-${layer}`;
      input.checked = Boolean(on[layer]);
      row.append(input, ` ${label}`);
      box.append(row);
    }
    this.showProgress(null);
    this.setBusy(false);
    this.refresh();
    if (!this.els.dialog.open) this.els.dialog.showModal();
  }

  refresh() {
    const { seconds, fps } = this.options();
    const iterations = this.iterations();
    const branch = this.page.branchName?.();
    this.els.summary.textContent = (branch ? `Branch “${branch}”: ` : "") + movieSummary({ iterations, seconds, fps });
    this.els.start.disabled = Boolean(this.busy) || iterations.length < 2;
  }

  showProgress(state) {
    this.els.progressRow.hidden = !state;
    if (!state) return;
    const { value, text } = progressView(state);
    if (value === null) this.els.progress.removeAttribute("value");
    else this.els.progress.value = value;
    this.els.progress.hidden = value === null;
    this.els.progressText.textContent = text;
  }

  setBusy(busy) {
    for (const input of [this.els.size, this.els.seconds, this.els.fps, ...this.els.layers.querySelectorAll("input")]) input.disabled = busy;
    this.els.start.disabled = busy;
    this.els.cancel.textContent = busy ? "Cancel" : "Close";
  }

  cancel() {
    if (this.busy) this.busy.abort();
    else this.els.dialog.close();
  }

  async start() {
    if (this.busy) return;
    const run = this.page.run;
    const { size, fps } = this.options();
    const iterations = this.iterations();
    if (!iterations.length) return;
    const controller = new AbortController();
    this.busy = controller;
    this.setBusy(true);
    const place = placeOf(run.timeline);
    const wasPlaying = run.playing;
    let progress = { stage: "frames", done: 0, total: iterations.length };
    try {
      const layers = this.chosenLayers();
      const writer = this.kind === "gif" ? gifWriter({ size, fps }) : await videoWriter({ size, fps, format: this.videoFormat });
      const frames = new MovieFrames({
        size, layers, palette: this.page.palette(), heatMode: this.page.heatMode(),
        legendFor: (frame) => this.page.legendFor(frame, layers),
        titleFor: (frame, px) => this.page.titleFor(frame, px),
      });
      const blob = await recordMovie({
        run, iterations, frames, writer, signal: controller.signal,
        onProgress: (p) => {
          progress = p;
          this.showProgress(p);
        },
      });
      this.page.download(blob, movieFileName(this.page.dataName(), iterations[0], iterations.at(-1), writer.ext));
      this.showProgress({ ...progress, stage: "done" });
    } catch (err) {
      if (err instanceof Cancelled) this.showProgress({ ...progress, stage: "cancelled" });
      else {
        this.showProgress({ ...progress, stage: "failed", error: err.message });
        this.page.say(`The movie could not be made (${err.message}).`);
      }
    } finally {
      // Back to where the page was.
      run.send(returnCommand(place));
      if (place.live && wasPlaying) run.play();
      this.busy = null;
      this.setBusy(false);
    }
  }
}
