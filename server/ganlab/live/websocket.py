"""The websocket endpoint `/ws`: one connection watches and steers one session.

Checks the origin, creates or resumes the session, then runs two loops: one reads commands
(size cap, rate limit, validation, each refusal answered with an error and the connection
kept), one sends what the session produces. Frames go through a one-slot mailbox: a newer
frame replaces one not yet sent, so a slow client skips frames and never grows a queue.

What a connection's other answers hold in the server is bounded too: past `max_outgoing_bytes`
waiting to be sent, its commands are refused as `busy` (ping and pause excepted: their answers
are small), a `save` waits for the previous one's run file to be sent, and a client that keeps
sending while it reads nothing is closed (its session is kept, to be resumed).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ganlab.live.hub import Hub, HubError, Record
from ganlab.live.security import LogThrottle, TokenBucket, origin_allowed
from ganlab.live.settings import Settings
from ganlab.wire.commands import ProtocolError, parse_command
from ganlab.wire.envelope import FrameError, decode

log = logging.getLogger("ganlab.sessions")
router = APIRouter()
# Refused origins are logged once per origin every 30 s (with a count), not once per attempt.
REFUSED_ORIGINS = LogThrottle(log, 30.0)

# Commands taken even when the connection is over its budget: their answers are small, and a
# client must be able to stop a playing session whatever it has not read yet.
ALWAYS_CHEAP = frozenset({"ping", "pause"})
# A client over its budget that goes on sending gets small answers (pongs, refusals): counted
# at this estimate each, they may add up to OVERDRAFT_MAX before the connection is closed
# (16,384 commands: over five minutes at 50 a second, for a client slowly taking in a big run).
REPLY_ESTIMATE = 256
OVERDRAFT_MAX = 4 << 20
# How long a connection closed for not reading gets to take its last error and the close.
CLOSE_GRACE = 2.0
DEFAULT_BUDGET = 8 << 20


class Connection:
    """The sending side of one websocket, fed by the hub. Keeps count of the bytes waiting to
    be sent (text events as their JSON, binary messages by length, the one being sent
    included) against its budget."""

    def __init__(self, ws: WebSocket, hub: Hub, budget: int = DEFAULT_BUDGET) -> None:
        self.ws, self.hub, self.budget = ws, hub, budget
        self.rec: Record | None = None
        self.queue: deque[tuple[str, str | bytes]] = deque()
        self.frame: bytes | None = None
        self.queued = 0  # bytes in `queue` and `frame`
        self.sending = 0  # bytes of the message being sent
        self.closing: int | None = None
        self.wake = asyncio.Event()
        # A save was forwarded and its run file is not sent yet (the id of the save); the
        # binary message after a `saved` event is that run file.
        self.saving = False
        self.save_id: Any = None
        self.run_next = False

    @property
    def queued_bytes(self) -> int:
        return self.queued + self.sending

    def over_budget(self) -> bool:
        return self.queued_bytes > self.budget

    def begin_save(self, cid: Any) -> bool:
        """A save may go ahead (True) unless the last one's run file is still to be sent."""
        if self.saving:
            return False
        self.saving, self.save_id = True, cid
        return True

    def deliver(self, kind: str, data: Any) -> None:
        if kind == "frame":
            if self.frame is not None:
                self.queued -= len(self.frame)
                if self.rec is not None:
                    self.hub.credit(self.rec)  # the replaced frame's credit comes back
            self.frame = data
            self.queued += len(data)
        elif kind == "text":
            self._push("text", self._encode(data))
            if data.get("type") == "saved":
                self.run_next = True
            elif data.get("type") == "error" and self.saving and data.get("id") == self.save_id:
                self.saving = False  # the save was refused: no run file follows
        else:
            if self.run_next:
                kind, self.run_next = "run", False
            self._push(kind, data)
        self.wake.set()

    def _push(self, kind: str, data: str | bytes) -> None:
        if self.frame is not None:  # in order: the frame waiting was made before this
            self.queue.append(("frame", self.frame))  # (counted already)
            self.frame = None
        self.queue.append((kind, data))
        self.queued += len(data)  # JSON is ASCII (json.dumps escapes the rest): chars = bytes

    def _encode(self, event: dict[str, Any]) -> str:
        try:
            return json.dumps(event, allow_nan=False)
        except (TypeError, ValueError) as exc:  # not JSON (a NaN, say): the client is told
            log.error("session %s: an event could not be sent: %s", self._sid(), exc)
            return json.dumps(ProtocolError("internal", "the server made an answer it could "
                                            f"not send: {exc}"[:300]).event())  # fmt: skip

    def _sid(self) -> str:
        return self.rec.sid if self.rec is not None else "-"

    def close(self, close_code: int, event: dict[str, Any]) -> None:
        text = self._encode(event)  # ahead of a frame waiting: that frame is not sent
        self.queue.append(("text", text))
        self.queued += len(text)
        self.closing = close_code
        self.wake.set()

    def abort(self, close_code: int, event: dict[str, Any]) -> None:
        """Close, dropping what waits to be sent (the message being sent goes on)."""
        self.queue.clear()
        self.frame = None
        self.queued = 0
        self.close(close_code, event)

    async def send_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                kind, data = self.queue.popleft()
                await self._send(kind, data)
            if self.closing is not None:
                await self.ws.close(self.closing)
                return
            if self.frame is not None:
                frame, self.frame = self.frame, None
                await self._send("frame", frame)

    async def _send(self, kind: str, data: str | bytes) -> None:
        # Counted as waiting until the socket took it (a client that does not read makes
        # the send wait).
        self.queued -= len(data)
        self.sending = len(data)
        try:
            if isinstance(data, str):
                await self.ws.send_text(data)
            else:
                await self.ws.send_bytes(data)
        finally:
            self.sending = 0
        if kind == "frame" and self.rec is not None:
            self.hub.credit(self.rec)
        elif kind == "run":
            self.saving = False


async def _refuse(ws: WebSocket, err: HubError) -> None:
    await ws.send_text(json.dumps(err.event()))
    await ws.close(err.close_code)


class Reader:
    """Turns incoming messages into commands for the session, refusing bad ones."""

    def __init__(self, conn: Connection, rec: Record, settings: Settings) -> None:
        self.conn, self.rec, self.s = conn, rec, settings
        rate = settings.commands_per_second
        self.bucket = TokenBucket(rate, max(2.0 * rate, 1.0))
        # Answers asked for while the connection was over its budget (estimated).
        self.overdraft = 0
        self.failures = 0

    def error(self, err: ProtocolError) -> None:
        self.conn.deliver("text", err.event())

    def receive(self, msg: Mapping[str, Any]) -> bool:
        """One websocket message: a command forwarded or refused with an error. False when
        the connection is to be closed: over its budget, the client went on sending without
        reading the answers."""
        over = self.conn.over_budget()
        try:
            if msg.get("text") is not None:
                self.on_text(msg["text"])
            elif msg.get("bytes") is not None:
                self.on_bytes(msg["bytes"])
        except ProtocolError as err:
            self.error(err)
        except Exception as exc:  # a bug must cost this message, not the connection
            self.failed(exc)
        if not over:
            self.overdraft = 0
            return True
        self.overdraft += REPLY_ESTIMATE
        if self.overdraft <= OVERDRAFT_MAX:
            return True
        log.warning("session %s: connection closed: it sent on without reading %d bytes of "
                    "answers", self.rec.sid, self.conn.queued_bytes)  # fmt: skip
        self.conn.abort(1008, ProtocolError(
            "busy", "this connection kept sending while it read none of the server's answers, "
            "and is closed; its session is kept: resume it").event())  # fmt: skip
        return False

    def failed(self, exc: Exception) -> None:
        self.failures += 1
        if self.failures == 1:  # a client that triggers it again must not flood the log
            log.error("session %s: unexpected error handling a client message", self.rec.sid,
                      exc_info=exc)  # fmt: skip
        else:
            log.debug("session %s: unexpected error %d: %r", self.rec.sid, self.failures, exc)
        self.error(ProtocolError("internal", "the server failed to handle this message "
                                 f"({type(exc).__name__}); the connection and the session "
                                 "are kept"))  # fmt: skip

    def admit(self, cmd: dict[str, Any]) -> None:
        """Refuses a command as `busy` while this connection has too much to send."""
        kind = cmd["type"]
        if kind in ALWAYS_CHEAP:
            return
        if self.conn.over_budget():
            waiting = self.conn.queued_bytes / (1 << 20)
            raise ProtocolError("busy", "the server is still sending earlier answers to this "
                                f"connection ({waiting:.1f} MiB); read them, then send this "
                                "command again", None, cmd.get("id"))  # fmt: skip
        if kind == "save" and not self.conn.begin_save(cmd.get("id")):
            raise ProtocolError("busy", "the server is still sending this connection's last "
                                "saved run; wait for its 'run' message, then save again", None,
                                cmd.get("id"))  # fmt: skip

    def on_text(self, data: str) -> None:
        if len(data) > self.s.max_message_bytes or len(data.encode()) > self.s.max_message_bytes:
            raise ProtocolError("too_large", f"message over {self.s.max_message_bytes} bytes")
        if not self.bucket.take():
            raise ProtocolError("rate_limited", "too many commands; at most "
                                f"{self.s.commands_per_second:g} per second")  # fmt: skip
        cmd = parse_command(data)
        self.admit(cmd)
        self.conn.hub.command(self.rec, cmd)

    def on_bytes(self, data: bytes) -> None:
        if len(data) > self.s.max_run_bytes + (1 << 16):
            raise ProtocolError("too_large", f"binary message over {self.s.max_run_bytes} bytes")
        if not self.bucket.take():
            raise ProtocolError("rate_limited", "too many commands")
        try:
            msg = decode(data)
        except FrameError as exc:
            raise ProtocolError("bad_message", f"binary message: {exc}") from None
        if msg.header.get("kind") != "run":
            raise ProtocolError("bad_message", "the only binary message a client may send is "
                                "a 'run' file", "kind")  # fmt: skip
        if len(msg.payload) > self.s.max_run_bytes:
            raise ProtocolError("too_large", f"run file over {self.s.max_run_bytes} bytes")
        mid = msg.header.get("id")
        cmd: dict[str, Any] = {"type": "load"}
        if isinstance(mid, int) and not isinstance(mid, bool) and 0 <= mid <= 2**53:
            cmd["id"] = mid
        self.admit(cmd)
        self.conn.hub.command(self.rec, cmd, msg.payload)


@router.websocket("/ws")
async def session_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    settings: Settings = ws.app.state.settings
    origin = ws.headers.get("origin")
    hosts = getattr(ws.app.state, "allowed_hosts", None)
    if not origin_allowed(origin, ws.headers.get("host"), settings.allowed_origins, hosts):
        REFUSED_ORIGINS.log(logging.WARNING, str(origin),
                            "websocket refused: origin %r not allowed", origin)  # fmt: skip
        await ws.close(code=1008)
        return
    await ws.accept()
    sid = ws.query_params.get("session")
    try:
        token = ws.query_params.get("token")
        rec = await hub.resume_anywhere(sid, token) if sid else hub.create()
    except HubError as err:
        await _refuse(ws, err)
        return
    conn = Connection(ws, hub, settings.max_outgoing_bytes)
    conn.rec = rec
    hub.attach(rec, conn, resumed=bool(sid))
    sender = asyncio.create_task(conn.send_loop())
    reader = Reader(conn, rec, settings)
    aborted = False
    try:
        while True:
            receive = asyncio.ensure_future(ws.receive())
            done, _ = await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receive.cancel()
                break
            msg = receive.result()
            if msg["type"] == "websocket.disconnect":
                break
            if not reader.receive(msg):
                aborted = True
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.detach(rec, conn)
        if aborted and not sender.done():  # its last error and the close, if it reads at all
            await asyncio.wait({sender}, timeout=CLOSE_GRACE)
        if not sender.done():
            sender.cancel()
        try:
            await sender
        except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
            pass
        except Exception:  # a send that failed because the client vanished
            log.debug("sender of session %s ended with an error", rec.sid, exc_info=True)
