"""The messages between the web server (hub.py) and an engine process (engine_process.py).

One small dataclass per message, pickled over a multiprocessing connection; both sides match
on them in one place each (`Hub.on_message`, `EngineProcess.dispatch`). What one turn makes,
or what queued up on one side, travels as one `Batch`: fewer pipe messages, fewer wake-ups of
the other process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ------------------------------------------------------------------ to the engine process


@dataclass(slots=True)
class Create:
    """Start a session with this config (a partial dict), limits (`session.Limits` fields)
    and frame rate; `token_sha256` is what its checkpoints keep of its resume token."""

    sid: str
    config: dict[str, Any]
    limits: dict[str, Any]
    fps: int = 30
    token_sha256: str = ""


@dataclass(slots=True)
class Restore:
    """Take the session back from its checkpoint (the server restarted, or the engine process
    that had it died), paused; `device` overrides the saved one."""

    sid: str
    limits: dict[str, Any]
    fps: int
    device: str
    token_sha256: str


@dataclass(slots=True)
class Attach:
    """A client connected; `hello` is the server's part of the greeting."""

    sid: str
    hello: dict[str, Any]


@dataclass(slots=True)
class Detach:
    """The client left: pause, and drop what it asked for and has not been done."""

    sid: str


@dataclass(slots=True)
class Command:
    """A validated client command, with a run file's bytes for `load`."""

    sid: str
    cmd: dict[str, Any]
    payload: bytes | None = None


@dataclass(slots=True)
class Credit:
    """A frame was sent to the client: one more may be drawn."""

    sid: str


@dataclass(slots=True)
class Drop:
    sid: str


@dataclass(slots=True)
class Export:
    """Hand the session over (it moves to another engine process)."""

    sid: str


@dataclass(slots=True)
class Import:
    sid: str
    blob: bytes
    token_sha256: str


@dataclass(slots=True)
class Stop:
    pass


# ------------------------------------------------------------------ from the engine process


@dataclass(slots=True)
class Ready:
    pid: int


@dataclass(slots=True)
class Heartbeat:
    """Sent at least every HEARTBEAT seconds by a live engine process, with its load: the
    measured iterations/s and group key of each playing session (sid, ips, key)."""

    load: list[tuple[str, float, Any]]


@dataclass(slots=True)
class Text:
    """A JSON event for the client."""

    sid: str
    event: dict[str, Any]


@dataclass(slots=True)
class Frame:
    sid: str
    data: bytes


@dataclass(slots=True)
class Binary:
    """A binary message that is not a frame (history, walkthrough phase, run file)."""

    sid: str
    data: bytes


@dataclass(slots=True)
class Failed:
    """The session could not be created or taken in; it is gone."""

    sid: str
    message: str


@dataclass(slots=True)
class RestoreFailed:
    """The session's checkpoint could not be restored (missing or damaged); it is gone."""

    sid: str
    message: str


@dataclass(slots=True)
class Exported:
    sid: str
    blob: bytes


@dataclass(slots=True)
class ExportFailed:
    sid: str
    message: str


@dataclass(slots=True)
class Batch:
    items: list[Any]


ToEngine = (Create | Restore | Attach | Detach | Command | Credit | Drop | Export | Import | Stop
            | Batch)  # fmt: skip
FromEngine = (Ready | Heartbeat | Text | Frame | Binary | Failed | RestoreFailed | Exported
              | ExportFailed | Batch)  # fmt: skip
# A session's message for its client.
ForClient = Text | Frame | Binary


def batched(msgs: list[Any]) -> Any:
    """One message for a list of them."""
    return msgs[0] if len(msgs) == 1 else Batch(msgs)


def unbatched(msg: Any) -> list[Any]:
    return msg.items if isinstance(msg, Batch) else [msg]
