// Each loss's usual training settings, its "recipe" (GET /api/losses: [{name, title, output,
// recipe}], the recipe a partial config). The page applies one only when the learner picks a
// loss in the graph: presets, links and run files bring their own settings and never pass here.
import { merge } from "./merge.js";
import { getPath, optionName, setPath } from "./controls.js";

/** The recipe of loss `kind` from the /api/losses list, or null when it has none. */
export function recipeFor(losses, kind) {
  const loss = (losses || []).find((l) => l.name === kind);
  return loss && loss.recipe && typeof loss.recipe === "object" ? loss.recipe : null;
}

/** [[dotted path, value], ...] of a partial config's leaves. */
function leaves(obj, prefix = "", out = []) {
  for (const [key, value] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === "object" && !Array.isArray(value)) leaves(value, path, out);
    else out.push([path, value]);
  }
  return out;
}

/** An optimizer's part of a recipe in words ("Adam, learning rate 0.001, β 0.5, 0.9"); the
 * betas only for Adam, the one optimizer that uses them. */
function optimizerWords(path, opt) {
  if (!opt) return "";
  const bits = [];
  if (opt.kind !== undefined) bits.push(optionName(`${path}.kind`, opt.kind));
  if (opt.lr !== undefined) bits.push(`learning rate ${opt.lr}`);
  if (opt.kind === "adam" && opt.beta1 !== undefined && opt.beta2 !== undefined) bits.push(`β ${opt.beta1}, ${opt.beta2}`);
  return bits.join(", ");
}

const updates = (n, who) => `${n} ${who} update${n === 1 ? "" : "s"}`;

/** What a recipe sets, in one sentence a learner reads. `scheme`: the update scheme the run
 * will have; only the alternating one uses the counts of updates per iteration. */
export function describeRecipe(title, recipe, scheme = "alternating") {
  const parts = [];
  const { d_steps: d, g_steps: g } = recipe.training || {};
  const steps = [d !== undefined && updates(d, "D"), g !== undefined && updates(g, "G")].filter(Boolean);
  const unused = scheme && scheme !== "alternating" ? `, which the ${scheme} scheme does not use` : "";
  if (steps.length) parts.push(`${steps.join(" and ")} per iteration${unused}`);
  const dOpt = optimizerWords("d_optimizer", recipe.d_optimizer);
  const gOpt = optimizerWords("g_optimizer", recipe.g_optimizer);
  if (dOpt && dOpt === gOpt) parts.push(`both networks: ${dOpt}`);
  else {
    if (dOpt) parts.push(`D: ${dOpt}`);
    if (gOpt) parts.push(`G: ${gOpt}`);
  }
  const what = parts.length ? ` (${parts.join("; ")})` : "";
  return `${title}: its usual settings were applied${what}. You can change them in the Discriminator and Generator settings.`;
}

/**
 * The config change for the learner's pick of loss `kind`: `{set, note}`, where `set` is the
 * loss with its recipe (one change, so the server never trains the new loss with the old
 * settings) and `note` says what the recipe set, or is null when it changes nothing in `config`
 * (the config in effect) or the loss has no recipe.
 */
export function lossChange(losses, kind, config) {
  const set = setPath("loss.kind", kind);
  const recipe = recipeFor(losses, kind);
  if (!recipe) return { set, note: null };
  const changes = leaves(recipe).some(([path, value]) => getPath(config, path) !== value);
  const loss = losses.find((l) => l.name === kind);
  const scheme = getPath(recipe, "training.scheme") ?? getPath(config, "training.scheme");
  return { set: merge(recipe, set), note: changes ? describeRecipe(loss.title || kind, recipe, scheme) : null };
}
