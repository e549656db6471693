import { test } from "node:test";
import assert from "node:assert/strict";
import { KNN_CHARTS, KNN_HELP, nearest } from "../src/views/knn-charts.js";

const BASELINE = { samples: 2000, w1_samples: 500, pairs: 12, percentiles: [5, 95], knn_k: 5, knn_samples: 1000, metrics: {} };

test("ordinals read as English: 1st, 2nd, 3rd, 4th, 11th-13th, 21st, 112th", () => {
  const words = [1, 2, 3, 4, 5, 11, 12, 13, 21, 22, 23, 101, 112].map((k) => nearest(k).split(" ")[1]);
  assert.deepEqual(words, ["1st", "2nd", "3rd", "4th", "5th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "112th"]);
  assert.equal(nearest(null), "its k-th nearest neighbour");
  assert.equal(nearest(0), "its k-th nearest neighbour");
});

test("each chart plots two of the history's k-NN columns, each with its band", () => {
  assert.deepEqual(KNN_CHARTS.map((c) => [c.id, c.series.map((s) => s[0])]), [
    ["precision-recall", ["precision", "recall"]],
    ["density-coverage", ["density", "coverage"]],
  ]);
  for (const c of KNN_CHARTS) assert.deepEqual(Object.keys(c.baseline), c.series.map((s) => s[0]));
  // Scores over generated samples in G's colour, over real samples in the data's.
  assert.deepEqual(KNN_CHARTS.map((c) => c.series.map((s) => s[2])), [["fake", "real"], ["fake", "real"]]);
});

const all = (h) => `${h.summary} ${h.details}`;

test("the help says what each score means, that it is a k-NN estimate, its k and its sample count", () => {
  const pr = KNN_HELP["precision-recall"](2000, null, BASELINE);
  assert.equal(pr.summary, "Precision: how many fakes look real. Recall: how much of the data G reaches. Shaded bands: real data in G's place.");
  assert.match(pr.details, /Precision: the share of generated samples inside some real sample's ball/);
  assert.match(pr.details, /Recall: the share of real samples inside some generated sample's ball/);
  assert.match(pr.details, /its 5th nearest neighbour in its own set \(k-NN estimates, k = 5, on 1,000 samples a side\)/);
  const dc = KNN_HELP["density-coverage"](2000, 8, { ...BASELINE, knn_k: 3, knn_samples: 1500 });
  assert.match(dc.summary, /^Density: .*about 1 when G matches the data.*Coverage: the share of real samples with a fake close by/);
  assert.match(dc.details, /the number of real samples' balls it falls in, divided by k, averaged over the generated samples/);
  assert.match(dc.details, /Coverage: the share of real samples whose ball holds at least one generated sample/);
  assert.match(dc.details, /its 3rd nearest neighbour .*k = 3, on 1,500 samples a side/);
});

test("both charts say why recall and coverage can disagree: the fakes' balls against the real ones'", () => {
  for (const id of ["precision-recall", "density-coverage"]) {
    const { details } = KNN_HELP[id](2000, null, BASELINE);
    assert.match(details, /Recall and coverage can disagree: generated samples spread thinly over the plane have big balls, which take in many real samples \(high recall\), while few of them land in the real samples' small balls \(low coverage\)/);
  }
});

test("with a baseline the help names the band: a second real sample, its percentiles and pairs", () => {
  const text = KNN_HELP["precision-recall"](2000, null, BASELINE).details;
  assert.match(text, /Shaded bands, each in its line's colour: a second real sample of 1,000 points scored in G's place \(dashed line: the mean; band: 5–95% over 12 pairs\)/);
  const none = KNN_HELP["density-coverage"](2000, null, null);
  assert.doesNotMatch(all(none), /Shaded/);
  // No baseline: neither k nor the points a side to name.
  assert.match(none.details, /its k-th nearest neighbour in its own set \(k-NN estimates\)\./);
});
