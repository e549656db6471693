// The "Value of the game" chart (server: engine/optimal.py, the metric rows' v_* columns):
// V(D, G) with the current D against V(D*, G) with the optimal one and the theory's
// -log 4 + 2 JS. charts.js draws it from this definition; the words are pure, so they are
// tested without a page (value-chart.test.js).

export const VALUE_CHART = {
  id: "value",
  title: "Value of the game (nats)",
  series: [
    ["v_current", "V(D, G)", "discriminator"],
    ["v_optimal", "V(D*, G)", "#e08000"],
    ["v_optimal_theory", "−log 4 + 2·JS", "#333", [4, 3]],
  ],
};

// The server's grid for the densities (engine/optimal.py VALUE_GRID).
export const VALUE_GRID = 32;

const count = (n) => (n ? `${Number(n).toLocaleString("en-US")} samples a side` : "the metric samples");

/** The chart's help, called as charts.js calls it: (samples, modes, baseline). */
export function valueHelp(n) {
  return `V(D, G) = E_data log D(x) + E_G log(1 − D(x)) on ${count(n)}. It is at most V(D*, G) = −log 4 + 2 JS, ` +
    `so the gap V(D*, G) − V(D, G) is how far D is from its optimum; −log 4 ≈ −1.39 means G matches the data. ` +
    `V(D*, G) averages log D* over the same samples, D* = p_data / (p_data + p_g) from the densities on a ` +
    `${VALUE_GRID} × ${VALUE_GRID} grid over the box; −log 4 + 2 JS sums that grid's densities, so the two differ ` +
    `only by sampling and where the estimate of p_g misses. V(D, G) needs a D that is a probability of one point ` +
    `(log loss, no packing).`;
}
