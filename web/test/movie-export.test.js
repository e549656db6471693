import { test } from "node:test";
import assert from "node:assert/strict";
import {
  Cancelled, MovieFrames, VIDEO_FORMATS, chooseIterations, frameCount, gifWriter, movieFileName, movieSummary, paletteStride,
  pickVideoFormat, placeOf, progressView, recordMovie, returnCommand, samplePixels, seekFrames,
} from "../src/ui/movie-export.js";
import { Emitter } from "../src/state/run.js";
import { PALETTES } from "../src/views/colors.js";
import { MARGIN } from "../src/views/distribution-renderer.js";

// ---- which frames ----

/** A small seeded generator, so that the random cases are the same at every run. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The frame choice by its definition, written plainly: the k-th frame targets
 * start + k (head - start) / (count - 1); inside, it takes the snapshot nearest the target
 * among those in [target - step/2, target + step/2) (of two as near, the earlier), else the
 * target rounded. */
function expectedIterations(start, head, count, snapshots) {
  if (head - start + 1 <= count) {
    const out = [];
    for (let i = start; i <= head; i++) out.push(i);
    return out;
  }
  const step = (head - start) / (count - 1);
  const out = [];
  for (let k = 0; k < count; k++) {
    const target = start + k * step;
    if (k === 0 || k === count - 1) {
      out.push(k === 0 ? start : head);
      continue;
    }
    let best = null;
    for (const s of snapshots) {
      if (s < target - step / 2 || s >= target + step / 2) continue;
      const d = Math.abs(s - target);
      // The nearer; of two as near, the earlier.
      if (best === null || d < Math.abs(best - target) || (d === Math.abs(best - target) && s < best)) best = s;
    }
    out.push(best === null ? Math.round(target) : best);
  }
  return out;
}

test("frames: seconds times frames a second, at least one", () => {
  assert.equal(frameCount(10, 30), 300);
  assert.equal(frameCount(2, 10), 20);
  assert.equal(frameCount(0.01, 10), 1);
  assert.equal(frameCount(2.5, 15), 38);
});

test("without snapshots the frames are spread evenly from the start to the head", () => {
  const its = chooseIterations({ start: 0, head: 3000, count: 301 });
  assert.equal(its.length, 301);
  its.forEach((it, k) => assert.equal(it, 10 * k));
  const uneven = chooseIterations({ start: 7, head: 1000, count: 300 });
  assert.equal(uneven[0], 7);
  assert.equal(uneven.at(-1), 1000);
  assert.deepEqual(uneven, expectedIterations(7, 1000, 300, []));
  for (let k = 1; k < uneven.length; k++) {
    const gap = uneven[k] - uneven[k - 1];
    assert.ok(gap === 3 || gap === 4, `step ${gap}: 993 / 299 = 3.32 rounds to 3 or 4`);
  }
});

test("a history shorter than the movie gives one frame per iteration", () => {
  assert.deepEqual(chooseIterations({ start: 5, head: 14, count: 300, snapshots: [5, 10] }), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  assert.deepEqual(chooseIterations({ start: 0, head: 0, count: 300 }), [0]);
  assert.deepEqual(chooseIterations({ start: 0, head: 9, count: 10 }), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(chooseIterations({ start: 10, head: 5, count: 30 }), [], "no history");
  assert.deepEqual(chooseIterations({ start: 0, head: 500, count: 1 }), [500], "one frame: the head");
});

test("frames move to the nearest snapshot within half a step, the ends stay", () => {
  // Steps of 100; snapshots near some targets, one too far from any.
  const snapshots = [0, 97, 160, 251, 449, 1000];
  const its = chooseIterations({ start: 0, head: 1000, count: 11, snapshots });
  assert.deepEqual(its, [0, 97, 200, 300, 400, 500, 600, 700, 800, 900, 1000].map((t, k) => ({ 1: 97, 2: 160, 3: 251, 4: 449 })[k] ?? t));
  // 160 is 40 from 200 (within 50): taken; 251 for 300 is 49 away; 449 for 400 is 49 away.
  assert.deepEqual(its, expectedIterations(0, 1000, 11, snapshots));
  // The boundary: exactly half a step below a target belongs to it, half above does not.
  assert.deepEqual(chooseIterations({ start: 0, head: 400, count: 5, snapshots: [150] }), [0, 100, 150, 300, 400]);
  assert.deepEqual(chooseIterations({ start: 0, head: 400, count: 5, snapshots: [250] }), [0, 100, 200, 250, 400]);
  // The order of the snapshots given does not matter.
  assert.deepEqual(chooseIterations({ start: 0, head: 1000, count: 11, snapshots: [...snapshots].reverse() }), its);
});

test("random histories: the choice is its definition, distinct and increasing", () => {
  const r = rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const start = Math.floor(r() * 500);
    const head = start + Math.floor(r() * 5000);
    const count = 1 + Math.floor(r() * 400);
    const snapshots = Array.from({ length: Math.floor(r() * 300) }, () => start + Math.floor(r() * (head - start + 1)));
    const its = chooseIterations({ start, head, count, snapshots });
    if (count > 1) assert.deepEqual(its, expectedIterations(start, head, count, snapshots), `trial ${trial}`);
    assert.equal(its.length, Math.min(count, head - start + 1));
    for (let k = 1; k < its.length; k++) assert.ok(its[k] > its[k - 1], `increasing at ${k} (trial ${trial})`);
    assert.ok(its[0] >= start && its.at(-1) === head);
  }
});

test("the summary says how many frames, over which iterations, and when the history is short", () => {
  assert.equal(
    movieSummary({ iterations: chooseIterations({ start: 0, head: 3000, count: 300 }), seconds: 10, fps: 30 }),
    "300 frames (10.0 s at 30 frames/s), iterations 0 to 3,000, about one every 10 iterations.",
  );
  assert.equal(
    movieSummary({ iterations: [5, 6, 7, 8], seconds: 10, fps: 30 }),
    "4 frames (0.1 s at 30 frames/s), one per iteration from 5 to 8: the history is shorter than 300 frames.",
  );
  assert.match(movieSummary({ iterations: chooseIterations({ start: 0, head: 509, count: 300 }), seconds: 10, fps: 30 }), /about one every 1\.7 iterations/);
  assert.equal(movieSummary({ iterations: [], seconds: 10, fps: 30 }), "There is no history to show yet: train first.");
  assert.equal(movieSummary({ iterations: [1200], seconds: 10, fps: 30 }), "The history holds only iteration 1,200: train first.");
});

// ---- which format ----

test("the video format: MP4 with H.264 where it can be encoded, else WebM with VP9, else VP8", async () => {
  const asked = [];
  const encoder = (ok) => async (codec, size) => {
    asked.push([codec, size.width, size.height]);
    if (ok[codec] === "throw") throw new Error("unsupported");
    return Boolean(ok[codec]);
  };
  assert.equal((await pickVideoFormat(512, encoder({ avc: true, vp9: true }))).container, "mp4");
  assert.deepEqual(asked, [["avc", 512, 512]], "stops at the first that works");
  const webm = await pickVideoFormat(768, encoder({ avc: false, vp9: true }));
  assert.deepEqual([webm.container, webm.codec, webm.ext, webm.label], ["webm", "vp9", "webm", "WebM"]);
  assert.equal((await pickVideoFormat(512, encoder({ avc: "throw", vp9: "throw", vp8: true }))).codec, "vp8");
  assert.equal(await pickVideoFormat(512, encoder({})), null, "no encoder at all");
  assert.deepEqual(VIDEO_FORMATS.map((f) => f.mime), ["video/mp4", "video/webm", "video/webm"]);
});

test("the movie's file name has the data, the first and last iterations and the format", () => {
  assert.equal(movieFileName("gaussians", 0, 3124, "gif"), "ganlab-gaussians-0-3124-movie.gif");
  assert.equal(movieFileName("My drawing/../ x", 12, 400.4, "mp4"), "ganlab-my-drawing-x-12-400-movie.mp4");
  assert.equal(movieFileName("", null, 9, "webm"), "ganlab-data-0-9-movie.webm");
});

// ---- progress ----

test("progress: frame k of n, then writing the file, then done, cancelled or failed", () => {
  assert.deepEqual(progressView({ stage: "frames", done: 0, total: 300 }), { value: 0, text: "frame 0 of 300" });
  assert.deepEqual(progressView({ stage: "frames", done: 75, total: 300 }), { value: 0.25, text: "frame 75 of 300" });
  assert.deepEqual(progressView({ stage: "finishing", done: 20, total: 20 }), { value: 1, text: "all 20 frames drawn: writing the file…" });
  assert.deepEqual(progressView({ stage: "done", done: 20, total: 20 }), { value: 1, text: "done: 20 frames" });
  assert.deepEqual(progressView({ stage: "cancelled", done: 7, total: 300 }), { value: null, text: "cancelled after 7 of 300 frames" });
  assert.deepEqual(progressView({ stage: "failed", error: "no answer" }), { value: null, text: "failed: no answer" });
  assert.deepEqual(progressView({ stage: "frames", done: 0, total: 0 }).value, 0);
  assert.throws(() => progressView({ stage: "waiting" }), RangeError);
});

test("after the export the page goes back: live, or the past point it showed", () => {
  assert.deepEqual(returnCommand(placeOf(null)), { type: "live" });
  assert.deepEqual(returnCommand(placeOf({ known: false, live: false, iteration: 5, branch: 0 })), { type: "live" });
  assert.deepEqual(returnCommand(placeOf({ known: true, live: true, iteration: 900, branch: 2 })), { type: "live" });
  assert.deepEqual(returnCommand(placeOf({ known: true, live: false, iteration: 450, branch: 2 })), { type: "seek", iteration: 450, branch: 2 });
  assert.deepEqual(returnCommand(placeOf({ known: true, live: false, iteration: 450 })), { type: "seek", iteration: 450 });
});

// ---- fetching frames by seeks ----

/**
 * A run whose server answers each seek with a frame at its iteration, `delay` ms later, and
 * like the real one draws one picture for the latest seek it has (an earlier one still
 * unanswered gets none). `answer(command)` may replace the answer: "error", "none", or a
 * frame's fields.
 */
function fakeRun({ delay = 1, answer = () => null } = {}) {
  const run = new Emitter();
  run.sent = [];
  run.maxUnanswered = 0;
  let id = 0;
  let pending = null;
  let unanswered = 0;
  run.send = (command) => {
    run.sent.push(command);
    const sent = ++id;
    unanswered++;
    run.maxUnanswered = Math.max(run.maxUnanswered, unanswered);
    pending = { command, id: sent };
    setTimeout(() => {
      if (!pending || pending.id !== sent) return; // a newer seek came: only it is drawn
      pending = null;
      unanswered = 0;
      const special = answer(command);
      if (special === "error") run.emit("error", { type: "error", code: "bad_seek", id: sent, message: "iteration must be within 0..9" });
      else if (special !== "none") run.emit("frame", { iteration: command.iteration, applied: sent, header: { live: false }, ...(special || {}) });
    }, delay);
    return sent;
  };
  return run;
}

async function collect(gen) {
  const out = [];
  for await (const f of gen) out.push(f);
  return out;
}

test("seeks fetch every frame in order, one unanswered at a time", async () => {
  const run = fakeRun();
  const frames = await collect(seekFrames(run, [0, 10, 20, 35, 50]));
  assert.deepEqual(frames.map((f) => f.iteration), [0, 10, 20, 35, 50]);
  assert.deepEqual(run.sent, [0, 10, 20, 35, 50].map((iteration) => ({ type: "seek", iteration })));
  assert.equal(run.maxUnanswered, 1, "a second seek would have made the server skip the first");
  for (const type of ["frame", "error", "status"]) assert.equal(run.listeners.get(type).size, 0, `${type} listener removed`);
});

test("the next seek goes out as soon as a frame arrives, while the page still draws it", async () => {
  const run = fakeRun();
  const seen = [];
  for await (const f of seekFrames(run, [1, 2, 3, 4])) {
    // While this frame is being drawn, the next seek is already on its way.
    seen.push(run.sent.length);
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(f.iteration >= 1);
  }
  assert.deepEqual(seen, [2, 3, 4, 4]);
  // With `ahead` 1 nothing more is asked for until the waiting frame is taken.
  const slow = fakeRun();
  const seen1 = [];
  for await (const f of seekFrames(slow, [1, 2, 3], { ahead: 1 })) {
    seen1.push(slow.sent.length);
    await new Promise((r) => setTimeout(r, 5));
    assert.ok(f);
  }
  assert.deepEqual(seen1, [1, 2, 3]);
});

test("a frame for another iteration or an older command is not the answer", async () => {
  const run = fakeRun();
  // Before the answer, a stale live frame and one for the wrong iteration arrive.
  const origSend = run.send;
  run.send = (command) => {
    const id = origSend(command);
    queueMicrotask(() => {
      run.emit("frame", { iteration: command.iteration, applied: id - 1, header: { live: true }, stale: true });
      run.emit("frame", { iteration: command.iteration + 1, applied: id, header: { live: false }, stale: true });
    });
    return id;
  };
  const frames = await collect(seekFrames(run, [3, 8]));
  assert.deepEqual(frames.map((f) => [f.iteration, f.header.live, Boolean(f.stale)]), [[3, false, false], [8, false, false]]);
  // A server that leaves `applied` out: the past frame at the iteration is the answer.
  const bare = fakeRun({ answer: () => ({ applied: null }) });
  assert.deepEqual((await collect(seekFrames(bare, [4, 6]))).map((f) => f.iteration), [4, 6]);
});

test("a refused seek, a lost connection, no answer or a cancel ends the fetch", async () => {
  const refused = fakeRun({ answer: (c) => (c.iteration === 20 ? "error" : null) });
  await assert.rejects(collect(seekFrames(refused, [0, 10, 20, 30])), /iteration must be within 0\.\.9/);
  assert.equal(refused.sent.length, 3, "nothing sent after the refusal");

  const lost = fakeRun({ answer: () => "none" });
  const gen = collect(seekFrames(lost, [0, 10]));
  setTimeout(() => lost.emit("status", { state: "reconnecting" }), 5);
  await assert.rejects(gen, /connection to the server was lost/);

  // No answer: the timer given fires at once.
  const silent = fakeRun({ answer: () => "none" });
  const clock = (fn, ms) => {
    assert.equal(ms, 1234);
    return setTimeout(fn, 0);
  };
  await assert.rejects(collect(seekFrames(silent, [40], { timeoutMs: 1234, clock })), /did not answer the seek to iteration 40 within 1.234 s/);

  const controller = new AbortController();
  const cancelled = fakeRun({ delay: 2 });
  const taken = [];
  await assert.rejects(async () => {
    for await (const f of seekFrames(cancelled, [0, 1, 2, 3, 4, 5], { signal: controller.signal })) {
      taken.push(f.iteration);
      if (taken.length === 2) controller.abort();
    }
  }, Cancelled);
  assert.deepEqual(taken, [0, 1]);
  assert.ok(cancelled.sent.length <= 3, "at most the seek already asked for goes out after the cancel");

  const offline = fakeRun();
  offline.send = () => null;
  await assert.rejects(collect(seekFrames(offline, [0])), /not connected/);
});

test("recording: each frame drawn and added in order, progress counted, the writer's file returned", async () => {
  const run = fakeRun();
  const drawn = [];
  const added = [];
  const progress = [];
  const writer = {
    add: async (canvas) => added.push(canvas),
    finish: async () => "the file",
    cancel: () => assert.fail("not cancelled"),
  };
  const frames = { draw: (f) => (drawn.push(f.iteration), `canvas ${f.iteration}`) };
  const blob = await recordMovie({ run, iterations: [0, 5, 9], frames, writer, onProgress: (p) => progress.push(p) });
  assert.equal(blob, "the file");
  assert.deepEqual(drawn, [0, 5, 9]);
  assert.deepEqual(added, ["canvas 0", "canvas 5", "canvas 9"]);
  assert.deepEqual(progress.map((p) => `${p.stage} ${p.done}/${p.total}`), ["frames 0/3", "frames 1/3", "frames 2/3", "frames 3/3", "finishing 3/3"]);
});

test("recording cancelled or failed drops the writer and throws", async () => {
  const controller = new AbortController();
  let cancelled = 0;
  const writer = { add: async () => {}, finish: async () => assert.fail("no file"), cancel: () => cancelled++ };
  let n = 0;
  const frames = { draw: () => (++n === 2 && controller.abort(), "c") };
  await assert.rejects(recordMovie({ run: fakeRun(), iterations: [0, 1, 2, 3], frames, writer, signal: controller.signal }), Cancelled);
  assert.equal(cancelled, 1);
  const broken = { add: async () => {
    throw new Error("encoder closed");
  }, finish: async () => "x", cancel: () => cancelled++ };
  await assert.rejects(recordMovie({ run: fakeRun(), iterations: [0, 1], frames: { draw: () => "c" }, writer: broken }), /encoder closed/);
  assert.equal(cancelled, 2);
});

// ---- GIF ----

test("the palette's sample: every stride-th pixel, an odd stride of about 16k samples", () => {
  const rgba = Uint8ClampedArray.from({ length: 4 * 50 }, (_, i) => i % 251);
  const sample = samplePixels(rgba, 7);
  assert.equal(sample.length, 4 * 7); // pixels 0, 7, ..., 42
  for (let p = 0; p < 7; p++) assert.deepEqual([...sample.slice(4 * p, 4 * p + 4)], [...rgba.slice(28 * p, 28 * p + 4)]);
  assert.deepEqual([...samplePixels(rgba, 1)], [...rgba]);
  assert.equal(paletteStride(512 * 512), 17);
  assert.equal(paletteStride(256 * 256), 5);
  assert.equal(paletteStride(768 * 768), 37);
  assert.equal(paletteStride(100), 1);
});

/** The blocks of a GIF file, read by the format's own rules: its size, and per image its
 * delay (hundredths of a second) and size. */
function readGif(bytes) {
  const text = (a, b) => String.fromCharCode(...bytes.slice(a, b));
  const u16 = (o) => bytes[o] | (bytes[o + 1] << 8);
  assert.equal(text(0, 6), "GIF89a");
  const out = { width: u16(6), height: u16(8), images: [] };
  let o = 13;
  if (bytes[10] & 0x80) o += 3 * 2 ** ((bytes[10] & 7) + 1);
  let delay = null;
  const skipSubBlocks = () => {
    while (bytes[o] !== 0) o += bytes[o] + 1;
    o++;
  };
  for (;;) {
    const b = bytes[o];
    if (b === 0x3b) break;
    if (b === 0x21) {
      if (bytes[o + 1] === 0xf9) delay = u16(o + 4);
      o += 2;
      skipSubBlocks();
    } else if (b === 0x2c) {
      const image = { width: u16(o + 5), height: u16(o + 7), delay };
      const flags = bytes[o + 9];
      o += 10;
      if (flags & 0x80) o += 3 * 2 ** ((flags & 7) + 1);
      o++; // LZW minimum code size
      skipSubBlocks();
      out.images.push(image);
    } else {
      throw new Error(`unexpected block ${b} at ${o}`);
    }
  }
  return out;
}

test("the GIF has one image per frame, of the size asked, at the frame rate", async () => {
  const size = 32;
  const canvas = (shade) => ({
    getContext: () => ({
      getImageData: (x, y, w, h) => {
        assert.deepEqual([x, y, w, h], [0, 0, size, size]);
        const data = new Uint8ClampedArray(4 * w * h);
        for (let i = 0; i < w * h; i++) data.set([shade, (i * 7) % 256, 255 - shade, 255], 4 * i);
        return { data };
      },
    }),
  });
  const writer = gifWriter({ size, fps: 10 });
  assert.equal(writer.ext, "gif");
  for (const shade of [0, 80, 160]) writer.add(canvas(shade));
  const blob = await writer.finish();
  assert.equal(blob.type, "image/gif");
  const gif = readGif(new Uint8Array(await blob.arrayBuffer()));
  assert.deepEqual([gif.width, gif.height], [size, size]);
  assert.deepEqual(gif.images, [0, 1, 2].map(() => ({ width: size, height: size, delay: 10 })));
});

// ---- drawing a frame ----

/** A canvas factory whose 2D contexts take any call and record it (text is 6 px a letter). */
function anyCanvases() {
  const made = [];
  const create = (width, height) => {
    const calls = [];
    const state = { calls };
    const ctx = new Proxy(state, {
      get(target, key) {
        if (key in target) return target[key];
        if (key === "measureText") return (text) => ({ width: text.length * 6 });
        return (...args) => {
          calls.push([key, ...args]);
          return { addColorStop() {}, data: new Uint8ClampedArray(4) };
        };
      },
      set(target, key, value) {
        target[key] = value;
        return true;
      },
    });
    const canvas = { width, height, getContext: () => ctx, ctx };
    made.push(canvas);
    return canvas;
  };
  return { create, made };
}

test("a movie frame is size x size: the title, the picture and the legend share the square", () => {
  const { create, made } = anyCanvases();
  const layers = { real: true, fake: true };
  const titles = [];
  const frames = new MovieFrames({
    size: 256, layers: {}, palette: PALETTES.ganlab, createCanvas: create,
    legendFor: () => ({ palette: PALETTES.ganlab, layers }),
    titleFor: (f, size) => (titles.push(size), `iteration ${f.iteration}`),
  });
  const picture = made[0];
  const frame = (iteration, box) => ({ iteration, box, fake: new Float32Array(0), real: new Float32Array(0) });
  const out = frames.draw(frame(40, [0, 1, 0, 1]));
  assert.deepEqual([out.width, out.height], [256, 256]);
  // Title 24 px, the legend one row of 20 px plus 8 of padding: the picture has the rest.
  const height = 256 - 24 - 28;
  assert.deepEqual([picture.width, picture.height], [256, height]);
  assert.deepEqual(out.ctx.calls.find((c) => c[0] === "drawImage"), ["drawImage", picture, 0, 24, 256, height]);
  assert.deepEqual(out.ctx.calls.filter((c) => c[0] === "fillText").map((c) => c[1]), ["iteration 40", "real samples", "fake samples"]);
  assert.deepEqual(titles, [256], "the title is asked for at the frame's size");
  // The picture fits the data's box: a unit box in the plot area's smaller side, less 6% a side.
  const v = frames.renderer.viewport;
  const plot = [256 - MARGIN.left - MARGIN.right, height - MARGIN.top - MARGIN.bottom];
  assert.deepEqual([v.width, v.height, v.cx, v.cy], [...plot, 0.5, 0.5]);
  assert.ok(Math.abs(v.k - Math.min(...plot) / 1.12) < 1e-9);
  // A new box (new data) refits; the same box keeps the view.
  frames.draw(frame(41, [-2, 2, -1, 1]));
  assert.deepEqual([frames.renderer.viewport.cx, frames.renderer.viewport.cy], [0, 0]);
  assert.ok(Math.abs(frames.renderer.viewport.k - Math.min(plot[0] / (4 * 1.12), plot[1] / (2 * 1.12))) < 1e-9);
});
