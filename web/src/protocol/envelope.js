// The binary envelope of docs/protocol.md: "GLB1", uint32 header length, a JSON header padded
// so the payload starts at a multiple of 8, then the arrays, each at a multiple of 8 from the
// payload start. All little-endian. Decoding wraps the arrays as typed-array views over the
// received buffer: nothing is copied.

export const MAGIC = "GLB1";

const DTYPES = {
  f4: { ctor: Float32Array, bytes: 4 },
  u1: { ctor: Uint8Array, bytes: 1 },
  u2: { ctor: Uint16Array, bytes: 2 },
  i4: { ctor: Int32Array, bytes: 4 },
};

export class EnvelopeError extends Error {}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decode one binary message.
 * @param {ArrayBuffer} buffer
 * @returns {{header: object, arrays: Object<string, DecodedArray>, payload: Uint8Array, buffer: ArrayBuffer}}
 * where DecodedArray = {data: TypedArray, shape: number[], dtype: string, min?, max?}
 */
export function decodeEnvelope(buffer) {
  if (!(buffer instanceof ArrayBuffer)) throw new EnvelopeError("expected an ArrayBuffer");
  if (buffer.byteLength < 8) throw new EnvelopeError("message shorter than its preamble");
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== MAGIC) throw new EnvelopeError(`bad magic ${JSON.stringify(magic)}`);
  const view = new DataView(buffer);
  const headerLength = view.getUint32(4, true);
  if (8 + headerLength > buffer.byteLength) throw new EnvelopeError("header runs past the end");
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw new EnvelopeError(`header is not JSON: ${err.message}`);
  }
  if (!header || typeof header !== "object" || typeof header.kind !== "string") {
    throw new EnvelopeError("header has no kind");
  }
  const payloadStart = 8 + headerLength;
  const arrays = {};
  for (const spec of header.arrays || []) {
    arrays[spec.name] = decodeArray(buffer, payloadStart, spec);
  }
  return { header, arrays, payload: new Uint8Array(buffer, payloadStart), buffer };
}

function decodeArray(buffer, payloadStart, spec) {
  const type = DTYPES[spec.dtype];
  if (!type) throw new EnvelopeError(`${spec.name}: unknown dtype ${spec.dtype}`);
  const shape = spec.shape || [];
  const count = shape.reduce((a, b) => a * b, 1);
  const start = payloadStart + (spec.offset || 0);
  const end = start + count * type.bytes;
  if (end > buffer.byteLength) throw new EnvelopeError(`${spec.name}: runs past the end`);
  let data;
  if (start % type.bytes === 0 && littleEndian) {
    data = new type.ctor(buffer, start, count);
  } else {
    // Misaligned (a server bug, but stay readable): copy.
    data = new type.ctor(buffer.slice(start, end));
  }
  const out = { data, shape, dtype: spec.dtype };
  if (spec.min !== undefined && spec.max !== undefined) {
    out.min = spec.min;
    out.max = spec.max;
  }
  return out;
}

/** The real value of element `i` of a (possibly quantized) array. */
export function valueAt(array, i) {
  const q = array.data[i];
  if (array.min === undefined) return q;
  const levels = array.dtype === "u2" ? 65535 : 255;
  return array.min + (q / levels) * (array.max - array.min);
}

/** A Float32Array with the real values of a (possibly quantized) array. */
export function dequantize(array) {
  if (array.min === undefined) return Float32Array.from(array.data);
  const levels = array.dtype === "u2" ? 65535 : 255;
  const scale = (array.max - array.min) / levels;
  const out = new Float32Array(array.data.length);
  for (let i = 0; i < out.length; i++) out[i] = array.min + array.data[i] * scale;
  return out;
}

/**
 * Encode one binary message (used to send a run file with header {kind: "run"}).
 * @param {object} header without `arrays`
 * @param {{name: string, data: TypedArray, shape: number[], dtype: string}[]} arrays
 * @param {Uint8Array} [payload] raw bytes appended when there are no arrays
 */
export function encodeEnvelope(header, arrays = [], payload = null) {
  const specs = [];
  let offset = 0;
  for (const a of arrays) {
    specs.push({ name: a.name, dtype: a.dtype, shape: a.shape, offset });
    offset += Math.ceil(a.data.byteLength / 8) * 8;
  }
  const payloadLength = payload ? payload.byteLength : offset;
  let json = JSON.stringify({ ...header, arrays: specs });
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil((8 + headerBytes.length) / 8) * 8 - 8;
  json += " ".repeat(padded - headerBytes.length);
  headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + payloadLength);
  for (let i = 0; i < 4; i++) out[i] = MAGIC.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, headerBytes.length, true);
  out.set(headerBytes, 8);
  const start = 8 + headerBytes.length;
  if (payload) {
    out.set(payload, start);
  } else {
    arrays.forEach((a, i) => {
      out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), start + specs[i].offset);
    });
  }
  return out.buffer;
}
