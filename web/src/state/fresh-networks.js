// Which networks a change made in the graph started from fresh weights, so that the page can
// say so. The server's `config` event lists the config's sections that changed (`rebuilt`);
// the engine rebuilds a network only when a field that shapes it changes (trainer.py
// `_shape`) and keeps its weights through the others: the generator's weight average and the
// discriminator's spectral norm.

const KEEPS_WEIGHTS = new Set(["generator.ema", "discriminator.spectral_norm"]);

/** The networks ("generator", "discriminator") that the change of `path` gave fresh weights,
 * given the sections the server says changed. A reset restarts everything anyway: none. */
export function freshNetworks(rebuilt, path) {
  if (rebuilt.includes("reset") || KEEPS_WEIGHTS.has(path)) return [];
  const nets = [];
  // The noise's dimension is the generator's input size: it rebuilds the generator too.
  if (rebuilt.includes("generator") || path === "noise.dim") nets.push("generator");
  if (rebuilt.includes("discriminator")) nets.push("discriminator");
  return nets;
}
