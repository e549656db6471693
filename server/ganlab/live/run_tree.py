"""A session's branches: runs continued from a past point of another, each with its history.

The branch shown trains live as the session's trainer; the others keep their head (the run
where it stopped) and their history, so that going back to one continues it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganlab.engine.timeline import Timeline
from ganlab.engine.trainer import Trainer

MAX_BRANCHES = 16
LABEL_CHARS = 60


@dataclass
class Branch:
    id: int
    parent: int | None
    start: int  # the iteration it continues from (0 or where the run was reset or loaded)
    label: str
    timeline: Timeline
    # The run at its head while another branch is shown (None while it is the shown one).
    head: Trainer | None = None
    # Its config change as [dotted path, value] pairs (a list value, a drawing, as "…").
    change: list[tuple[str, Any]] | None = None

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "parent": self.parent, "from": self.start, "label": self.label,
                "change": self.change, "head": self.timeline.iteration}  # fmt: skip


def _leaves(patch: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(patch, dict):
        return [leaf for k, v in patch.items() for leaf in _leaves(v, f"{prefix}{k}.")]
    return [(prefix[:-1], patch)]


def changes(patch: dict[str, Any] | None) -> list[tuple[str, Any]]:
    """The patch's leaves as (dotted path, value); a list (a drawing's strokes) as "…"."""
    return [(path, "…" if isinstance(value, list) else value) for path, value in _leaves(patch)]


def label(patch: dict[str, Any] | None) -> str:
    """A branch's name from its change: 'g_optimizer.lr = 0.003', or 'copy' without one."""
    if not patch:
        return "copy"
    text = ", ".join(f"{path} = {value}" for path, value in changes(patch))
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


class RunTree:
    """The branches of one session, the shown one's id in `shown`."""

    def __init__(self, timeline: Timeline) -> None:
        self.branches = [Branch(0, None, timeline.start_iteration, "main", timeline)]
        self.shown = 0

    @property
    def current(self) -> Branch:
        return self.branches[self.shown]

    def get(self, branch_id: int) -> Branch | None:
        return self.branches[branch_id] if 0 <= branch_id < len(self.branches) else None

    @property
    def full(self) -> bool:
        return len(self.branches) >= MAX_BRANCHES

    def add(self, parent: int, start: int, patch: dict[str, Any] | None,
            timeline: Timeline) -> Branch:  # fmt: skip
        branch = Branch(len(self.branches), parent, start, label(patch), timeline,
                        change=changes(patch) if patch else None)  # fmt: skip
        self.branches.append(branch)
        return branch

    def switch(self, branch_id: int, live: Trainer) -> Trainer:
        """Show `branch_id`: the shown branch keeps `live` as its head; returns the run to
        train now (the other branch's head)."""
        target = self.branches[branch_id]
        if target.id == self.shown:
            return live
        self.current.head = live
        run, target.head = target.head, None
        assert run is not None
        self.shown = target.id
        return run

    def owner(self, branch: Branch, iteration: int) -> Branch:
        """The branch whose own history holds `iteration` of `branch`'s lineage: `branch`
        itself from where it started, an ancestor before."""
        while iteration < branch.timeline.start_iteration and branch.parent is not None:
            branch = self.branches[branch.parent]
        return branch

    def reachable(self, branch: Branch) -> tuple[int, int]:
        """The iterations a seek on `branch` can show: its lineage's, from the first of its
        oldest ancestor's history to its head."""
        return self.owner(branch, -1).timeline.start_iteration, branch.timeline.iteration

    def snapshots(self, branch: Branch) -> list[int]:
        """Iterations of the snapshots along `branch`'s lineage, ascending."""
        out: list[int] = []
        below = branch.timeline.iteration + 1
        node: Branch | None = branch
        while node is not None:
            start = node.timeline.start_iteration
            out = [s.iteration for s in node.timeline.snapshots if s.iteration < below] + out
            below = min(below, start)
            node = self.branches[node.parent] if node.parent is not None else None
        return out

    def describe(self) -> list[dict[str, Any]]:
        return [{**b.describe(), "start": self.reachable(b)[0]} for b in self.branches]

    @property
    def nbytes(self) -> int:
        return sum(b.timeline.nbytes for b in self.branches)

    def share(self, budget: int) -> None:
        """Split the session's history budget evenly between the branches, thinning the
        histories now over their share."""
        for b in self.branches:
            b.timeline.policy.budget = budget // len(self.branches)
            b.timeline.thin()
