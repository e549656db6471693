"""A run's history (timeline.py) inside a run file: its snapshots' tensors and one JSON text.

Configs are stored once each (a run changes its config a few times, and snapshots share
them), with their data sections stored once each too: a drawn data set can be 20,000 points.
`fit` drops the oldest snapshots (and the log before them) until the history is within a
size and within the counts a loader accepts; the head is never dropped. `decode` checks
every field before a Timeline is built; a snapshot's tensors are checked against its config
when a seek restores it (a damaged one then fails that seek, not the run).

Snapshots' tensors are packed: one tensor per dtype for the whole history (`timeline.packed.
<dtype>`), each snapshot a run of it laid out by one of a few `layouts` (key, dtype, shape
per tensor; snapshots of one config share one). A history holds thousands of small tensors,
and a file format pays per tensor (writing 10,000 cost 0.4 s, reading 0.25 s; packed, a
few ms), which matters for live sessions checkpointed every few seconds. Files written with a
tensor per snapshot entry (`timeline.<snapshot>.<key>`) still load.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from ganlab.engine.config import ConfigError, ExperimentConfig, parse_config
from ganlab.engine.timeline import COUNTING, OPS, Entry, Policy, Snapshot, Timeline

PREFIX = "timeline."
PACKED = f"{PREFIX}packed."
# Distinct tensor layouts of one history's snapshots (one per network shape in it, in practice).
MAX_LAYOUTS = 500
MAX_LAYOUT_TENSORS = 64
MAX_DIMS = 8
# What one run file's history may hold (a loader refuses more; `fit` keeps within them).
MAX_ENTRIES = 50_000
MAX_SNAPSHOTS = 5_000
MAX_CONFIGS = 500
MAX_DATA = 4
KINDS = ("config", *OPS)


class TimelineFileError(ValueError):
    """The history in a run file is damaged; the message says how."""


def _configs(tl: Timeline) -> list[ExperimentConfig]:
    """The distinct config objects of the log and the snapshots (snapshots share them)."""
    found = [e.config for e in tl.entries if e.config is not None] + [
        s.config for s in tl.snapshots
    ]
    return list({id(c): c for c in found}.values())


def _fits(tl: Timeline, max_bytes: int) -> bool:
    """Whether `tl` is within `max_bytes` (about: tensors, ~40 bytes a log entry, the config
    texts) and the counts a loader accepts."""
    configs = {c.model_dump_json() for c in _configs(tl)}
    data = {c.data.model_dump_json() for c in _configs(tl)}
    size = tl.nbytes + 40 * len(tl.entries) + sum(map(len, configs))
    return (size <= max_bytes and len(tl.entries) <= MAX_ENTRIES
            and len(tl.snapshots) <= MAX_SNAPSHOTS and len(configs) <= MAX_CONFIGS
            and len(data) <= MAX_DATA)  # fmt: skip


def fit(tl: Timeline, max_bytes: int) -> Timeline:
    """`tl`, or its newest part within `max_bytes` and the loader's counts: the oldest
    snapshots go first, never the newest (the head). Starting later only drops things, so
    the earliest start that fits is found by bisection."""
    if _fits(tl, max_bytes):
        return tl
    lo, hi = 1, len(tl.snapshots) - 1  # the newest alone is kept whatever its size
    while lo < hi:
        mid = (lo + hi) // 2
        if _fits(tl.trimmed(mid), max_bytes):
            hi = mid
        else:
            lo = mid + 1
    return tl.trimmed(hi)


def encode(tl: Timeline) -> tuple[dict[str, torch.Tensor], str]:
    """The history's tensors (named timeline.<snapshot>.<state key>) and its JSON text."""
    configs: dict[str, int] = {}
    data: dict[str, int] = {}
    config_rows: list[dict[str, Any]] = []
    data_rows: list[Any] = []

    def index(c: ExperimentConfig) -> int:
        text = c.model_dump_json()
        if text not in configs:
            d = c.data.model_dump_json()
            if d not in data:
                data[d] = len(data_rows)
                data_rows.append(json.loads(d))
            row = json.loads(text)
            row["data"] = data[d]
            configs[text] = len(config_rows)
            config_rows.append(row)
        return configs[text]

    entries = [[e.kind, e.op, e.iteration, e.count, -1 if e.config is None else index(e.config)]
               for e in tl.entries]  # fmt: skip
    layouts: dict[tuple[Any, ...], int] = {}
    parts: dict[str, list[torch.Tensor]] = {}
    snapshots = []
    for snap in tl.snapshots:
        shape = tuple((k, _dtype_name(v), tuple(v.shape)) for k, v in snap.state.items())
        layout = layouts.setdefault(shape, len(layouts))
        for (_, dtype, _), v in zip(shape, snap.state.values(), strict=True):
            parts.setdefault(dtype, []).append(v.detach().reshape(-1))
        snapshots.append([snap.op, snap.iteration, index(snap.config), layout])
    tensors = {f"{PACKED}{dtype}": torch.cat(p) for dtype, p in parts.items()}
    text = json.dumps({"start": tl.start_iteration, "ops": tl.ops, "iteration": tl.iteration,
                       "data": data_rows, "configs": config_rows, "entries": entries,
                       "layouts": [[[k, d, list(sh)] for k, d, sh in shape] for shape in layouts],
                       "snapshots": snapshots}, separators=(",", ":"))  # fmt: skip
    return tensors, text


_DTYPE_NAMES: dict[torch.dtype, str] = {}


def _dtype_name(t: torch.Tensor) -> str:
    name = _DTYPE_NAMES.get(t.dtype)  # (str() of a dtype is slow, and asked 10,000s of times)
    if name is None:
        name = _DTYPE_NAMES[t.dtype] = str(t.dtype).removeprefix("torch.")
    return name


def _int(value: Any, what: str, low: int = 0, high: int = 2**53) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise TimelineFileError(f"history is damaged: {what} must be an integer in {low}..{high}")
    return value


def _list(value: Any, what: str, most: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > most:
        raise TimelineFileError(f"history is damaged: {what} must be a list of at most {most}")
    return value


def decode(tensors: dict[str, torch.Tensor], meta: Any, head_iteration: int,
           policy: Policy | None = None, closed_forms: bool = True) -> Timeline:  # fmt: skip
    """A Timeline from `encode`'s parts, every field checked; `head_iteration` is the run's
    own (the history must end there)."""
    if not isinstance(meta, dict):
        raise TimelineFileError("history is damaged: it must be a JSON object")
    start, ops = _int(meta.get("start"), "start"), _int(meta.get("ops"), "ops")
    iteration = _int(meta.get("iteration"), "iteration", start)
    if iteration != head_iteration:
        raise TimelineFileError(f"history is damaged: it ends at iteration {iteration}, the "
                                f"run is at {head_iteration}")  # fmt: skip
    data = _list(meta.get("data"), "data", MAX_DATA)
    configs: list[ExperimentConfig] = []
    for i, row in enumerate(_list(meta.get("configs"), "configs", MAX_CONFIGS)):
        if not isinstance(row, dict):
            raise TimelineFileError(f"history is damaged: config {i} must be an object")
        d = _int(row.get("data"), f"config {i}'s data", 0, len(data) - 1)
        try:
            configs.append(parse_config({**row, "data": data[d]}))
        except ConfigError as exc:
            raise TimelineFileError(f"history config {i} is invalid: {exc}") from None

    def config(k: Any, what: str) -> ExperimentConfig:
        return configs[_int(k, what, 0, len(configs) - 1)]

    entries: list[Entry] = []
    op, it = 0, start
    for i, row in enumerate(_list(meta.get("entries"), "entries", MAX_ENTRIES)):
        row = _list(row, f"entry {i}", 5)
        if len(row) != 5 or row[0] not in KINDS:
            kinds = ", ".join(KINDS)
            raise TimelineFileError(f"history is damaged: entry {i} must be [kind, op, "
                                    f"iteration, count, config], kind one of {kinds}")  # fmt: skip
        kind = row[0]
        if _int(row[1], f"entry {i}'s op") != op or _int(row[2], f"entry {i}'s iteration") != it:
            raise TimelineFileError(f"history is damaged: entry {i} does not follow the one "
                                    "before it")  # fmt: skip
        count = _int(row[3], f"entry {i}'s count", 1, ops - op if ops > op else 1)
        if kind == "config":
            if count != 1:
                raise TimelineFileError(f"history is damaged: config entry {i} counts {count}")
            entries.append(Entry(kind, op, it, 1, config(row[4], f"entry {i}'s config")))
        else:
            entries.append(Entry(kind, op, it, count))
        op += count
        it += count if kind in COUNTING else 0
    if op != ops or it != iteration:
        raise TimelineFileError("history is damaged: its log does not add up to its ops and "
                                "iterations")  # fmt: skip

    rows = _list(meta.get("snapshots"), "snapshots", MAX_SNAPSHOTS)
    packed = "layouts" in meta
    states = _unpacked(tensors, meta["layouts"], rows) if packed else _states(tensors)
    if not rows or set(states) != set(range(len(rows))):
        raise TimelineFileError("history is damaged: its snapshots and their tensors differ")
    snapshots: list[Snapshot] = []
    width = 4 if packed else 3  # (a packed history's rows name their layout)
    for i, row in enumerate(rows):
        row = _list(row, f"snapshot {i}", width)
        if len(row) != width:
            raise TimelineFileError(f"history is damaged: snapshot {i} must be [op, "
                                    "iteration, config, layout]")  # fmt: skip
        sop = _int(row[0], f"snapshot {i}'s op", 0, ops)
        if (i == 0 and sop != 0) or (snapshots and sop <= snapshots[-1].op):
            raise TimelineFileError("history is damaged: snapshots must start at op 0 and "
                                    "follow in order")  # fmt: skip
        sit = _int(row[1], f"snapshot {i}'s iteration", start, iteration)
        snapshots.append(Snapshot(sop, sit, config(row[2], f"snapshot {i}'s config"), states[i]))
    _check_snapshot_iterations(entries, snapshots, iteration)
    return Timeline.rebuilt(entries, snapshots, start, ops, iteration, policy, closed_forms)


def _states(tensors: dict[str, torch.Tensor]) -> dict[int, dict[str, torch.Tensor]]:
    """Snapshot states of a file with a tensor per snapshot entry (`timeline.<i>.<key>`)."""
    states: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(PREFIX):
            k, _, key = name[len(PREFIX) :].partition(".")
            if not k.isdigit() or not key:
                raise TimelineFileError(f"history is damaged: tensor name {name[:80]!r}")
            states.setdefault(int(k), {})[key] = value
    return states


def _layout(row: Any, i: int) -> list[tuple[str, str, tuple[int, ...], int]]:
    """Layout `i`: (key, dtype, shape, element count) per tensor, checked."""
    out = []
    for j, item in enumerate(_list(row, f"layout {i}", MAX_LAYOUT_TENSORS)):
        item = _list(item, f"layout {i} item {j}", 3)
        key, dtype, shape = item if len(item) == 3 else (None, None, None)
        if not isinstance(key, str) or not 0 < len(key) <= 64 or not isinstance(dtype, str):
            raise TimelineFileError(f"history is damaged: layout {i} item {j} must be [key, "
                                    "dtype, shape]")  # fmt: skip
        dims = tuple(_int(d, f"layout {i} item {j}'s shape", 0, 2**31)
                     for d in _list(shape, f"layout {i} item {j}'s shape", MAX_DIMS))  # fmt: skip
        count = 1
        for d in dims:
            count *= d
        out.append((key, dtype, dims, count))
    if len({key for key, *_ in out}) != len(out):
        raise TimelineFileError(f"history is damaged: layout {i} names a tensor twice")
    return out


def _unpacked(tensors: dict[str, torch.Tensor], layouts_meta: Any,
              rows: list[Any]) -> dict[int, dict[str, torch.Tensor]]:  # fmt: skip
    """Snapshot states of a packed history: each snapshot's tensors cut, in order, from the
    packed tensor of their dtype by its layout."""
    packed = {}
    for name, value in tensors.items():
        if name.startswith(PACKED) and _dtype_name(value) == name[len(PACKED) :]:
            packed[name[len(PACKED) :]] = value.reshape(-1)
        elif name.startswith(PREFIX):
            raise TimelineFileError(f"history is damaged: tensor name {name[:80]!r}")
    layouts = [_layout(row, i) for i, row in
               enumerate(_list(layouts_meta, "layouts", MAX_LAYOUTS))]  # fmt: skip
    used = dict.fromkeys(packed, 0)
    states: dict[int, dict[str, torch.Tensor]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 4:
            raise TimelineFileError(f"history is damaged: snapshot {i} must be [op, "
                                    "iteration, config, layout]")  # fmt: skip
        layout = layouts[_int(row[3], f"snapshot {i}'s layout", 0, len(layouts) - 1)]
        state = {}
        for key, dtype, dims, count in layout:
            start = used.get(dtype)
            if start is None or start + count > packed[dtype].numel():
                raise TimelineFileError(f"history is damaged: snapshot {i}'s tensors run past "
                                        f"the packed {dtype} data")  # fmt: skip
            # A tensor of its own (a view would keep the whole file's data alive, and some
            # consumers, a random generator's state, need their own storage).
            state[key] = packed[dtype][start : start + count].view(dims).clone()
            used[dtype] = start + count
        states[i] = state
    if any(used[d] != packed[d].numel() for d in packed):
        raise TimelineFileError("history is damaged: packed snapshot data left over")
    return states


def _check_snapshot_iterations(entries: list[Entry], snapshots: list[Snapshot],
                               head: int) -> None:  # fmt: skip
    """Each snapshot's iteration is the log's at its op (one pass: both are in op order)."""
    k = 0
    for snap in snapshots:
        while k < len(entries) and entries[k].op + entries[k].count <= snap.op:
            k += 1
        e = entries[k] if k < len(entries) else None
        at = head if e is None else e.iteration + (snap.op - e.op if e.kind in COUNTING else 0)
        if at != snap.iteration:
            raise TimelineFileError(f"history is damaged: a snapshot at op {snap.op} says "
                                    f"iteration {snap.iteration}")  # fmt: skip
