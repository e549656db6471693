// Presets: the menu of ready-made experiments (started by the run's applyExperiment).

/** Add an option per preset to `select`: its human title, its description as the tooltip. */
export function fillPresetMenu(select, presets) {
  const doc = select.ownerDocument;
  for (const p of presets) {
    const o = doc.createElement("option");
    o.value = p.name;
    o.textContent = p.title || p.name;
    o.title = p.description;
    select.append(o);
  }
}

/** Strip what does not make an experiment (where and from which seed it runs). */
function essence(config) {
  const { seed, device, ...rest } = config;
  return JSON.stringify(rest, Object.keys(flatKeys(rest)).sort());
}

function flatKeys(obj, out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    out[k] = true;
    if (v && typeof v === "object" && !Array.isArray(v)) flatKeys(v, out);
  }
  return out;
}

/** The name of the preset whose settings `config` has exactly (seed aside), or null. */
export function matchingPreset(config, presets) {
  if (!config) return null;
  const mine = essence(config);
  const found = presets.find((p) => essence(p.config) === mine);
  return found ? found.name : null;
}
