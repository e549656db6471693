"""Which playing session to move to which engine process, from the processes' load reports.

A process's playing sessions share its time, so when those of one process train clearly slower
than those of another (a busier core, more sessions), moving one over lifts them. Speeds are
measured, not known: sessions differ in cost, and a move changes the speeds it was decided on.
Decided on each report alone, a session went back and forth (113 moves in 10 minutes); the
`Balancer` remembers its moves to keep them rare: a settling time after any move, a cooldown
per session, never a move back to the process a session came from, and a clear expected gain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

W = TypeVar("W")
# A playing session in a load report: (sid, measured iterations/s, group key or None).
Row = tuple[str, float, Any]

# How often the hub looks.
BALANCE_EVERY = 0.5
# After any move, how long to wait: the speeds settle, and the reports measure the new split.
BALANCE_SETTLE = 5.0
# How much faster another process's sessions must train to count as an imbalance (speeds
# wander by a few percent as the system schedules processes).
BALANCE_GAP = 0.35
# By how much a move must be expected to lift the slowest sessions: a move pauses the session
# while it is handed over, which a gain within the noise of the measurements does not repay.
BALANCE_GAIN = 0.05
# How long a session that moved stays where it went.
COOLDOWN = 30.0
# Reports older than this are not used: each must be measured after the last move.
FRESH = 1.0


def _mean(rows: Sequence[Row]) -> float:
    return sum(r[1] for r in rows) / len(rows)


def plan_move(
    loads: Sequence[tuple[W, list[Row]]],
    movable: Callable[[str, W], bool] = lambda sid, dest: True,
) -> tuple[str, W] | None:
    """Which session to move where, from each process's load report (its playing sessions'
    iterations/s and group keys), or None. A process's sessions share its time, so a process
    with n of them at a mean speed v would give n/(n-1) as much to n-1, and n/(n+1) to n+1;
    a process with none has room to spare. Only sessions `movable` to the destination count."""
    busy = [(w, rows) for w, rows in loads if rows]
    if not busy or len(loads) < 2:
        return None
    slow, slow_rows = min(busy, key=lambda x: _mean(x[1]))
    v, n = _mean(slow_rows), len(slow_rows)
    if n < 2:  # moving its only session would only swap the places
        return None
    idle = [w for w, rows in loads if not rows]
    dest_rows: list[Row]
    if idle:
        dest, dest_rows, after = idle[0], [], v * n / (n - 1)
    else:
        dest, dest_rows = max(busy, key=lambda x: _mean(x[1]))
        if dest is slow or _mean(dest_rows) < v * (1 + BALANCE_GAP):
            return None
        m = len(dest_rows)
        after = min(v * n / (n - 1), _mean(dest_rows) * m / (m + 1))
    if after < v * (1 + BALANCE_GAIN):
        return None
    candidates = [r for r in slow_rows if movable(r[0], dest)]
    if not candidates:
        return None
    # One that steps with sessions of its shape over there, if any does.
    keys = [r[2] for r in dest_rows]
    sid = max(candidates, key=lambda r: keys.count(r[2]) if r[2] is not None else -1)[0]
    return sid, dest


class Balancer(Generic[W]):
    """The balancing decision, with the memory that keeps it stable: when the last move was,
    when each session last moved and where from."""

    def __init__(self, settle: float = BALANCE_SETTLE, cooldown: float = COOLDOWN) -> None:
        self.settle, self.cooldown = settle, cooldown
        self.last_move = -math.inf
        self.moved_at: dict[str, float] = {}
        self.came_from: dict[str, W] = {}

    def decide(self, now: float, reports: Sequence[tuple[W, list[Row] | None, float]]
               ) -> tuple[str, W] | None:  # fmt: skip
        """The move to make now, if any, from each process's latest report (process, rows
        or None if it has not reported, when it reported)."""
        if now - self.last_move < self.settle:
            return None
        fresh = [(w, rows) for w, rows, at in reports if rows is not None and now - at < FRESH]

        def movable(sid: str, dest: W) -> bool:
            # Never straight back: a session that left a process for good reason would
            # otherwise return as soon as the measurements swing the other way.
            recent = now - self.moved_at.get(sid, -math.inf) < self.cooldown
            return not recent and self.came_from.get(sid) is not dest

        return plan_move(fresh, movable)

    def moved(self, sid: str, source: W, now: float) -> None:
        """A move of `sid` away from `source` began (whether or not it succeeds: a session
        that could not be handed over is not tried again at once)."""
        self.last_move = now
        self.moved_at[sid] = now
        self.came_from[sid] = source

    def forget(self, sid: str) -> None:
        """The session is gone."""
        self.moved_at.pop(sid, None)
        self.came_from.pop(sid, None)

    def forget_process(self, process: W) -> None:
        """The process is gone (it died and was replaced)."""
        self.came_from = {s: w for s, w in self.came_from.items() if w is not process}
