"""When an engine process checkpoints its sessions, and the thread that writes them.

A session is saved when it has changed since its last checkpoint (`Session.revision`) and
that checkpoint is at least `every` seconds old, so that a crash loses at most that much of
its training; one at a time, the most overdue first, so that the engine's turns are held up
by one save at most. The run file is made in the engine's own thread (the session must not
change while it is written out); the disk write, with its fsync, happens on a thread of its
own, in order: a session's deletion comes after its last save. A session that cannot be
saved (a run that diverged: run files refuse NaN) is logged once per revision and skipped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ganlab.live.checkpoints import CheckpointStore
from ganlab.live.security import LogThrottle

log = logging.getLogger("ganlab.checkpoints")
# A failing disk writes one log line per this many seconds, with a count.
ERROR_LOG_INTERVAL = 30.0


class Saveable(Protocol):
    def revision(self) -> Any: ...

    def checkpoint(self, token_sha256: str) -> bytes: ...


class Checkpointing:
    """The checkpoint schedule of one engine process's sessions, and their writer."""

    def __init__(self, store: CheckpointStore, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.store, self.every, self.clock = store, every, clock
        # sid -> (the revision last saved, or None; when; the resume token's digest)
        self.saved: dict[str, tuple[Any, float, str]] = {}
        # (one each for the engine's thread and the writer's: a throttle is not thread-safe)
        self.errors = LogThrottle(log, ERROR_LOG_INTERVAL)
        self.disk_errors = LogThrottle(log, ERROR_LOG_INTERVAL)
        # What checkpointing cost: CPU seconds of making run files (engine thread) and of
        # writing them (writer thread, fsync's system time included), and how many.
        self.made_seconds = self.written_seconds = 0.0
        self.made = 0
        self._jobs: queue.SimpleQueue[tuple[str, str, bytes | None] | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, daemon=True,
                                        name="ganlab-checkpoints")  # fmt: skip
        self._writer.start()

    def seated(self, sid: str, token_sha256: str, saved: Any = None) -> None:
        """A session came in (created, restored with revision `saved`, or moved here): its
        first checkpoint is due `every` seconds from now, if it changes."""
        self.saved[sid] = (saved, self.clock(), token_sha256)

    def forget(self, sid: str, delete: bool) -> None:
        """A session left: moved away (its checkpoint stays), or ended (`delete`)."""
        self.saved.pop(sid, None)
        if delete:
            self._jobs.put(("delete", sid, None))

    def due(self, sessions: Mapping[str, Saveable]) -> str | None:
        """The session most overdue for a checkpoint, if any."""
        now, best, oldest = self.clock(), None, None
        for sid, (revision, at, _) in self.saved.items():
            session = sessions.get(sid)
            if session is None or now - at < self.every or session.revision() == revision:
                continue
            if oldest is None or at < oldest:
                best, oldest = sid, at
        return best

    def save(self, sid: str, session: Saveable) -> None:
        """Checkpoint `sid` now (the run file here; the write on the writer thread)."""
        _, _, digest = self.saved[sid]
        revision = session.revision()
        self.saved[sid] = (revision, self.clock(), digest)
        start = time.thread_time()
        try:
            data = session.checkpoint(digest)
        except Exception as exc:
            self.errors.log(logging.WARNING, sid, "session %s not checkpointed: %s", sid, exc)
            return
        finally:
            self.made_seconds += time.thread_time() - start
        self.made += 1
        self._jobs.put(("save", sid, data))

    def save_changed(self, sessions: Mapping[str, Saveable]) -> int:
        """Checkpoint every session changed since its last checkpoint, however recent (the
        server stops); returns how many."""
        count = 0
        for sid, (revision, _, _) in list(self.saved.items()):
            session = sessions.get(sid)
            if session is not None and session.revision() != revision:
                self.save(sid, session)
                count += 1
        return count

    def close(self, timeout: float | None = None) -> bool:
        """Finish the writes under way; True if they all finished within `timeout`."""
        self._jobs.put(None)
        self._writer.join(timeout)
        done = not self._writer.is_alive()
        log.info("%d checkpoints made in %.2f s and written in %.2f s of CPU", self.made,
                 self.made_seconds, self.written_seconds)  # fmt: skip
        return done

    def _write(self) -> None:
        while (job := self._jobs.get()) is not None:
            kind, sid, data = job
            start = time.thread_time()
            try:
                if kind == "save" and data is not None:
                    self.store.save(sid, data)
                else:
                    self.store.delete(sid)
            except Exception as exc:  # a full disk must not end the writer
                self.disk_errors.log(logging.ERROR, "disk", "checkpoint of session %s not written: "
                                "%s", sid, exc)  # fmt: skip
            self.written_seconds += time.thread_time() - start
