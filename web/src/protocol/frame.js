// A decoded `frame` message (docs/protocol.md) turned into what the views draw: typed arrays
// by name, D's values dequantized, the heatmap kept as 8-bit levels for the colour table.
import { dequantize } from "./envelope.js";
import { modeCountsOf } from "../views/mode-histogram.js";

/** The numbers a view needs from one decoded `frame` message. */
export function prepareFrame(msg, config) {
  return prepareFrameWith(msg, config ? config.noise.kind : "gaussian");
}

/** prepareFrame with the noise kind given directly (the picture's worker has no config). */
export function prepareFrameWith(msg, noiseKind) {
  const h = msg.header;
  const a = msg.arrays;
  const dGrid = a.d_grid;
  let dGridQ = dGrid.data;
  if (!(dGridQ instanceof Uint8Array)) {
    // Not quantized to 8 bits: map to 256 levels over its range for the colour table.
    const v = dequantize(dGrid);
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    dGridQ = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) dGridQ[i] = hi > lo ? Math.round(((v[i] - lo) / (hi - lo)) * 255) : 128;
  }
  let dGridValues = null;
  return {
    frameNumber: h.frame,
    iteration: h.iteration,
    dUpdates: h.d_updates,
    gUpdates: h.g_updates,
    playing: h.playing,
    ips: h.ips,
    applied: h.applied,
    configVersion: h.config_version,
    box: h.box,
    output: h.output,
    noiseDim: h.noise_dim,
    noiseKind,
    losses: h.losses || {},
    real: a.real.data,
    realD: dequantize(a.real_d),
    fake: a.fake.data,
    fakeNoise: a.fake_noise.data,
    fakeD: dequantize(a.fake_d),
    fakeGrad: a.fake_grad.data,
    // The gradient field (view.field > 0): G-loss gradients at F x F cell centres, and how
    // many packs each D value and gradient averages (packing: partners; 1 without).
    gField: a.g_field ? a.g_field.data : null,
    gFieldSize: a.g_field ? a.g_field.shape[0] : 0,
    partners: h.partners ?? 1,
    dGridQ,
    get dGrid() {
      if (!dGridValues) dGridValues = dequantize(dGrid);
      return dGridValues;
    },
    gridSize: dGrid.shape[0],
    manifold: a.manifold.data,
    manifoldShape: a.manifold.shape.slice(0, -1),
    manifoldDensity: a.manifold_density.data,
    realDensityQ: a.real_density.data,
    // "exact" (the distribution's own law) or "kde" (estimated, kernel of this width).
    realDensityKind: h.real_density_kind ?? null,
    realDensityWidth: h.real_density_width ?? null,
    // With view.optimal: the optimal discriminator on the grid (NaN: undefined) and how p_g
    // was obtained ({kind: "pushforward" | "kde", folds, covered, samples, width}).
    dOptimal: a.d_optimal ? a.d_optimal.data : null,
    fakeDensity: h.fake_density ?? null,
    historyRows: a.history ? a.history.data : null,
    // The newest row's per-mode counts: null if it has none, undefined if no row came.
    modeCounts: a.history && a.history.shape[0] > 0 ? modeCountsOf(h, a) : undefined,
    raw: msg.buffer,
  };
}
