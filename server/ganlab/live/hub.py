"""The live sessions of the server: which exist, who watches each, and which worker trains it.

Runs in the web server's event loop. Sessions live in engine workers (engine_process.py); the
hub creates them, routes commands in and messages out, resumes them by token, pauses them when
their client leaves and frees them when nobody came back in time, or sooner when the server is
full and a new client needs the slot (the session without a client for longest goes). It also
keeps the workers evenly loaded (balancing.py): when the playing sessions of one worker train
clearly slower than those of another, it moves one session over, whole and exact. A worker
that dies, or hangs (no heartbeat for `engine_hang_seconds`: killed), is reaped and a fresh
worker takes its place.

Sessions survive: workers checkpoint them (checkpointing.py) to the state directory at most
every `checkpoint_seconds` while they change, and when the server stops. A client resuming a
session this server does not hold (it restarted) gets it back from its checkpoint, its token
checked against the checkpoint's digest; the sessions of a worker that died are restored on
its replacement, and their clients reconnect to them. Only a session without a checkpoint is
lost. Checkpoints nobody resumed within `session_timeout` of the server's start are deleted.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from ganlab import __version__
from ganlab.engine.config import MAX_POINTS
from ganlab.engine.runfile import RunFileError, session_meta
from ganlab.live import engine_messages as em
from ganlab.live.balancing import BALANCE_EVERY, Balancer
from ganlab.live.checkpoints import CheckpointStore, default_directory, parse_meta, token_digest
from ganlab.live.engine_link import EngineLink
from ganlab.live.engine_process import serve
from ganlab.live.security import LogThrottle
from ganlab.live.settings import Settings
from ganlab.wire.commands import ProtocolError

log = logging.getLogger("ganlab.sessions")
# Engine processes run at a lower priority: training is background work, and where the server
# shares the machine with its users' browsers (a learner's laptop), the page and the
# websockets should not wait for it. The lowest priority: at 10 the page on a 2-core machine
# still had main-thread tasks over 50 ms in one run of four, at 19 in none.
WORKER_NICENESS = 19
# An engine process starting up imports PyTorch before its first word (seconds, more on a busy
# machine): it counts as hung only after this long.
START_GRACE = 120.0
# Refused resumes of one session: one log line per this many seconds, with a count.
REFUSAL_LOG_INTERVAL = 10.0

# Seconds a stopping worker has to save its sessions and end before it is killed.
STOP_TIMEOUT = 60.0
# Close code for a client whose session's engine process died and was restored elsewhere: it
# reconnects and resumes it (1012: service restart).
RESTORED_CLOSE = 1012


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
    # Whether the client has its hello: what the engine sent before it (answers to the
    # commands of the connection before, frames drawn for it) is not this client's.
    greeted: bool = False


class WorkerHandle(EngineLink):
    """One engine worker (a process, or a thread when `in_process`) and its pipe."""

    closed_why = "died (its pipe closed)"

    def __init__(self, hub: Hub, index: int, in_process: bool,
                 state: tuple[str, int, float] | None = None) -> None:  # fmt: skip
        super().__init__(hub, index)
        self.in_process = in_process
        self.conn, child = multiprocessing.Pipe()
        if in_process:
            self.proc: Any = threading.Thread(target=serve, args=(child, 0, 0, state),
                                              daemon=True,
                                              name=f"ganlab-worker-{index}")  # fmt: skip
        else:
            ctx = multiprocessing.get_context("spawn")
            self.proc = ctx.Process(target=serve, args=(child, 1, WORKER_NICENESS, state),
                                    daemon=True, name=f"ganlab-worker-{index}")  # fmt: skip
        self.proc.start()
        if not in_process:
            child.close()
        self.start_threads()

    @property
    def pid(self) -> int | None:
        return None if self.in_process else int(self.proc.pid)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the worker to stop (it saves its sessions), and wait for it (killed if it does
        not within `timeout`)."""
        self.stopped = True
        self.send(em.Stop())
        self._end(timeout)

    def discard(self, timeout: float = 5.0) -> None:
        """The worker died or hangs: kill it and reap it (a dead child process left unjoined
        stays a zombie), and end the threads of its pipe. Blocks: run it off the event loop."""
        self.stopped = True
        if not self.in_process:
            self.proc.kill()  # SIGKILL also ends a stopped (SIGSTOP) process
        self._end(timeout)

    def _end(self, timeout: float) -> None:
        self.outbox.put(None)
        self.proc.join(timeout)
        if not self.in_process and self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout)
        # The worker closing its end ends the reader, and a write to it fails: close ours
        # only once both threads have returned.
        self.reader.join(timeout)
        self.writer.join(timeout)
        if not self.reader.is_alive() and not self.writer.is_alive():
            self.conn.close()


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sessions: dict[str, Record] = {}
        self.workers: list[WorkerHandle] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Lost workers being killed and reaped (off the event loop).
        self._reaping: set[asyncio.Future[None]] = set()
        self.balancer: Balancer[WorkerHandle] = Balancer()
        # A client retrying a wrong token must not write a log line a try.
        self.refusals = LogThrottle(log, REFUSAL_LOG_INTERVAL)
        self.stopping = False
        self.store = CheckpointStore(default_directory(settings.state_dir),
                                     settings.checkpoint_bytes)  # fmt: skip
        # Checkpoints of sessions of an earlier server, by when they count as left (its start).
        self.dormant: dict[str, float] = {}
        # Engines shared with other web servers (ray_engine.RayEngines), or None: local ones.
        self.ray: Any = None

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
        if self.settings.ray_address:
            from ganlab.live.ray_engine import RayEngines

            self.ray = RayEngines(self.settings.ray_address, self.settings.device)
            await asyncio.to_thread(self.ray.connect)
        self.store.clean()
        now = time.monotonic()
        # (With Ray, checkpoints may be of sessions live in actors for other web servers:
        # none is this server's to expire; the actors delete those of sessions that end.)
        self.dormant = {sid: now for sid in self.store.sids()} if self.ray is None else {}
        if self.dormant:
            log.info("%d sessions can be resumed from their checkpoints in %s",
                     len(self.dormant), self.store.directory)  # fmt: skip
        in_process = self.settings.workers == 0
        self.workers = [self._worker(i, in_process) for i in range(self.worker_count)]
        self._tasks = [asyncio.create_task(loop()) for loop in
                       (self._expire_loop, self._balance_loop, self._watch_loop)]  # fmt: skip
        waiting = [asyncio.create_task(w.ready.wait()) for w in self.workers]
        _, late = await asyncio.wait(waiting, timeout=ready_timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning("%d engine workers not ready after %.0f s; serving anyway", len(late),
                        ready_timeout)  # fmt: skip

    async def stop(self) -> None:
        self.stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in self.workers), *self._reaping)

    def _worker(self, index: int, in_process: bool) -> WorkerHandle:
        s = self.settings
        state = (str(self.store.directory), s.checkpoint_bytes, s.checkpoint_seconds)
        if self.ray is not None:  # an engine actor placed by Ray (ray_engine.py)
            return self.ray.worker(self, index, state)
        return WorkerHandle(self, index, in_process, state)

    def call(self, fn: Any, *args: Any) -> None:
        """Run fn(*args) in the event loop (from a worker's reader thread)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(fn, *args)

    # ------------------------------------------------------------------ sessions
    def create(self) -> Record:
        if len(self.sessions) >= self.settings.max_sessions:
            self._make_room()
        rec = self._seat(secrets.token_urlsafe(12), secrets.token_urlsafe(24))
        s = self.settings
        rec.worker.send(em.Create(rec.sid, {"device": s.device}, self._limits(), s.fps,
                                  token_digest(rec.token)))  # fmt: skip
        log.info("session %s created (worker %d, %d live)", rec.sid, rec.worker.index,
                 len(self.sessions))  # fmt: skip
        return rec

    def _seat(self, sid: str, token: str) -> Record:
        worker = min(self.workers, key=lambda w: len(w.sessions))
        rec = Record(sid, token, worker)
        self.sessions[rec.sid] = rec
        worker.sessions.add(rec.sid)
        return rec

    def _limits(self) -> dict[str, Any]:
        s = self.settings
        return {"iteration_gflop": s.max_iteration_gflop, "picture_gflop": s.max_picture_gflop,
                "history_bytes": s.history_bytes, "run_bytes": s.max_run_bytes,
                "checkpoint_history_bytes": s.checkpoint_history_bytes}  # fmt: skip

    def _restore(self, rec: Record) -> None:
        """Have the record's worker take the session back from its checkpoint."""
        s = self.settings
        rec.worker.send(em.Restore(rec.sid, self._limits(), s.fps, s.device,
                                   token_digest(rec.token)))  # fmt: skip

    def _make_room(self) -> None:
        """Free the slot of the session that has been without a client longest: slots held
        by sessions nobody watches must not keep new users out (connecting and closing again
        filled the server for `session_timeout`). Full only when every session has a client."""
        idle = [rec for rec in self.sessions.values() if rec.client is None]
        if not idle:
            raise HubError("server_full", f"the server is full: {self.settings.max_sessions} "
                           "live sessions, each with a client connected; try again later",
                           1013)  # fmt: skip
        oldest = min(idle, key=lambda rec: rec.left_at)
        self.drop(oldest, "evicted: the server is full, and it had no client for "
                  f"{time.monotonic() - oldest.left_at:.0f} s")  # fmt: skip

    def resume(self, sid: str, token: str | None) -> Record:
        rec = self.sessions.get(sid)
        if rec is None:
            return self._resume_checkpoint(sid, token)
        if not token or not secrets.compare_digest(token.encode(), rec.token.encode()):
            self._bad_token(sid)
        return rec

    async def resume_anywhere(self, sid: str, token: str | None) -> Record:
        """`resume`, where the engines are shared with other web servers (Ray): a session
        this server has no record of may be live in an actor, served by another web server
        until now; it is taken over there. Asking the actors blocks: off the event loop."""
        if self.ray is None or sid in self.sessions:
            return self.resume(sid, token)
        found = await asyncio.to_thread(self.ray.find, list(self.workers), sid)
        if sid in self.sessions or found is None or found[0] not in self.workers:
            return self.resume(sid, token)  # resumed meanwhile, or from its checkpoint
        worker, digest = found
        if not token or not secrets.compare_digest(token_digest(token), digest):
            self._bad_token(sid)
        if len(self.sessions) >= self.settings.max_sessions:
            self._make_room()
        rec = Record(sid, str(token), worker)
        self.sessions[sid] = rec
        worker.sessions.add(sid)
        log.info("session %s found live in engine actor %d", sid, worker.index)
        return rec

    def _bad_token(self, sid: str) -> None:
        self.refusals.log(logging.WARNING, sid, "session %s: resume refused (bad token)", sid)
        raise HubError("bad_token", "wrong or missing token for this session", 4403)

    def _resume_checkpoint(self, sid: str, token: str | None) -> Record:
        """A session this server does not hold, back from its checkpoint (the server
        restarted). Only the checkpoint's header is read here: its worker loads the rest."""
        try:
            head = self.store.header(sid)
        except ValueError:  # not a session id at all
            head = None
        if head is None:
            message = (f"no live session {sid[:40]!r}: it expired, was ended to make room for "
                       "new sessions, or never existed; connect without 'session' to start "
                       "one")  # fmt: skip
            raise HubError("unknown_session", message, 4404)
        try:
            meta = parse_meta(session_meta(head))
        except RunFileError as exc:
            log.error("session %s: checkpoint refused, the client starts a new session: %s",
                      sid, exc)  # fmt: skip
            self.store.delete(sid)
            self.dormant.pop(sid, None)
            raise HubError("unknown_session", f"session {sid[:40]!r} could not be restored: its"
                           " checkpoint is damaged; connect without 'session' to start one",
                           4404) from None  # fmt: skip
        if not token or not secrets.compare_digest(token_digest(token), meta["token_sha256"]):
            self._bad_token(sid)
        if len(self.sessions) >= self.settings.max_sessions:
            self._make_room()
        self.dormant.pop(sid, None)
        rec = self._seat(sid, str(token))
        self._restore(rec)
        log.info("session %s back from its checkpoint (worker %d)", sid, rec.worker.index)
        return rec

    def attach(self, rec: Record, client: Client, resumed: bool) -> None:
        if rec.client is not None:
            rec.client.close(4409, ProtocolError(
                "replaced", "this session was resumed on another connection").event())  # fmt: skip
        rec.client = client
        rec.greeted = False
        s = self.settings
        hello = {
            "session": rec.sid, "token": rec.token, "resumed": resumed,
            "limits": {"max_message_bytes": s.max_message_bytes,
                       "max_run_bytes": s.max_run_bytes, "max_points": MAX_POINTS,
                       "commands_per_second": s.commands_per_second,
                       "session_timeout_s": s.session_timeout,
                       "checkpoint_seconds": s.checkpoint_seconds},
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
        # Straight to its worker, even while it moves: if the hand-over fails the session is
        # still there, and if it succeeds the exported session is let go (its sid unknown).
        rec.held.clear()
        rec.worker.send(em.Drop(rec.sid))
        self.balancer.forget(rec.sid)
        log.info("session %s %s (%d live)", rec.sid, reason, len(self.sessions))

    async def _expire_loop(self) -> None:
        timeout = self.settings.session_timeout
        while True:
            await asyncio.sleep(min(5.0, max(0.05, timeout / 4)))
            now = time.monotonic()
            for rec in list(self.sessions.values()):
                if rec.client is None and now - rec.left_at > timeout:
                    self.drop(rec, "expired")
            for sid, since in list(self.dormant.items()):
                if now - since > timeout:  # nobody came back for it after the restart
                    del self.dormant[sid]
                    self.store.delete(sid)
                    log.info("checkpoint of session %s expired unresumed", sid)

    # ------------------------------------------------------------------ balancing
    async def _balance_loop(self) -> None:
        while True:
            await asyncio.sleep(BALANCE_EVERY)
            self.balance()

    def balance(self) -> None:
        """Move one playing session from the worker whose sessions train slowest to the one
        with the most room, if the load reports show a clear imbalance (balancing.py)."""
        if any(r.moving_to for r in self.sessions.values()):
            return
        reports = [(w, w.load, w.load_at) for w in self.workers]
        move = self.balancer.decide(time.monotonic(), reports)
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
        self.balancer.moved(rec.sid, rec.worker, time.monotonic())
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
            dest.send(em.Import(rec.sid, blob, token_digest(rec.token)))
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
        match msg:
            case em.Ready(pid):
                log.info("engine process %d ready (pid %s)", worker.index, pid)
                worker.ready.set()
            case em.Heartbeat(load):
                worker.load, worker.load_at = load, time.monotonic()
            case em.Exported(sid, blob) if (rec := self.sessions.get(sid)) is not None:
                self._moved(rec, worker, blob)
            case em.ExportFailed(sid, _) if (rec := self.sessions.get(sid)) is not None:
                self._moved(rec, worker, None)
            case em.Failed(sid, message) if (rec := self.sessions.get(sid)) is not None:
                log.error("session %s could not be created: %s", sid, message)
                self.drop(rec, "failed")
                if rec.client is not None:
                    rec.client.close(1011, ProtocolError("internal", message).event())
            case em.RestoreFailed(sid, message) if (rec := self.sessions.get(sid)) is not None:
                self.drop(rec, "not restored (its checkpoint was refused)")
                if rec.client is not None:
                    rec.client.close(1011, ProtocolError(
                        "session_lost", "this run could not be restored from its checkpoint "
                        f"({message[:200]}); reconnect to start a new session",
                    ).event())  # fmt: skip
            case em.Text(sid, event) if (rec := self.sessions.get(sid)) is not None:
                if event.get("type") == "diverged":
                    log.warning("session %s diverged at iteration %s", sid, event["iteration"])
                elif event.get("type") == "error" and event.get("code") == "internal":
                    log.error("session %s error: %s", sid, event["message"])
                rec.greeted = rec.greeted or event.get("type") == "hello"
                if rec.client is not None and rec.greeted:
                    rec.client.deliver("text", event)
            case em.Frame(sid, data) if (rec := self.sessions.get(sid)) is not None:
                if rec.client is not None and rec.greeted:
                    rec.client.deliver("frame", data)
                else:
                    self.credit(rec)
            case em.Binary(sid, data) if (rec := self.sessions.get(sid)) is not None:
                if rec.client is not None and rec.greeted:
                    rec.client.deliver("binary", data)
            case _:
                pass  # for a session gone meanwhile

    # ------------------------------------------------------------------ worker health
    async def _watch_loop(self) -> None:
        hang = self.settings.engine_hang_seconds
        while True:
            await asyncio.sleep(min(1.0, hang / 4))
            self.check_workers()

    def check_workers(self) -> None:
        """Replace a worker process that has died (its pipe may outlive it, held by a child
        of its own) or has said nothing for `engine_hang_seconds`: stopped, deadlocked or
        stuck in a computation that never ends. A thread (in_process) cannot be killed: a
        hung one is reported once."""
        now = time.monotonic()
        for worker in list(self.workers):
            silent = now - worker.heard_at
            limit = self.settings.engine_hang_seconds
            if not worker.ready.is_set():
                limit = max(limit, START_GRACE)
            if worker.in_process:
                if silent > limit and not worker.hang_reported:
                    worker.hang_reported = True
                    log.error("engine thread %d said nothing for %.0f s: it hangs, and a "
                              "thread cannot be replaced", worker.index, silent)  # fmt: skip
            elif not worker.proc.is_alive():
                self.on_worker_lost(worker, f"exited (code {worker.proc.exitcode})")
            elif silent > limit:
                self.on_worker_lost(worker, f"hung: it said nothing for {silent:.0f} s "
                                    f"(limit {limit:g} s); killed")  # fmt: skip

    def on_worker_lost(self, worker: WorkerHandle, why: str) -> None:
        """The worker died or hangs: it is killed and reaped, and a fresh one takes its
        place. Its sessions with a checkpoint are restored there (their clients reconnect and
        find them); the others are lost, and their clients told."""
        if self.stopping or worker not in self.workers:
            return
        worker.stopped = True  # its reader, woken by the kill, is not to report it again
        self.balancer.forget_process(worker)
        fresh = self._worker(worker.index, worker.in_process)
        self.workers[self.workers.index(worker)] = fresh
        restored = lost = 0
        for sid in list(worker.sessions):
            rec = self.sessions.get(sid)
            self.balancer.forget(sid)
            if rec is None:
                continue
            rec.held.clear()
            rec.moving_to = None
            if self.store.header(sid) is not None:
                rec.worker = fresh
                fresh.sessions.add(sid)
                self._restore(rec)
                restored += 1
                if rec.client is not None:
                    rec.client.close(RESTORED_CLOSE, ProtocolError(
                        "engine_restarted", "the engine process of this session failed; it "
                        "goes on from its last checkpoint when you reconnect").event())  # fmt: skip
            else:
                self.sessions.pop(sid, None)
                lost += 1
                if rec.client is not None:
                    rec.client.close(1011, ProtocolError(
                        "session_lost", "the engine process of this session failed; reconnect "
                        "to start a new session").event())  # fmt: skip
        worker.sessions.clear()
        log.error("engine process %d (pid %s) %s; %d sessions restored from their checkpoints, "
                  "%d lost", worker.index, worker.pid, why, restored, lost)  # fmt: skip
        reaping = asyncio.ensure_future(asyncio.to_thread(worker.discard))
        self._reaping.add(reaping)
        reaping.add_done_callback(self._reaped)

    def _reaped(self, reaping: asyncio.Future[None]) -> None:
        self._reaping.discard(reaping)
        if not reaping.cancelled() and (exc := reaping.exception()) is not None:
            log.error("a lost engine process could not be cleaned up: %r", exc)
