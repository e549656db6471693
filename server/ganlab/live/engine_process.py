"""An engine process: many sessions trained in turn, in a process of its own (or a thread).

Training is Python-bound, so sessions are spread over processes to use every core; within
one, every busy session (playing, owing a frame, or with commands waiting) gets short turns,
least served first (fair_share.py): a session's commands, its training and its frames all
come out of its own share, so a costly session slows itself and not its neighbours. Playing
sessions whose networks have the same shapes share their turns and step together, one
batched iteration for all of them (step.py), which costs a fraction of stepping each alone.

The messages to and from the web server are engine_messages.py's; what one turn makes goes
out as one `Batch`. Every HEARTBEAT seconds the process says it is alive, with the measured
speed of each playing session without a speed cap and its group key, so that the server can
move sessions from a busy process to a less busy one (`Export` here, `Import` there) and can
tell a hung process from a busy one.

An exception inside one session pauses that session and is reported to its client; the
process and the other sessions go on.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import traceback
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

import torch

from ganlab.engine.runfile import RunFileError
from ganlab.engine.step import diverged_runs, group_key, step_together
from ganlab.live.checkpointing import Checkpointing
from ganlab.live.checkpoints import CheckpointStore
from ganlab.live.engine_messages import (
    Attach,
    Batch,
    Binary,
    Command,
    Create,
    Credit,
    Detach,
    Drop,
    Export,
    Exported,
    ExportFailed,
    Failed,
    Frame,
    Heartbeat,
    Import,
    Ready,
    Restore,
    RestoreFailed,
    Stop,
    Text,
    batched,
    unbatched,
)
from ganlab.live.fair_share import FairShare
from ganlab.live.memory import MemoryReleaser
from ganlab.live.security import log_like_the_server
from ganlab.live.session import CREDITS, Limits, Out, Session
from ganlab.wire.commands import ProtocolError

log = logging.getLogger("ganlab.engine_process")
SLICE_SECONDS = 0.002
# A group of sessions stepped together gets a slice per member, up to this long (frames of
# other sessions wait for it).
GROUP_SLICE_MAX = 0.01
# Commands of one session taken in one turn: at least one, then more while they are quick.
COMMANDS_SLICE = 0.005
# A turn that has taken this long (CPU seconds per session in it) stops: its frame waits for
# the unit's next turn.
LONG_TURN = 0.02
# Commands that may wait for one session; beyond, the client is told the server is busy.
MAX_PENDING = 32
# After a group fails to step together, sessions step alone for this long (seconds).
GROUP_BACKOFF = 5.0
IDLE_POLL = 0.5
HEARTBEAT = 0.5
# A session counts in a load report once it has played this long (its speed is measured).
LOAD_SETTLED = 2.0

# Commands after which much memory is free (networks, optimizer state, a run replaced), and
# config sections whose change rebuilds something large (a learning rate frees nothing).
FREEING = frozenset({"data", "reset", "load"})
REBUILDING = frozenset({"generator", "discriminator", "noise", "training", "view", "data",
                        "device", "metrics"})  # fmt: skip


def frees_memory(cmd: dict[str, Any]) -> bool:
    if cmd["type"] != "config":
        return cmd["type"] in FREEING
    patch = cmd["set"]
    optimizers = (patch.get(k) for k in ("d_optimizer", "g_optimizer"))
    # A new optimizer kind starts afresh (its old state is freed); a new rate does not.
    return any(key in REBUILDING for key in patch) or any(
        isinstance(o, dict) and "kind" in o for o in optimizers
    )


_FOR_CLIENT = {"text": Text, "frame": Frame, "binary": Binary}


def _busy_error(cmd: dict[str, Any]) -> dict[str, Any]:
    return ProtocolError(
        "busy", f"the server is still working on this session's last {MAX_PENDING} commands; "
        "wait for their answers before sending more", id=cmd.get("id"),
    ).event()  # fmt: skip


class EngineProcess:
    def __init__(self, conn: Connection, checkpoints: Checkpointing | None = None) -> None:
        self.conn = conn
        # Where its sessions are saved from time to time (None: nowhere).
        self.checkpoints = checkpoints
        self.sessions: dict[str, Session] = {}
        self.pending: dict[str, deque[Command]] = {}
        # Sessions whose last turn ran long before their frame: it comes first next turn.
        self.frame_owed: set[str] = set()
        self.fair = FairShare()
        # Freed memory goes back to the system now and then (glibc keeps it otherwise).
        self.memory = MemoryReleaser()
        self.running = True
        self.grouping_from = 0.0
        self.beat_at = 0.0
        self.outgoing: list[Any] = []

    # ------------------------------------------------------------------ messages
    def emit(self, msg: Any) -> None:
        self.outgoing.append(msg)

    def flush(self) -> None:
        """Send what this turn produced, as one message: each message wakes the server's
        process, and fewer wake-ups leave more of the core to training."""
        if self.outgoing:
            out, self.outgoing = self.outgoing, []
            self.conn.send(batched(out))

    def send(self, sid: str, items: list[Out]) -> None:
        for item in items:
            self.emit(_FOR_CLIENT[item.kind](sid, item.data))

    def receive(self, timeout: float) -> None:
        """Take in what the server sent, waiting up to `timeout` for the first message."""
        if not self.conn.poll(timeout):
            return
        while self.running and self.conn.poll(0):
            for msg in unbatched(self.conn.recv()):
                self.dispatch(msg)

    def fail(self, sid: str, session: Session | None, exc: BaseException,
             mid: int | None = None) -> None:  # fmt: skip
        """An unexpected error inside one session: pause it, tell its client, keep going."""
        log.error("session %s: %s", sid, "".join(traceback.format_exception(exc)))
        if session is not None:
            session.playing = False
            session.dirty = False  # do not retry a failing picture in a loop
        err = ProtocolError("internal", f"the engine failed: {type(exc).__name__}: {exc}"[:500],
                            id=mid)  # fmt: skip
        state = {"type": "state", "playing": False, "reason": "error",
                 "iteration": session.trainer.iteration if session else 0}  # fmt: skip
        self.emit(Text(sid, err.event()))
        self.emit(Text(sid, state))

    def dispatch(self, msg: Any) -> None:
        """One message from the server. Commands wait for their session's turn; the rest is
        bookkeeping, done at once."""
        match msg:
            case Batch(items):
                for one in items:
                    self.dispatch(one)
            case Stop():
                self.running = False
            case Create(sid, config, limits, fps, digest):
                try:
                    self._seat(sid, Session(sid, config, Limits(**limits), fps), digest)
                except Exception as exc:  # a broken default config must not kill the process
                    self.emit(Failed(sid, f"{type(exc).__name__}: {exc}"))
            case Restore():
                self.restore(msg)
            case Import(sid, blob, digest):
                try:
                    self._seat(sid, pickle.loads(blob), digest)
                except Exception as exc:
                    log.exception("session %s could not be moved here", sid)
                    self.emit(Failed(sid, f"moving the session failed: {exc}"))
            case Export(sid):
                self.export(sid)
            case Command(sid, cmd, _) if sid in self.sessions:
                queue = self.pending[sid]
                if len(queue) >= MAX_PENDING:
                    self.emit(Text(sid, _busy_error(cmd)))
                else:
                    queue.append(msg)
            case Attach(sid, hello) if sid in self.sessions:
                self._guarded(sid, lambda s: self.send(sid, s.attach(hello)))
            case Detach(sid) if sid in self.sessions:
                self.pending[sid].clear()  # what a client asked for dies with its connection
                self._guarded(sid, lambda s: s.detach())
            case Credit(sid) if sid in self.sessions:
                session = self.sessions[sid]
                session.credits = min(session.credits + 1, CREDITS)
            case Drop(sid):
                self._unseat(sid, ended=True)
            case _:
                pass  # for a session dropped meanwhile

    def _seat(self, sid: str, session: Session, token_sha256: str, saved: Any = None) -> None:
        self.sessions[sid] = session
        self.pending[sid] = deque()
        if self.checkpoints is not None and token_sha256:
            self.checkpoints.seated(sid, token_sha256, saved)

    def _unseat(self, sid: str, ended: bool) -> None:
        """The session leaves: `ended` (its checkpoint goes too), or moved away."""
        self.sessions.pop(sid, None)
        self.pending.pop(sid, None)
        self.frame_owed.discard(sid)
        self.fair.forget(sid)
        self.memory.freed()
        if self.checkpoints is not None:
            self.checkpoints.forget(sid, delete=ended)

    def restore(self, msg: Restore) -> None:
        """Take a session back from its checkpoint; a damaged one is refused with a log line
        and the server is told (its client starts a new session)."""
        store = self.checkpoints.store if self.checkpoints is not None else None
        data = store.load(msg.sid) if store is not None else None
        try:
            if data is None:
                raise RunFileError("it has no checkpoint")
            session, _ = Session.restore(data, Limits(**msg.limits), msg.fps, msg.device)
            if session.sid != msg.sid:
                raise RunFileError(f"the checkpoint is of session {session.sid!r}")
        except Exception as exc:  # whatever a damaged file raises: only this session is lost
            log.error("session %s: checkpoint refused, the client starts a new session: %s",
                      msg.sid, exc)  # fmt: skip
            if store is not None:
                store.delete(msg.sid)
            self.emit(RestoreFailed(msg.sid, str(exc)[:500]))
            return
        log.info("session %s restored from its checkpoint at iteration %d", msg.sid,
                 session.trainer.iteration)  # fmt: skip
        self._seat(msg.sid, session, msg.token_sha256, session.revision())

    def _guarded(self, sid: str, action: Any) -> None:
        session = self.sessions[sid]
        try:
            action(session)
        except Exception as exc:
            self.fail(sid, session, exc)

    def export(self, sid: str) -> None:
        """Hand a session over to the server, to be imported by another process."""
        session = self.sessions.get(sid)
        if session is None or not session.runnable or session.trainer.diverged():
            # Gone, paused meanwhile (nothing to gain), or diverged (a run file refuses NaN).
            self.emit(ExportFailed(sid, "not a healthy playing session here"))
            return
        if self.pending[sid]:  # its commands stay in order: it moves another time
            self.emit(ExportFailed(sid, "commands waiting"))
            return
        try:
            blob = pickle.dumps(session)
        except Exception as exc:  # it stays here, and goes on as before
            log.exception("session %s could not be exported", sid)
            self.emit(ExportFailed(sid, f"{type(exc).__name__}: {exc}"))
            return
        self._unseat(sid, ended=False)
        self.emit(Exported(sid, blob))

    def heartbeat(self, now: float) -> None:
        rows = []
        for sid, session in self.sessions.items():
            if session.runnable and session.ips is None and now - session.played_at >= LOAD_SETTLED:
                rows.append((sid, session.measured_ips(), group_key(session.trainer)))
        self.emit(Heartbeat(rows))
        self.beat_at = now

    # ------------------------------------------------------------------ turns
    def _timeout(self, now: float) -> float:
        """How long the process may sleep: until a session can train or owes a frame."""
        if any(self.pending.values()):
            return 0.0
        waits = [HEARTBEAT - (now - self.beat_at)]
        waits += [s.train_wait(now) for s in self.sessions.values() if s.runnable]
        waits += [w for s in self.sessions.values() if (w := s.next_frame_in(now)) is not None]
        return max(0.0, min(waits, default=IDLE_POLL))

    def _busy(self, now: float, sharing: int) -> list[str]:
        """The sessions with work to do now (a session that would idle through its turn must
        not count: it would hold the others back as the least served)."""
        return [sid for sid, s in self.sessions.items()
                if self.pending[sid] or (s.runnable and s.train_wait(now) == 0.0)
                or s.frame_due(now, sharing)]  # fmt: skip

    def _units(self, busy: list[str]) -> list[list[str]]:
        """The busy sessions in turns: those that can step together share one."""
        groups: dict[Any, list[str]] = {}
        for sid in busy:
            session = self.sessions[sid]
            key = group_key(session.trainer) if session.runnable else None
            groups.setdefault(key if key is not None else sid, []).append(sid)
        return self.fair.order(list(groups.values()))

    def run(self) -> None:
        self.conn.send(Ready(os.getpid()))
        while self.running:
            self.receive(self._timeout(time.perf_counter()))
            if (now := time.perf_counter()) - self.beat_at >= HEARTBEAT:
                self.heartbeat(now)
            # Sessions taking turns at training: frames and metric rows thin out with more.
            sharing = max(1, sum(s.runnable for s in self.sessions.values()))
            busy = self._busy(now, sharing)
            self.fair.mark_busy(busy)
            for unit in self._units(busy):
                if not self.running:
                    break
                if not self.fair.eligible(unit):
                    continue
                start = time.thread_time()
                self._turn(unit, sharing)
                self.fair.charge(unit, time.thread_time() - start)
                if (now := time.perf_counter()) - self.beat_at >= HEARTBEAT:
                    self.heartbeat(now)  # a round of costly turns must not look like a hang
                self.flush()  # not held back while the others take their turns
                self.receive(0.0)  # credits and pings come in between turns
            self.flush()
            self.memory.maybe_release()
            self.checkpoint()
        if self.checkpoints is not None:  # the server stops: nothing changed may be lost
            self.checkpoints.save_changed(self.sessions)
            self.checkpoints.close()

    def checkpoint(self) -> None:
        """Save the session most overdue for a checkpoint, if one is."""
        if self.checkpoints is not None and (sid := self.checkpoints.due(self.sessions)):
            self.checkpoints.save(sid, self.sessions[sid])

    def _turn(self, unit: list[str], sharing: int) -> None:
        """One turn: the unit's waiting commands, a training slice, the frames due. A turn
        that has taken long ends early, and what it left (a frame) starts the unit's next
        turn, after its neighbours have had theirs: a costly session's step and its picture
        do not hold the others back together."""
        start = time.thread_time()
        members = [(sid, s) for sid in unit if (s := self.sessions.get(sid)) is not None]
        # A group's turn does the work of its members: it is long only past each one's share.
        long_turn = LONG_TURN * max(1, len(members))
        owed = [(sid, s) for sid, s in members if sid in self.frame_owed]
        if owed:
            self.frame_owed.difference_update(sid for sid, _ in owed)
            self._frames(owed, sharing)
            if time.thread_time() - start >= long_turn:
                return
        for sid, _ in members:
            self._commands(sid)  # (commands never drop a session: members stay)
        if time.thread_time() - start < long_turn:
            playing = [(sid, s) for sid, s in members if s.runnable]
            keys = {group_key(s.trainer) for _, s in playing}
            if len(playing) > 1 and len(keys) == 1:  # a command may have changed a shape
                self._train_together(playing, sharing)
            else:
                for sid, session in playing:
                    self._train_alone(sid, session, sharing)
        if time.thread_time() - start < long_turn:
            self._frames(members, sharing)
        else:
            self.frame_owed.update(sid for sid, _ in members)

    def _commands(self, sid: str) -> None:
        """The session's waiting commands: one at least, more while within COMMANDS_SLICE."""
        queue = self.pending.get(sid)
        start = time.perf_counter()
        while queue and (session := self.sessions.get(sid)) is not None:
            msg = queue.popleft()
            if frees_memory(msg.cmd):
                self.memory.freed()
            try:
                self.send(sid, session.handle(msg.cmd, msg.payload))
            except ProtocolError as exc:
                if exc.id is None:
                    exc.id = msg.cmd.get("id")
                self.emit(Text(sid, exc.event()))
            except Exception as exc:
                self.fail(sid, session, exc, msg.cmd.get("id"))
            if time.perf_counter() - start >= COMMANDS_SLICE:
                break

    def _train_together(self, group: list[tuple[str, Session]], sharing: int) -> None:
        if time.perf_counter() >= self.grouping_from:
            try:
                for sid, items in train_together(group, sharing):
                    self.send(sid, items)
                return
            except Exception:  # step each alone, which finds the session that fails
                log.exception("a group of %d sessions failed to step together", len(group))
                self.grouping_from = time.perf_counter() + GROUP_BACKOFF
        for sid, session in group:
            self._train_alone(sid, session, sharing)

    def _train_alone(self, sid: str, session: Session, sharing: int) -> None:
        try:
            self.send(sid, session.train_slice(SLICE_SECONDS, sharing))
        except Exception as exc:
            self.fail(sid, session, exc)

    def _frames(self, members: list[tuple[str, Session]], sharing: int) -> None:
        for sid, session in members:
            try:
                now = time.perf_counter()
                if session.frame_due(now, sharing):
                    self.emit(Frame(sid, session.frame(now)))
            except Exception as exc:
                self.fail(sid, session, exc)


def train_together(group: list[tuple[str, Session]], sharing: int) -> list[tuple[str, list[Out]]]:
    """One slice for sessions that step together: each iteration steps every member whose
    iterations/s cap allows it."""
    budget = min(GROUP_SLICE_MAX, SLICE_SECONDS * len(group))
    start = min(session.begin_slice() for _, session in group)
    active = [session for _, session in group]
    now = time.perf_counter()
    while now - start < budget:
        active = [session for session in active if session.may_step()]
        if not active:
            break
        step_together([session.trainer for session in active])
        for session in active:  # (a group of one steps as a lone run: step.iterate)
            session.after_step(sharing, together=len(active) > 1)
        now = time.perf_counter()
    flags = diverged_runs([session.trainer for _, session in group])
    return [(sid, s.end_slice(now, bad)) for (sid, s), bad in zip(group, flags, strict=True)]


def serve(conn: Connection, threads: int = 1, niceness: int = 0,
          state: tuple[str, int, float] | None = None) -> None:  # fmt: skip
    """Entry point of an engine process (or thread, with `threads` 0). A process may lower
    its own priority by `niceness`. With `state` (directory, disk budget in bytes, seconds
    between checkpoints), its sessions are checkpointed there."""
    if threads:  # a process of its own
        torch.set_num_threads(threads)
        log_like_the_server()
    if niceness and threads and hasattr(os, "nice"):
        os.nice(niceness)
    checkpoints = None
    if state is not None:
        directory, max_bytes, every = state
        checkpoints = Checkpointing(CheckpointStore(directory, max_bytes), every)
    engine = EngineProcess(conn, checkpoints)
    try:
        engine.run()
    except (EOFError, BrokenPipeError, OSError):
        # The server went away (killed): what changed since the last checkpoints is saved.
        if checkpoints is not None:
            checkpoints.save_changed(engine.sessions)
            checkpoints.close()
    finally:
        conn.close()
