import { test } from "node:test";
import assert from "node:assert/strict";
import { downloadBlob, downloadBytes, downloadText, runFileName } from "../src/ui/download.js";

test("the run file takes the message's name, else the announced one, else a default", () => {
  assert.equal(runFileName({ filename: "ring-1200.ganlab" }, "older.ganlab"), "ring-1200.ganlab");
  assert.equal(runFileName({}, "older.ganlab"), "older.ganlab");
  assert.equal(runFileName({ filename: "" }, undefined), "ganlab.ganlab");
});

/** A page and URL API that record the links clicked, the blobs made and the URLs freed. */
function fakeBrowser() {
  const log = { clicked: [], created: [], revoked: [], timers: [] };
  const doc = {
    createElement: (tag) => ({ tag, href: "", download: "", click() { log.clicked.push({ href: this.href, download: this.download }); } }),
  };
  const urls = {
    createObjectURL: (blob) => { log.created.push(blob); return `blob:${log.created.length}`; },
    revokeObjectURL: (href) => log.revoked.push(href),
  };
  return { log, options: { doc, urls, later: (fn, ms) => log.timers.push([fn, ms]) } };
}

test("the bytes go to the browser through a clicked link whose URL is freed later", async () => {
  const { log, options } = fakeBrowser();
  const bytes = new Uint8Array([1, 2, 3, 250]);
  const a = downloadBytes(bytes, "run.ganlab", options);
  assert.equal(a.tag, "a");
  assert.deepEqual(log.clicked, [{ href: "blob:1", download: "run.ganlab" }]);
  assert.equal(log.created[0].type, "application/octet-stream");
  assert.deepEqual([...new Uint8Array(await log.created[0].arrayBuffer())], [1, 2, 3, 250]);
  // Freed only once the browser has had a moment to start the download.
  assert.deepEqual(log.revoked, []);
  assert.equal(log.timers.length, 1);
  assert.equal(log.timers[0][1], 1000);
  log.timers[0][0]();
  assert.deepEqual(log.revoked, ["blob:1"]);
});

test("text and blobs download the same way, text with its type", async () => {
  const { log, options } = fakeBrowser();
  const a = downloadText("x,y\n1,2\n", "ganlab-ring-5-samples.csv", "text/csv", options);
  assert.equal(a.tag, "a");
  assert.deepEqual(log.clicked, [{ href: "blob:1", download: "ganlab-ring-5-samples.csv" }]);
  assert.match(log.created[0].type, /^text\/csv/);
  assert.equal(await log.created[0].text(), "x,y\n1,2\n");
  assert.deepEqual(log.revoked, []);
  log.timers[0][0]();
  assert.equal(log.timers[0][1], 1000);
  assert.deepEqual(log.revoked, ["blob:1"]);
  const png = new Blob(["png"], { type: "image/png" });
  downloadBlob(png, "ganlab-ring-5-picture.png", options);
  assert.equal(log.created[1], png);
  assert.equal(log.clicked[1].download, "ganlab-ring-5-picture.png");
});
