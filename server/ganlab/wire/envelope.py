"""Binary messages of the live-session protocol (docs/protocol.md, "Binary messages").

One envelope for everything binary: ``GLB1``, a uint32 header length, a JSON header padded to
8 bytes, then raw little-endian arrays at 8-byte aligned offsets. `encode` and `decode` are
exact inverses (up to quantization), so the Python decoder doubles as the reference the
front end's decoder is tested against.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

import numpy as np

from ganlab.engine import bounded_json
from ganlab.engine.bounded_json import cut

MAGIC = b"GLB1"
DTYPES: dict[str, np.dtype[Any]] = {
    "f4": np.dtype("<f4"),
    "u1": np.dtype("u1"),
    "u2": np.dtype("<u2"),
    "i4": np.dtype("<i4"),
}
MAX_HEADER = 1 << 20
# Limits a hostile header is checked against (every real message is far inside them).
MAX_DIMS = 8
MAX_INT_DIGITS = 32


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
    if levels / (hi - lo) > float(np.finfo(np.float32).max):
        # A range so narrow (~1e-36) that its scale overflows float32: as good as flat.
        hi = lo + max(1.0, abs(lo) * 1e-6)
    # asarray: a 0-d input gives a NumPy scalar here, which cannot take `out=` below.
    scaled = np.asarray((v - np.float32(lo)) * np.float32(levels / (hi - lo)))
    # fmax/fmin skip NaN, so NaN becomes 0 and infinities the ends of the range.
    np.fmax(scaled, np.float32(0.0), out=scaled)
    np.fmin(scaled, np.float32(levels), out=scaled)
    np.rint(scaled, out=scaled)
    dtype = "u1" if q.bits == 8 else "u2"
    return scaled.astype(DTYPES[dtype]), {"dtype": dtype, "min": lo, "max": hi}


def encode(header: dict[str, Any],
           arrays: Mapping[str, np.ndarray | Quantized | Encoded] | None = None,
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


def _shown(value: Any) -> str:
    """A hostile value quoted in an error message, cut to a readable length."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = type(value).__name__
    return cut(text)


def decode_header(data: bytes) -> tuple[dict[str, Any], int]:
    """The header of an envelope and its length, without touching the arrays."""
    if len(data) < 8 or data[:4] != MAGIC:
        raise FrameError("not a binary message: missing GLB1")
    (size,) = struct.unpack("<I", data[4:8])
    if size > min(MAX_HEADER, len(data) - 8):
        raise FrameError("bad header length")
    try:
        header = bounded_json.loads(bytes(data[8 : 8 + size]), MAX_INT_DIGITS, finite=True)
    except bounded_json.JsonLimit as exc:  # 1e400 or a 5,000-digit integer: not from encode()
        raise FrameError(f"header holds {exc}") from None
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, nesting too deep
        raise FrameError("header is not JSON") from None
    if not isinstance(header, dict) or not isinstance(header.get("kind"), str):
        raise FrameError("header must be an object with a 'kind'")
    return header, size


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Layout:
    name: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    offset: int
    nbytes: int
    lo: float | None
    hi: float | None


def _layout(d: Any, body_size: int) -> _Layout:
    """Check one array description against the body's real size, before anything is read."""
    if not isinstance(d, dict):
        raise FrameError(f"an array description must be an object, got {_shown(d)}")
    name = d.get("name")
    if not isinstance(name, str):
        raise FrameError(f"an array needs a string 'name', got {_shown(d)}")
    label = _shown(name)
    dtype = DTYPES.get(d["dtype"]) if isinstance(d.get("dtype"), str) else None
    if dtype is None:
        raise FrameError(f"array {label}: 'dtype' must be one of {', '.join(DTYPES)}")
    shape = d.get("shape")
    if (not isinstance(shape, list) or len(shape) > MAX_DIMS
            or not all(_is_int(s) and s >= 0 for s in shape)):  # fmt: skip
        raise FrameError(f"array {label}: 'shape' must be a list of at most {MAX_DIMS} "
                         "non-negative integers")  # fmt: skip
    offset = d.get("offset")
    if not _is_int(offset) or offset < 0:
        raise FrameError(f"array {label}: 'offset' must be a non-negative integer")
    # Exact integer arithmetic: numpy's product would wrap around for huge claimed shapes.
    nbytes = math.prod(shape) * dtype.itemsize
    if offset + nbytes > body_size:
        raise FrameError(f"array {label} lies outside the message")
    lo, hi = d.get("min"), d.get("max")
    if lo is None and hi is None:
        return _Layout(name, dtype, tuple(shape), offset, nbytes, None, None)
    if dtype.kind != "u":
        raise FrameError(f"array {label}: 'min' and 'max' apply only to u1 and u2 arrays")
    if _is_number(lo) and _is_number(hi):
        # Finite: _header_int and _header_float checked every number of the header.
        return _Layout(name, dtype, tuple(shape), offset, nbytes, float(lo), float(hi))
    raise FrameError(f"array {label}: a quantized array needs numbers 'min' and 'max'")


def decode(data: bytes) -> Message:
    """Parse an envelope; quantized arrays come back as float32 values.

    Every malformed envelope raises FrameError, and no array is read or allocated before its
    claimed size is checked against the bytes that are really there.
    """
    header, size = decode_header(data)
    descriptions = header.get("arrays", [])
    if not isinstance(descriptions, list):
        raise FrameError("'arrays' must be a list")
    body = memoryview(data)[8 + size :]
    arrays: dict[str, np.ndarray] = {}
    end = 0
    for d in descriptions:
        a = _layout(d, len(body))
        view = body[a.offset : a.offset + a.nbytes]
        arr = np.frombuffer(view, dtype=a.dtype).reshape(a.shape)
        if a.lo is not None and a.hi is not None:
            levels = (1 << (8 * a.dtype.itemsize)) - 1
            with np.errstate(over="ignore", invalid="ignore"):  # extreme ranges give inf
                # asarray: a 0-d array's arithmetic gives a numpy scalar, not an array.
                arr = np.asarray(a.lo + arr.astype(np.float32) / levels * (a.hi - a.lo),
                                 dtype=np.float32)  # fmt: skip
        arrays[a.name] = arr
        end = max(end, a.offset + a.nbytes + _pad8(a.nbytes))
    return Message(header, arrays, bytes(body[end:]))
