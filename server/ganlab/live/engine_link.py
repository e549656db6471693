"""The web server's end of one engine worker's connection (a local process's pipe, or a socket
to a Ray actor): what the hub sends queues up and a writer thread sends it, batched; a reader
thread hands what comes to the hub's event loop. Both block on a busy worker, never the loop.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from ganlab.live import engine_messages as em

if TYPE_CHECKING:
    from ganlab.live.hub import Hub

log = logging.getLogger("ganlab.sessions")

# Messages for a worker that go as one message at most (a run file can be MiBs).
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


class EngineLink:
    """What the hub knows of one worker, and the threads of its connection. A subclass sets
    `conn` (anything with `send` and `recv`) in `__init__` or in `connect` (run first on the
    reader thread, for a connection that takes time to make), then calls `start_threads`."""

    # What the hub is told when the connection ends unasked.
    closed_why = "died (its connection closed)"

    def __init__(self, hub: Hub, index: int) -> None:
        self.hub, self.index = hub, index
        self.sessions: set[str] = set()
        # Set (in the event loop) when the worker says it is ready to take sessions.
        self.ready = asyncio.Event()
        # The latest load report: (sid, iterations/s, group key) per playing session.
        self.load: list[tuple[str, float, Any]] | None = None
        self.load_at = 0.0
        # When the worker last said anything (a heartbeat at least every HEARTBEAT s); set by
        # the reader thread as each message arrives, so that a busy event loop does not make
        # a live worker look hung.
        self.heard_at = time.monotonic()
        self.hang_reported = False
        self.conn: Any = None
        self.outbox: queue.SimpleQueue[em.ToEngine | None] = queue.SimpleQueue()
        self.stopped = False
        # Set once the reader made the connection (or failed to): the writer waits for it.
        self.connected = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.writer = threading.Thread(target=self._write, daemon=True)

    def start_threads(self) -> None:
        self.reader.start()
        self.writer.start()

    def send(self, msg: em.ToEngine) -> None:
        self.outbox.put(msg)

    def connect(self) -> None:
        """Make `conn` (on the reader thread); the default: it was made in `__init__`."""

    def received(self, msgs: list[Any]) -> None:
        """What came from the worker (on the reader thread): to the hub."""
        self.hub.call(self.hub.on_messages, self, msgs)

    def lost(self, why: str) -> None:
        """The connection ended unasked, or could not be made: the hub replaces the worker."""
        if not self.stopped:
            self.hub.call(self.hub.on_worker_lost, self, why)

    def _write(self) -> None:
        self.connected.wait()
        if self.conn is None:
            return  # never connected: the reader reports it
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
        try:
            self.connect()
        except Exception as exc:
            self.lost(f"could not be reached ({type(exc).__name__}: {exc})")
            return
        finally:
            self.connected.set()
        while True:
            try:
                msg = self.conn.recv()
            except Exception:  # EOF or a closed handle: the worker is gone (or stopping)
                self.lost(self.closed_why)
                return
            self.heard_at = time.monotonic()
            self.received(em.unbatched(msg))
