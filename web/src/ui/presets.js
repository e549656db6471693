// Presets: the menu of ready-made experiments, and the commands that start one.
import { splitExperiment } from "../state/url.js";

/** Add an option per preset to `select`, its description as the tooltip. */
export function fillPresetMenu(select, presets) {
  const doc = select.ownerDocument;
  for (const p of presets) {
    const o = doc.createElement("option");
    o.value = p.name;
    o.textContent = p.name;
    o.title = p.description;
    select.append(o);
  }
}

/** The commands that start `preset` over: its settings, its data, then a reset. The preset's
 * seed and device are not sent: the run keeps the ones in use. */
export function presetCommands(preset) {
  const { rest, data } = splitExperiment(preset.config);
  return [{ type: "config", set: rest }, { type: "data", set: { name: data.name } }, { type: "reset" }];
}
