"""Custom data: strokes drawn by the user, or a point set imported from CSV or JSON."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ganlab.engine import bounded_json
from ganlab.engine.bounded_json import SHOWN, cut
from ganlab.engine.distributions.base import Box, Distribution
from ganlab.engine.distributions.laws import GaussianSum, blurred_segments

GROUP = "custom"
UNIT_BOX = Box(0.0, 1.0, 0.0, 1.0)

StrokeList = Sequence[Sequence[Sequence[float]]]


# Coordinates beyond this are refused: they overflow float32 arithmetic (view boxes, grids).
MAX_COORDINATE = 1e6
# Drawn strokes live in the unit square; a little slack for brush overshoot at the borders.
STROKE_RANGE = (-0.5, 1.5)
# Longer JSON integers are refused while parsing: Python's own limit (4,300 digits) raises an
# error naming its internals, and any coordinate past 7 digits is out of range anyway.
MAX_INT_DIGITS = 400


class PointsError(ValueError):
    """A point set that could not be read; `line` is 1-based (0 when no line applies)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line > 0 else message)
        self.line = line
        self.message = message


# --------------------------------------------------------------------------- validation


def _stroke_array(stroke: Any, index: int) -> np.ndarray:
    try:
        arr = np.asarray(stroke, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"stroke {index}: points must be pairs of numbers") from None
    if arr.size == 0:
        raise ValueError(f"stroke {index} is empty")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"stroke {index}: points must be pairs of numbers")
    if not np.isfinite(arr).all():
        raise ValueError(f"stroke {index}: coordinates must be finite numbers")
    lo, hi = STROKE_RANGE
    if arr.min() < lo or arr.max() > hi:
        raise ValueError(f"stroke {index}: coordinates must be in [{lo}, {hi}] (the unit square)")
    return arr


def _check_strokes(strokes: StrokeList | None) -> list[np.ndarray]:
    from ganlab.engine.config import MAX_STROKE_POINTS

    if strokes is None or len(strokes) == 0:
        raise ValueError("a drawing needs at least one stroke; strokes is empty")
    total = sum(len(stroke) for stroke in strokes)
    if total > MAX_STROKE_POINTS:
        raise ValueError(f"strokes hold {total} points; at most {MAX_STROKE_POINTS} are allowed")
    return [_stroke_array(stroke, i) for i, stroke in enumerate(strokes)]


def _check_points(points: Any) -> np.ndarray:
    from ganlab.engine.config import MAX_POINTS

    if points is None or len(points) == 0:
        raise ValueError("a point set needs at least one point; points is empty")
    if len(points) > MAX_POINTS:
        raise ValueError(f"{len(points)} points given; at most {MAX_POINTS} are allowed")
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("points must be pairs of numbers") from None
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError("points must be pairs of numbers")
    if not np.isfinite(arr).all():
        raise ValueError("points: coordinates must be finite numbers")
    if np.abs(arr).max() > MAX_COORDINATE:
        raise ValueError(f"points: coordinates must be within ±{MAX_COORDINATE:g}")
    return arr


def validate_custom(strokes: StrokeList | None, points: Any, *, name: str | None = None) -> None:
    """Raise ValueError with a clear message when custom data is missing or malformed.

    Whichever of `strokes` and `points` is given is checked. With `name` ("drawing" or
    "points") the matching one is required; without it, both being None is an error.
    """
    if name == "drawing" or (name is None and strokes is not None):
        _check_strokes(strokes)
    if name == "points" or (name is None and points is not None):
        _check_points(points)
    if name is None and strokes is None and points is None:
        raise ValueError(
            "custom data is missing: name='drawing' needs strokes, name='points' needs points"
        )


# --------------------------------------------------------------------------- drawing


def resample_stroke(points: Any, spacing: float) -> np.ndarray:
    """Points evenly spaced by arc length along a polyline, both ends included.

    The step is the polyline's length divided by ceil(length / spacing), so it is at most
    `spacing`. A single point or a polyline of zero length gives its first point.
    """
    if not spacing > 0:
        raise ValueError("spacing must be positive")
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError("a stroke needs at least one point")
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])
    if length == 0.0:
        return pts[:1].copy()
    steps = max(1, math.ceil(length / spacing - 1e-9))
    s = np.linspace(0.0, length, steps + 1)
    return np.stack([np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])], axis=1)


def from_strokes(strokes: StrokeList, brush_width: float) -> Distribution:
    """The distribution of a drawing: even along the strokes by arc length, then blurred.

    A position is drawn uniformly over the total length of all strokes and interpolated
    linearly on its segment, however many points the mouse recorded there. A tap (a stroke
    of one point, or of zero length) is a dot that counts as `brush_width` of length.
    Gaussian jitter of σ = brush_width / 4 per axis follows, so the band of width
    `brush_width` (±2σ about the stroke) holds about 95% of the samples.
    """
    if not brush_width > 0:
        raise ValueError("brush_width must be positive")
    arrays = _check_strokes(strokes)
    starts, ends, lengths = [], [], []
    for arr in arrays:
        seg = np.linalg.norm(np.diff(arr, axis=0), axis=1)
        if len(seg) == 0 or seg.sum() == 0.0:
            starts.append(arr[:1])
            ends.append(arr[:1])
            lengths.append(np.array([brush_width]))
            continue
        keep = seg > 0
        starts.append(arr[:-1][keep])
        ends.append(arr[1:][keep])
        lengths.append(seg[keep])
    a = torch.from_numpy(np.concatenate(starts))
    delta = torch.from_numpy(np.concatenate(ends)) - a
    seg_len = torch.from_numpy(np.concatenate(lengths))
    cum = torch.cumsum(seg_len, 0)
    total = float(cum[-1])
    last = len(seg_len) - 1
    sigma = brush_width / 4

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        pos = torch.rand(n, generator=generator, dtype=torch.float64) * total
        idx = torch.searchsorted(cum, pos, right=True).clamp_(max=last)
        frac = ((pos - (cum[idx] - seg_len[idx])) / seg_len[idx]).clamp_(0.0, 1.0)
        on_stroke = a[idx] + frac.unsqueeze(1) * delta[idx]
        jitter = torch.randn(n, 2, generator=generator, dtype=torch.float64) * sigma
        return (on_stroke + jitter).float()

    # The same law exactly: a dot (delta 0) has the weight of its counted length.
    law = blurred_segments(a.numpy(), delta.numpy(), (seg_len / total).numpy(), sigma)
    return Distribution(
        name="drawing",
        title="Drawing",
        description="Your strokes, sampled evenly along their length with the brush's width.",
        box=UNIT_BOX,
        sampler=sample,
        group=GROUP,
        law=law,
    )


# --------------------------------------------------------------------------- point sets


def points_box(points: np.ndarray) -> Box:
    """The square around the points' bounding box, with a 10% margin (±0.1 at least)."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    cx, cy = (lo + hi) / 2
    side = float((hi - lo).max())
    half = max(0.6 * side, 0.1)
    return Box(float(cx - half), float(cx + half), float(cy - half), float(cy + half))


def from_points(points: Any, jitter: float) -> Distribution:
    """Uniform with replacement over an imported point set, plus Gaussian jitter σ=`jitter`."""
    if not jitter >= 0:
        raise ValueError("jitter must be non-negative")
    arr = _check_points(points)
    table = torch.from_numpy(arr).float()
    count = len(table)

    def sample(n: int, generator: torch.Generator) -> torch.Tensor:
        out = table[torch.randint(0, count, (n,), generator=generator)]
        if jitter > 0:
            out = out + jitter * torch.randn(n, 2, generator=generator)
        return out

    # The points as sampled (in float32). With jitter the law is a mixture of Gaussians on
    # them; without, it is the points themselves, which have no density.
    exact = table.double().numpy()
    law = None
    if jitter > 0:
        law = GaussianSum(np.full(count, 1.0 / count), exact, np.full_like(exact, jitter))
    return Distribution(
        name="points",
        title="Imported points",
        description=f"{count} imported points, sampled uniformly with jitter σ={jitter:g}.",
        box=points_box(arr),
        sampler=sample,
        group=GROUP,
        law=law,
        atoms=None if law else exact,
    )


# --------------------------------------------------------------------------- parsing

_SEPARATORS = re.compile(r"[,;\t]")


def _finish(rows: list[tuple[float, float]]) -> np.ndarray:
    if not rows:
        raise PointsError(0, "no points found")
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def _quoted(line: str) -> str:
    """A line of the user's text for an error message, cut to about SHOWN characters."""
    return repr(line) if len(line) <= SHOWN else repr(line[: SHOWN - 3]) + "..."


def _float_or_none(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None


def parse_points_csv(text: str) -> np.ndarray:
    """Rows `x,y` (or `;`/tab separated); an optional header row; blank lines are skipped.

    The first non-blank row is a header when none of its fields is a number.
    """
    from ganlab.engine.config import MAX_POINTS

    rows: list[tuple[float, float]] = []
    first = True
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        fields = [f.strip() for f in _SEPARATORS.split(line)]
        values = [_float_or_none(f) for f in fields]
        if first and all(v is None for v in values):
            first = False
            continue
        first = False
        if len(fields) != 2 or values[0] is None or values[1] is None:
            raise PointsError(number, f"expected 2 numbers, got {_quoted(line)}")
        x, y = values[0], values[1]
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PointsError(number, f"coordinates must be finite numbers, got {_quoted(line)}")
        if max(abs(x), abs(y)) > MAX_COORDINATE:
            raise PointsError(number, f"coordinates must be within ±{MAX_COORDINATE:g}, "
                              f"got {_quoted(line)}")  # fmt: skip
        if len(rows) == MAX_POINTS:
            raise PointsError(number, f"too many points: at most {MAX_POINTS} are allowed")
        rows.append((x, y))
    return _finish(rows)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def _item_offsets(text: str, top: Any) -> list[int] | None:
    """Best effort: where each item of the point array starts in `text` (None if unsure)."""
    decoder = json.JSONDecoder()
    try:
        i = _skip_ws(text, 0)
        if isinstance(top, dict):
            # Walk the object's keys to the start of the last "points" value.
            if text[i] != "{":
                return None
            i = _skip_ws(text, i + 1)
            found = None
            while i < len(text) and text[i] != "}":
                key, i = decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                i = _skip_ws(text, i + 1)  # past ':'
                if key == "points":
                    found = i
                _, i = decoder.raw_decode(text, i)
                i = _skip_ws(text, i)
                if text[i] == ",":
                    i = _skip_ws(text, i + 1)
            if found is None:
                return None
            i = found
        if text[i] != "[":
            return None
        i = _skip_ws(text, i + 1)
        offsets: list[int] = []
        while i < len(text) and text[i] != "]":
            offsets.append(i)
            _, i = decoder.raw_decode(text, i)
            i = _skip_ws(text, i)
            if text[i] == ",":
                i = _skip_ws(text, i + 1)
        return offsets
    except (ValueError, IndexError):
        return None


def _line_of_long_integer(text: str) -> int:
    """The line of the first integer token over MAX_INT_DIGITS digits (0 if none is found)."""
    found = re.search(rf"(?<![\w.])-?\d{{{MAX_INT_DIGITS + 1},}}(?![\w.])", text)
    return _line_of(text, found.start()) if found else 0


def _shown_json(item: Any) -> str:
    return cut(json.dumps(item))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer too large for a float
        return math.inf


def parse_points_json(text: str) -> np.ndarray:
    """`[[x, y], ...]`, `[{"x": .., "y": ..}, ...]` or `{"points": [...]}`.

    Item errors name the item as `points[i]` (0-based) and, when it can be found, the line
    where the item starts.
    """
    text = text.lstrip("\ufeff")
    try:
        # NaN and Infinity parse: the point checks below say which item holds one.
        top = bounded_json.loads(text, MAX_INT_DIGITS, constants=True)
    except bounded_json.JsonLimit as exc:
        message = f"{exc}; coordinates must be within ±{MAX_COORDINATE:g}"
        raise PointsError(_line_of_long_integer(text), message) from None
    except json.JSONDecodeError as exc:
        raise PointsError(exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise PointsError(1, "invalid JSON: nested too deeply") from None
    items = top.get("points") if isinstance(top, dict) else top
    if not isinstance(items, list):
        raise PointsError(1, 'expected a list of points or an object {"points": [...]}')
    offsets = _item_offsets(text, top)
    if offsets is not None and len(offsets) != len(items):
        offsets = None

    def where(index: int) -> int:
        return _line_of(text, offsets[index]) if offsets is not None else 0

    if not items:
        raise PointsError(0, "no points found")
    from ganlab.engine.config import MAX_POINTS

    if len(items) > MAX_POINTS:
        raise PointsError(
            where(MAX_POINTS), f"too many points: {len(items)}; at most {MAX_POINTS} are allowed"
        )
    rows: list[tuple[float, float]] = []
    for index, item in enumerate(items):
        if isinstance(item, dict):
            x, y = _number(item.get("x")), _number(item.get("y"))
        elif isinstance(item, list) and len(item) == 2:
            x, y = _number(item[0]), _number(item[1])
        else:
            x = y = None
        if x is None or y is None:
            raise PointsError(
                where(index),
                f'points[{index}]: expected [x, y] or {{"x": .., "y": ..}}, '
                f"got {_shown_json(item)}",
            )
        if not (math.isfinite(x) and math.isfinite(y)):
            raise PointsError(where(index), f"points[{index}]: coordinates must be finite, "
                              f"got {_shown_json(item)}")  # fmt: skip
        if max(abs(x), abs(y)) > MAX_COORDINATE:
            raise PointsError(where(index), f"points[{index}]: coordinates must be within "
                              f"±{MAX_COORDINATE:g}, got {_shown_json(item)}")  # fmt: skip
        rows.append((x, y))
    return _finish(rows)


def parse_points(text: str, filename_or_format: str | None = None) -> np.ndarray:
    """Parse by format ("csv", "json") or file extension; otherwise guess from the text."""
    key = (filename_or_format or "").strip().lower()
    suffix = key.rsplit(".", 1)[-1]
    if suffix == "json":
        return parse_points_json(text)
    if suffix in ("csv", "tsv", "txt"):
        return parse_points_csv(text)
    if text.lstrip("\ufeff \t\r\n")[:1] in ("[", "{"):
        return parse_points_json(text)
    return parse_points_csv(text)
