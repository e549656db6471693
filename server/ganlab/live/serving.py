"""Runs the app under uvicorn with limits that keep it answering through a flood of connections.

uvicorn's own options give the idle keep-alive timeout, the websocket ping/pong and a cap on
concurrent requests. Its HTTP protocol (httptools) lacks the rest, which `GuardedHttp` adds: a
cap on open connections per client address and in all (one over is answered 503 and closed at
once), a deadline for a request to arrive (a client that connects and sends nothing, or half a
request, was held forever) and a bound on the request line and headers (httptools has none, and
a websocket handshake with a line over 8 KiB, which the websocket parser refuses, was never
answered). Refusals are logged once per address per interval, with a count.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import socket
from http import HTTPStatus
from typing import Any, cast

import httptools
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS

from ganlab.live.app import create_app
from ganlab.live.security import WILDCARD_ADDRESSES, LogThrottle, install_log_redaction
from ganlab.live.settings import Settings

log = logging.getLogger("ganlab.serving")

LOG_INTERVAL = 30.0  # seconds between two lines about one address
# The websocket handshake parser refuses a line over MAX_LINE_LENGTH (request line included)
# or more than MAX_NUM_HEADERS headers, and uvicorn then never answers: refuse them here, for
# every request. Room for the method and " HTTP/1.1\r\n" around the target:
MAX_TARGET = MAX_LINE_LENGTH - 32


def _address(client: tuple[str, int] | None) -> str:
    return client[0] if client else "local socket"


class Guard:
    """Counts open connections per client address and in all; one event loop, no locking."""

    def __init__(self, per_address: int, total: int) -> None:
        self.per_address, self.total = per_address, total
        self.open: dict[str, int] = {}
        self.count = 0
        self.log = LogThrottle(log, LOG_INTERVAL)

    def admit(self, address: str) -> str | None:
        """None if a new connection from `address` may stay, else why not (for the client)."""
        if self.count >= self.total:
            return f"the server has {self.total} connections open, its limit; try again later"
        if self.open.get(address, 0) >= self.per_address:
            return (f"{self.per_address} connections from your address are open, the most "
                    "allowed; close some and try again")  # fmt: skip
        self.open[address] = self.open.get(address, 0) + 1
        self.count += 1
        return None

    def release(self, address: str) -> None:
        left = self.open.pop(address, 0) - 1
        if left > 0:
            self.open[address] = left
        self.count -= 1


class ServingConfig(uvicorn.Config):
    """uvicorn's config built from Settings, carrying the Guard its protocols share."""

    def __init__(self, app: Any, settings: Settings, **kwargs: Any) -> None:
        s = settings
        super().__init__(
            app,
            host=s.host,
            port=s.port,
            http=GuardedHttp,
            ws=GuardedWebSockets,
            # A message over the hard cap closes the socket; up to it, the app answers with
            # an error. Frames are float data that deflate barely shrinks, at a CPU cost per
            # frame: off.
            ws_max_size=s.max_run_bytes + (1 << 20),
            ws_per_message_deflate=False,
            ws_ping_interval=s.ws_ping_interval,
            ws_ping_timeout=s.ws_ping_timeout,
            timeout_keep_alive=s.keep_alive_timeout,
            # Requests beyond get 503. The Guard keeps connections within max_connections
            # already; uvicorn counts the asking one among them, hence the 1.
            limit_concurrency=s.max_connections + 1,
            **kwargs,
        )
        self.settings = settings
        self.guard = Guard(s.max_connections_per_address, s.max_connections)


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol plus the connection caps, the request deadline and the
    bound on request heads (module docstring)."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if not isinstance(config, ServingConfig):
            raise TypeError("GuardedHttp runs with a ServingConfig (ganlab.live.serving.serve)")
        self.guard = config.guard
        self.request_timeout = config.settings.request_timeout
        self.max_head = config.settings.max_request_head_bytes
        self.address = ""
        self.admitted = False  # holds a slot of the Guard (until closed or upgraded)
        self.timer: asyncio.TimerHandle | None = None
        self.head_pending = True  # the next request's line and headers are not all in yet
        self.head_bytes = 0  # bytes received since, as they came (bounds an unfinished head)
        self.head_size = 0  # the current head's size as parsed (bounds a finished one)
        self.header_count = 0
        self.refusal: tuple[int, str] | None = None  # set by a parser callback that refuses

    # ------------------------------------------------------------------ connection
    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        super().connection_made(transport)
        self.address = _address(self.client)
        why = self.guard.admit(self.address)
        if why is not None:
            self.guard.log.log(logging.WARNING, f"refused {self.address}",
                               "connection from %s refused: %s", self.address, why)  # fmt: skip
            self._reply(503, why)
            return
        self.admitted = True
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.admitted:
            self.admitted = False
            self.guard.release(self.address)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        self.admitted = False  # GuardedWebSockets gives the slot back when the socket closes
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        # uvicorn's, with refusals of its own in place of "Invalid HTTP request received."
        if self.transport.is_closing():
            return  # refused or timed out: what the client still sends is dropped
        if self.head_pending:
            self.head_bytes += len(data)
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:  # served as plain HTTP, as uvicorn does; said once an interval, not each time
                what = "request from %s asks for an upgrade other than websocket"
                self.guard.log.log(logging.WARNING, f"upgrade {self.address}", what, self.address)
            return
        except httptools.HttpParserError:
            status, why = self.refusal or (400, "not a valid HTTP/1.1 request")
            self._refuse(status, why)
            return
        if self.head_pending and self.head_bytes > self.max_head:
            self._refuse(431, self._too_large())

    # ------------------------------------------------------------------ parser callbacks
    def on_message_begin(self) -> None:
        self.head_size = self.header_count = 0
        self._arm()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        if len(self.url) + len(url) > MAX_TARGET or self.head_size > self.max_head:
            self.refusal = (414, self._too_large())
            raise ValueError("request target too long")  # httptools: HttpParserError
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        line = len(name) + len(value) + 4
        self.head_size += line
        self.header_count += 1
        if (line > MAX_LINE_LENGTH or self.header_count > MAX_NUM_HEADERS
                or self.head_size > self.max_head):  # fmt: skip
            self.refusal = (431, self._too_large())
            raise ValueError("request headers too large")  # httptools: HttpParserError
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.head_pending = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self.head_pending, self.head_bytes = True, 0
        super().on_message_complete()

    # ------------------------------------------------------------------ helpers
    def _too_large(self) -> str:
        return (f"request line and headers too large: at most {self.max_head} bytes in all, "
                f"{MAX_LINE_LENGTH} a line and {MAX_NUM_HEADERS} headers")  # fmt: skip

    def _arm(self) -> None:
        """The client has request_timeout seconds, from connecting or from a request's first
        byte, to send the whole request."""
        if self.timer is None:
            self.timer = self.loop.call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        self.timer = None
        if self.transport.is_closing():
            return
        self.guard.log.log(logging.DEBUG, f"timeout {self.address}", "connection from %s "
                           "closed: no whole request within %g s", self.address,
                           self.request_timeout)  # fmt: skip
        if self.head_pending and self.head_bytes:
            self._reply(408, f"no whole request within {self.request_timeout:g} s")
        else:  # nothing asked yet (a browser's spare connection, say): close quietly
            self.transport.close()

    def _refuse(self, status: int, why: str) -> None:
        self.guard.log.log(logging.WARNING, f"bad request {self.address}",
                           "request from %s refused: %s", self.address, why)  # fmt: skip
        self._reply(status, why)

    def _reply(self, status: int, text: str) -> None:
        """Answers `status` with `text` and closes, whatever the request's state."""
        self._disarm()
        body = f"{text}\n".encode()
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                "content-type: text/plain; charset=utf-8\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")  # fmt: skip
        self.transport.write(head.encode() + body)
        self.transport.close()


class GuardedWebSockets(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, giving the connection's slot of the Guard back when the
    socket closes (GuardedHttp took it when the connection was made)."""

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            cast(ServingConfig, self.config).guard.release(_address(self.client))


def make_server(
    settings: Settings, *, log_config: dict[str, Any] | None = LOGGING_CONFIG
) -> uvicorn.Server:
    """The server for `settings` (not started); `log_config` as uvicorn takes it (None: leave
    logging as it is)."""
    install_log_redaction()
    config = ServingConfig(create_app(settings), settings, log_level="info", log_config=log_config)
    return uvicorn.Server(config)


def listen(settings: Settings) -> socket.socket:
    """The listening socket, opened before anything starts so that a port in use or an
    address this machine does not have is one clear error (OSError), not a server that
    starts and then exits."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    return socket.create_server((settings.host.strip("[]"), settings.port), family=family)


def serve(settings: Settings, sock: socket.socket | None = None) -> None:
    """Serves until interrupted, as `ganlab serve` does (on `sock` if given)."""
    _raise_descriptor_limit(settings.max_connections)
    if settings.host in WILDCARD_ADDRESSES and not settings.allowed_hosts:
        log.warning(
            "listening on every interface, but serving only the host names localhost, "
            "127.0.0.1 and [::1]: list the names clients use in GANLAB_ALLOWED_HOSTS"
        )
    make_server(settings).run(sockets=[sock] if sock is not None else None)


def _raise_descriptor_limit(connections: int) -> None:
    """A flood of connections should meet the caps above, not the process's limit on open
    files (often 1024): there, accepting stalls for every client."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 1 << 16 if hard == resource.RLIM_INFINITY else min(hard, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < connections + 256:
        log.warning(
            "this process may open %d files, too few for max_connections=%d: raise its "
            "limit (ulimit -n) or lower GANLAB_MAX_CONNECTIONS", soft, connections,
        )  # fmt: skip
