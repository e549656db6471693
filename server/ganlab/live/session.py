"""One live session: a run, its play state, and its answers to protocol commands.

Knows nothing of sockets: `handle` takes a validated command and returns what to send back
(`Out` items), `train_slice` trains for a short time, `frame` draws the latest picture when
the client can take one. Its parts: how fast it trains (pacing.py), when it draws
(frame_schedule.py), and what its metric rows may cost (metric_budget.py). An engine process
(engine_process.py) drives many of these in turn.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, replace
from typing import Any

import torch

from ganlab.engine import runfile
from ganlab.engine.config import ConfigError, ExperimentConfig, merge, parse_config, updated
from ganlab.engine.cost import iteration_flops, picture_flops
from ganlab.engine.distributions.custom import PointsError, parse_points
from ganlab.engine.evaluation import Band, real_baseline
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.timeline import Policy, Timeline
from ganlab.engine.trainer import Trainer
from ganlab.live.checkpoints import parse_meta
from ganlab.live.frame_schedule import CREDITS, FrameSchedule
from ganlab.live.metric_budget import MetricBudget
from ganlab.live.pacing import Pacing
from ganlab.live.run_tree import MAX_BRANCHES, RunTree
from ganlab.wire.commands import PROTOCOL, ProtocolError
from ganlab.wire.messages import (
    baseline_field,
    frame_message,
    history_message,
    phase_message,
    run_message,
)

__all__ = ["CREDITS", "Limits", "Out", "Session"]

# Baselines already computed in this process, by (data, sizes): sessions on the same data (the
# usual case, and a client opening session after session) reuse one instead of paying its
# ~0.3 s each time. Bounded: the oldest is dropped.
_BASELINES: dict[tuple[str, tuple[int, int, int]], dict[str, Band]] = {}
_BASELINES_KEPT = 16


def _shared_baseline(trainer: Trainer, key: tuple[int, int, int]) -> dict[str, Band]:
    data = trainer.config.data
    name = data.name if data.name not in ("drawing", "points") else data.model_dump_json()
    found = _BASELINES.get((name, key))
    if found is None:
        found = _BASELINES[(name, key)] = real_baseline(trainer.distribution, *key)
        while len(_BASELINES) > _BASELINES_KEPT:
            del _BASELINES[next(iter(_BASELINES))]
    return found


@dataclass
class Out:
    """One message for the client: a JSON event (`text`) or a binary message."""

    kind: str  # "text", "frame" or "binary"
    data: Any


def text(**event: Any) -> Out:
    return Out("text", event)


@dataclass(frozen=True)
class Limits:
    """Work one live session may ask of its shared core, in GFLOP (see cost.py)."""

    iteration_gflop: float = 12.0
    picture_gflop: float = 24.0
    # Exact optimal transport grows ~n³: a live W1 uses at most this many points per side.
    w1_points: int = 1000
    # Bytes of snapshots a session's history keeps (engine/timeline.py), shared by its
    # branches.
    history_bytes: int = 32 * 2**20
    # A saved run file stays within this (the largest a client may load): its history is
    # cut from the oldest end to fit.
    run_bytes: int = 64 * 2**20
    # Snapshots of history a checkpoint keeps (thinned to it, the whole range still
    # reachable): checkpoints are written every few seconds, and their cost grows with this.
    checkpoint_history_bytes: int = 2 * 2**20


# Commands that act on the head of the run: while a past point is shown they go back first.
LEAVE_THE_PAST = frozenset({"play", "step", "config", "data", "reset", "load"})


def _display_only(cmd: dict[str, Any]) -> bool:
    """A config change of how pictures are drawn only (`view`): the past point stays shown,
    drawn the new way."""
    return cmd["type"] == "config" and bool(cmd["set"]) and set(cmd["set"]) <= {"view"}


def _first_leaf(patch: Any, prefix: str = "") -> str | None:
    if isinstance(patch, dict) and patch:
        key = next(iter(patch))
        return _first_leaf(patch[key], f"{prefix}{key}.")
    return prefix[:-1] or None


class Session:
    def __init__(self, sid: str, config: dict[str, Any] | None = None,
                 limits: Limits | None = None, fps: int = 30) -> None:  # fmt: skip
        self.sid = sid
        self.limits = limits or Limits()
        initial = parse_config(merge(ExperimentConfig().model_dump(), config or {}))
        self._check_cost(initial, None)
        self.trainer = Trainer(initial)
        self.cache = PictureCache()
        self.playing = False
        self.attached = False
        self.pacing = Pacing()
        self.frames = FrameSchedule(fps)
        self.metrics = MetricBudget(self.limits.w1_points)
        self.applied: int | None = None
        self.config_version = 0
        self.dirty = True
        self.history_sent = 0
        self.walk: tuple[str, Any, int] | None = None
        # The updates slow motion has completed in the iteration under way ('d', 'g', ...).
        self.walk_done: list[str] = []
        self._slice_first = 0
        self.history_thinned = False
        # The real-vs-real baseline and the (samples, W1 points, grid) it was computed for.
        self._baseline: tuple[tuple[int, int, int], dict[str, Band]] | None = None
        # Time travel: the run's branches with their histories, and the past point shown
        # (a run rebuilt there, and its picture cache), None while the head is shown.
        self.tree = RunTree(Timeline(self.trainer, self._policy()))
        self.past: Trainer | None = None
        self.past_cache = PictureCache()
        # Whether it played when its client left (it goes on when the client comes back), how
        # many commands it took (with the history's length: has it changed since a
        # checkpoint?), and whether it was restored from a checkpoint and not yet told so.
        self.resume_playing = False
        self.commands = 0
        self.restored = False

    # What the engine process and the client see of the parts.
    @property
    def ips(self) -> float | None:
        return self.pacing.ips

    @property
    def fps(self) -> int:
        return self.frames.fps

    @property
    def played_at(self) -> float:
        return self.pacing.played_at

    @property
    def credits(self) -> int:
        return self.frames.credits

    @credits.setter
    def credits(self, value: int) -> None:
        self.frames.credits = value

    # ------------------------------------------------------------------ moving
    # A session moves between engine processes as a pickle of its fields, with the run as a
    # run file (exact to the bit, random streams included) and no picture cache.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["trainer"] = runfile.dumps(self.trainer)
        state["walk"] = None  # a walkthrough in progress does not survive a move
        state["past"] = None  # (only a paused session shows the past; none moves)
        state["heads"] = [None if b.head is None else runfile.dumps(b.head)
                          for b in self.tree.branches]  # fmt: skip
        state["tree"] = tree = copy.copy(self.tree)
        tree.branches = [replace(b, head=None) for b in self.tree.branches]
        del state["cache"], state["past_cache"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["trainer"] = runfile.loads(state["trainer"])
        state["cache"], state["past_cache"] = PictureCache(), PictureCache()
        for branch, head in zip(state["tree"].branches, state.pop("heads"), strict=True):
            branch.head = None if head is None else runfile.loads(head)
        self.__dict__.update(state)

    # ------------------------------------------------------------------ commands
    def handle(self, cmd: dict[str, Any], payload: bytes | None = None) -> list[Out]:
        """Apply one validated command. Raises ProtocolError for a refused one; the run is
        left as it was."""
        kind = cmd["type"]
        if kind in LEAVE_THE_PAST and not _display_only(cmd):
            self._leave_past()
        if not (kind == "step" and cmd.get("sub")):
            self.walk = None  # any other command cancels an unfinished walkthrough
            if kind not in ("ping", "speed", "save"):
                self.walk_done = []
        self.commands += 1
        out = getattr(self, f"_cmd_{kind}")(cmd, payload)
        if cmd.get("id") is not None:
            self.applied = cmd["id"]
        return out

    def _ack(self, cmd: dict[str, Any]) -> Out:
        return text(type="ack", id=cmd.get("id"), command=cmd["type"])

    def _state(self, reason: str, cmd: dict[str, Any] | None = None) -> Out:
        self.dirty = True  # the next frame shows the new play state
        t = self.trainer
        return text(type="state", playing=self.playing, reason=reason, iteration=t.iteration,
                    d_updates=t.d_updates, g_updates=t.g_updates,
                    id=cmd.get("id") if cmd else None)  # fmt: skip

    def _stopped(self, reason: str, cmd: dict[str, Any]) -> Out:
        """Stop playing and say so (the `state` event a pause gives)."""
        self.playing = False
        return self._state(reason, cmd)

    def _config_event(self, cmd: dict[str, Any] | None, rebuilt: set[str]) -> Out:
        """The config now in effect; its `data` section only when it may have changed (a
        drawn or imported data set can be 20,000 points, not to be resent with each change
        of a learning rate)."""
        self.config_version += 1
        self.dirty = True
        config = self.trainer.config.model_dump()
        if not rebuilt & {"data", "reset", "load", "branch"}:
            del config["data"]
        if rebuilt & {"data", "load", "branch"}:
            self._baseline = None  # other data: another baseline
        return text(type="config", config=config, rebuilt=sorted(rebuilt),
                    baseline=self.baseline(), id=cmd.get("id") if cmd else None)  # fmt: skip

    def baseline(self) -> dict[str, Any]:
        """The divergences two independent real samples of the metric rows' sizes score
        (evaluation.real_baseline). Computed here, once per data and metrics settings (about
        0.3 s at the defaults, 1.1 s at 1,000 W1 points): never on a frame's path."""
        c = self.trainer.config.metrics
        key = (c.samples, min(c.w1_samples, self.limits.w1_points), c.grid)
        if self._baseline is None or self._baseline[0] != key:
            self._baseline = (key, _shared_baseline(self.trainer, key))
        return baseline_field(self._baseline[1], key[0], key[1])

    def _cmd_play(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        self.playing = True
        self.pacing.start()
        return [self._state("command", cmd)]

    def _cmd_pause(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        self.playing = False
        # The history as it now stands (its snapshots), for scrubbing what was just played.
        return [self._state("command", cmd), self.timeline_event(cmd)]

    def _cmd_step(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        out = []
        if self.playing:
            self.playing = False
            out.append(self._state("command", cmd))
        phase = cmd.get("phase", "both")
        if cmd.get("sub"):
            return [*out, *self._walk_phase(phase), self._ack(cmd)]
        t = self.trainer
        if phase == "d":
            t.step_d()
            self.timeline.updated(t, "d")
        elif phase == "g":
            t.step_g()
            self.timeline.updated(t, "g")
        else:
            t.step()
            self.timeline.iterated(t)
            if t.iteration % t.config.metrics.every == 0:
                self._record(1)
        self.dirty = True
        return [*out, self._ack(cmd), *self._check_diverged(), *self._thinned_history()]

    def _walk_phase(self, network: str) -> list[Out]:
        if self.walk is None or self.walk[0] != network:
            self.walk = (network, self.trainer.walk(network), 0)
        net, steps, index = self.walk
        name, values = next(steps)
        self.walk = None if name == "update" else (net, steps, index + 1)
        if index == 0:  # the walk's first phase drew its batches and gradients
            self.timeline.updated(self.trainer, f"{net}_grad")
        if name == "update":
            self.dirty = True
            self.timeline.updated(self.trainer, f"{net}_apply")
            self._walk_update_done(net)
        return [Out("binary", phase_message(net, name, index, values)), *self._check_diverged(),
                *self._thinned_history()]  # fmt: skip

    def _walk_update_done(self, network: str) -> None:
        """Slow motion finished one update: when the iteration's updates (`walk_plan`) are all
        done, the iteration counts, as if played."""
        t = self.trainer
        plan = t.walk_plan()
        self.walk_done.append(network)
        if self.walk_done != plan[: len(self.walk_done)]:
            self.walk_done = [network] if plan[:1] == [network] else []
        if plan and self.walk_done == plan:
            self.walk_done = []
            t.iteration += 1
            self.timeline.updated(t, "tick")
            if t.iteration % t.config.metrics.every == 0:
                self._record(1)

    def _cmd_reset(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        if cmd.get("seed") is not None:
            self.trainer.configure({"seed": cmd["seed"]})
        self.trainer.reset()
        self._new_history()
        # A reset stops training; a client that was playing is told so, like after a pause.
        stopped = [self._stopped("reset", cmd)] if self.playing else []
        return [*stopped, self._config_event(cmd, {"reset"}), *self._full_history(),
                self.timeline_event(cmd)]  # fmt: skip

    def _check_cost(self, config: ExperimentConfig, field: str | None) -> None:
        """Refuse a config whose steps or pictures would stall the sessions sharing a core."""
        for what, flops, limit in (
            ("iteration", iteration_flops(config), self.limits.iteration_gflop),
            ("picture", picture_flops(config), self.limits.picture_gflop),
        ):
            if flops > limit * 1e9:
                raise ProtocolError(
                    "invalid_config",
                    f"too costly for a live session: {flops / 1e9:.1f} GFLOP per {what}, "
                    f"limit {limit:g}; use fewer layers or neurons, a smaller batch or view",
                    field or "generator.neurons",
                )

    def _configure(self, patch: dict[str, Any], cmd: dict[str, Any]) -> list[Out]:
        try:
            new = updated(self.trainer.config, patch)
            self._check_cost(new, _first_leaf(patch))
            rebuilt = self.trainer.configure(new)
        except ConfigError as exc:
            raise ProtocolError("invalid_config", exc.message, exc.field or None) from None
        self.timeline.configured(self.trainer)
        return [self._config_event(cmd, rebuilt)]

    def _cmd_config(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        out = self._configure(cmd["set"], cmd)
        if self.past is not None:  # (a display change: the past point stays)
            self._same_view(self.past)
        return out

    def _same_view(self, run: Trainer) -> None:
        """Draw `run` with the live run's view settings (the lens, grid, samples shown): the
        picture of a past point is drawn as the page now asks, not as it was then."""
        if run.config.view != self.trainer.config.view:
            run.configure(updated(run.config, {"view": self.trainer.config.view.model_dump()}))

    def _cmd_data(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        if "import" in cmd:
            spec = cmd["import"]
            try:
                points = parse_points(spec["text"], spec["format"])
            except PointsError as exc:
                raise ProtocolError("invalid_points", str(exc), "import.text") from None
            data = {"name": "points", "points": points.tolist(), "strokes": None}
        else:
            data = cmd["set"]
        return self._configure({"data": data}, cmd)

    def _cmd_speed(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        if "ips" in cmd:
            self.pacing.cap(cmd["ips"])
        if "fps" in cmd and cmd["fps"] is not None:
            self.frames.fps = cmd["fps"]
        return [text(type="speed", ips=self.ips, fps=self.fps, id=cmd.get("id"))]

    def _cmd_save(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        # The shown branch up to its head, with as much of its history as fits a loadable file.
        data = runfile.dumps(self.trainer, self.timeline, self.limits.run_bytes)
        name = f"ganlab-{self.trainer.config.data.name}-{self.trainer.iteration}.ganlab"
        return [text(type="saved", filename=name, bytes=len(data), id=cmd.get("id")),
                Out("binary", run_message(data, name))]  # fmt: skip

    def _cmd_load(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        device = self.trainer.config.device
        try:
            trainer, history = runfile.loads_with_history(payload or b"", device, self._policy())
        except (runfile.RunFileError, ConfigError) as exc:
            raise ProtocolError("bad_run_file", str(exc)) from None
        self._check_cost(trainer.config, None)
        self.trainer = trainer
        self.cache = PictureCache()
        self._new_history()
        if history is not None:  # a file with its history: scrubbable as saved
            self.tree = RunTree(history)
        stopped = [self._stopped("load", cmd)] if self.playing else []
        return [*stopped, self._config_event(cmd, {"load"}), *self._full_history(),
                text(type="loaded", iteration=trainer.iteration, id=cmd.get("id")),
                self.timeline_event(cmd)]  # fmt: skip

    def _cmd_ping(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        return [text(type="pong", t=time.time(), id=cmd.get("id"))]

    # ------------------------------------------------------------------ time travel
    @property
    def timeline(self) -> Timeline:
        """The history of the shown branch (its head is `trainer`)."""
        return self.tree.current.timeline

    def _policy(self) -> Policy:
        return Policy(budget=self.limits.history_bytes)

    def _new_history(self) -> None:
        """The run starts over (reset, or a run file without history): one branch."""
        self._leave_past()
        self.tree = RunTree(Timeline(self.trainer, self._policy()))

    def _leave_past(self) -> None:
        if self.past is not None:
            self.past = None
            self.dirty = True

    @property
    def shown(self) -> Trainer:
        """The run the picture shows: a past point's, or the live one."""
        return self.past if self.past is not None else self.trainer

    def timeline_event(self, cmd: dict[str, Any] | None = None) -> Out:
        tl = self.timeline
        start = self.tree.reachable(self.tree.current)[0]
        return text(type="timeline", branch=self.tree.shown, live=self.past is None,
                    iteration=self.shown.iteration, start=start, head=tl.iteration,
                    snapshots=self.tree.snapshots(self.tree.current),
                    branches=self.tree.describe(), bytes=self.tree.nbytes,
                    budget=self.limits.history_bytes,
                    id=cmd.get("id") if cmd else None)  # fmt: skip

    def _reachable(self, branch_id: int | None, iteration: int | None) -> tuple[int, int]:
        """The branch (default: shown) and the iteration (default: the shown point), checked."""
        branch = self.tree.current if branch_id is None else self.tree.get(branch_id)
        if branch is None:
            raise ProtocolError("bad_seek", f"no branch {branch_id}; this run has branches "
                                f"0..{len(self.tree.branches) - 1}", "branch")  # fmt: skip
        if iteration is None:
            return branch.id, self.shown.iteration
        lo, hi = self.tree.reachable(branch)
        if not lo <= iteration <= hi:
            raise ProtocolError("bad_seek", f"iteration must be within {lo}..{hi}: the history "
                                "kept since the run's last reset or load", "iteration")  # fmt: skip
        return branch.id, iteration

    def _pause_for(self, reason: str, cmd: dict[str, Any]) -> list[Out]:
        return [self._stopped(reason, cmd)] if self.playing else []

    def _show_branch(self, branch_id: int, cmd: dict[str, Any]) -> list[Out]:
        """Switch to another branch's head (its config and metric rows come with it)."""
        if branch_id == self.tree.shown:
            return []
        self.trainer = self.tree.switch(branch_id, self.trainer)
        self.cache = PictureCache()
        return [self._config_event(cmd, {"branch"}), *self._full_history()]

    def _seek_run(self, iteration: int) -> Trainer:
        """The shown branch's lineage at `iteration`: before where the branch started, its
        ancestors' history."""
        tl = self.tree.owner(self.tree.current, iteration).timeline
        try:
            return tl.seek(iteration, rows=self.trainer.history)
        except Exception as exc:  # a damaged snapshot of a loaded file: this seek fails only
            why = f"{type(exc).__name__}: {exc}"[:200]
            raise ProtocolError("bad_seek", f"the history at iteration {iteration} could not "
                                f"be rebuilt ({why})") from None  # fmt: skip

    def _cmd_seek(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        branch_id, iteration = self._reachable(cmd.get("branch"), cmd["iteration"])
        out = self._pause_for("seek", cmd)
        out += self._show_branch(branch_id, cmd)
        if iteration == self.timeline.iteration:
            self._leave_past()
        else:
            self.past = self._seek_run(iteration)
            self._same_view(self.past)
        self.dirty = True
        return [*out, self.timeline_event(cmd)]

    def _cmd_live(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        branch_id, _ = self._reachable(cmd.get("branch"), None)
        self._leave_past()
        out = self._show_branch(branch_id, cmd)
        self.dirty = True
        return [*out, self.timeline_event(cmd)]

    def _cmd_branch(self, cmd: dict[str, Any], payload: bytes | None) -> list[Out]:
        if self.tree.full:
            raise ProtocolError("too_many_branches", f"a run keeps at most {MAX_BRANCHES} "
                                "branches; reset to start a new history")  # fmt: skip
        _, iteration = self._reachable(None, cmd.get("iteration"))
        patch = cmd.get("set")
        run = self._seek_run(iteration)
        rebuilt: set[str] = set()
        if patch:  # checked before anything changes: a refused change leaves all as it was
            try:
                new = updated(run.config, patch)
                self._check_cost(new, _first_leaf(patch))
                rebuilt = run.configure(new)
            except ConfigError as exc:
                raise ProtocolError("invalid_config", exc.message, exc.field or None) from None
        out = self._pause_for("branch", cmd)
        self._leave_past()
        parent = self.tree.owner(self.tree.current, iteration).id
        branch = self.tree.add(parent, iteration, patch, Timeline(run, self._policy()))
        self.tree.share(self.limits.history_bytes)  # one budget for the session's branches
        self.tree.current.head, self.tree.shown = self.trainer, branch.id
        self.trainer, self.cache = run, PictureCache()
        return [*out, self._config_event(cmd, {"branch", *rebuilt}), *self._full_history(),
                self.timeline_event(cmd)]  # fmt: skip

    def _full_history(self) -> list[Out]:
        self.history_sent = len(self.trainer.history)
        return [Out("binary", history_message(self.trainer.history))]

    # ------------------------------------------------------------------ connection
    def attach(self, hello: dict[str, Any]) -> list[Out]:
        """A client connected: greet it with the state of the run, its history and a frame.
        A run that played when its client left (or when it was checkpointed) plays on."""
        self.attached = True
        if hello.get("resumed") and self.resume_playing:
            self.playing = True
        self.resume_playing = False
        self.frames.credits = CREDITS
        self.dirty = True
        greeting = text(
            type="hello", protocol=PROTOCOL, **hello, config=self.trainer.config.model_dump(),
            iteration=self.trainer.iteration, d_updates=self.trainer.d_updates,
            g_updates=self.trainer.g_updates, playing=self.playing,
            speed={"ips": self.ips, "fps": self.fps}, baseline=self.baseline(),
        )  # fmt: skip
        greeting.data["timeline"] = self.timeline_event().data  # (no separate event: order)
        if self.restored:  # the server restarted: the run goes on from its last checkpoint
            greeting.data["restored"] = True
            self.restored = False
        return [greeting, *self._full_history()]

    def detach(self) -> None:
        """No client: pause, so an abandoned tab costs nothing."""
        if self.attached:
            self.resume_playing = self.playing
        self.attached = False
        self.playing = False
        self.walk = None
        self.frames.credits = 0

    # ------------------------------------------------------------------ training
    @property
    def runnable(self) -> bool:
        return self.playing and self.attached

    def train_slice(self, budget: float, sharing: int = 1) -> list[Out]:
        """Train for about `budget` seconds (less under an iterations/s cap); `sharing` is
        how many sessions take turns on this worker."""
        now = start = self.begin_slice()
        while now - start < budget and self.may_step():
            self.trainer.step()
            self.after_step(sharing)
            now = time.perf_counter()
        return self.end_slice(now)

    # A slice, in parts, so that a worker can step several sessions together (step.py).
    def begin_slice(self) -> float:
        """Start a slice; returns the time."""
        self._slice_first = self.trainer.iteration
        return time.perf_counter()

    def may_step(self) -> bool:
        """Whether the cap allows one more iteration in this slice (and spend it)."""
        return self.pacing.may_step()

    def after_step(self, sharing: int, together: bool = False) -> None:
        """The run made one iteration: alone, or `together` with others in one group."""
        self.timeline.iterated(self.trainer, together)
        if self.trainer.iteration % self.trainer.config.metrics.every == 0:
            self._record(sharing)

    def end_slice(self, now: float, diverged: bool | None = None) -> list[Out]:
        """`diverged`: the trainer's state if already known (checked for a whole group)."""
        t = self.trainer
        self.pacing.mark(now, t.iteration)
        if t.iteration == self._slice_first:
            return []
        return [*self._check_diverged(diverged), *self._thinned_history()]

    def _record(self, sharing: int) -> None:
        """A metric row within the budget; a history grown past what a run file holds is
        thinned to half of that (evenly, first and last kept) and sent again whole."""
        t = self.trainer
        if self.metrics.record(t, sharing) and len(t.history) > runfile.MAX_HISTORY_ROWS:
            t.history = runfile.thinned(t.history, runfile.MAX_HISTORY_ROWS // 2)
            self.history_thinned = True

    def _thinned_history(self) -> list[Out]:
        if not self.history_thinned:
            return []
        self.history_thinned = False
        return self._full_history()

    def _check_diverged(self, diverged: bool | None = None) -> list[Out]:
        if not (self.trainer.diverged() if diverged is None else diverged):
            return []
        self.playing = False
        self.dirty = True
        it = self.trainer.iteration
        message = (f"training diverged at iteration {it}: weights became NaN or infinite. "
                   "Reset, load a run, or lower the learning rates and play again.")  # fmt: skip
        return [text(type="diverged", iteration=it, message=message),
                self._state("diverged")]  # fmt: skip

    def measured_ips(self) -> float:
        """Iterations per second over about the last second of play."""
        return self.pacing.measured(self.playing)

    def train_wait(self, now: float) -> float:
        """Seconds until this playing session may train again (its ips cap), 0 if now."""
        return self.pacing.wait(now)

    # ------------------------------------------------------------------ frames
    def frame_interval(self, sharing: int) -> float:
        return self.frames.interval_for(sharing)

    def frame_due(self, now: float, sharing: int = 1) -> bool:
        return self.attached and self.frames.due(
            now, sharing, self.dirty, self.playing, self.trainer.iteration
        )

    def next_frame_in(self, now: float) -> float | None:
        """Seconds until a frame may be due, or None when none will be without a command."""
        if not self.attached:
            return None
        return self.frames.next_in(now, self.dirty, self.playing, self.trainer.iteration)

    def frame(self, now: float) -> bytes:
        t = self.shown
        cache = self.cache if self.past is None else self.past_cache
        cache.refresh(t)  # a one-off cost after a config change: not a frame's cost
        # CPU time of this thread: time the process was preempted is not the frame's cost.
        start = time.thread_time()
        with torch.inference_mode():
            picture = compute_picture(t, cache)
        rows: list[dict[str, float]] = []
        if self.past is None:  # a past point's frame brings no new rows
            rows = t.history[self.history_sent :]
            self.history_sent = len(t.history)
        tl = self.timeline
        header = {"frame": self.frames.count + 1, "iteration": t.iteration,
                  "d_updates": t.d_updates, "g_updates": t.g_updates, "playing": self.playing,
                  "ips": round(self.measured_ips(), 1), "applied": self.applied,
                  "config_version": self.config_version, "live": self.past is None,
                  "branch": self.tree.shown, "start": self.tree.reachable(self.tree.current)[0],
                  "head": tl.iteration}  # fmt: skip
        data = frame_message(picture, header, t.losses(), rows)
        self.frames.drawn(now, self.dirty, t.iteration, time.thread_time() - start)
        self.dirty = False
        return data

    # ------------------------------------------------------------------ checkpoints
    def revision(self) -> tuple[int, int, int, int]:
        """Changes whenever what a checkpoint holds does: a command, or an operation of the
        shown branch's run (each is recorded in its history)."""
        return (self.commands, id(self.timeline), self.timeline.ops, self.trainer.iteration)

    def checkpoint(self, token_sha256: str) -> bytes:
        """The session as a checkpoint (live/checkpoints.py): the run file of the shown branch
        with its history thinned to `checkpoint_history_bytes`, plus the session's own
        settings (id, frame rate, iterations/s cap, whether it plays, and the SHA-256 of its
        resume token, never the token itself). Other branches than the shown one are not
        kept."""
        extra = {"sid": self.sid, "fps": self.fps, "ips": self.ips,
                 "playing": self.playing or self.resume_playing,
                 "token_sha256": token_sha256}  # fmt: skip
        history = self.timeline.thinned(self.limits.checkpoint_history_bytes)
        return runfile.dumps(self.trainer, history, self.limits.run_bytes, extra)

    @classmethod
    def restore(cls, data: bytes, limits: Limits, fps: int,
                device: str | None = None) -> tuple[Session, dict[str, Any]]:  # fmt: skip
        """A session rebuilt from its `checkpoint`, paused, and the settings it held
        (checkpoints.parse_meta). It is built with the default frame rate `fps`, then takes
        the checkpoint's own rate and iterations/s cap; `device` overrides the saved device.
        Raises RunFileError for a damaged checkpoint, as for any run file, or one too costly
        for `limits`."""
        meta = parse_meta(runfile.session_meta(data))  # (the header alone: cheap to refuse)
        policy = Policy(budget=limits.history_bytes)
        trainer, history = runfile.loads_with_history(data, device, policy)
        try:
            session = cls(meta["sid"], trainer.config.model_dump(), limits, fps)
        except ProtocolError as exc:
            raise runfile.RunFileError(f"checkpoint refused: {exc.message}") from None
        session.trainer = trainer
        session.tree = RunTree(history if history is not None
                               else Timeline(trainer, policy))  # fmt: skip
        session.frames.fps = meta["fps"]
        session.pacing.cap(meta["ips"])
        session.resume_playing = meta["playing"]
        session.restored = True
        return session, meta
