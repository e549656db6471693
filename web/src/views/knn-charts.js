// The k-nearest-neighbour charts (server: engine/knn_metrics.py): precision and recall
// (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020). Each chart shades what
// a second real sample scores in the generator's place: with finite samples even real data
// scores below 1, so the band, not 1, is "as good as it gets". charts.js draws them from these
// definitions; the texts are pure, so they are tested without a page (knn-charts.test.js).

const count = (n) => Number(n).toLocaleString("en-US");
const pct = (b) => (b.percentiles ? `${b.percentiles[0]}–${b.percentiles[1]}%` : "5–95%");

/** "its 5th nearest neighbour" for k = 5 (the baseline says k), else the general words. */
export function nearest(k) {
  if (!Number.isInteger(k) || k < 1) return "its k-th nearest neighbour";
  const tens = k % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : { 1: "st", 2: "nd", 3: "rd" }[k % 10] || "th";
  return `its ${k}${suffix} nearest neighbour`;
}

/** How the balls are made and on how many samples: the baseline `b` says (its `knn_k` and
 * `knn_samples`); without one, the general words (a row scores fewer points than the
 * config's `samples` when there are many, so that count would be wrong). */
function estimate(b) {
  const size = b ? b.knn_samples : null;
  const k = b ? b.knn_k : null;
  const what = k ? `k-NN estimates, k = ${k},` : "k-NN estimates";
  const on = size ? ` on ${count(size)} samples a side` : "";
  return `A sample's ball reaches ${nearest(k)} in its own set (${what}${on}).`;
}

/** The band's sentence: a second real sample in G's place. */
function band(b) {
  if (!b) return "";
  return ` Shaded bands, each in its line's colour: a second real sample of ${count(b.knn_samples)} points scored in G's place (dashed line: the mean; band: ${pct(b)} over ${b.pairs} pairs): inside it is as good as this sample size can tell.`;
}

// Why recall and coverage can part: the balls they use are not the same.
const RECALL_VS_COVERAGE =
  " Recall and coverage can disagree: generated samples spread thinly over the plane have big balls, which take in many real samples (high recall), while few of them land in the real samples' small balls (low coverage).";

// Help texts by chart id, called as charts.js calls them: (samples, modes, baseline). Each is
// a plain summary and the details of how it is estimated.
export const KNN_HELP = {
  "precision-recall": (n, modes, b) => ({
    summary: `Precision: how many fakes look real. Recall: how much of the data G reaches.${b ? " Shaded bands: real data in G's place." : ""}`,
    details: `Precision: the share of generated samples inside some real sample's ball. Recall: the share of real samples inside some generated sample's ball. ${estimate(b)}${RECALL_VS_COVERAGE}${band(b)}`,
  }),
  "density-coverage": (n, modes, b) => ({
    summary: `Density: how closely the fakes crowd around real samples (about 1 when G matches the data). Coverage: the share of real samples with a fake close by.${b ? " Shaded bands: real data in G's place." : ""}`,
    details: `Density: for each generated sample, the number of real samples' balls it falls in, divided by k, averaged over the generated samples (above 1 where G crowds the data's dense parts). Coverage: the share of real samples whose ball holds at least one generated sample. ${estimate(b)}${RECALL_VS_COVERAGE}${band(b)}`,
  }),
};

// Series are [column, label, colour]: scores over the generated samples in G's colour, scores
// over the real ones in the data's.
export const KNN_CHARTS = [
  {
    id: "precision-recall", title: "Precision and recall (k-NN)",
    series: [["precision", "precision", "fake"], ["recall", "recall", "real"]],
    baseline: { precision: "precision", recall: "recall" },
  },
  {
    id: "density-coverage", title: "Density and coverage (k-NN)",
    series: [["density", "density", "fake"], ["coverage", "coverage", "real"]],
    baseline: { density: "density", coverage: "coverage" },
  },
];
