"""Binary messages of the live-session protocol (docs/protocol.md, "Binary messages").

One envelope for everything binary: ``GLB1``, a uint32 header length, a JSON header padded to
8 bytes, then raw little-endian arrays at 8-byte aligned offsets. `encode` and `decode` are
exact inverses (up to quantization), so the Python decoder doubles as the reference the
front end's decoder is tested against.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GLB1"
DTYPES = {"f4": np.dtype("<f4"), "u1": np.dtype("u1"), "u2": np.dtype("<u2"), "i4": np.dtype("<i4")}
MAX_HEADER = 1 << 20


class FrameError(ValueError):
    """Bytes that are not a valid envelope."""


@dataclass
class Quantized:
    """An array to be stored as uint8/uint16 over [lo, hi]; NaN and inf are clamped."""

    values: np.ndarray
    bits: int = 8
    lo: float | None = None
    hi: float | None = None


@dataclass(frozen=True)
class Encoded:
    """An array already in its wire form (see `prepare`), for arrays sent unchanged often."""

    raw: bytes  # padded to a multiple of 8
    description: dict[str, Any]  # shape, dtype and range; the offset is set per message


def prepare(value: np.ndarray | Quantized) -> Encoded:
    """Convert an array to its wire form once, to be placed in many messages."""
    if isinstance(value, Quantized):
        data, desc = _quantize(value)
    else:
        data = np.asarray(value)
        kind = "i4" if data.dtype.kind in "iu" else "f4"
        data, desc = data.astype(DTYPES[kind], copy=False), {"dtype": kind}
    raw = data.tobytes()  # C order, whatever the array's layout
    pad = _pad8(len(raw))
    return Encoded(raw + b"\0" * pad if pad else raw, {"shape": list(data.shape), **desc})


@dataclass
class Message:
    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    payload: bytes = b""


def _pad8(n: int) -> int:
    return (-n) % 8


def _quantize(q: Quantized) -> tuple[np.ndarray, dict[str, Any]]:
    v = np.asarray(q.values, dtype=np.float32)
    lo, hi = q.lo, q.hi
    if lo is None or hi is None:
        finite = v[np.isfinite(v)]
        lo = lo if lo is not None else (float(finite.min()) if finite.size else 0.0)
        hi = hi if hi is not None else (float(finite.max()) if finite.size else 1.0)
    if not hi > lo:
        # A flat field: any wider range will do; lo + 1 is lo itself for huge values.
        hi = lo + max(1.0, abs(lo) * 1e-6)
    if not np.isfinite(hi - lo) or not hi > lo:
        lo, hi = 0.0, 1.0
    levels = (1 << q.bits) - 1
    scaled = (v - np.float32(lo)) * np.float32(levels / (hi - lo))
    # fmax/fmin skip NaN, so NaN becomes 0 and infinities the ends of the range.
    np.fmax(scaled, np.float32(0.0), out=scaled)
    np.fmin(scaled, np.float32(levels), out=scaled)
    np.rint(scaled, out=scaled)
    dtype = "u1" if q.bits == 8 else "u2"
    return scaled.astype(DTYPES[dtype]), {"dtype": dtype, "min": lo, "max": hi}


def encode(header: dict[str, Any],
           arrays: dict[str, np.ndarray | Quantized | Encoded] | None = None,
           payload: bytes = b"") -> bytes:  # fmt: skip
    """One binary message: `header` (must hold `kind`) plus arrays, or plus a raw payload."""
    descriptions: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    offset = 0
    for name, value in (arrays or {}).items():
        ready = value if isinstance(value, Encoded) else prepare(value)
        descriptions.append({"name": name, **ready.description, "offset": offset})
        chunks.append(ready.raw)
        offset += len(ready.raw)
    head = json.dumps({**header, "arrays": descriptions}, separators=(",", ":"),
                      allow_nan=False).encode()  # fmt: skip
    head += b" " * _pad8(len(head))
    return b"".join([MAGIC, struct.pack("<I", len(head)), head, *chunks, payload])


def decode_header(data: bytes) -> tuple[dict[str, Any], int]:
    """The header of an envelope and its length, without touching the arrays."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise FrameError("not a binary message: missing GLB1")
    (size,) = struct.unpack("<I", data[4:8])
    if size > min(MAX_HEADER, len(data) - 8):
        raise FrameError("bad header length")
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FrameError("header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        raise FrameError("header must be an object with a 'kind'")
    return header, size


def decode(data: bytes) -> Message:
    """Parse an envelope; quantized arrays come back as float32 values."""
    header, size = decode_header(data)
    descriptions = header.get("arrays", [])
    if not isinstance(descriptions, list):
        raise FrameError("'arrays' must be a list")
    body = memoryview(data)[8 + size :]
    arrays: dict[str, np.ndarray] = {}
    end = 0
    for d in descriptions:
        try:
            dtype = DTYPES[d["dtype"]]
            shape = tuple(int(s) for s in d["shape"])
            offset = int(d["offset"])
            count = int(np.prod(shape)) if shape else 1
            nbytes = count * dtype.itemsize
            if offset < 0 or offset + nbytes > len(body) or min(shape, default=0) < 0:
                raise FrameError(f"array {d.get('name')!r} lies outside the message")
            arr = np.frombuffer(body[offset : offset + nbytes], dtype=dtype).reshape(shape)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, FrameError):
                raise
            raise FrameError(f"bad array description {d!r}") from None
        if "min" in d:
            levels = (1 << (8 * dtype.itemsize)) - 1
            lo, hi = float(d["min"]), float(d["max"])
            arr = (lo + arr.astype(np.float32) / levels * (hi - lo)).astype(np.float32)
        arrays[str(d["name"])] = arr
        end = max(end, offset + nbytes + _pad8(nbytes))
    return Message(header, arrays, bytes(body[end:]))
