import { test } from "node:test";
import assert from "node:assert/strict";
import { VALUE_CHART, valueHelp } from "../src/views/value-chart.js";

test("the value chart plots the three reserved columns", () => {
  assert.deepEqual(VALUE_CHART.series.map((s) => s[0]), ["v_current", "v_optimal", "v_optimal_theory"]);
});

test("its help states the bound and what the gap means, on the rows' sample count", () => {
  const help = valueHelp(2000);
  assert.match(help, /V\(D, G\) = E_data log D\(x\) \+ E_G log\(1 − D\(x\)\) on 2,000 samples a side/);
  assert.match(help, /at most V\(D\*, G\) = −log 4 \+ 2 JS/);
  assert.match(help, /gap V\(D\*, G\) − V\(D, G\) is how far D is from its optimum/);
  assert.match(help, /32 × 32 grid over the box/);
  assert.match(valueHelp(null), /the metric samples/);
});
