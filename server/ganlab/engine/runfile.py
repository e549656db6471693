"""Save and load a whole run as one file that is safe to open from an untrusted source.

The file is a safetensors file: raw tensors (weights, optimizer state, random streams) plus
a JSON metadata header (format, version, config, metric history). Nothing is unpickled, so
loading cannot run code; every field is validated before the run is rebuilt.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ganlab.engine import bounded_json
from ganlab.engine import timeline_file as tf
from ganlab.engine.bounded_json import cut
from ganlab.engine.config import MAX_POINTS, MAX_STROKE_POINTS, ConfigError, parse_config
from ganlab.engine.streams import CHUNK
from ganlab.engine.timeline import Policy, Timeline
from ganlab.engine.trainer import Trainer

FORMAT = "ganlab-run"
VERSION = 1
MAX_BYTES = 256 * 1024 * 1024
# A live run records a metric row every `metrics.every` iterations (100 by default) while rows
# take at most a tenth of its time: about 17 rows a second at default settings, some 60,000 in
# an hour (the CLI keeps about 100 a run). Files keep at most this many rows (`dumps` thins a
# longer history), so a hostile file cannot make the loader build millions of rows.
MAX_HISTORY_ROWS = 100_000
MAX_ROW_KEYS = 32  # a metric row has at most 25 (wire.messages.HISTORY_COLUMNS)
MAX_KEY_CHARS = 64
# A metric row takes about 450 bytes of header: room for MAX_HISTORY_ROWS of them.
MAX_HEADER = 64 * 1024 * 1024
# JSON containers and values a header may hold, counted by their bytes before it is parsed:
# history rows and their values, drawn or imported points (in the config), and the tensors.
# A run's time-travel history (timeline_file.py) adds its snapshots' tensors (each an object
# and two lists in the safetensors header), its log entries, configs and data sections.
_TENSORS = 64 * tf.MAX_SNAPSHOTS
_DATA = 2 * MAX_STROKE_POINTS + MAX_POINTS
MAX_HEADER_OBJECTS = MAX_HISTORY_ROWS + 1024 + _TENSORS + 64 * tf.MAX_CONFIGS
MAX_HEADER_LISTS = (_DATA * (1 + tf.MAX_DATA) + 1024 + 2 * _TENSORS + tf.MAX_ENTRIES
                    + tf.MAX_SNAPSHOTS)  # fmt: skip
MAX_HEADER_VALUES = (MAX_HISTORY_ROWS * MAX_ROW_KEYS + 2 * _DATA * (1 + tf.MAX_DATA) + 4096
                     + 6 * _TENSORS + 5 * tf.MAX_ENTRIES + 3 * tf.MAX_SNAPSHOTS
                     + 256 * tf.MAX_CONFIGS)  # fmt: skip
# Longer integers are refused while parsing: Python's own limit (4,300 digits) raises a
# ValueError naming its internals, and no field takes numbers anywhere near this long.
MAX_INT_DIGITS = 400
# Iteration, update and optimizer step counters: integers JSON and JavaScript hold exactly
# (they are sent in frames and events). Far beyond any run, so a file over it is forged.
MAX_COUNT = 2**53
_FLOAT = {float}
# Metadata key of a live session's own settings in its checkpoint (live/checkpoints.py).
SESSION_KEY = "session"


class RunFileError(ValueError):
    """The file is not a valid ganlab run; the message says what is wrong."""


def thinned(history: list[dict[str, float]], limit: int) -> list[dict[str, float]]:
    """At most `limit` rows, evenly spread and keeping the first and the last, so that every
    file `dumps` writes loads again however long the run was."""
    n = len(history)
    if n <= limit:
        return history
    return [history[(i * (n - 1)) // (limit - 1)] for i in range(limit)]


def dumps(
    trainer: Trainer,
    timeline: Timeline | None = None,
    max_bytes: int = MAX_BYTES,
    extra: dict[str, Any] | None = None,
) -> bytes:
    """The run as file bytes; with its `timeline` (the history since its last reset, whose
    head must be the run), as much of it as keeps the file within `max_bytes`: the oldest
    snapshots are dropped first, never the head. `extra`: a live session's own settings,
    kept as JSON text under the metadata key "session" (read back by `session_meta`)."""
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        "config": trainer.config.model_dump_json(),
        "history": json.dumps(thinned(trainer.history, MAX_HISTORY_ROWS)),
    }
    if extra is not None:
        metadata[SESSION_KEY] = json.dumps(extra)
    tensors = trainer.state()
    if timeline is not None:
        if timeline.iteration != trainer.iteration:
            raise ValueError("the timeline's head is not the run's iteration")
        room = max_bytes - sum(v.nbytes for v in tensors.values()) - 2**16
        room -= sum(len(v) for v in metadata.values())
        snaps, metadata["timeline"] = tf.encode(tf.fit(timeline, room))
        tensors = {**tensors, **snaps}
    return save_tensors(tensors, metadata=metadata)


def save(trainer: Trainer, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(dumps(trainer))
    return path


def _json(text: str | bytes, what: str) -> Any:
    """Parse one JSON text of the file; `what` names it in the error."""
    try:
        return bounded_json.loads(text, MAX_INT_DIGITS, constants=True)
    except bounded_json.JsonLimit as exc:
        raise RunFileError(f"{what} holds {exc}") from None
    except (ValueError, RecursionError):  # bad UTF-8, bad JSON, nesting too deep
        raise RunFileError(f"{what} is not JSON") from None


def _check_complexity(head: bytes) -> None:
    """Refuse a header whose parse would build more objects than a run file ever holds.

    Counting bytes is cheap and overcounts (strings may hold the same characters), so a
    valid file always passes while a few megabytes of `[]` or `{}` never reach json.loads,
    which would spend seconds and gigabytes building them.
    """
    for char, limit, what in ((b"{", MAX_HEADER_OBJECTS, "objects"),
                              (b"[", MAX_HEADER_LISTS, "lists"),
                              (b",", MAX_HEADER_VALUES, "values")):  # fmt: skip
        if head.count(char) > limit:
            raise RunFileError(f"run file header holds more than {limit} JSON {what}; a run "
                               f"file keeps at most {MAX_HISTORY_ROWS} history rows")  # fmt: skip


def _metadata(data: bytes) -> dict[str, str]:
    if len(data) < 8:
        raise RunFileError("not a run file: too short")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_HEADER, len(data) - 8):
        raise RunFileError("not a run file: bad header length")
    head = data[8 : 8 + size]
    _check_complexity(head)
    header = _json(head, "not a run file: header")
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise RunFileError("not a ganlab run file")
    if meta.get("version") != str(VERSION):
        version = cut(repr(meta.get("version")))
        raise RunFileError(f"unsupported run file version {version}; need {VERSION}")
    return meta


def session_meta(data: bytes) -> dict[str, Any] | None:
    """The live session's settings `dumps` kept with the run (`extra`), or None when the
    file has none (a run file a client saved). Only the header is read; raises RunFileError
    for a file that is not a run file or whose settings are not a JSON object."""
    text = _metadata(data).get(SESSION_KEY)
    if text is None:
        return None
    found = _json(text, "run file metadata is damaged: session") if isinstance(text, str) else 0
    if not isinstance(found, dict):
        raise RunFileError("run file metadata is damaged: session must be a JSON object")
    return found


def _history(rows: Any) -> list[dict[str, float]]:
    """Metric rows: a list of flat objects of metric name -> number (null: no value)."""
    if not isinstance(rows, list):
        raise RunFileError("run file history is damaged: it must be a list of rows")
    if len(rows) > MAX_HISTORY_ROWS:
        raise RunFileError(f"run file history has {len(rows)} rows; at most "
                           f"{MAX_HISTORY_ROWS} are allowed")  # fmt: skip
    out: list[dict[str, float]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or len(row) > MAX_ROW_KEYS:
            raise RunFileError(f"run file history is damaged: row {i} must be an object of at "
                               f"most {MAX_ROW_KEYS} metrics")  # fmt: skip
        # What dumps writes (floats only) passes at C speed: map, not a Python loop.
        if (
            set(map(type, row.values())) <= _FLOAT
            and max(map(len, row), default=0) <= MAX_KEY_CHARS
        ):
            out.append(row)
            continue
        clean: dict[str, float] = {}
        for key, value in row.items():
            if len(key) > MAX_KEY_CHARS:
                raise RunFileError(f"run file history is damaged: row {i} has a metric name "
                                   f"over {MAX_KEY_CHARS} characters")  # fmt: skip
            if value is None:
                continue  # no value: a gap in the charts, as a missing key
            try:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise TypeError
                clean[key] = float(value)
            except (TypeError, OverflowError):
                raise RunFileError(f"run file history is damaged: row {i}, {cut(repr(key))} "
                                   "must be a number in float range or null") from None  # fmt: skip
        out.append(clean)
    return out


def loads(data: bytes, device: str | None = None) -> Trainer:
    """Rebuild a trainer from run file bytes; `device` overrides the saved device."""
    return loads_with_history(data, device)[0]


def loads_with_history(
    data: bytes, device: str | None = None, policy: Policy | None = None
) -> tuple[Trainer, Timeline | None]:
    """The run and, when the file carries it, its history (checked like the rest)."""
    if len(data) > MAX_BYTES:
        raise RunFileError(f"run file too large ({len(data)} bytes; limit {MAX_BYTES})")
    meta = _metadata(data)
    config_text, history_text = meta.get("config"), meta.get("history", "[]")
    if not isinstance(config_text, str) or not isinstance(history_text, str):
        raise RunFileError("run file metadata is damaged: config and history must be JSON text")
    config_data = _json(config_text, "run file metadata is damaged: config")
    history = _history(_json(history_text, "run file metadata is damaged: history"))
    if device is not None and isinstance(config_data, dict):
        config_data["device"] = device
    try:
        config = parse_config(config_data)
    except ConfigError as exc:
        raise RunFileError(f"run file config is invalid: {exc}") from None
    try:
        tensors = load_tensors(data)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise RunFileError(f"run file tensors are damaged: {str(exc)[:200]}") from None
    try:
        trainer = Trainer(config)
    except ConfigError as exc:  # e.g. saved with device="cuda", opened where there is none
        raise RunFileError(f"run file config is invalid here: {exc}") from None
    _check_shapes(trainer.state(), tensors, max(CHUNK, config.training.batch_size))
    try:
        trainer.load_state({k: v for k, v in tensors.items() if not k.startswith(tf.PREFIX)})
        trainer.history = history
    except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise RunFileError(f"run file state is damaged: {exc}") from None
    timeline_text = meta.get("timeline")
    if timeline_text is None:
        return trainer, None
    if not isinstance(timeline_text, str):
        raise RunFileError("run file metadata is damaged: timeline must be JSON text")
    meta_tl = _json(timeline_text, "run file metadata is damaged: timeline")
    try:
        timeline = tf.decode(tensors, meta_tl, trainer.iteration, policy, trainer.closed_forms)
    except tf.TimelineFileError as exc:
        raise RunFileError(f"run file {exc}") from None
    if device is not None:  # the history replays where the run now trains
        here = {"device": trainer.config.device}
        for snap in timeline.snapshots:
            snap.config = snap.config.model_copy(update=here)
        for e in timeline.entries:
            e.config = e.config.model_copy(update=here) if e.config is not None else None
    return trainer, timeline


def load(path: str | Path, device: str | None = None) -> Trainer:
    return loads(Path(path).read_bytes(), device)


def _check_shapes(
    expected: dict[str, torch.Tensor], got: dict[str, torch.Tensor], longest_chunk: int
) -> None:
    missing = sorted(set(expected) - set(got))
    if missing:
        raise RunFileError(f"run file lacks tensors: {', '.join(missing[:5])}")
    for name, ref in expected.items():
        t = got[name]
        if t.dtype != ref.dtype or (t.shape != ref.shape and not name.endswith("generator")):
            raise RunFileError(
                f"tensor {name} has shape {tuple(t.shape)} {t.dtype}, "
                f"expected {tuple(ref.shape)} {ref.dtype}"
            )
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise RunFileError(f"tensor {name} holds NaN or infinite values")
        if name == "counters" or name.endswith(".steps"):
            if bool((t < 0).any()):
                raise RunFileError(f"tensor {name} holds negative counts")
            if bool((t > MAX_COUNT).any()):
                raise RunFileError(f"tensor {name} holds counts over {MAX_COUNT} (2**53), "
                                   "more than any run could make")  # fmt: skip
        if name.endswith(".position"):
            # A stream's chunk is at most `longest_chunk` samples and is read from its start.
            offset, length = (int(v) for v in t)
            if not 0 <= offset <= length <= longest_chunk:
                raise RunFileError(
                    f"tensor {name} holds an impossible stream position "
                    f"(offset {offset}, chunk {length}; chunks hold at most {longest_chunk})"
                )
