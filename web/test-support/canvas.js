// A stand-in 2D canvas context for tests: every drawing call is kept in `calls` as
// [name, ...args], properties set on it stay readable, and image data comes back as real
// arrays (views fill them pixel by pixel).
export function recordingContext() {
  const calls = [];
  const target = {
    calls,
    createImageData: (w, h) => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) }),
  };
  return new Proxy(target, {
    get: (t, prop) => (prop in t ? t[prop] : (...args) => calls.push([prop, ...args])),
    set: (t, prop, value) => ((t[prop] = value), true),
  });
}
