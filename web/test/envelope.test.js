import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeEnvelope, encodeEnvelope, dequantize, valueAt, EnvelopeError } from "../src/protocol/envelope.js";

// Build a message by hand exactly as docs/protocol.md lays it out, independent of the encoder.
function handMade(header, chunks) {
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += " ";
  const headerBytes = new TextEncoder().encode(json);
  const payloadLength = chunks.reduce((n, c) => Math.max(n, c.offset + c.bytes.byteLength), 0);
  const buf = new ArrayBuffer(8 + headerBytes.length + payloadLength);
  const u8 = new Uint8Array(buf);
  u8.set([0x47, 0x4c, 0x42, 0x31], 0); // "GLB1"
  new DataView(buf).setUint32(4, headerBytes.length, true);
  u8.set(headerBytes, 8);
  for (const c of chunks) u8.set(new Uint8Array(c.bytes.buffer), 8 + headerBytes.length + c.offset);
  return buf;
}

test("decodes a frame with float, quantized and int arrays at 8-byte offsets", () => {
  const fake = new Float32Array([0.5, -1.25, 3, 4, 5, 6]);
  const fakeD = new Uint8Array([0, 255, 51]);
  const counts = new Int32Array([7, -8]);
  const header = {
    kind: "frame", frame: 12, iteration: 300, box: [0, 1, 0, 1],
    arrays: [
      { name: "fake", dtype: "f4", shape: [3, 2], offset: 0 },
      { name: "fake_d", dtype: "u1", shape: [3], offset: 24, min: 0, max: 1 },
      { name: "counts", dtype: "i4", shape: [2], offset: 32 },
    ],
  };
  const msg = decodeEnvelope(handMade(header, [
    { offset: 0, bytes: fake }, { offset: 24, bytes: fakeD }, { offset: 32, bytes: counts },
  ]));
  assert.equal(msg.header.kind, "frame");
  assert.equal(msg.header.iteration, 300);
  assert.deepEqual(Array.from(msg.arrays.fake.data), Array.from(fake));
  assert.deepEqual(msg.arrays.fake.shape, [3, 2]);
  assert.ok(msg.arrays.fake.data instanceof Float32Array);
  assert.deepEqual(Array.from(msg.arrays.counts.data), [7, -8]);
  const d = dequantize(msg.arrays.fake_d);
  assert.equal(d[0], 0);
  assert.equal(d[1], 1);
  assert.ok(Math.abs(d[2] - 0.2) < 1e-6);
  assert.ok(Math.abs(valueAt(msg.arrays.fake_d, 2) - 0.2) < 1e-6);
});

test("quantized ranges other than [0, 1] scale with min and max, u2 has 65535 levels", () => {
  const q = { data: new Uint8Array([0, 255, 128]), dtype: "u1", shape: [3], min: -2, max: 6 };
  const v = dequantize(q);
  assert.equal(v[0], -2);
  assert.equal(v[1], 6);
  assert.ok(Math.abs(v[2] - (-2 + (128 / 255) * 8)) < 1e-5);
  const w = { data: new Uint16Array([65535, 0]), dtype: "u2", shape: [2], min: 1, max: 3 };
  assert.deepEqual(Array.from(dequantize(w)), [3, 1]);
  assert.equal(valueAt(w, 0), 3);
  // An unquantized array is returned as is.
  assert.equal(valueAt({ data: new Float32Array([2.5]), dtype: "f4", shape: [1] }, 0), 2.5);
});

test("arrays are views over the received buffer, not copies", () => {
  const buf = handMade({ kind: "history", arrays: [{ name: "h", dtype: "f4", shape: [2, 2], offset: 0 }] },
    [{ offset: 0, bytes: new Float32Array([1, 2, 3, 4]) }]);
  const msg = decodeEnvelope(buf);
  assert.equal(msg.arrays.h.data.buffer, buf);
  assert.equal((msg.arrays.h.data.byteOffset) % 8, 0);
});

test("encode then decode round-trips header fields and arrays, with padding to 8", () => {
  const a = new Float32Array([1.5, 2.5, 3.5]);
  const b = new Uint8Array([9, 8, 7, 6, 5]);
  const buf = encodeEnvelope({ kind: "test", n: 3 }, [
    { name: "a", data: a, shape: [3], dtype: "f4" },
    { name: "b", data: b, shape: [5], dtype: "u1" },
  ]);
  const headerLength = new DataView(buf).getUint32(4, true);
  assert.equal((8 + headerLength) % 8, 0);
  const msg = decodeEnvelope(buf);
  assert.equal(msg.header.n, 3);
  assert.deepEqual(Array.from(msg.arrays.a.data), [1.5, 2.5, 3.5]);
  assert.deepEqual(Array.from(msg.arrays.b.data), [9, 8, 7, 6, 5]);
  assert.equal(msg.header.arrays[1].offset % 8, 0);
});

test("a run message carries raw bytes as its payload with no arrays", () => {
  const file = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const buf = encodeEnvelope({ kind: "run" }, [], file);
  const u8 = new Uint8Array(buf);
  assert.equal(String.fromCharCode(...u8.subarray(0, 4)), "GLB1");
  const headerLength = new DataView(buf).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + headerLength)));
  assert.deepEqual(header, { kind: "run", arrays: [] });
  assert.deepEqual(Array.from(u8.subarray(8 + headerLength)), Array.from(file));
});

test("malformed messages raise EnvelopeError", () => {
  assert.throws(() => decodeEnvelope(new ArrayBuffer(4)), EnvelopeError);
  const bad = new Uint8Array(16);
  bad.set([0x58, 0x58, 0x58, 0x58]);
  assert.throws(() => decodeEnvelope(bad.buffer), /magic/);
  const long = handMade({ kind: "frame", arrays: [] }, []);
  new DataView(long).setUint32(4, 9999, true);
  assert.throws(() => decodeEnvelope(long), /past the end/);
  const short = handMade({ kind: "frame", arrays: [{ name: "x", dtype: "f4", shape: [100], offset: 0 }] }, []);
  assert.throws(() => decodeEnvelope(short), /x: runs past the end/);
  const dtype = handMade({ kind: "frame", arrays: [{ name: "x", dtype: "f8", shape: [1], offset: 0 }] },
    [{ offset: 0, bytes: new Float64Array([1]) }]);
  assert.throws(() => decodeEnvelope(dtype), /unknown dtype/);
});
