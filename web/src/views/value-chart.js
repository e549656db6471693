// The "Value of the game" chart (server: engine/optimal.py, the metric rows' v_* columns):
// V(D, G) with the current D against V(D*, G) with the optimal one and the theory's
// -log 4 + 2 JS, with a line at -log 4 where G matches the data. charts.js draws it from
// this definition; the words are pure, so they are tested without a page (value-chart.test.js).

// The server's grid for the densities (engine/optimal.py VALUE_GRID).
export const VALUE_GRID = 32;

// V(D*, G) when G matches the data: D* = 1/2 everywhere, so log(1/2) + log(1/2).
export const G_EQUALS_DATA = -Math.log(4);

export const VALUE_CHART = {
  id: "value",
  title: "Value of the game (nats)",
  series: [
    ["v_current", "V(D, G)", "discriminator"],
    ["v_optimal", "V(D*, G)", "#e08000"],
    ["v_optimal_theory", `−log 4 + 2·JS (${VALUE_GRID}×${VALUE_GRID} grid)`, "#333", [4, 3]],
  ],
  // The landmark: [value, legend label, colour, name on the plot].
  references: [[G_EQUALS_DATA, "G = data: −log 4", "#777", "G = data"]],
  // The values are negative (at most 0): a log scale would plot their size, not them. 0 and
  // the landmark stay in view, so a learner sees where the values sit between them.
  linear: true,
  keepInView: [G_EQUALS_DATA, 0],
  // The server sends no V(D, G) when D is not a probability of one point: the legend says why.
  undefinedWhen: { v_current: { present: "v_optimal", text: "n/a (needs log loss, no packing)" } },
};

const count = (n) => (n ? `${Number(n).toLocaleString("en-US")} samples a side` : "the metric samples");

/** The chart's help, called as charts.js calls it: (samples, modes, baseline). */
export function valueHelp(n) {
  return {
    summary: "The score D pushes up and G pushes down, in nats: V(D, G) for this D; V(D*, G) for the best " +
      "possible D, which falls to −log 4 ≈ −1.39 (the line “G = data”) when G matches the data.",
    details: `V(D, G) = E_data log D(x) + E_G log(1 − D(x)) on ${count(n)}. No D can score more than ` +
      `V(D*, G) = −log 4 + 2 JS, so the gap V(D*, G) − V(D, G) is how far D is from its optimum. ` +
      `Here JS is in nats (not bits) and comes from this chart's own ${VALUE_GRID} × ${VALUE_GRID} grid over the ` +
      `box, so it is not the JS of the "Divergence by grid (bits)" chart. V(D*, G) averages log D* over the same ` +
      `samples, D* = p_data / (p_data + p_g) from that grid's densities; the dashed −log 4 + 2·JS sums the grid's ` +
      `densities instead, so the two differ by sampling and by where the grid's estimate of p_g misses. V(D, G) ` +
      `needs a D that gives the probability that one point is real: log loss and no packing.`,
  };
}
