import { test } from "node:test";
import assert from "node:assert/strict";
import { downloadBytes, runFileName } from "../src/ui/download.js";

test("the run file takes the message's name, else the announced one, else a default", () => {
  assert.equal(runFileName({ filename: "ring-1200.ganlab" }, "older.ganlab"), "ring-1200.ganlab");
  assert.equal(runFileName({}, "older.ganlab"), "older.ganlab");
  assert.equal(runFileName({ filename: "" }, undefined), "ganlab.ganlab");
});

test("the bytes go to the browser through a clicked link whose URL is freed later", async () => {
  const clicked = [];
  const created = [];
  const revoked = [];
  const timers = [];
  const doc = {
    createElement: (tag) => ({ tag, href: "", download: "", click() { clicked.push({ href: this.href, download: this.download }); } }),
  };
  const urls = {
    createObjectURL: (blob) => { created.push(blob); return `blob:${created.length}`; },
    revokeObjectURL: (href) => revoked.push(href),
  };
  const bytes = new Uint8Array([1, 2, 3, 250]);
  const a = downloadBytes(bytes, "run.ganlab", { doc, urls, later: (fn, ms) => timers.push([fn, ms]) });
  assert.equal(a.tag, "a");
  assert.deepEqual(clicked, [{ href: "blob:1", download: "run.ganlab" }]);
  assert.equal(created[0].type, "application/octet-stream");
  assert.deepEqual([...new Uint8Array(await created[0].arrayBuffer())], [1, 2, 3, 250]);
  // Freed only once the browser has had a moment to start the download.
  assert.deepEqual(revoked, []);
  assert.equal(timers.length, 1);
  assert.equal(timers[0][1], 1000);
  timers[0][0]();
  assert.deepEqual(revoked, ["blob:1"]);
});
