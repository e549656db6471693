"""A run's history, for time travel: a log of everything that changed the run, and snapshots.

The log holds, in order, every operation applied to the run (`OPS`: whole iterations,
run-length encoded; single D or G updates; the halves of a slow-motion walk; config changes,
data changes included, as the whole new config). Ops are counted: "op k" is the point after
the first k operations. Snapshots hold the whole state (`Trainer.state()`, the
instance-noise stream too, and the config) at some ops.

`seek` restores the newest snapshot before the target and replays the log up to it. Replay
calls the very same functions the live run called, on the same state, so on one device it is
bit-for-bit what the live run computed. Iterations the live run made in a group
(`step_together`) are replayed in a group too, since the batched products round differently
from a lone run's (docs/engine.md, "Run history").

A reset or a loaded run starts a new timeline: iteration numbers start over, so the history
of a run is the time since its last reset.
"""

from __future__ import annotations

import bisect
import heapq
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from ganlab.engine.config import ExperimentConfig, updated
from ganlab.engine.step import group_key, iterate, lone, step_together
from ganlab.engine.trainer import Trainer

DEFAULT_BUDGET = 32 * 2**20
# Snapshots may cost at most this share of training time (the cost-based cadence).
DEFAULT_SHARE = 0.01
# Thinning that drops about this many snapshots or more takes the heap (`_thin_many`).
BULK_THINNING = 8


def _d_grad(t: Trainer) -> None:
    group = lone(t)
    with group.mode():
        group.d_gradients()


def _d_apply(t: Trainer) -> None:
    group = lone(t)
    with group.mode():
        group.d_apply()


def _g_grad(t: Trainer) -> None:
    group = lone(t)
    with group.mode():
        group.g_gradients()


def _g_apply(t: Trainer) -> None:
    group = lone(t)
    with group.mode():
        group.g_apply()


def _tick(t: Trainer) -> None:
    t.iteration += 1


# A stand-in partner per replayed run, for iterations the live run made in a group.
_PARTNERS: weakref.WeakKeyDictionary[Trainer, Trainer] = weakref.WeakKeyDictionary()


def _together(t: Trainer) -> None:
    """One iteration of `t` as one of a group (step_together): with a stand-in partner of the
    same group key. The batched products round differently from a lone run's, but each run's
    results do not depend on its partners nor on the group's size (docs/engine.md)."""
    partner = _PARTNERS.get(t)
    if partner is None or group_key(partner) != group_key(t):
        partner = _PARTNERS[t] = Trainer(t.config, closed_forms=t.closed_forms)
    step_together([t, partner])


# The operations a log replays, by name: what the live run called, called again. The walk's
# halves exist because a slow-motion walk draws its batches at its first phase and applies
# at its last, and may be abandoned in between (its draws then still moved the streams).
OPS: dict[str, Callable[[Trainer], None]] = {
    "iterate": lambda t: iterate([t]),
    "together": _together,  # an iteration made in a group of two or more (step_together)
    "d": Trainer.step_d,
    "g": Trainer.step_g,
    "d_grad": _d_grad,
    "d_apply": _d_apply,
    "g_grad": _g_grad,
    "g_apply": _g_apply,
    "tick": _tick,  # a walk finished its iteration's updates: the iteration counts
}
# Ops after which the iteration counter has grown by one.
COUNTING = frozenset({"iterate", "together", "tick"})
# Ops whose runs are kept as one entry.
RUNS = frozenset({"iterate", "together"})


@dataclass
class Entry:
    """`count` consecutive ops of one kind, starting at op `op` and iteration `iteration`
    (both counted before it); a config entry carries the new config."""

    kind: str
    op: int
    iteration: int
    count: int = 1
    config: ExperimentConfig | None = None


@dataclass
class Snapshot:
    op: int
    iteration: int
    config: ExperimentConfig
    state: dict[str, torch.Tensor]
    nbytes: int = 0

    def __post_init__(self) -> None:
        self.nbytes = sum(v.nbytes for v in self.state.values())


def capture(t: Trainer) -> dict[str, torch.Tensor]:
    """`t.state()`, with the instance-noise stream even while instance noise is off (it keeps
    its place across an off-and-on), and the last batch's D and G outputs and penalties (the
    losses a picture shows), so that a seek can land on a snapshot without replaying."""
    state = t.state()
    if "stream.instance.position" not in state:
        state.update({f"stream.instance.{k}": v for k, v in
                      t.instance_noise_stream.state().items()})  # fmt: skip
    last: dict[str, torch.Tensor | None] = {"real": None, "fake": None, "g": t._last_g}
    if t._last_d is not None:
        last["real"], last["fake"] = t._last_d
    last.update({f"penalty.{k}": v for k, v in t._last_penalties.items()})
    state.update({f"last.{k}": v.detach().cpu().clone() for k, v in last.items()
                  if v is not None})  # fmt: skip
    return state


def _last_outputs(t: Trainer, state: dict[str, torch.Tensor]) -> None:
    """Put back the last batch's outputs `capture` kept (on the run's device)."""
    get = {k[len("last.") :]: v.to(t.device) for k, v in state.items() if k.startswith("last.")}
    t._last_d = (get["real"], get["fake"]) if "real" in get else None
    t._last_g = get.get("g")
    p = "penalty."
    t._last_penalties = {k[len(p) :]: v for k, v in get.items() if k.startswith(p)}


def restore(t: Trainer, snap: Snapshot) -> None:
    """Make `t` exactly the run of the snapshot (rebuilt from the snapshot's config, so any
    shapes fit); its metric rows are left to the caller."""
    t.config = snap.config
    t.reset()
    t.load_state({k: v for k, v in snap.state.items() if not k.startswith("last.")})
    _last_outputs(t, snap.state)
    p = "stream.instance."
    t.instance_noise_stream.load({k[len(p) :]: v for k, v in snap.state.items()
                                  if k.startswith(p)})  # fmt: skip
    with torch.no_grad():
        for name, net in (("d", t.D), ("g", t.G)):
            if f"{name}.grad" in snap.state:
                net.grad.copy_(snap.state[f"{name}.grad"])


@dataclass
class Policy:
    """When to take snapshots and how many to keep.

    budget: bytes of snapshot tensors kept (sum of nbytes). every: a snapshot every that many
    iterations (tests, benchmarks); None: by cost, a snapshot once the training time since the
    last one is at least 1/share times what a snapshot costs."""

    budget: int = DEFAULT_BUDGET
    share: float = DEFAULT_SHARE
    every: int | None = None
    clock: Callable[[], float] = time.perf_counter


class Timeline:
    """The history of one run from `t`'s present state on. Record each operation right after
    the live run made it (`iterated`, `updated`, `configured`). It keeps no live run: seeks
    build their own (or make over the one they are given)."""

    def __init__(self, t: Trainer, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self.closed_forms = t.closed_forms
        self.start_iteration = t.iteration
        self.entries: list[Entry] = []
        # Networks whose walk drew its gradients and has not applied them yet: snapshots
        # then keep their gradients, which the walk's update will apply.
        self._pending: set[str] = set()
        self.ops = 0
        self.iteration = t.iteration
        self.snapshots: list[Snapshot] = []
        self._snap_cost = 0.0
        self._last_snap_time = 0.0
        self._last_snap_iteration = t.iteration
        # The live config last seen and the one kept for it (`_kept`).
        self._seen: tuple[ExperimentConfig, ExperimentConfig] | None = None
        self.snapshot(t)

    @classmethod
    def rebuilt(cls, entries: list[Entry], snapshots: list[Snapshot], start_iteration: int,
                ops: int, iteration: int, policy: Policy | None = None,
                closed_forms: bool = True) -> Timeline:  # fmt: skip
        """A timeline from its parts (a run file's, checked by the caller: timeline_file.py)."""
        tl = cls.__new__(cls)
        tl.policy = policy or Policy()
        tl.closed_forms = closed_forms
        tl.start_iteration, tl.ops, tl.iteration = start_iteration, ops, iteration
        tl.entries, tl.snapshots = entries, snapshots
        tl._pending = set()
        for e in entries:  # a walk whose gradients are drawn and not applied yet
            if e.kind.endswith("_grad"):
                tl._pending.add(e.kind[0])
            elif e.kind.endswith("_apply"):
                tl._pending.discard(e.kind[0])
        tl._seen = None
        tl._snap_cost = 0.0
        tl._last_snap_time = tl.policy.clock()
        tl._last_snap_iteration = iteration
        return tl

    def trimmed(self, first: int) -> Timeline:
        """This history from its snapshot `first` on (older ones and their log dropped): what
        a run file keeps when the whole is too large. Shares the snapshots."""
        base = self.snapshots[first]
        entries = []
        for e in self.entries:
            end = e.op + e.count
            if end <= base.op:
                continue
            cut = max(0, base.op - e.op)
            counted = cut if e.kind in COUNTING else 0
            entries.append(Entry(e.kind, e.op + cut - base.op, e.iteration + counted,
                                 e.count - cut, e.config))  # fmt: skip
        snaps = [replace(s, op=s.op - base.op) for s in self.snapshots[first:]]
        return Timeline.rebuilt(entries, snaps, base.iteration, self.ops - base.op,
                                self.iteration, self.policy, self.closed_forms)  # fmt: skip

    # ------------------------------------------------------------------ recording
    def _append(self, kind: str, config: ExperimentConfig | None = None) -> None:
        last = self.entries[-1] if self.entries else None
        if last is not None and last.kind == kind and kind in RUNS:
            last.count += 1
        else:
            self.entries.append(Entry(kind, self.ops, self.iteration, config=config))
        self.ops += 1
        if kind.endswith("_grad"):
            self._pending.add(kind[0])
        elif kind.endswith("_apply"):
            self._pending.discard(kind[0])
        if kind in COUNTING:
            self.iteration += 1

    def iterated(self, t: Trainer, together: bool = False) -> None:
        """`t` made one iteration: alone (`Trainer.step`), or `together` with other runs in
        one `step_together` call of two or more runs."""
        self._append("together" if together else "iterate")
        self._maybe_snapshot(t)

    def updated(self, t: Trainer, kind: str) -> None:
        """`t` made one op of `OPS` other than an iteration: 'd', 'g' (step_d, step_g), a
        walk's 'd_grad'/'g_grad' (first phase) and 'd_apply'/'g_apply' (update phase), or
        'tick' (the walk's iteration counted)."""
        if kind not in OPS:
            raise ValueError(f"unknown op {kind!r}; one of {sorted(OPS)}")
        self._append(kind)
        if kind in COUNTING:
            self._maybe_snapshot(t)

    def configured(self, t: Trainer) -> None:
        """`t.configure(...)` was applied (any section, data included): logs `t.config`."""
        self._append("config", self._kept(t.config))

    def _kept(self, config: ExperimentConfig) -> ExperimentConfig:
        """`config` as the log keeps it: with the data section of the config before it when
        the data did not change. Each change re-parses the whole config, and a drawing is
        20,000 points (megabytes as Python objects): a slider dragged through a hundred
        learning rates must not keep a hundred copies."""
        if self._seen is not None and config is self._seen[0]:
            return self._seen[1]
        last = self._seen[1] if self._seen is not None else None
        kept = config
        if last is not None and config.data is not last.data and config.data == last.data:
            kept = config.model_copy(update={"data": last.data})
        self._seen = (config, kept)
        return kept

    def _maybe_snapshot(self, t: Trainer) -> None:
        p = self.policy
        if p.every is not None:
            due = self.iteration - self._last_snap_iteration >= p.every
        else:
            due = p.clock() - self._last_snap_time >= self._snap_cost / p.share
        if due:
            self.snapshot(t)

    def snapshot(self, t: Trainer) -> Snapshot:
        """Snapshot `t` now (it must be at the head), then thin to the budget."""
        if t.iteration != self.iteration:
            raise ValueError(f"the run is at iteration {t.iteration}, the log at {self.iteration}")
        start = self.policy.clock()
        state = capture(t)
        for name in self._pending:
            state[f"{name}.grad"] = (t.D if name == "d" else t.G).grad.detach().cpu().clone()
        snap = Snapshot(self.ops, self.iteration, self._kept(t.config), state)
        if self.snapshots and self.snapshots[-1].op == snap.op:
            self.snapshots[-1] = snap
        else:
            self.snapshots.append(snap)
        self.thin()
        now = self.policy.clock()
        self._snap_cost = now - start
        self._last_snap_time = now
        self._last_snap_iteration = self.iteration
        return snap

    # ------------------------------------------------------------------ thinning
    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.snapshots)

    def thin(self) -> None:
        """Drop snapshots, never the first nor the newest, until within the budget. The one
        dropped opens the smallest gap relative to its age (distance from the head): spacing
        then grows in proportion to age, dense near the head and geometric further back."""
        total = self.nbytes
        if total <= self.policy.budget:
            return
        if (total - self.policy.budget) * len(self.snapshots) > BULK_THINNING * total:
            self._thin_many(total)  # (a thinned copy drops hundreds: a heap, not a scan each)
            return
        ops = np.array([s.op for s in self.snapshots], dtype=np.float64)
        while total > self.policy.budget and len(self.snapshots) > 2:
            gaps = ops[2:] - ops[:-2]
            ages = self.ops - ops[1:-1] + 1
            drop = 1 + int(np.argmin(gaps / ages))
            total -= self.snapshots.pop(drop).nbytes
            ops = np.delete(ops, drop)  # (the ops array follows the list, not rebuilt)

    def _thin_many(self, total: int) -> None:
        """`thin`, dropping the very same snapshots in the same order, with a heap of each
        inner snapshot's gap-to-age ratio: dropping one changes only its neighbours' ratios
        (entries made stale by that are skipped as they come up)."""
        snaps = self.snapshots
        n = len(snaps)
        ops = [float(s.op) for s in snaps]
        prev, nxt = list(range(-1, n - 1)), list(range(1, n + 1))
        alive = [True] * n

        def ratio(i: int) -> float:  # (float64 arithmetic, as thin's numpy arrays)
            return (ops[nxt[i]] - ops[prev[i]]) / (self.ops - ops[i] + 1)

        heap = [(ratio(i), i) for i in range(1, n - 1)]
        heapq.heapify(heap)
        current = {i: r for r, i in heap}
        left = n
        while total > self.policy.budget and left > 2:
            r, i = heapq.heappop(heap)
            if not alive[i] or current[i] != r:
                continue  # dropped already, or its ratio changed since
            alive[i] = False
            left -= 1
            total -= snaps[i].nbytes
            before, after = prev[i], nxt[i]
            nxt[before], prev[after] = after, before
            for j in (before, after):
                if 0 < j < n - 1:
                    current[j] = ratio(j)
                    heapq.heappush(heap, (current[j], j))
        self.snapshots[:] = [s for s, keep in zip(snaps, alive, strict=True) if keep]

    def thinned(self, budget: int) -> Timeline:
        """This history with its snapshots thinned to `budget` bytes the same way (the whole
        range still reachable, by replaying from sparser snapshots); shares what it keeps."""
        if self.nbytes <= budget:
            return self
        copy = Timeline.rebuilt(list(self.entries), list(self.snapshots), self.start_iteration,
                                self.ops, self.iteration, replace(self.policy, budget=budget),
                                self.closed_forms)  # fmt: skip
        copy.thin()
        return copy

    # ------------------------------------------------------------------ seeking
    def op_at(self, iteration: int) -> int:
        """The op at which the run first reached `iteration`: the iteration's boundary, after
        its updates and before any single update made while it was the current one."""
        if not self.start_iteration <= iteration <= self.iteration:
            raise ValueError(
                f"iteration must be within {self.start_iteration}..{self.iteration}, "
                f"got {iteration}"
            )
        if iteration == self.start_iteration:
            return 0
        for e in self.entries:
            if e.kind in COUNTING and e.iteration < iteration <= e.iteration + e.count:
                return e.op + (iteration - e.iteration)
        raise AssertionError("unreachable: the log counts every iteration")

    def reachable(self) -> tuple[int, int]:
        """The iterations `seek` can land on: every one in this range, ends included."""
        return self.start_iteration, self.iteration

    def seek(self, iteration: int, into: Trainer | None = None,
             rows: list[dict[str, float]] | None = None) -> Trainer:  # fmt: skip
        """The run at `iteration`'s boundary (`op_at`), as `into` (made over) or a new Trainer.
        Its metric rows are those of `rows` (the live run's) up to that iteration."""
        return self.seek_op(self.op_at(iteration), into, rows)

    def seek_op(self, op: int, into: Trainer | None = None,
                rows: list[dict[str, float]] | None = None) -> Trainer:  # fmt: skip
        """The run after its first `op` operations (0..ops: any point, half-done iterations
        included)."""
        if not 0 <= op <= self.ops:
            raise ValueError(f"op must be within 0..{self.ops}, got {op}")
        # The newest snapshot at or before the target: it holds the last batch's outputs too
        # (the losses shown), so a seek onto a snapshot replays nothing.
        ops = [s.op for s in self.snapshots]
        i = max(0, bisect.bisect_right(ops, op) - 1)
        snap = self.snapshots[i]
        t = into if into is not None else Trainer(snap.config, closed_forms=self.closed_forms)
        restore(t, snap)
        self._replay(t, snap.op, op)
        if rows is not None:
            t.history = [r for r in rows if r["iteration"] <= t.iteration]
        return t

    def _replay(self, t: Trainer, start: int, stop: int) -> None:
        k = bisect.bisect_right([e.op for e in self.entries], start) - 1
        for e in self.entries[max(k, 0) :]:
            lo, hi = max(e.op, start), min(e.op + e.count, stop)
            if e.op >= stop:
                break
            if e.kind == "config":
                if e.op >= start:
                    assert e.config is not None
                    t.configure(e.config)
                continue
            for _ in range(lo, hi):
                OPS[e.kind](t)

    def branch(self, iteration: int, patch: ExperimentConfig | dict[str, Any] | None = None,
               rows: list[dict[str, float]] | None = None,
               policy: Policy | None = None) -> tuple[Trainer, Timeline]:  # fmt: skip
        """A new run continuing from `iteration` with an optional config change, and its own
        timeline (starting with that change made); this timeline stays as it was."""
        t = self.seek(iteration, rows=rows)
        if patch is not None:
            t.configure(patch if isinstance(patch, ExperimentConfig) else updated(t.config, patch))
        return t, Timeline(t, policy or replace(self.policy))
