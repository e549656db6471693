import { test } from "node:test";
import assert from "node:assert/strict";
import { describeRecipe, lossChange, recipeFor } from "../src/state/recipes.js";
import { merge } from "../src/state/merge.js";

// Shaped as GET /api/losses answers (the numbers are this test's own).
const PLAIN = {
  training: { d_steps: 2, g_steps: 1 },
  d_optimizer: { kind: "adam", lr: 0.005, beta1: 0, beta2: 0.99 },
  g_optimizer: { kind: "adam", lr: 0.0004, beta1: 0, beta2: 0.99 },
};
const LOSSES = [
  { name: "log", title: "Log loss", output: "probability", recipe: PLAIN },
  { name: "hinge", title: "Hinge", output: "score", recipe: PLAIN },
  {
    name: "wgan_gp", title: "Wasserstein, gradient penalty", output: "score",
    recipe: {
      training: { d_steps: 5, g_steps: 1 },
      d_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 },
      g_optimizer: { kind: "adam", lr: 0.001, beta1: 0.5, beta2: 0.9 },
    },
  },
  {
    name: "wgan", title: "Wasserstein, weight clipping", output: "score",
    recipe: {
      training: { d_steps: 5, g_steps: 1 },
      d_optimizer: { kind: "rmsprop", lr: 0.0005, beta1: 0, beta2: 0.99 },
      g_optimizer: { kind: "rmsprop", lr: 0.0005, beta1: 0, beta2: 0.99 },
    },
  },
  { name: "lsgan", title: "Least squares", output: "score" }, // a loss without a recipe
];

// The config in effect: the plain recipe's settings, with a few others around them.
const CONFIG = merge(PLAIN, {
  loss: { kind: "log", gp_weight: 10 },
  training: { batch_size: 150, scheme: "alternating" },
  d_optimizer: { momentum: 0 },
  g_optimizer: { momentum: 0 },
});

test("a loss's recipe is found by its name; a loss without one, or an unknown one, has none", () => {
  assert.equal(recipeFor(LOSSES, "wgan_gp"), LOSSES[2].recipe);
  assert.equal(recipeFor(LOSSES, "lsgan"), null);
  assert.equal(recipeFor(LOSSES, "nope"), null);
  assert.equal(recipeFor([], "log"), null);
  assert.equal(recipeFor(undefined, "log"), null);
});

test("picking a loss is one change: the loss and every setting of its recipe", () => {
  const { set, note } = lossChange(LOSSES, "wgan_gp", CONFIG);
  assert.deepEqual(set, { ...LOSSES[2].recipe, loss: { kind: "wgan_gp" } });
  // Merged into the config, the recipe's values win and the rest stays.
  const after = merge(CONFIG, set);
  assert.equal(after.training.d_steps, 5);
  assert.equal(after.training.batch_size, 150);
  assert.deepEqual([after.d_optimizer.beta1, after.d_optimizer.beta2, after.d_optimizer.momentum], [0.5, 0.9, 0]);
  assert.equal(after.loss.gp_weight, 10);
  assert.ok(note, "the learner is told");
  // The list is not changed by a pick.
  assert.equal(LOSSES[2].recipe.loss, undefined);
});

test("the note says which loss and what it set, in the menus' words", () => {
  const { note } = lossChange(LOSSES, "wgan_gp", CONFIG);
  assert.equal(note, "Wasserstein, gradient penalty: its usual settings were applied (5 D updates and 1 G update per iteration; "
    + "both networks: Adam, learning rate 0.001, β 0.5, 0.9). You can change them in the Discriminator and Generator settings.");
  // Different optimizers are named one by one.
  assert.match(lossChange(LOSSES, "hinge", merge(CONFIG, { g_optimizer: { lr: 0.01 } })).note,
    /\(2 D updates and 1 G update per iteration; D: Adam, learning rate 0.005, β 0, 0.99; G: Adam, learning rate 0.0004, β 0, 0.99\)/);
  // Betas mean nothing to RMSProp: they are left out of its words.
  const wgan = lossChange(LOSSES, "wgan", CONFIG).note;
  assert.match(wgan, /both networks: RMSProp, learning rate 0.0005\)/);
  assert.doesNotMatch(wgan, /β/);
});

test("under a scheme that does not use them, the note says the counts of updates are not used", () => {
  const simultaneous = merge(CONFIG, { training: { scheme: "simultaneous" } });
  assert.match(lossChange(LOSSES, "wgan_gp", simultaneous).note,
    /\(5 D updates and 1 G update per iteration, which the simultaneous scheme does not use; both networks: Adam/);
  const extra = merge(CONFIG, { training: { scheme: "extragradient" } });
  assert.match(lossChange(LOSSES, "wgan", extra).note, /which the extragradient scheme does not use/);
  assert.doesNotMatch(lossChange(LOSSES, "wgan_gp", CONFIG).note, /does not use/);
  // A recipe that sets the scheme itself is described by its own.
  assert.match(describeRecipe("X", { training: { d_steps: 3 } }, "simultaneous"), /\(3 D updates per iteration, which the simultaneous scheme does not use\)/);
  const own = { training: { d_steps: 3, scheme: "alternating" } };
  assert.doesNotMatch(lossChange([{ name: "log", title: "X", recipe: own }], "log", simultaneous).note, /does not use/);
});

test("a recipe that changes nothing in effect is applied without a note", () => {
  const { set, note } = lossChange(LOSSES, "hinge", CONFIG);
  assert.deepEqual(set, { ...PLAIN, loss: { kind: "hinge" } });
  assert.equal(note, null);
  // One setting the learner changed, which the recipe puts back: now there is news.
  const tuned = merge(CONFIG, { d_optimizer: { lr: 0.01 } });
  assert.match(lossChange(LOSSES, "hinge", tuned).note, /^Hinge: its usual settings were applied/);
});

test("a loss without a recipe changes only the loss", () => {
  assert.deepEqual(lossChange(LOSSES, "lsgan", CONFIG), { set: { loss: { kind: "lsgan" } }, note: null });
  assert.deepEqual(lossChange([], "wgan", CONFIG), { set: { loss: { kind: "wgan" } }, note: null });
});

test("a partial recipe is described by what it has", () => {
  assert.equal(describeRecipe("X", { training: { d_steps: 3 } }),
    "X: its usual settings were applied (3 D updates per iteration). You can change them in the Discriminator and Generator settings.");
  assert.equal(describeRecipe("X", { g_optimizer: { lr: 0.01 } }),
    "X: its usual settings were applied (G: learning rate 0.01). You can change them in the Discriminator and Generator settings.");
  assert.equal(describeRecipe("X", {}), "X: its usual settings were applied. You can change them in the Discriminator and Generator settings.");
});
