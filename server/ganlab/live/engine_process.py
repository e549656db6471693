"""An engine worker: many sessions trained in turn, in a process of its own (or a thread).

Training is Python-bound, so sessions are spread over processes to use every core; within a
worker each playing session gets a short slice in turn, so a busy one cannot starve the
others. Playing sessions whose networks have the same shapes share their slices and step
together, one batched iteration for all of them (batched.py), which costs a fraction of
stepping each alone. The worker talks to the web server over one multiprocessing connection:

to the worker    ("create", sid, config, limits) ("attach", sid, hello) ("detach", sid)
                 ("command", sid, cmd, payload) ("credit", sid) ("drop", sid) ("stop",)
                 ("export", sid) ("import", sid, blob)
from the worker  ("ready", pid) ("text", sid, event) ("frame", sid, bytes)
                 ("binary", sid, bytes) ("failed", sid, message) ("load", [(sid, ips, key)])
                 ("exported", sid, blob) ("export_failed", sid, message)

Either way, what one turn of a group of sessions makes (or what queued up on the server's
side) travels as one ("batch", [message, ...]): fewer pipe messages, fewer wake-ups of the
other process.

`load` reports, every LOAD_REPORT seconds, the measured speed of each playing session
without a speed cap and its group key, so that the server can move sessions from a busy
worker to a less busy one (`export` here, `import` there: hub.py).

An exception inside one session pauses that session and is reported to its client; the
worker and the other sessions go on.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import torch

from ganlab.engine.batched import diverged_runs, group_key, step_together
from ganlab.live.session import CREDITS, Limits, Out, Session
from ganlab.wire.commands import ProtocolError

log = logging.getLogger("ganlab.live.engine_process")
SLICE_SECONDS = 0.002
# A group of sessions stepped together gets a slice per member, up to this long (frames of
# other sessions wait for it).
GROUP_SLICE_MAX = 0.01
# After a group fails to step together, sessions step alone for this long (seconds).
GROUP_BACKOFF = 5.0
IDLE_POLL = 0.5
LOAD_REPORT = 0.5
# A session counts in a load report once it has played this long (its speed is measured).
LOAD_SETTLED = 2.0


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sessions: dict[str, Session] = {}
        self.running = True
        self.grouping_from = 0.0
        self.reported_at = 0.0
        self.outgoing: list[tuple[Any, ...]] = []

    def emit(self, msg: tuple[Any, ...]) -> None:
        self.outgoing.append(msg)

    def flush(self) -> None:
        """Send what this turn produced, as one message: each message wakes the server's
        process, and fewer wake-ups leave more of the core to training."""
        if self.outgoing:
            out, self.outgoing = self.outgoing, []
            self.conn.send(out[0] if len(out) == 1 else ("batch", out))

    def send(self, sid: str, items: list[Out]) -> None:
        for item in items:
            self.emit((item.kind, sid, item.data))

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
        self.emit(("text", sid, err.event()))
        self.emit(("text", sid, state))

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        op, sid = msg[0], (msg[1] if len(msg) > 1 else "")
        if op == "batch":
            for one in msg[1]:
                self.dispatch(one)
            return
        if op == "stop":
            self.running = False
            return
        if op == "create":
            try:
                self.sessions[sid] = Session(sid, msg[2], Limits(**msg[3]))
            except Exception as exc:  # a broken default config must not kill the worker
                self.emit(("failed", sid, f"{type(exc).__name__}: {exc}"))
            return
        if op == "import":
            try:
                self.sessions[sid] = pickle.loads(msg[2])
            except Exception as exc:
                log.exception("session %s could not be moved here", sid)
                self.emit(("failed", sid, f"moving the session failed: {exc}"))
            return
        if op == "export":
            self.export(sid)
            return
        session = self.sessions.get(sid)
        if session is None:
            return  # dropped meanwhile
        try:
            if op == "attach":
                self.send(sid, session.attach(msg[2]))
            elif op == "detach":
                session.detach()
            elif op == "credit":
                session.credits = min(session.credits + 1, CREDITS)
            elif op == "drop":
                del self.sessions[sid]
            elif op == "command":
                try:
                    self.send(sid, session.handle(msg[2], msg[3]))
                except ProtocolError as exc:
                    if exc.id is None:
                        exc.id = msg[2].get("id")
                    self.emit(("text", sid, exc.event()))
        except Exception as exc:
            mid = msg[2].get("id") if op == "command" and isinstance(msg[2], dict) else None
            self.fail(sid, session, exc, mid)

    def export(self, sid: str) -> None:
        """Hand a session over to the server, to be imported by another worker."""
        session = self.sessions.get(sid)
        if session is None or not session.runnable or session.trainer.diverged():
            # Gone, paused meanwhile (nothing to gain), or diverged (a run file refuses NaN).
            self.emit(("export_failed", sid, "not a healthy playing session here"))
            return
        try:
            blob = pickle.dumps(session)
        except Exception as exc:  # it stays here, and goes on as before
            log.exception("session %s could not be exported", sid)
            self.emit(("export_failed", sid, f"{type(exc).__name__}: {exc}"))
            return
        del self.sessions[sid]
        self.emit(("exported", sid, blob))

    def report_load(self, now: float) -> None:
        rows = []
        for sid, session in self.sessions.items():
            if session.runnable and session.ips is None and now - session.played_at >= LOAD_SETTLED:
                rows.append((sid, session.measured_ips(), group_key(session.trainer)))
        self.emit(("load", rows))
        self.reported_at = now

    def _timeout(self, now: float) -> float:
        """How long the worker may sleep: until a session can train or owes a frame."""
        waits = [s.train_wait(now) for s in self.sessions.values() if s.runnable]
        waits += [w for s in self.sessions.values() if (w := s.next_frame_in(now)) is not None]
        return min(waits, default=IDLE_POLL)

    def run(self) -> None:
        self.conn.send(("ready", os.getpid()))
        while self.running:
            if self.conn.poll(self._timeout(time.perf_counter())):
                while self.running and self.conn.poll(0):
                    self.dispatch(self.conn.recv())
            if (now := time.perf_counter()) - self.reported_at >= LOAD_REPORT:
                self.report_load(now)
            groups = self._groups()
            sharing = sum(len(g) for g in groups)
            for group in groups:
                self._train(group, sharing)
                self._frames(group, sharing)
                self.flush()  # not held back while the other groups train
            self._frames([s for s in self.sessions.items() if not s[1].runnable], sharing)
            self.flush()

    def _groups(self) -> list[list[tuple[str, Session]]]:
        """The runnable sessions, those that can step together in one group."""
        groups: dict[Any, list[tuple[str, Session]]] = {}
        for sid, session in self.sessions.items():
            if session.runnable:
                key = group_key(session.trainer)
                groups.setdefault(key if key is not None else sid, []).append((sid, session))
        return list(groups.values())

    def _train(self, group: list[tuple[str, Session]], sharing: int) -> None:
        if len(group) > 1 and time.perf_counter() >= self.grouping_from:
            try:
                for sid, items in train_together(group, sharing):
                    self.send(sid, items)
                return
            except Exception:  # step each alone, which finds the session that fails
                log.exception("a group of %d sessions failed to step together", len(group))
                self.grouping_from = time.perf_counter() + GROUP_BACKOFF
        for sid, session in group:
            try:
                self.send(sid, session.train_slice(SLICE_SECONDS, sharing))
            except Exception as exc:
                self.fail(sid, session, exc)

    def _frames(self, group: list[tuple[str, Session]], sharing: int) -> None:
        for sid, session in group:
            try:
                now = time.perf_counter()
                if session.frame_due(now, sharing):
                    self.emit(("frame", sid, session.frame(now)))
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
        for session in active:
            session.after_step(sharing)
        now = time.perf_counter()
    flags = diverged_runs([session.trainer for _, session in group])
    return [(sid, s.end_slice(now, bad)) for (sid, s), bad in zip(group, flags, strict=True)]


def serve(conn: Connection, threads: int = 1, niceness: int = 0) -> None:
    """Entry point of a worker process (or thread, with `threads` 0). A process may lower its
    own priority by `niceness`."""
    if threads:
        torch.set_num_threads(threads)
    if niceness and threads and hasattr(os, "nice"):
        os.nice(niceness)
    try:
        Worker(conn).run()
    except (EOFError, BrokenPipeError, OSError):
        pass  # the server went away
    finally:
        conn.close()
