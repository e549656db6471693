"""The websocket endpoint `/ws`: one connection watches and steers one session.

Checks the origin, creates or resumes the session, then runs two loops: one reads commands
(size cap, rate limit, validation, each refusal answered with an error and the connection
kept), one sends what the session produces. Frames go through a one-slot mailbox: a newer
frame replaces one not yet sent, so a slow client skips frames and never grows a queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from ganlab.live.hub import Hub, HubError, Record
from ganlab.live.security import TokenBucket, origin_allowed
from ganlab.live.settings import Settings
from ganlab.wire.commands import ProtocolError, parse_command
from ganlab.wire.envelope import FrameError, decode

log = logging.getLogger("ganlab.sessions")
router = APIRouter()


class Connection:
    """The sending side of one websocket, fed by the hub."""

    def __init__(self, ws: WebSocket, hub: Hub) -> None:
        self.ws, self.hub = ws, hub
        self.rec: Record | None = None
        self.queue: deque[tuple[str, Any]] = deque()
        self.frame: bytes | None = None
        self.closing: int | None = None
        self.wake = asyncio.Event()

    def deliver(self, kind: str, data: Any) -> None:
        if kind == "frame":
            if self.frame is not None and self.rec is not None:
                self.hub.credit(self.rec)  # the replaced frame's credit comes back
            self.frame = data
        else:
            if self.frame is not None:  # in order: the frame waiting was made before this
                self.queue.append(("frame", self.frame))
                self.frame = None
            self.queue.append((kind, data))
        self.wake.set()

    def close(self, close_code: int, event: dict[str, Any]) -> None:
        self.queue.append(("text", event))
        self.closing = close_code
        self.wake.set()

    async def send_loop(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.queue:
                kind, data = self.queue.popleft()
                if kind == "text":
                    await self.ws.send_text(json.dumps(data, allow_nan=False))
                else:
                    await self.ws.send_bytes(data)
                    if kind == "frame" and self.rec is not None:
                        self.hub.credit(self.rec)
            if self.closing is not None:
                await self.ws.close(self.closing)
                return
            if self.frame is not None:
                frame, self.frame = self.frame, None
                await self.ws.send_bytes(frame)
                if self.rec is not None:
                    self.hub.credit(self.rec)


async def _refuse(ws: WebSocket, err: HubError) -> None:
    await ws.send_text(json.dumps(err.event()))
    await ws.close(err.close_code)


class Reader:
    """Turns incoming messages into commands for the session, refusing bad ones."""

    def __init__(self, conn: Connection, rec: Record, settings: Settings) -> None:
        self.conn, self.rec, self.s = conn, rec, settings
        rate = settings.commands_per_second
        self.bucket = TokenBucket(rate, max(2.0 * rate, 1.0))

    def error(self, err: ProtocolError) -> None:
        self.conn.deliver("text", err.event())

    def on_text(self, data: str) -> None:
        if len(data) > self.s.max_message_bytes or len(data.encode()) > self.s.max_message_bytes:
            raise ProtocolError("too_large", f"message over {self.s.max_message_bytes} bytes")
        if not self.bucket.take():
            raise ProtocolError("rate_limited", "too many commands; at most "
                                f"{self.s.commands_per_second:g} per second")  # fmt: skip
        cmd = parse_command(data)
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
        self.conn.hub.command(self.rec, cmd, msg.payload)


@router.websocket("/ws")
async def session_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.hub
    settings: Settings = ws.app.state.settings
    origin = ws.headers.get("origin")
    if not origin_allowed(origin, ws.headers.get("host"), settings.allowed_origins):
        log.warning("websocket refused: origin %r not allowed", origin)
        await ws.close(code=1008)
        return
    await ws.accept()
    sid = ws.query_params.get("session")
    try:
        rec = hub.resume(sid, ws.query_params.get("token")) if sid else hub.create()
    except HubError as err:
        await _refuse(ws, err)
        return
    conn = Connection(ws, hub)
    conn.rec = rec
    hub.attach(rec, conn, resumed=bool(sid))
    sender = asyncio.create_task(conn.send_loop())
    reader = Reader(conn, rec, settings)
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
            try:
                if msg.get("text") is not None:
                    reader.on_text(msg["text"])
                elif msg.get("bytes") is not None:
                    reader.on_bytes(msg["bytes"])
            except ProtocolError as err:
                reader.error(err)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.detach(rec, conn)
        if not sender.done():
            sender.cancel()
        try:
            await sender
        except (asyncio.CancelledError, WebSocketDisconnect, RuntimeError, OSError):
            pass
        except Exception:  # a send that failed because the client vanished
            log.debug("sender of session %s ended with an error", rec.sid, exc_info=True)
