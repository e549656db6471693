// "Things to try": one-click set-ups, each a preset with a few changes and a sentence on what
// to watch. Adding one is one entry. `tryExperiment` turns an entry into the full experiment
// to start (pure, so tests check every entry against the presets the server offers).
import { merge } from "../state/merge.js";

export const THINGS_TO_TRY = [
  {
    id: "default",
    title: "Two Gaussians, GAN Lab's classic",
    preset: "gaussians",
    speed: 20,
    watch: "At 20 iterations a second: watch the purple fakes slide along the arrows into the two green blobs of real data.",
  },
  {
    id: "frozen-d",
    title: "Freeze the discriminator",
    preset: "gaussians",
    set: { training: { d_steps: 0 } },
    speed: 5,
    watch: "D never changes, so nothing holds the fakes back: they run to where D says 'real' and straight on past it, out of the picture.",
  },
  {
    id: "mode-collapse",
    title: "Mode collapse",
    preset: "ring8-collapse",
    speed: 500,
    watch: "A vanilla GAN with a slow D on eight modes: the fakes gather in a few places instead of covering all eight (watch 'Modes covered').",
  },
  {
    id: "packing",
    title: "Packing against collapse",
    preset: "ring8",
    speed: 500,
    watch: "The same eight modes with PacGAN packing (D judges two samples at once): the fakes spread over all of them.",
  },
  {
    id: "ring-1d",
    title: "A line cannot close a loop",
    preset: "ring",
    set: { noise: { dim: 1 } },
    speed: 200,
    watch: "With 1D noise the manifold is a curve: it wraps around the ring but leaves a seam where its ends meet.",
  },
  {
    id: "wgan-gp",
    title: "Wasserstein loss with gradient penalty",
    preset: "gaussians",
    set: { loss: { kind: "wgan_gp" }, training: { d_steps: 5 }, d_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 }, g_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 } },
    speed: 50,
    watch: "The heatmap is now a critic's score, not a probability: its slope, not its colour, moves the fakes.",
  },
  {
    id: "minimax",
    title: "The original (saturating) generator loss",
    preset: "gaussians",
    set: { loss: { generator: "minimax" } },
    speed: 20,
    watch: "With log(1 − D(G(z))) the generator's gradient vanishes while D is winning: the arrows start short and the fakes move slowly.",
  },
  {
    id: "too-fast",
    title: "A learning rate far too large",
    preset: "gaussians",
    set: { loss: { kind: "lsgan" }, g_optimizer: { kind: "sgd", lr: 10 }, d_optimizer: { kind: "sgd", lr: 10 } },
    watch: "Plain SGD with steps of size 10 on the least-squares loss: within a few dozen iterations the numbers overflow, training stops, and the notice over the picture says what to change.",
  },
];

/** Each entry plays at its `speed` (iterations a second; null: as fast as it goes), slow
 * enough to watch what it is about. */

/** The experiment an entry starts: its preset's config with the entry's changes, or null
 * when the server offers no such preset. */
export function tryExperiment(entry, presets) {
  const preset = presets.find((p) => p.name === entry.preset);
  if (!preset) return null;
  return merge(preset.config, entry.set || {});
}

/** The popover's buttons, `try-<id>` each, with what to watch. */
export function fillTryList(list, presets, onTry) {
  const doc = list.ownerDocument;
  list.textContent = "";
  for (const entry of THINGS_TO_TRY) {
    if (!tryExperiment(entry, presets)) continue;
    const b = doc.createElement("button");
    b.className = "try-item";
    b.setAttribute("data-testid", `try-${entry.id}`);
    const title = doc.createElement("b");
    title.textContent = entry.title;
    const watch = doc.createElement("span");
    watch.textContent = entry.watch;
    b.append(title, watch);
    b.addEventListener("click", () => onTry(entry));
    list.append(b);
  }
}
