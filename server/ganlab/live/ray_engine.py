"""Engine workers as Ray actors: the cluster engine (issue 16), for more learners than one
machine holds.

An `EngineActor` runs the very loop of a local engine process (engine_process.py) in a thread
of its own, with a `QueueConnection` where the pipe was; the web server's `RayWorkerHandle`
has the surface of hub.py's `WorkerHandle`, and finds its actor by name. Ray places, names,
finds and ends the engines; frames and commands travel over a socket link between each web
server and each actor (socket_link.py: authenticated with a key handed out through Ray), as
over a local engine's pipe, because one Ray call per batch of frames cost the engines a fifth
of their training speed on a small machine. Ray is an optional extra: it is imported only
here, and only when used.

Deployment assumptions:
- Actors are found by name, `ganlab-engine-{index}` in the namespace `ganlab`, and are
  detached: they outlive the web server that created them, so a web server that restarts, or
  another one, finds the same actors and the sessions in them. Every web server of a
  deployment uses the same worker count, so that they agree on the names.
- Every node runs the same ganlab (the actor's code is imported there, not shipped).
- Checkpoints, when used, are written by the actors, to a directory every node reaches (a
  shared file system mounted at the same path everywhere); a restored session may land on
  any node.
- Ray itself binds on every interface and has no authentication by default: a cluster
  belongs on a private network. (Even `--node-ip-address 127.0.0.1` is replaced by the
  machine's address.) Each actor also listens on a port of its own (chosen by the system)
  on its node's address, which web servers must reach. The actors' own log lines stay in the
  cluster's log files.
- A cluster: `ray start --head --port 6379 --num-cpus N` on one node, `ray start --address
  HEAD:6379` on the others; web servers join with `connect("HEAD:6379")`, or `connect("auto")`
  on a machine where `ray start --head` ran. `ray stop` ends every Ray process of the
  machine, whichever cluster it belongs to (the tests end theirs by its process tree).

Several web servers, one actor: each web server has an id (`server_id`), the first thing it
sends over its link. A session belongs to the server that last sent it Create, Restore,
Import or Attach (a client resumed through another server takes its session along); the
session's messages go only to that server, and what another server still sends for it
(credits, a detach or a drop from a server whose client left) is ignored, so a stale server
cannot pause or end a session another one serves. An export asked by a non-owner is answered
`ExportFailed`. `Ready` goes to each server on its first contact, and each heartbeat to
every server, with the load rows of its own sessions. A server whose link ends (or whose
link's sender was stuck for SERVER_TIMEOUT seconds) is forgotten: its sessions are paused
(as when a client leaves) until a server attaches them again, and ended after
`orphan_timeout` (the web servers' session timeout) if none does. A web server stopping
leaves the actor running (others may use it); only `EngineActor.stop` ends the engine.

Reaching a session from any web server (`RayEngines`, used by hub.py): a web server asked to
resume a session it has no record of asks each actor whether it holds it (`holds`: the token
digest of Create, Restore or Import, never the token), checks the client's token against
that, and attaches; the actor then tells the server that served the session until now
(`Taken`), which lets go of it and closes its client as replaced.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ganlab.live import engine_messages as em
from ganlab.live.engine_link import EngineLink
from ganlab.live.socket_link import Link, Listener, dial

if TYPE_CHECKING:
    from ganlab.live.hub import Hub

log = logging.getLogger("ganlab.ray_engine")

NAMESPACE = "ganlab"
MISSING = "the Ray engine needs the optional extra: pip install 'ganlab[ray]'"
# Actor threads for Ray calls (`holds`, `pid`, `link_address`, `stop`: frames and commands
# travel over socket links, not Ray calls).
MAX_CONCURRENCY = 8
# How long a link's sender waits for the engine's next message before it looks again whether
# its link still stands (heartbeats come every 0.5 s).
POLL_SECONDS = 1.0
# A web server whose link took nothing for this long (its sender stuck) is gone.
SERVER_TIMEOUT = 30.0
# A session no web server serves (its server stopped or vanished) is ended after this long,
# as a web server ends a session without a client (its session_timeout).
ORPHAN_TIMEOUT = 600.0
# The share of a GPU an actor asks for when the engine trains on CUDA.
GPU_SHARE = 0.25
# Messages that make a session the sender's (by name: the set grows with the engine).
CLAIMS = frozenset({"Create", "Restore", "Import", "Attach"})
# Seconds a web server waits for the actors' answers to "who holds this session?".
FIND_TIMEOUT = 5.0
# Seconds to reach a cluster's head before giving up on it.
PROBE_TIMEOUT = 5.0
# The close of a client whose session was resumed through another web server.
TAKEN_CLOSE = 4409
_CLOSED = object()


@dataclass(slots=True)
class Taken:
    """To a web server from an actor's router: a session it served was claimed by another
    web server (its client resumed there). Ray only: it never reaches an engine."""

    sid: str


def actor_name(index: int) -> str:
    return f"ganlab-engine-{index}"


def new_server_id() -> str:
    """An id for one web server process (host, pid, and a random part for pid reuse)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class QueueConnection:
    """The end of a multiprocessing Connection that an engine loop uses (poll, recv, send,
    close), over thread-safe queues: `incoming` is read, `outgoing` gets what is sent (any
    object with `put`)."""

    def __init__(self, incoming: queue.Queue[Any], outgoing: Any) -> None:
        self.incoming, self.outgoing = incoming, outgoing
        self._next: Any = None
        self._has_next = False
        self.closed = False

    def poll(self, timeout: float | None = 0.0) -> bool:
        self._check()
        if not self._has_next:
            try:
                if timeout is not None and timeout <= 0:
                    self._next = self.incoming.get_nowait()
                else:  # (None: until something comes, as a Connection's poll)
                    self._next = self.incoming.get(timeout=timeout)
            except queue.Empty:
                return False
            self._has_next = True
        return True

    def recv(self) -> Any:
        self.poll(None)
        msg, self._next, self._has_next = self._next, None, False
        if msg is _CLOSED:
            self._has_next, self._next = True, _CLOSED  # every later read fails too
            raise EOFError("the other end closed the connection")
        return msg

    def send(self, obj: Any) -> None:
        self._check()
        self.outgoing.put(obj)

    def close(self) -> None:
        self.closed = True

    def _check(self) -> None:
        if self.closed:
            raise OSError("handle is closed")

    @staticmethod
    def hang_up(incoming: queue.Queue[Any]) -> None:
        """Tell the reader of `incoming` that nothing more comes (its recv raises EOFError)."""
        incoming.put(_CLOSED)


class Router:
    """Which web server gets which of the engine's messages, and which of a server's
    messages reach the engine (see the module's docstring). `put` takes the engine's
    messages; thread-safe."""

    def __init__(self, engine_inbox: queue.Queue[Any], timeout: float = SERVER_TIMEOUT,
                 orphan_timeout: float = ORPHAN_TIMEOUT) -> None:  # fmt: skip
        self.engine_inbox = engine_inbox
        self.timeout, self.orphan_timeout = timeout, orphan_timeout
        # Sessions without a server, since when: ended unless a server claims them in time.
        self.orphaned: dict[str, float] = {}
        self.owner: dict[str, str] = {}
        # What the engine holds: each live session's token digest (from Create, Restore or
        # Import), so that any web server can check a resume token against it.
        self.digests: dict[str, str] = {}
        self.boxes: dict[str, deque[Any]] = {}
        self.seen: dict[str, float] = {}
        self.ready: em.Ready | None = None
        self.cond = threading.Condition()

    # ------------------------------------------------------------------ from web servers
    def inbound(self, server: str, msg: Any) -> None:
        """A server's message (or batch) for the engine: what the server may send goes on."""
        with self.cond:
            self._contact(server, time.monotonic())
            passed = [one for one in em.unbatched(msg) if self._admit(server, one)]
        if passed:
            self.engine_inbox.put(em.batched(passed))

    def _admit(self, server: str, msg: Any) -> bool:
        if isinstance(msg, em.Stop):
            return False  # a web server stopping must not end a shared engine
        sid = getattr(msg, "sid", None)
        if sid is None:
            return True
        if type(msg).__name__ in CLAIMS:
            before = self.owner.get(sid)
            if before is not None and before != server:
                self._deliver(before, Taken(sid))  # its client is to be told, and let go
            self.owner[sid] = server
            self.orphaned.pop(sid, None)
            if (digest := getattr(msg, "token_sha256", None)) is not None:
                self.digests[sid] = digest
            return True
        if self.owner.get(sid) != server:
            if isinstance(msg, em.Export):  # its hub waits for an answer
                self._deliver(server, em.ExportFailed(sid, "the session is served elsewhere"))
            return False
        if isinstance(msg, em.Drop):
            del self.owner[sid]
            self.digests.pop(sid, None)
        return True

    def digest(self, sid: str) -> str | None:
        """The token digest of `sid` if the engine holds it, else None."""
        with self.cond:
            return self.digests.get(sid)

    def take(self, server: str, timeout: float,
             until: Callable[[], bool] | None = None) -> list[Any]:  # fmt: skip
        """What the engine sent for `server`, waiting up to `timeout` s for the first (less
        once `until()` holds, checked whenever `wake` is called)."""
        end = time.monotonic() + timeout
        with self.cond:
            self._contact(server, time.monotonic())
            box = self.boxes[server]
            while not box and (left := end - time.monotonic()) > 0:
                if until is not None and until():
                    break
                self.cond.wait(left)
                box = self.boxes.setdefault(server, box)  # (forgotten meanwhile: back)
            self.seen[server] = time.monotonic()
            out = list(box)
            box.clear()
            return out

    def wake(self) -> None:
        """Every `take` waiting checks its `until`."""
        with self.cond:
            self.cond.notify_all()

    def leave(self, server: str) -> None:
        """The server stops: its sessions pause until another server attaches them."""
        with self.cond:
            self._forget(server)

    def _contact(self, server: str, now: float) -> None:
        if server not in self.boxes:
            self.boxes[server] = deque([self.ready] if self.ready is not None else [])
        self.seen[server] = now
        for other in [s for s, at in self.seen.items() if now - at > self.timeout]:
            log.warning("web server %s silent for %.0f s: its sessions pause", other,
                        now - self.seen[other])  # fmt: skip
            self._forget(other)

    def _forget(self, server: str) -> None:
        self.boxes.pop(server, None)
        self.seen.pop(server, None)
        orphans = [sid for sid, owner in self.owner.items() if owner == server]
        now = time.monotonic()
        for sid in orphans:
            del self.owner[sid]
            self.orphaned[sid] = now
        if orphans:
            self.engine_inbox.put(em.batched([em.Detach(sid) for sid in orphans]))

    # ------------------------------------------------------------------ from the engine
    def put(self, msg: Any) -> None:
        with self.cond:
            for one in em.unbatched(msg):
                self._route(one)
            self._end_orphans(time.monotonic())
            self.cond.notify_all()

    def _end_orphans(self, now: float) -> None:
        ended = [sid for sid, at in self.orphaned.items() if now - at > self.orphan_timeout]
        for sid in ended:
            del self.orphaned[sid]
            self.digests.pop(sid, None)
            log.info("session %s ended: no web server served it for %.0f s", sid,
                     self.orphan_timeout)  # fmt: skip
        if ended:
            self.engine_inbox.put(em.batched([em.Drop(sid) for sid in ended]))

    def _route(self, msg: Any) -> None:
        match msg:
            case em.Ready():
                self.ready = msg
                for server in self.boxes:
                    self._deliver(server, msg)
            case em.Heartbeat(load):
                for server in self.boxes:
                    rows = [row for row in load if self.owner.get(row[0]) == server]
                    self._deliver(server, em.Heartbeat(rows))
            case _ if (owner := self.owner.get(getattr(msg, "sid", ""))) is not None:
                if isinstance(msg, em.Exported | em.Failed | em.RestoreFailed):
                    del self.owner[msg.sid]  # it left this engine, or never came
                    self.digests.pop(msg.sid, None)
                self._deliver(owner, msg)
            case em.Exported() | em.Failed() | em.RestoreFailed():
                self.digests.pop(msg.sid, None)
                self.orphaned.pop(msg.sid, None)
            case _:
                pass  # a session dropped, or whose server is gone

    def _deliver(self, server: str, msg: Any) -> None:
        box = self.boxes.get(server)
        if box is not None:
            box.append(msg)


class EngineActor:
    """An engine loop in a Ray actor (made remote by `remote_class`; plain here, so that it
    also runs, and is tested, without Ray). `serve_kwargs` go to engine_process.serve. An
    engine loop that ends unasked ends the process when `exit_on_end` (an actor's).

    Web servers reach the engine over socket links (socket_link.py), one each, to the address
    `link_address` gives (with the key to prove): what a server sends goes to the router as it
    comes, and a sender thread per link sends what the router has for that server, batched. A
    link that ends is its server leaving (its sessions pause)."""

    def __init__(self, serve_kwargs: dict[str, Any] | None = None, exit_on_end: bool = True,
                 orphan_timeout: float = ORPHAN_TIMEOUT,
                 host: str | None = None) -> None:  # fmt: skip
        from ganlab.live.engine_process import serve

        self.exit_on_end = exit_on_end
        self._stopping = False
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.router = Router(self.inbox, orphan_timeout=orphan_timeout)
        self.conn = QueueConnection(self.inbox, self.router)
        self.links: dict[str, Link] = {}
        self.links_lock = threading.Lock()
        self.listener = Listener(host or node_address(), secrets.token_bytes(32))
        threading.Thread(target=self._accept, daemon=True, name="ganlab-links").start()
        kwargs = serve_kwargs or {}
        self.thread = threading.Thread(target=self._serve, args=(serve, kwargs), daemon=True,
                                       name="ganlab-engine")  # fmt: skip
        self.thread.start()

    def _serve(self, serve: Any, kwargs: dict[str, Any]) -> None:
        try:
            serve(self.conn, 1, **kwargs)
        except BaseException:
            log.exception("the engine loop failed")
        if self.exit_on_end and not self.stopping():
            # An engine that ends unasked takes its actor down, as a dead process would:
            # every web server then hears of it (its link ends) and replaces it.
            log.error("the engine loop ended unasked: the actor exits")
            os._exit(1)

    def stopping(self) -> bool:
        return self._stopping

    def link_address(self) -> tuple[str, int, bytes]:
        """Where a web server dials this engine (host, port), and the key it proves."""
        host, port = self.listener.address
        return host, port, self.listener.authkey

    def _accept(self) -> None:
        while True:
            try:
                sock = self.listener.accept()
            except OSError:
                return  # the listener closed: the engine stops
            threading.Thread(target=self._serve_link, args=(sock,), daemon=True,
                             name="ganlab-link").start()  # fmt: skip

    def _serve_link(self, sock: Any) -> None:
        """One web server's link, from its handshake to its end."""
        try:
            link = self.listener.admit(sock)
        except Exception as exc:  # not a web server of this cluster, or too slow
            sock.close()
            log.warning("a connection to the engine was refused: %r", exc)
            return
        try:
            server = link.recv()
            if not isinstance(server, str):
                raise TypeError(f"a web server's first message is its id, not {server!r}")
        except Exception as exc:
            link.close()
            log.warning("a web server's link ended before it said its id: %r", exc)
            return
        with self.links_lock:
            replaced, self.links[server] = self.links.get(server), link
        if replaced is not None:
            replaced.hang_up()  # (the same server dialled again: its old link is done)
        sender = threading.Thread(target=self._send_to, args=(server, link), daemon=True,
                                  name="ganlab-link-sender")  # fmt: skip
        sender.start()
        try:
            while True:
                self.router.inbound(server, link.recv())
        except Exception as exc:  # EOF: the server left, or its link broke
            if not isinstance(exc, EOFError | OSError):
                log.warning("web server %s: link ended by %r", server, exc)
        with self.links_lock:
            current = self.links.get(server) is link
            if current:
                del self.links[server]
        self.router.wake()  # its sender stops (before the server is forgotten: it'd be back)
        sender.join()
        if current:
            self.router.leave(server)
        link.close()

    def _send_to(self, server: str, link: Link) -> None:
        def gone() -> bool:
            return self.links.get(server) is not link

        while not gone():
            msgs = self.router.take(server, POLL_SECONDS, until=gone)
            if msgs and not gone():
                try:
                    link.send(em.batched(msgs))
                except OSError:
                    link.hang_up()  # (its reader then ends the link)
                    return

    def holds(self, sid: str) -> str | None:
        """The token digest of session `sid` if this engine holds it, else None."""
        return self.router.digest(sid)

    def pid(self) -> int:
        return os.getpid()

    def stop(self, timeout: float = 10.0) -> bool:
        """End the engine (it saves its sessions where it checkpoints), and its links; True
        once ended."""
        self._stopping = True
        self.inbox.put(em.Stop())
        self.thread.join(timeout)
        self.listener.close()
        with self.links_lock:
            for link in self.links.values():
                link.hang_up()
        return not self.thread.is_alive()


def node_address() -> str:
    """The address of this node in its Ray cluster (where other nodes reach it); loopback
    outside one."""
    try:
        import ray

        if ray.is_initialized():
            return str(ray.util.get_node_ip_address())
    except ImportError:
        pass
    return "127.0.0.1"


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(MISSING) from exc
    return ray


def connect(address: str, **init_kwargs: Any) -> None:
    """Join the Ray cluster at `address` ("host:port" of its head, or "auto": the cluster
    started on this machine with `ray start --head`)."""
    ray = _ray()
    if not ray.is_initialized():
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False, **init_kwargs)


_REMOTE: Any = None


def remote_class() -> Any:
    """EngineActor as a threaded Ray actor class."""
    global _REMOTE
    if _REMOTE is None:
        _REMOTE = _ray().remote(max_concurrency=MAX_CONCURRENCY)(EngineActor)
    return _REMOTE


def engine_actor(index: int, device: str = "cpu", num_cpus: float = 1.0,
                 gpu_share: float = GPU_SHARE, serve_kwargs: dict[str, Any] | None = None,
                 orphan_timeout: float = ORPHAN_TIMEOUT) -> Any:  # fmt: skip
    """The actor `ganlab-engine-{index}`: the existing one, or a new one placed by Ray (the
    arguments of whichever web server made it count)."""
    num_gpus = gpu_share if device.startswith("cuda") else 0.0
    return remote_class().options(
        name=actor_name(index), namespace=NAMESPACE, lifetime="detached", get_if_exists=True,
        num_cpus=num_cpus, num_gpus=num_gpus,
    ).remote(serve_kwargs, True, orphan_timeout)  # fmt: skip


class _Liveness:
    """What hub.py asks a worker's process (`is_alive`, `exitcode`), for an actor: alive
    until its handle found it dead."""

    def __init__(self) -> None:
        self.dead = False
        self.exitcode = None

    def is_alive(self) -> bool:
        return not self.dead


class RayWorkerHandle(EngineLink):
    """A web server's handle on one engine actor, with the surface of hub.py's WorkerHandle:
    `send`, `ready`, `sessions`, `load`, `heard_at`, `stop`, `discard`. Its reader thread finds
    (or makes) the actor by name (a call to the cluster's control store: never in the event
    loop), asks it for its link address (waiting while Ray places it) and dials it; the link
    then carries frames and commands as a local worker's pipe. `actor` is None until found."""

    closed_why = "died (its link closed)"

    def __init__(self, hub: Hub, index: int, in_process: bool = False, *,
                 device: str = "cpu", num_cpus: float = 1.0, gpu_share: float = GPU_SHARE,
                 server_id: str | None = None, serve_kwargs: dict[str, Any] | None = None,
                 orphan_timeout: float = ORPHAN_TIMEOUT) -> None:  # fmt: skip
        super().__init__(hub, index)
        self.ray = _ray()
        self.server_id = server_id or new_server_id()
        self.in_process = False  # an actor can be killed and replaced like a process
        self.proc = _Liveness()
        self.actor_pid: int | None = None
        self.link: Link | None = None
        self.placement = (index, device, num_cpus, gpu_share, serve_kwargs, orphan_timeout)
        self.actor: Any = None
        self.start_threads()

    @property
    def pid(self) -> int | None:
        """The actor's process id (on its node), once it said it is ready."""
        return self.actor_pid

    def connect(self) -> None:
        self.actor = engine_actor(*self.placement)
        host, port, key = self.ray.get(self.actor.link_address.remote())
        link = dial((host, port), key)
        link.send(self.server_id)
        self.link, self.conn = link, link.conn
        if self.stopped:  # (stopped while Ray placed the actor: the reader ends at once)
            link.close()

    def received(self, msgs: list[Any]) -> None:
        for msg in msgs:
            if isinstance(msg, em.Ready):
                self.actor_pid = msg.pid
            elif isinstance(msg, Taken):
                self.hub.call(let_go, self.hub, self, msg.sid)
        super().received([m for m in msgs if not isinstance(m, Taken)])

    def lost(self, why: str) -> None:
        self.proc.dead = True
        super().lost(why)

    def stop(self, timeout: float = 5.0) -> None:
        """Leave the actor: it goes on for the other web servers, and this server's
        sessions in it pause. What was sent is read first: the link is half closed, and the
        actor, having read all, closes it."""
        self.stopped = True
        self.outbox.put(None)
        self.connected.set()  # (a writer still waiting for the link ends)
        self.writer.join(timeout)
        if self.link is not None:
            self.link.finish()
        self.reader.join(timeout)
        self._close(timeout)

    def discard(self, timeout: float = 5.0) -> None:
        """The actor died or hangs: kill it (its name is free for a fresh one) and end the
        threads. Blocks: run it off the event loop."""
        self.stopped = True
        self.proc.dead = True
        try:
            if self.actor is not None:  # (None: never found, nothing to kill)
                self.ray.kill(self.actor, no_restart=True)
        except Exception as exc:  # already gone
            log.info("engine actor %d: kill: %r", self.index, exc)
        self.outbox.put(None)
        self.connected.set()
        self.writer.join(timeout)
        self._close(timeout)

    def _close(self, timeout: float) -> None:
        """End the link, and free it once its threads have ended."""
        if self.link is not None:
            self.link.hang_up()
        self.reader.join(timeout)
        if self.link is not None and not self.reader.is_alive() and not self.writer.is_alive():
            self.link.close()


def let_go(hub: Hub, worker: Any, sid: str) -> None:
    """Another web server took session `sid` (its client resumed there): this one forgets it
    (the actor ignores what this server still sends for it), and tells its client, if any,
    that the session was replaced. Runs in the event loop."""
    from ganlab.wire.commands import ProtocolError

    rec = hub.sessions.get(sid)
    if rec is None or rec.worker is not worker:
        return
    client = rec.client
    hub.drop(rec, "taken over through another web server")
    if client is not None:
        client.close(TAKEN_CLOSE, ProtocolError(
            "replaced", "this session was resumed on another connection").event())  # fmt: skip


class RayEngines:
    """What a hub does differently when its engines are Ray actors: join the cluster, make a
    worker's handle, and find which actor holds a session (asked by a client resuming a
    session this web server has no record of: it may live in an actor for another one)."""

    def __init__(self, address: str, device: str = "cpu") -> None:
        self.address, self.device = address, device
        # One id for every handle of this hub: the actors see one web server.
        self.server_id = new_server_id()

    def connect(self) -> None:
        """Join the cluster (blocks: off the event loop); one sentence if that fails."""
        try:
            if self.address != "auto":  # Ray retries an unreachable head for minutes
                host, _, port = self.address.rpartition(":")
                with socket.create_connection((host.strip("[]"), int(port)), PROBE_TIMEOUT):
                    pass
            connect(self.address)
        except RuntimeError as exc:
            if str(exc) == MISSING:
                raise
            raise RuntimeError(f"cannot join the Ray cluster at {self.address}: {exc}") from None
        except Exception as exc:  # ConnectionError, a timeout: whatever Ray raises
            raise RuntimeError(f"cannot join the Ray cluster at {self.address}: "
                               f"{type(exc).__name__}: {exc}") from None  # fmt: skip

    def worker(self, hub: Hub, index: int, state: Any) -> RayWorkerHandle:
        """The handle of actor `index`, whose engine checkpoints where `state` says (the
        shared state directory)."""
        return RayWorkerHandle(hub, index, device=self.device, server_id=self.server_id,
                               serve_kwargs={"state": state},
                               orphan_timeout=hub.settings.session_timeout)  # fmt: skip

    def find(self, workers: list[Any], sid: str,
             timeout: float = FIND_TIMEOUT) -> tuple[Any, str] | None:  # fmt: skip
        """The worker whose actor holds `sid`, with the session's token digest; None if none
        does (an actor that does not answer in time counts as not holding it). Blocks."""
        ray = _ray()
        # (A worker whose actor is not found yet is a fresh one: its sessions come back from
        # their checkpoints, through its hub.)
        asked = [(w, w.actor.holds.remote(sid)) for w in workers
                 if not w.proc.dead and w.actor is not None]  # fmt: skip
        end = time.monotonic() + timeout
        for worker, ref in asked:
            try:
                digest = ray.get(ref, timeout=max(0.01, end - time.monotonic()))
            except Exception as exc:  # dead, or too slow
                log.warning("engine actor %d did not say whether it holds a session: %r",
                            worker.index, exc)  # fmt: skip
                continue
            if digest is not None:
                return worker, digest
        return None
