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

test("the help says what each score means, that it is a k-NN estimate, its k and its sample count", () => {
  const pr = KNN_HELP["precision-recall"](2000, null, BASELINE);
  assert.match(pr, /Precision: the share of generated samples inside some real sample's ball/);
  assert.match(pr, /Recall: the share of real samples inside some generated sample's ball/);
  assert.match(pr, /its 5th nearest neighbour in its own set \(k-NN estimates, k = 5, on 1,000 samples a side\)/);
  const dc = KNN_HELP["density-coverage"](2000, 8, { ...BASELINE, knn_k: 3, knn_samples: 1500 });
  assert.match(dc, /Density: the real balls a generated sample falls in, on average, over k/);
  assert.match(dc, /Coverage: the share of real samples whose ball holds a generated one/);
  assert.match(dc, /its 3rd nearest neighbour .*k = 3, on 1,500 samples a side/);
});

test("with a baseline the help names the band: a second real sample, its percentiles and pairs", () => {
  const text = KNN_HELP["precision-recall"](2000, null, BASELINE);
  assert.match(text, /Shaded: a second real sample of 1,000 points scored in G's place \(dashed: the mean; band: 5–95% over 12 pairs\)/);
  const none = KNN_HELP["density-coverage"](2000, null, null);
  assert.doesNotMatch(none, /Shaded/);
  // No baseline: neither k nor the points a side to name.
  assert.match(none, /its k-th nearest neighbour in its own set \(k-NN estimates\)\./);
});
