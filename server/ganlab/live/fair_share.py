"""Fair shares of an engine process's time: each busy session gets its turn in order of the
time it has used, so one whose work is costly (a big network, an expensive command) waits
until the others have had as much, instead of running ahead of everyone.

Time is charged after the fact (a turn is not interrupted), so a session whose single
iteration, picture or command takes long still runs that whole piece; it then sits out until
its neighbours have caught up. A session that was idle does not bank time: when it becomes
busy again it starts level with the busy session that has used least.
"""

from __future__ import annotations

from collections.abc import Iterable

# How far ahead of the least-served busy session a session may be and still take a turn:
# small, so that turns interleave finely, but above one cheap turn so that sessions of equal
# cost alternate rather than each waiting for the other's next turn.
LAG = 0.02


class FairShare:
    def __init__(self, lag: float = LAG) -> None:
        self.lag = lag
        self.used: dict[str, float] = {}
        self.busy: set[str] = set()

    def mark_busy(self, busy: Iterable[str]) -> None:
        """The sessions that have work now; those newly busy start level with the least-
        served of those that stayed busy (or with each other's highest, if none did)."""
        now_busy = set(busy)
        fresh = now_busy - self.busy
        staying = now_busy & self.busy
        if staying:
            floor = min(self.used[s] for s in staying)
        else:
            floor = max((self.used.get(s, 0.0) for s in fresh), default=0.0)
        for sid in fresh:
            self.used[sid] = max(self.used.get(sid, 0.0), floor)
        self.busy = now_busy

    def floor(self) -> float:
        return min((self.used[s] for s in self.busy), default=0.0)

    def eligible(self, sids: Iterable[str]) -> bool:
        """Whether any of `sids` (a group that steps together) may take a turn now."""
        least = min((self.used.get(s, 0.0) for s in sids), default=0.0)
        return least <= self.floor() + self.lag

    def order(self, units: list[list[str]]) -> list[list[str]]:
        """Units (groups of session ids) least served first."""
        return sorted(units, key=lambda u: min(self.used.get(s, 0.0) for s in u))

    def charge(self, sids: list[str], seconds: float) -> None:
        """Time a turn took, shared by the sessions that took it together."""
        for sid in sids:
            self.used[sid] = self.used.get(sid, 0.0) + seconds / max(1, len(sids))

    def forget(self, sid: str) -> None:
        self.used.pop(sid, None)
        self.busy.discard(sid)
