"""What each binary message of the protocol holds: frames, history and walkthrough phases.

Built from engine objects (Picture, metric rows, walk traces) into `frames.encode` envelopes;
docs/protocol.md lists every field.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ganlab.engine.evaluation import BASELINE_HIGH, BASELINE_LOW, BASELINE_PAIRS, Band
from ganlab.engine.knn_metrics import KNN_K, knn_points
from ganlab.engine.picture import Picture
from ganlab.wire.envelope import Encoded, Quantized, encode, prepare

# New columns go at the end, so every earlier one keeps its place. D's penalties (each the
# weighted value added to D's loss) and `d_total` are NaN in rows of runs without them.
HISTORY_COLUMNS = (
    "iteration", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm",
    "kl_grid", "js_grid", "w1", "modes_covered", "modes_total", "high_quality_fraction",
    "reverse_kl", "d_gp", "d_r1", "d_r2", "d_total", "v_current", "v_optimal", "v_optimal_theory",
    "precision", "recall", "density", "coverage",
)  # fmt: skip


def history_array(rows: Sequence[dict[str, float]]) -> np.ndarray:
    """Metric rows as an (n, columns) float32 array; a value a row lacks is NaN."""
    out = np.full((len(rows), len(HISTORY_COLUMNS)), np.nan, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, name in enumerate(HISTORY_COLUMNS):
            if name in row:
                out[i, j] = row[name]
    return out


def mode_fields(rows: Sequence[dict[str, float]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header fields and arrays for the newest row's per-mode counts (evaluation.MetricRow),
    none when it has none (no modes, a non-finite generator, a row read from a run file)."""
    counts = getattr(rows[-1], "mode_counts", None) if rows else None
    if counts is None:
        return {}, {}
    header = {"mode_samples": counts.samples, "mode_iteration": rows[-1].get("iteration")}
    arrays = {"mode_nearest": counts.nearest, "mode_high_quality": counts.high_quality}
    return header, arrays


def _finite_or_none(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if np.isfinite(v) else None) for k, v in values.items()}


def _d_values(values: np.ndarray, output: str) -> Quantized:
    # Probabilities need no more than 256 levels (a colour map has no more); critic scores are
    # stretched over their own range.
    if output == "probability":
        return Quantized(values, 8, 0.0, 1.0)
    return Quantized(values, 8)


# Wire forms of the arrays a picture shares with the previous ones (real samples, the fakes'
# noise, the real density: fixed until the view changes), by the identity of the source array.
_CONSTANT_LIMIT = 1024
# Held weakly: an entry goes when its picture cache lets go of the array (a view changed, a
# session dropped), not after a thousand dead views have piled up in an engine process.
_constants: dict[int, tuple[weakref.ref[np.ndarray], Encoded]] = {}


def _forget(key: int, ref: weakref.ref[np.ndarray]) -> None:
    entry = _constants.get(key)
    if entry is not None and entry[0] is ref:
        del _constants[key]


def _constant(values: np.ndarray, make: Callable[[np.ndarray], Quantized] | None = None) -> Encoded:
    hit = _constants.get(id(values))
    if hit is not None and hit[0]() is values:
        return hit[1]
    if len(_constants) >= _CONSTANT_LIMIT:
        _constants.clear()
    ready = prepare(make(values) if make else values)
    ref = weakref.ref(values)
    _constants[id(values)] = (ref, ready)
    weakref.finalize(values, _forget, id(values), ref)
    return ready


def frame_message(picture: Picture, header: dict[str, Any], losses: dict[str, float],
                  rows: Sequence[dict[str, float]]) -> bytes:  # fmt: skip
    """A `frame`: the picture, the run's counters (`header`) and new metric rows."""
    p = picture
    arrays: dict[str, Any] = {
        "real": _constant(p.real),
        "real_d": _d_values(p.real_d, p.output),
        "fake": p.fake,
        "fake_noise": _constant(p.fake_noise),
        "fake_d": _d_values(p.fake_d, p.output),
        "fake_grad": p.fake_grad,
        **({"g_field": p.g_field} if p.g_field.size else {}),
        "d_grid": _d_values(p.d_grid, p.output),
        "manifold": p.manifold,
        "manifold_density": p.manifold_density,
        "real_density": _constant(p.real_density, lambda v: Quantized(v, 8, 0.0, None)),
        "history": history_array(rows),
    }
    mode_header, mode_arrays = mode_fields(rows)
    lens_header, lens_arrays = optimal_fields(p)
    full = {
        "kind": "frame",
        **header,
        "box": p.box,
        "output": "prob" if p.output == "probability" else "score",
        "noise_dim": int(p.fake_noise.shape[1]),
        # Packs each D value and G-loss gradient is averaged over (packing: partners).
        "partners": p.partners,
        # What `real_density` is: the law's own ("exact") or a kernel estimate ("kde") of
        # this width.
        "real_density_kind": p.real_density_kind,
        "real_density_width": p.real_density_width,
        "losses": _finite_or_none(losses),
        "history_columns": list(HISTORY_COLUMNS),
        **mode_header,
        **lens_header,
    }
    return encode(full, arrays | mode_arrays | lens_arrays)


def optimal_fields(p: Picture) -> tuple[dict[str, Any], dict[str, Any]]:
    """The optimal-discriminator lens (view.optimal): `d_optimal` as float32, so that its NaN
    (undefined) cells stay NaN, and how p_g was obtained (`fake_density`); none when off."""
    g = p.fake_density
    if p.d_optimal is None or g is None:
        return {}, {}
    how = {"kind": g.kind, "folds": bool(g.folds), "covered": g.covered,
           "samples": g.samples, "width": list(g.width) if g.width else None}  # fmt: skip
    return {"fake_density": how}, {"d_optimal": p.d_optimal.astype(np.float32, copy=False)}


def history_message(rows: Sequence[dict[str, float]]) -> bytes:
    mode_header, mode_arrays = mode_fields(rows)
    return encode({"kind": "history", "history_columns": list(HISTORY_COLUMNS), **mode_header},
                  {"history": history_array(rows), **mode_arrays})  # fmt: skip


def phase_message(network: str, phase: str, index: int, values: dict[str, Any]) -> bytes:
    """One walkthrough phase: scalars in the header, arrays as float32."""
    scalars: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value.astype(np.float32, copy=False)
        elif isinstance(value, list | tuple):
            scalars[key] = [float(v) if np.isfinite(v) else None for v in value]
        else:
            scalars[key] = float(value) if np.isfinite(value) else None
    header = {"kind": "phase", "network": network, "phase": phase, "index": index,
              "values": scalars}  # fmt: skip
    return encode(header, arrays)


def run_message(data: bytes, filename: str) -> bytes:
    return encode({"kind": "run", "filename": filename}, payload=data)


def baseline_field(bands: dict[str, Band], samples: int, w1_samples: int) -> dict[str, Any]:
    """The real-vs-real baseline as `hello` and `config` carry it (docs/protocol.md): per
    metric its mean and BASELINE_LOW-BASELINE_HIGH percentiles over `pairs` real pairs, and
    the k and points a side of the k-NN scores (precision, recall, density, coverage)."""
    return {
        "samples": samples,
        "w1_samples": w1_samples,
        "pairs": BASELINE_PAIRS,
        "knn_k": KNN_K,
        "knn_samples": knn_points(samples),
        "percentiles": [BASELINE_LOW, BASELINE_HIGH],
        "metrics": {
            name: {"mean": b.mean, "low": b.low, "high": b.high}
            for name, b in bands.items()
            if np.isfinite([b.mean, b.low, b.high]).all()
        },
    }
