// The data-space view on the page: size, zoom, pan, hover and tooltips, and the picture
// canvas. The picture (D's heatmap included) is drawn by DistributionRenderer in a worker on an
// OffscreenCanvas, so that rasterizing it never blocks the page; where OffscreenCanvas is
// missing the same renderer draws on the main thread.
import { DistributionRenderer, MARGIN } from "./distribution-renderer.js";
import { Viewport, formatNumber, gridValueAt, nearestPoint } from "./math.js";
import { packingWords } from "../ui/packing-words.js";
import { UNDEFINED_WORDS } from "./heatmap-mode.js";

const MAX_QUEUE = 4;

export class DistributionView {
  constructor(canvas, tooltip, { onHover = () => {}, onRendered = () => {}, onDirty = () => {}, onSkipped = () => {}, worker = true } = {}) {
    this.onDirty = onDirty;
    this.onSkipped = onSkipped;
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.onHover = onHover;
    this.onRendered = onRendered;
    this.frame = null;
    this.box = null;
    this.layers = { heatmap: true, real: true, fake: true, gradients: true, manifold: true, contour: false };
    this.palette = null;
    this.viewport = null;
    this.autoFit = true;
    this.highlight = -1;
    this.fakeName = "fake"; // what the tooltip calls a fake sample (e.g. "fake (averaged G)")
    this.pointer = null;
    this._dirty = false;
    this.inFlight = 0;
    this.queue = [];
    this.postScheduled = false;
    // A task of its own for handing a frame to the worker, run after the page's animation
    // frame has painted (see setFrame).
    this.postChannel = new MessageChannel();
    this.postChannel.port1.onmessage = () => {
      this.postScheduled = false;
      if (this.queue.length) this.postNext();
    };
    this.startBackend(worker);
    this.resize();
    this.attachPointer();
    new ResizeObserver(() => this.resize()).observe(canvas);
  }

  startBackend(useWorker) {
    this.worker = null;
    this.snapshots = new Map();
    this.snapshotId = 0;
    if (useWorker && typeof Worker !== "undefined" && this.canvas.transferControlToOffscreen) {
      try {
        const offscreen = this.canvas.transferControlToOffscreen();
        this.worker = new Worker("render-worker.js", { type: "module" });
        this.worker.postMessage({ type: "init", canvas: offscreen }, [offscreen]);
        this.worker.onmessage = (ev) => {
          if (ev.data.type === "rendered") {
            this.inFlight--;
            this.onRendered(ev.data.frameNumber, ev.data.ms);
            if (this.queue.length) this.postNext();
          } else if (ev.data.type === "snapshot") {
            const wait = this.snapshots.get(ev.data.id);
            this.snapshots.delete(ev.data.id);
            if (wait) (ev.data.error ? wait.reject(new Error(ev.data.error)) : wait.resolve(ev.data.bitmap));
          } else if (ev.data.type === "error") {
            console.error(`picture worker: ${ev.data.message}`);
          }
        };
        this.worker.onerror = (ev) => console.error(`picture worker: ${ev.message}`);
        this.mode = "worker";
        return;
      } catch (err) {
        console.warn(`drawing on the main thread: ${err.message}`);
      }
    }
    this.renderer = new DistributionRenderer(this.canvas);
    this.mode = "main";
  }

  /** Main-thread drawing only: needs drawing, so the page schedules an animation frame. */
  get dirty() {
    return this._dirty;
  }

  set dirty(value) {
    this._dirty = value;
    if (value) this.onDirty();
  }

  /** Hand the worker every frame waiting here: after a stall it draws them back to back,
   * without waiting for the page between frames, and so catches up. */
  postNext() {
    for (const { frame, raw } of this.queue.splice(0)) {
      const copy = raw.slice(0);
      this.worker.postMessage({ type: "frame", buffer: copy, noiseKind: frame.noiseKind }, [copy]);
    }
  }

  /** Send state to the renderer (worker or local); the picture is redrawn. */
  post(state) {
    if (this.worker) this.worker.postMessage({ type: "state", state });
    else {
      this.renderer.setState(state);
      this.dirty = true;
    }
  }

  setPalette(palette) {
    this.palette = palette;
    this.post({ palette });
  }

  setLayers(layers) {
    this.layers = { ...this.layers, ...layers };
    this.post({ layers: this.layers });
  }

  /** What the heatmap shows: "d", "optimal" (D*) or "gap" (D − D*); views/heatmap-mode.js. */
  setHeatMode(mode) {
    this.post({ heatMode: mode });
  }

  /** Show a frame; `raw` is the message it came in (the worker decodes its own copy: handing
   * over one buffer is far cheaper than cloning the decoded arrays). */
  setFrame(frame, raw) {
    const boxChanged = !this.box || frame.box.some((v, i) => v !== this.box[i]);
    this.frame = frame;
    this.box = frame.box;
    if (boxChanged) this.fit(); // a new distribution: show all of it
    if (this.pointer) this.hover();
    if (this.worker) {
      this.inFlight++;
      // A frame that arrives while the worker draws waits here and goes to it when it is done
      // (with any others that came meanwhile), so every frame is drawn in turn.
      this.queue.push({ frame, raw });
      // Only when the worker is starved of CPU for long does a backlog build up: then show the
      // newest pictures rather than fall seconds behind (counted, so it cannot go unnoticed).
      while (this.queue.length > MAX_QUEUE) {
        this.queue.shift();
        this.inFlight--;
        this.onSkipped();
      }
      // The worker starts drawing the moment a frame reaches it, and on a machine with few
      // cores it takes the CPU from the page while it draws: with training on, the postMessage
      // call took about 7 ms on average (0.4 ms with a worker that does not draw), in the
      // middle of the page's animation frame, which it stretched. So hand the frame over in a
      // task of its own, after the page has painted, when the page has nothing else to do.
      if (this.inFlight === 1 && !this.postScheduled) {
        this.postScheduled = true;
        this.postChannel.port2.postMessage(0);
      }
    } else {
      this.renderer.setFrame(frame);
      const t0 = performance.now();
      this.renderer.render();
      this.dirty = this.renderer.animating;
      this.onRendered(frame.frameNumber, performance.now() - t0);
    }
  }

  /** The picture as drawn now, as an ImageBitmap (for the PNG export). */
  snapshot() {
    if (!this.worker) {
      this.renderer.render();
      return createImageBitmap(this.canvas);
    }
    const id = ++this.snapshotId;
    return new Promise((resolve, reject) => {
      this.snapshots.set(id, { resolve, reject });
      this.worker.postMessage({ type: "snapshot", id });
    });
  }

  setWalk(walk) {
    this.post({ walk });
  }

  /** What hovering a fake sample calls it: which generator made it, where that needs saying. */
  setFakeName(name) {
    this.fakeName = name;
    if (this.pointer) this.hover();
  }

  setHighlight(index) {
    if (index === this.highlight) return;
    this.highlight = index;
    this.post({ highlight: index });
  }

  /** Animate the latent grid folding into the manifold while `on` (generator hovered). */
  setMorph(on) {
    this.post({ morph: on });
  }

  /** Main-thread drawing only: redraw after state changes (the worker schedules its own). */
  render() {
    if (!this.renderer) return false;
    this.renderer.render();
    this.dirty = this.renderer.animating;
    return true;
  }

  resize() {
    const rect = this.canvas.getBoundingClientRect();
    // Not laid out yet (or hidden): wait for the ResizeObserver to report a real size.
    if (rect.width < 80 || rect.height < 80) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(rect.width);
    const h = Math.round(rect.height);
    this.cssWidth = w;
    this.cssHeight = h;
    const pw = w - MARGIN.left - MARGIN.right;
    const ph = h - MARGIN.top - MARGIN.bottom;
    if (!this.viewport || this.autoFit) {
      this.viewport = this.box ? Viewport.fit(this.box, pw, ph) : new Viewport(pw, ph, 0.5, 0.5, Math.min(pw, ph));
    } else {
      this.viewport = this.viewport.resize(pw, ph);
    }
    this.post({ size: { width: w, height: h, dpr }, viewport: this.viewportState() });
  }

  viewportState() {
    const v = this.viewport;
    return { width: v.width, height: v.height, cx: v.cx, cy: v.cy, k: v.k };
  }

  setViewport(viewport) {
    this.viewport = viewport;
    this.post({ viewport: this.viewportState() });
  }

  /** Fit the view to the distribution's box (double-click, "Fit view", a new distribution). */
  fit(user = true) {
    if (!this.box || !this.viewport) return;
    if (user) this.autoFit = true;
    this.setViewport(Viewport.fit(this.box, this.viewport.width, this.viewport.height));
  }

  attachPointer() {
    const c = this.canvas;
    let drag = null;
    const local = (ev) => {
      const r = c.getBoundingClientRect();
      return [ev.clientX - r.left - MARGIN.left, ev.clientY - r.top - MARGIN.top];
    };
    c.addEventListener("wheel", (ev) => {
      if (!this.viewport) return;
      ev.preventDefault();
      const [px, py] = local(ev);
      this.autoFit = false;
      this.setViewport(this.viewport.zoomAt(px, py, Math.exp(-ev.deltaY * 0.0015)));
    }, { passive: false });
    c.addEventListener("pointerdown", (ev) => {
      if (ev.button !== 0) return;
      drag = { x: ev.clientX, y: ev.clientY };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener("pointermove", (ev) => {
      if (drag) {
        const dx = ev.clientX - drag.x;
        const dy = ev.clientY - drag.y;
        if (dx || dy) {
          this.autoFit = false;
          this.setViewport(this.viewport.pan(dx, dy));
          drag.x = ev.clientX;
          drag.y = ev.clientY;
          c.style.cursor = "grabbing";
        }
      }
      this.pointer = local(ev);
      this.hover();
    });
    const end = () => {
      drag = null;
      c.style.cursor = "";
    };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("pointerleave", () => {
      this.pointer = null;
      this.tooltip.hidden = true;
      this.onHover(-1);
      this.setHighlight(-1);
    });
    c.addEventListener("dblclick", () => this.fit());
  }

  hover() {
    const f = this.frame;
    if (!f || !this.pointer || !this.viewport) return;
    const v = this.viewport;
    const [px, py] = this.pointer;
    if (px < 0 || py < 0 || px > v.width || py > v.height) {
      this.tooltip.hidden = true;
      return;
    }
    const [x, y] = v.invert(px, py);
    const radius = 8 / v.k;
    let html;
    let fakeIndex = -1;
    const packed = packingWords(f.partners); // what D's value is when D judges packs
    if (this.layers.fake) fakeIndex = nearestPoint(f.fake, x, y, radius);
    if (fakeIndex >= 0) {
      html = `<b class="c-fake">${this.fakeName} #${fakeIndex}</b> (${formatNumber(f.fake[2 * fakeIndex])}, ${formatNumber(f.fake[2 * fakeIndex + 1])})<br>D = ${formatNumber(f.fakeD[fakeIndex])}${packed.fakeD}`;
    } else {
      const r = this.layers.real ? nearestPoint(f.real, x, y, radius) : -1;
      if (r >= 0) {
        html = `<b class="c-real">real</b> (${formatNumber(f.real[2 * r])}, ${formatNumber(f.real[2 * r + 1])})<br>D = ${formatNumber(f.realD[r])}${packed.realD}`;
      } else {
        const d = gridValueAt(f.dGrid, f.gridSize, f.box, x, y);
        html = `(${formatNumber(x)}, ${formatNumber(y)})${d === null ? "" : `<br>D ≈ ${formatNumber(d)}${packed.pointD}`}`;
        // With the optimal-discriminator lens on: D* there too, where it is defined.
        const opt = f.dOptimal ? gridValueAt(f.dOptimal, f.gridSize, f.box, x, y) : null;
        if (opt !== null) html += `<br>${Number.isFinite(opt) ? `D* ≈ ${formatNumber(opt)}` : `D*: ${UNDEFINED_WORDS} here`}`;
      }
    }
    this.setHighlight(fakeIndex);
    this.onHover(fakeIndex);
    if (this.tooltip.innerHTML !== html) this.tooltip.innerHTML = html;
    this.tooltip.hidden = false;
    // Long lines (packing, undefined D*) wrap within the picture rather than run off its edge.
    const room = `${Math.max(120, this.cssWidth - 8)}px`;
    if (this.tooltip.style.maxWidth !== room) {
      this.tooltip.style.maxWidth = room;
      this.tooltip.style.whiteSpace = "normal";
    }
    const tx = Math.max(0, Math.min(px + MARGIN.left + 14, this.cssWidth - (this.tooltip.offsetWidth || 150) - 4));
    this.tooltip.style.transform = `translate(${tx}px, ${py + MARGIN.top + 12}px)`;
  }
}
