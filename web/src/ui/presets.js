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
