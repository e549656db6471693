"""An engine worker: many sessions trained in turn, in a process of its own (or a thread).

Training is Python-bound, so sessions are spread over processes to use every core; within a
worker each playing session gets a short slice in turn, so a busy one cannot starve the
others. The worker talks to the web server over one multiprocessing connection:

to the worker    ("create", sid, config, limits) ("attach", sid, hello) ("detach", sid)
                 ("command", sid, cmd, payload) ("credit", sid) ("drop", sid) ("stop",)
from the worker  ("ready", pid) ("text", sid, event) ("frame", sid, bytes)
                 ("binary", sid, bytes) ("failed", sid, message)

An exception inside one session pauses that session and is reported to its client; the
worker and the other sessions go on.
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import torch

from ganlab.protocol import ProtocolError
from ganlab.session import CREDITS, Limits, Out, Session

log = logging.getLogger("ganlab.worker")
SLICE_SECONDS = 0.002
IDLE_POLL = 0.5


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.sessions: dict[str, Session] = {}
        self.running = True

    def send(self, sid: str, items: list[Out]) -> None:
        for item in items:
            self.conn.send((item.kind, sid, item.data))

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
        self.conn.send(("text", sid, err.event()))
        self.conn.send(("text", sid, state))

    def dispatch(self, msg: tuple[Any, ...]) -> None:
        op, sid = msg[0], (msg[1] if len(msg) > 1 else "")
        if op == "stop":
            self.running = False
            return
        if op == "create":
            try:
                self.sessions[sid] = Session(sid, msg[2], Limits(**msg[3]))
            except Exception as exc:  # a broken default config must not kill the worker
                self.conn.send(("failed", sid, f"{type(exc).__name__}: {exc}"))
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
                    self.conn.send(("text", sid, exc.event()))
        except Exception as exc:
            mid = msg[2].get("id") if op == "command" and isinstance(msg[2], dict) else None
            self.fail(sid, session, exc, mid)

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
            sharing = sum(s.runnable for s in self.sessions.values())
            for sid, session in list(self.sessions.items()):
                try:
                    if session.runnable:
                        self.send(sid, session.train_slice(SLICE_SECONDS, sharing))
                    now = time.perf_counter()
                    if session.frame_due(now, sharing):
                        self.conn.send(("frame", sid, session.frame(now)))
                except Exception as exc:
                    self.fail(sid, session, exc)


def serve(conn: Connection, threads: int = 1) -> None:
    """Entry point of a worker process (or thread)."""
    if threads:
        torch.set_num_threads(threads)
    try:
        Worker(conn).run()
    except (EOFError, BrokenPipeError, OSError):
        pass  # the server went away
    finally:
        conn.close()
