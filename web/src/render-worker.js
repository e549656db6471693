// The picture's worker: draws data space on an OffscreenCanvas handed over by the page, so
// rasterizing hundreds of samples, arrows and manifold cells never blocks the page.
import { decodeEnvelope } from "./protocol/envelope.js";
import { prepareFrameWith } from "./protocol/frame.js";
import { DistributionRenderer } from "./views/distribution-renderer.js";

let renderer = null;
let frameNumber = null;
let scheduled = false;
const nextFrame = self.requestAnimationFrame ? (cb) => self.requestAnimationFrame(cb) : (cb) => setTimeout(cb, 16);

function draw() {
  renderer.render();
  if (renderer.animating) schedule();
}

function schedule() {
  if (scheduled) return;
  scheduled = true;
  nextFrame(() => {
    scheduled = false;
    draw();
  });
}

self.onmessage = (ev) => {
  const m = ev.data;
  try {
    if (m.type === "init") {
      renderer = new DistributionRenderer(m.canvas);
    } else if (m.type === "state") {
      renderer.setState(m.state);
      schedule();
    } else if (m.type === "snapshot") {
      // The picture as it is now, for the page's PNG export.
      renderer.render();
      createImageBitmap(renderer.canvas).then(
        (bitmap) => self.postMessage({ type: "snapshot", id: m.id, bitmap }, [bitmap]),
        (err) => self.postMessage({ type: "snapshot", id: m.id, error: String(err) }),
      );
    } else if (m.type === "frame") {
      // Every frame is drawn as it arrives.
      const t0 = performance.now();
      frameNumber = null;
      const frame = prepareFrameWith(decodeEnvelope(m.buffer), m.noiseKind);
      frameNumber = frame.frameNumber;
      renderer.setFrame(frame);
      draw();
      self.postMessage({ type: "rendered", frameNumber, ms: performance.now() - t0 });
    }
  } catch (err) {
    self.postMessage({ type: "error", message: String(err && err.stack ? err.stack : err) });
    if (m.type === "frame") self.postMessage({ type: "rendered", frameNumber, ms: 0 });
  }
};
