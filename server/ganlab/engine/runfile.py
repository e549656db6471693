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

from ganlab.engine.config import ConfigError, parse_config
from ganlab.engine.streams import CHUNK
from ganlab.engine.trainer import Trainer

FORMAT = "ganlab-run"
VERSION = 1
MAX_BYTES = 256 * 1024 * 1024
MAX_HEADER = 16 * 1024 * 1024


class RunFileError(ValueError):
    """The file is not a valid ganlab run; the message says what is wrong."""


def dumps(trainer: Trainer) -> bytes:
    metadata = {
        "format": FORMAT,
        "version": str(VERSION),
        "config": trainer.config.model_dump_json(),
        "history": json.dumps(trainer.history),
    }
    return save_tensors(trainer.state(), metadata=metadata)


def save(trainer: Trainer, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(dumps(trainer))
    return path


def _metadata(data: bytes) -> dict[str, str]:
    if len(data) < 8:
        raise RunFileError("not a run file: too short")
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_HEADER, len(data) - 8):
        raise RunFileError("not a run file: bad header length")
    try:
        header = json.loads(data[8 : 8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RunFileError("not a run file: header is not JSON") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise RunFileError("not a ganlab run file")
    if meta.get("version") != str(VERSION):
        raise RunFileError(f"unsupported run file version {meta.get('version')!r}; need {VERSION}")
    return meta


def loads(data: bytes, device: str | None = None) -> Trainer:
    """Rebuild a trainer from run file bytes; `device` overrides the saved device."""
    if len(data) > MAX_BYTES:
        raise RunFileError(f"run file too large ({len(data)} bytes; limit {MAX_BYTES})")
    meta = _metadata(data)
    try:
        config_data: Any = json.loads(meta["config"])
        history = json.loads(meta.get("history", "[]"))
    except (KeyError, TypeError, json.JSONDecodeError, RecursionError):
        raise RunFileError("run file metadata is damaged") from None
    if device is not None and isinstance(config_data, dict):
        config_data["device"] = device
    try:
        config = parse_config(config_data)
    except ConfigError as exc:
        raise RunFileError(f"run file config is invalid: {exc}") from None
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise RunFileError("run file history is damaged")
    try:
        tensors = load_tensors(data)
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise RunFileError(f"run file tensors are damaged: {exc}") from None
    try:
        trainer = Trainer(config)
    except ConfigError as exc:  # e.g. saved with device="cuda", opened where there is none
        raise RunFileError(f"run file config is invalid here: {exc}") from None
    _check_shapes(trainer.state(), tensors, max(CHUNK, config.training.batch_size))
    try:
        trainer.load_state(tensors)
        trainer.history = [{str(k): float(v) for k, v in row.items()} for row in history]
    except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise RunFileError(f"run file state is damaged: {exc}") from None
    return trainer


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
        if (name == "counters" or name.endswith(".steps")) and bool((t < 0).any()):
            raise RunFileError(f"tensor {name} holds negative counts")
        if name.endswith(".position"):
            # A stream's chunk is at most `longest_chunk` samples and is read from its start.
            offset, length = (int(v) for v in t)
            if not 0 <= offset <= length <= longest_chunk:
                raise RunFileError(
                    f"tensor {name} holds an impossible stream position "
                    f"(offset {offset}, chunk {length}; chunks hold at most {longest_chunk})"
                )
