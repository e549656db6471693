"""The live sessions of the server: which exist, who watches each, and which worker trains it.

Runs in the web server's event loop. Sessions live in engine workers (worker.py); the hub
creates them, routes commands in and messages out, resumes them by token, pauses them when
their client leaves and frees them when nobody came back in time. It also keeps the workers
evenly loaded: when the playing sessions of one worker train clearly slower than those of
another (a busier core, more sessions), it moves one session over, whole and exact. A worker
that dies takes only its own sessions with it: their clients are told, and a fresh worker
takes its place.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ganlab import __version__
from ganlab.engine.config import MAX_POINTS
from ganlab.live import engine_messages as em
from ganlab.live.engine_process import serve
from ganlab.live.settings import Settings
from ganlab.wire.commands import ProtocolError

log = logging.getLogger("ganlab.sessions")
# Engine processes run at a lower priority: training is background work, and where the server
# shares the machine with its users' browsers (a learner's laptop), the page and the
# websockets should not wait for it. The lowest priority: at 10 the page on a 2-core machine
# still had main-thread tasks over 50 ms in one run of four, at 19 in none.
WORKER_NICENESS = 19


# Balancing: how often to look, how long after a move to wait (the speeds settle), how much
# faster another worker's sessions must train to count as an imbalance (speeds wander by a
# few percent as the system schedules processes), and by how much a move must be expected to
# lift the slowest sessions.
BALANCE_EVERY = 0.5
BALANCE_SETTLE = 5.0
BALANCE_GAP = 0.35
BALANCE_GAIN = 0.03
# Messages for a worker that go as one pipe message at most (a run file can be MiBs).
WRITE_BATCH_MAX = 64


def with_queued(first: Any, box: queue.SimpleQueue[Any], limit: int = WRITE_BATCH_MAX) -> list[Any]:
    """`first` and what waits in `box` behind it, up to `limit` in all; a None (stop) stays
    in the box."""
    batch = [first]
    while len(batch) < limit and not box.empty():
        if (more := box.get()) is None:
            box.put(None)  # SimpleQueue has no peek: it is the last item, so order holds
            break
        batch.append(more)
    return batch


def plan_move(loads: list[tuple[Any, list[tuple[str, float, Any]]]]) -> tuple[str, Any] | None:
    """Which session to move where, from each worker's load report (its playing sessions'
    iterations/s and group keys), or None. A worker's sessions share its time, so a worker
    with n of them at a mean speed v would give n/(n-1) as much to n-1, and n/(n+1) to n+1;
    a worker with none has room to spare."""
    busy = [(w, rows) for w, rows in loads if rows]
    if not busy or len(loads) < 2:
        return None

    def mean(rows: list[tuple[str, float, Any]]) -> float:
        return sum(r[1] for r in rows) / len(rows)

    slow, slow_rows = min(busy, key=lambda x: mean(x[1]))
    v, n = mean(slow_rows), len(slow_rows)
    if n < 2:  # moving its only session would only swap the places
        return None
    idle = [w for w, rows in loads if not rows]
    if idle:
        dest, dest_rows, after = idle[0], [], v * n / (n - 1)
    else:
        dest, dest_rows = max(busy, key=lambda x: mean(x[1]))
        if dest is slow or mean(dest_rows) < v * (1 + BALANCE_GAP):
            return None
        m = len(dest_rows)
        after = min(v * n / (n - 1), mean(dest_rows) * m / (m + 1))
    if after < v * (1 + BALANCE_GAIN):
        return None
    # One that steps with sessions of its shape over there, if any does.
    keys = [r[2] for r in dest_rows]
    sid = max(slow_rows, key=lambda r: keys.count(r[2]) if r[2] is not None else -1)[0]
    return sid, dest


class HubError(Exception):
    """A connection the hub cannot serve; `close_code` is the websocket close code."""

    def __init__(self, code: str, message: str, close_code: int) -> None:
        super().__init__(message)
        self.code, self.message, self.close_code = code, message, close_code

    def event(self) -> dict[str, Any]:
        return ProtocolError(self.code, self.message).event()


class Client(Protocol):
    def deliver(self, kind: str, data: Any) -> None: ...

    def close(self, close_code: int, event: dict[str, Any]) -> None: ...


@dataclass(eq=False)
class Record:
    sid: str
    token: str
    worker: WorkerHandle
    client: Client | None = None
    left_at: float = field(default_factory=time.monotonic)
    # While the session moves between workers: where to, and what waits for it meanwhile.
    moving_to: WorkerHandle | None = None
    held: list[em.ToEngine] = field(default_factory=list)


class WorkerHandle:
    """One engine worker (a process, or a thread when `in_process`) and its pipe."""

    def __init__(self, hub: Hub, index: int, in_process: bool) -> None:
        self.hub, self.index = hub, index
        self.sessions: set[str] = set()
        # Set (in the event loop) when the worker says it is ready to take sessions.
        self.ready = asyncio.Event()
        # The latest load report: (sid, iterations/s, group key) per playing session.
        self.load: list[tuple[str, float, Any]] | None = None
        self.load_at = 0.0
        # When the process last said anything (a heartbeat at least every HEARTBEAT s).
        self.heard_at = time.monotonic()
        self.conn, child = multiprocessing.Pipe()
        self.outbox: queue.SimpleQueue[em.ToEngine | None] = queue.SimpleQueue()
        if in_process:
            self.proc: Any = threading.Thread(target=serve, args=(child, 0), daemon=True,
                                              name=f"ganlab-worker-{index}")  # fmt: skip
        else:
            ctx = multiprocessing.get_context("spawn")
            self.proc = ctx.Process(target=serve, args=(child, 1, WORKER_NICENESS), daemon=True,
                                    name=f"ganlab-worker-{index}")  # fmt: skip
        self.proc.start()
        if not in_process:
            child.close()
        # Pipes block when full: reading and writing happen on threads of their own, so the
        # event loop never waits on a busy worker.
        self.stopped = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        threading.Thread(target=self._write, daemon=True).start()

    def send(self, msg: em.ToEngine) -> None:
        self.outbox.put(msg)

    def _write(self) -> None:
        while (msg := self.outbox.get()) is not None:
            # What queued up meanwhile goes as one message (mostly credits for frames sent):
            # the worker reads one message, not dozens.
            batch = with_queued(msg, self.outbox)
            try:
                self.conn.send(em.batched(batch))
            except (OSError, EOFError):
                return  # the worker is gone; the reader reports it
            except Exception:  # one message that cannot be sent must not silence the rest
                log.exception("message for engine worker %d dropped", self.index)

    def _read(self) -> None:
        while True:
            try:
                msg = self.conn.recv()
            except Exception:  # EOF or a closed handle: the worker is gone (or stopping)
                if not self.stopped:
                    self.hub.call(self.hub.on_worker_lost, self)
                return
            self.hub.call(self.hub.on_messages, self, em.unbatched(msg))

    def stop(self, timeout: float = 5.0) -> None:
        self.stopped = True
        self.send(em.Stop())
        self.outbox.put(None)
        self.proc.join(timeout)
        if getattr(self.proc, "is_alive", lambda: False)() and hasattr(self.proc, "kill"):
            self.proc.kill()
        # The worker closing its end ends the reader; close ours only once it has returned.
        self.reader.join(timeout)
        self.conn.close()


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions: dict[str, Record] = {}
        self.workers: list[WorkerHandle] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._expiry: asyncio.Task[None] | None = None
        self._balancer: asyncio.Task[None] | None = None
        self.moved_at = 0.0
        self.stopping = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def worker_count(self) -> int:
        n = self.settings.workers
        return max(1, os.cpu_count() or 1) if n is None else max(1, n)

    async def start(self, ready_timeout: float = 120.0) -> None:
        """Start the engine workers and wait until they are ready: the server answers only
        once it can serve a session at once (a page reconnecting after a restart is then live
        again within a second of the first answer, not after the engines' start-up)."""
        self.loop = asyncio.get_running_loop()
        in_process = self.settings.workers == 0
        self.workers = [WorkerHandle(self, i, in_process) for i in range(self.worker_count)]
        self._expiry = asyncio.create_task(self._expire_loop())
        self._balancer = asyncio.create_task(self._balance_loop())
        waiting = [asyncio.create_task(w.ready.wait()) for w in self.workers]
        _, late = await asyncio.wait(waiting, timeout=ready_timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d engine workers not ready after %.0f s; serving anyway", len(late),
                        ready_timeout)  # fmt: skip

    async def stop(self) -> None:
        self.stopping = True
        for task in (self._expiry, self._balancer):
            if task:
                task.cancel()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in self.workers))

    def call(self, fn: Any, *args: Any) -> None:
        """Run fn(*args) in the event loop (from a worker's reader thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ sessions
    def create(self) -> Record:
        if len(self.sessions) >= self.settings.max_sessions:
            raise HubError("server_full", f"the server is full: {self.settings.max_sessions} "
                           "live sessions; try again later", 1013)  # fmt: skip
        worker = min(self.workers, key=lambda w: len(w.sessions))
        rec = Record(secrets.token_urlsafe(12), secrets.token_urlsafe(24), worker)
        self.sessions[rec.sid] = rec
        worker.sessions.add(rec.sid)
        limits = {"iteration_gflop": self.settings.max_iteration_gflop,
                  "picture_gflop": self.settings.max_picture_gflop}  # fmt: skip
        worker.send(em.Create(rec.sid, {"device": self.settings.device}, limits))
        log.info("session %s created (worker %d, %d live)", rec.sid, worker.index,
                 len(self.sessions))  # fmt: skip
        return rec

    def resume(self, sid: str, token: str | None) -> Record:
        rec = self.sessions.get(sid)
        if rec is None:
            message = (f"no live session {sid[:40]!r}: it expired or never existed; connect "
                       "without 'session' to start one")  # fmt: skip
            raise HubError("unknown_session", message, 4404)
        if not token or not secrets.compare_digest(token.encode(), rec.token.encode()):
            log.warning("session %s: resume refused (bad token)", sid)
            raise HubError("bad_token", "wrong or missing token for this session", 4403)
        return rec

    def attach(self, rec: Record, client: Client, resumed: bool) -> None:
        if rec.client is not None:
            rec.client.close(4409, ProtocolError(
                "replaced", "this session was resumed on another connection").event())  # fmt: skip
        rec.client = client
        s = self.settings
        hello = {
            "session": rec.sid, "token": rec.token, "resumed": resumed,
            "limits": {"max_message_bytes": s.max_message_bytes,
                       "max_run_bytes": s.max_run_bytes, "max_points": MAX_POINTS,
                       "commands_per_second": s.commands_per_second,
                       "session_timeout_s": s.session_timeout},
            "server": {"version": __version__, "device": s.device},
        }  # fmt: skip
        self._send(rec, em.Attach(rec.sid, hello))
        if resumed:
            log.info("session %s resumed", rec.sid)

    def detach(self, rec: Record, client: Client) -> None:
        if rec.client is not client:
            return
        rec.client = None
        rec.left_at = time.monotonic()
        if rec.sid in self.sessions:
            self._send(rec, em.Detach(rec.sid))
            log.info("session %s detached; kept %d s for resuming", rec.sid,
                     self.settings.session_timeout)  # fmt: skip

    def command(self, rec: Record, cmd: dict[str, Any], payload: bytes | None = None) -> None:
        self._send(rec, em.Command(rec.sid, cmd, payload))

    def credit(self, rec: Record) -> None:
        self._send(rec, em.Credit(rec.sid))

    def _send(self, rec: Record, msg: em.ToEngine) -> None:
        """A message for the session's worker; held back while the session moves."""
        if rec.moving_to is not None:
            rec.held.append(msg)
        else:
            rec.worker.send(msg)

    def drop(self, rec: Record, reason: str) -> None:
        self.sessions.pop(rec.sid, None)
        rec.worker.sessions.discard(rec.sid)
        self._send(rec, em.Drop(rec.sid))
        log.info("session %s %s (%d live)", rec.sid, reason, len(self.sessions))

    async def _expire_loop(self) -> None:
        timeout = self.settings.session_timeout
        while True:
            await asyncio.sleep(min(5.0, max(0.05, timeout / 4)))
            now = time.monotonic()
            for rec in list(self.sessions.values()):
                if rec.client is None and now - rec.left_at > timeout:
                    self.drop(rec, "expired")

    # ------------------------------------------------------------------ balancing
    async def _balance_loop(self) -> None:
        while True:
            await asyncio.sleep(BALANCE_EVERY)
            self.balance()

    def balance(self) -> None:
        """Move one playing session from the worker whose sessions train slowest to the one
        with the most room, if the load reports show an imbalance (see `plan_move`)."""
        now = time.monotonic()
        if now - self.moved_at < BALANCE_SETTLE or any(r.moving_to for r in self.sessions.values()):
            return
        # Reports from the last second: each measured over a second after the last move.
        fresh = [w for w in self.workers if w.load is not None and now - w.load_at < 1.0]
        move = plan_move([(w, w.load or []) for w in fresh])
        if move is None:
            return
        rec = self.sessions.get(move[0])
        if rec is not None:
            self.move(rec, move[1])

    def move(self, rec: Record, dest: WorkerHandle) -> None:
        """Move a session to another worker: its worker hands it over (`export`), `dest`
        takes it in (`import`); what the client sends meanwhile waits and follows it."""
        if rec.worker is dest or rec.moving_to is not None:
            return
        rec.moving_to = dest
        self.moved_at = time.monotonic()
        rec.worker.send(em.Export(rec.sid))

    def _moved(self, rec: Record, source: WorkerHandle, blob: bytes | None) -> None:
        """The session left `source` (`blob`), or could not (None): send what was held."""
        dest = rec.moving_to
        rec.moving_to = None
        if blob is not None and dest is not None:
            if dest not in self.workers:  # it stopped meanwhile: back where it came from
                dest = source if source in self.workers else self.workers[0]
            source.sessions.discard(rec.sid)
            dest.sessions.add(rec.sid)
            rec.worker = dest
            dest.send(em.Import(rec.sid, blob))
            log.info("session %s moved from worker %d to worker %d", rec.sid, source.index,
                     dest.index)  # fmt: skip
        for msg in rec.held:
            rec.worker.send(msg)
        rec.held = []

    # ------------------------------------------------------------------ from workers
    def on_messages(self, worker: WorkerHandle, msgs: list[em.FromEngine]) -> None:
        for msg in msgs:
            self.on_message(worker, msg)

    def on_message(self, worker: WorkerHandle, msg: em.FromEngine) -> None:
        worker.heard_at = time.monotonic()
        match msg:
            case em.Ready(pid):
                log.info("engine process %d ready (pid %s)", worker.index, pid)
                worker.ready.set()
            case em.Heartbeat(load):
                worker.load, worker.load_at = load, worker.heard_at
            case em.Exported(sid, blob) if (rec := self.sessions.get(sid)) is not None:
                self._moved(rec, worker, blob)
            case em.ExportFailed(sid, _) if (rec := self.sessions.get(sid)) is not None:
                self._moved(rec, worker, None)
            case em.Failed(sid, message) if (rec := self.sessions.get(sid)) is not None:
                log.error("session %s could not be created: %s", sid, message)
                self.drop(rec, "failed")
                if rec.client is not None:
                    rec.client.close(1011, ProtocolError("internal", message).event())
            case em.Text(sid, event) if (rec := self.sessions.get(sid)) is not None:
                if event.get("type") == "diverged":
                    log.warning("session %s diverged at iteration %s", sid, event["iteration"])
                elif event.get("type") == "error" and event.get("code") == "internal":
                    log.error("session %s error: %s", sid, event["message"])
                if rec.client is not None:
                    rec.client.deliver("text", event)
            case em.Frame(sid, data) if (rec := self.sessions.get(sid)) is not None:
                if rec.client is not None:
                    rec.client.deliver("frame", data)
                else:
                    self.credit(rec)
            case em.Binary(sid, data) if (rec := self.sessions.get(sid)) is not None:
                if rec.client is not None:
                    rec.client.deliver("binary", data)
            case _:
                pass  # for a session gone meanwhile

    def on_worker_lost(self, worker: WorkerHandle) -> None:
        if self.stopping or worker not in self.workers:
            return
        log.error("engine worker %d stopped; its %d sessions are lost", worker.index,
                  len(worker.sessions))  # fmt: skip
        for sid in list(worker.sessions):
            rec = self.sessions.pop(sid, None)
            if rec is not None and rec.client is not None:
                rec.client.close(1011, ProtocolError(
                    "session_lost", "the engine process of this session failed; reconnect "
                    "to start a new session").event())  # fmt: skip
        fresh = WorkerHandle(self, worker.index, self.settings.workers == 0)
        self.workers[self.workers.index(worker)] = fresh
