"""The HTTP layer of the real server (live/serving.py): uvicorn on a free loopback port, run in
a thread of this process (short timeouts through Settings), or `ganlab serve` in a process of
its own, and clients on raw sockets so that they can misbehave exactly."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import websockets

from ganlab.live.serving import LOG_INTERVAL, ServingConfig, make_server
from ganlab.live.settings import Settings

DEADLINE = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(pred: Callable[[], Any], timeout: float = DEADLINE, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while not (result := pred()):
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)
    return result


@contextmanager
def running(**overrides: Any) -> Iterator[uvicorn.Server]:
    """The real server (create_app under serving's uvicorn config) in a thread."""
    settings = Settings(host="127.0.0.1", port=free_port(), workers=0, device="cpu", **overrides)
    server = make_server(settings, log_config=None)  # logging as pytest set it: caplog sees it
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        until(lambda: server.started or not thread.is_alive(), 60, "the server to start")
        assert server.started, "the server did not start"
        yield server
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the server did not stop"


def port_of(server: uvicorn.Server) -> int:
    return int(server.config.port)


def guard_of(server: uvicorn.Server) -> Any:
    assert isinstance(server.config, ServingConfig)
    return server.config.guard


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    try:
        sock.bind((source, 0))
        sock.settimeout(DEADLINE)
        sock.connect(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    return sock


def read_until_closed(sock: socket.socket, timeout: float = DEADLINE) -> bytes:
    """Everything the server sends until it closes the connection (fails past `timeout`)."""
    end = time.monotonic() + timeout
    data = b""
    while True:
        left = end - time.monotonic()
        assert left > 0, f"the connection is still open after {timeout} s; got {data[:200]!r}"
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One HTTP response on a connection that may stay open: (status, body)."""
    sock.settimeout(DEADLINE)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                   if k.lower() == "content-length"), 0)  # fmt: skip
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "closed before the whole body"
        body += chunk
    return int(lines[0].split()[1]), body


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split()[1])


def get(port: int, path: str = "/healthz", host: str | None = None) -> tuple[int, bytes]:
    with connect(port) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
                     "Connection: close\r\n\r\n".encode())  # fmt: skip
        return read_response(sock)


def handshake(target: str, host: str, origin: str | None = None) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    extra = f"Origin: {origin}\r\n" if origin else ""
    return (f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\n{extra}\r\n").encode()  # fmt: skip


def ws_status(port: int, target: str = "/ws", host: str | None = None,
              origin: str | None = None) -> int:  # fmt: skip
    """The status line's code of the answer to a websocket handshake."""
    with connect(port) as sock:
        sock.sendall(handshake(target, host or f"127.0.0.1:{port}", origin))
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            assert chunk, f"closed without an answer: {data!r}"
            data += chunk
        return status_of(data)


async def first_event(ws: Any) -> dict[str, Any]:
    """The first text message of a websocket (what this module checks is never a frame)."""
    end = time.monotonic() + DEADLINE
    while True:
        msg = await asyncio.wait_for(ws.recv(), end - time.monotonic())
        if isinstance(msg, str):
            return dict(json.loads(msg))


@pytest.fixture(scope="module")
def server() -> Iterator[uvicorn.Server]:
    with running() as s:
        yield s


# --------------------------------------------------------------------------- host names


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.evil.example"])
def test_unknown_host_is_refused_for_http_and_websocket(server, host):
    port = port_of(server)
    host = host.format(port=port)
    status, body = get(port, "/healthz", host=host)
    assert status == 400 and b"host" in body.lower()
    # A page of evil.example rebound to 127.0.0.1: its handshake is same-origin, and refused.
    assert ws_status(port, host=host, origin=f"http://{host}") == 400


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_local_names_are_served(server, host):
    port = port_of(server)
    assert get(port, "/healthz", host=f"{host}:{port}") == (200, b'{"status":"ok"}')
    assert ws_status(port, host=f"{host}:{port}", origin=f"http://{host}:{port}") == 101


def test_a_real_client_connects_by_localhost(server):
    port = port_of(server)

    async def hello() -> dict[str, Any]:
        async with websockets.connect(f"ws://localhost:{port}/ws") as ws:
            return await first_event(ws)

    assert asyncio.run(hello())["type"] == "hello"
    with urllib.request.urlopen(f"http://localhost:{port}/healthz", timeout=DEADLINE) as r:
        assert r.status == 200


def test_allowed_hosts_setting_lets_a_name_in():
    with running(allowed_hosts=["lab.example", "*.lab.example"]) as server:
        port = port_of(server)
        for host in ("lab.example", "a.lab.example:8443"):
            assert get(port, host=host)[0] == 200
        assert get(port, host="lab.example.evil")[0] == 400
        assert ws_status(port, host="lab.example", origin="http://lab.example") == 101


# --------------------------------------------------------------------------- connection caps


def test_idle_connections_from_one_address_are_capped_and_healthz_answers(caplog):
    caplog.set_level(logging.INFO, logger="ganlab.serving")
    n, cap = 2100, Settings().max_connections_per_address
    with running(request_timeout=120) as server, ExitStack() as stack:
        port = port_of(server)
        # 127.0.0.2 is this machine too (all of 127/8 is), but another client address.
        idle = [stack.enter_context(connect(port, "127.0.0.2")) for _ in range(n)]
        sel = selectors.DefaultSelector()
        stack.callback(sel.close)
        for sock in idle:
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
        closed: dict[socket.socket, bytes] = {}

        def refused_all() -> bool:
            for key, _ in sel.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                sel.unregister(sock)
                sock.setblocking(True)
                closed[sock] = read_until_closed(sock)
            return len(closed) >= n - cap

        start = time.monotonic()
        until(refused_all, 60, f"{n - cap} connections to be refused")
        took = time.monotonic() - start
        # The ones over the cap were answered 503 and closed; the first `cap` stay open.
        assert len(closed) == n - cap
        assert all(status_of(r) == 503 for r in closed.values())
        assert b"connections from your address" in next(iter(closed.values()))
        assert not any(sock in closed for sock in idle[:cap])
        assert guard_of(server).open == {"127.0.0.2": cap}
        t0 = time.monotonic()
        assert get(port) == (200, b'{"status":"ok"}')
        healthz_s = time.monotonic() - t0
        assert healthz_s < 2.0
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert took < LOG_INTERVAL
    # One line for the address in the interval, the rest counted for its next line.
    assert len(refusals) == 1 and "127.0.0.2" in refusals[0].getMessage()
    print(f"{n} idle connections: {n - cap} refused in {took:.2f} s; /healthz {healthz_s:.3f} s")


def test_connections_in_all_are_capped_and_slots_come_back():
    with running(max_connections=10, max_connections_per_address=8) as server, ExitStack() as st:
        port = port_of(server)
        guard = guard_of(server)
        first = [st.enter_context(connect(port, "127.0.0.2")) for _ in range(8)]
        until(lambda: guard.count == 8, what="8 connections admitted")
        more = [st.enter_context(connect(port, "127.0.0.3")) for _ in range(8)]
        until(lambda: guard.count == 10, what="10 connections admitted")
        answers = [read_until_closed(s) for s in more[2:]]
        assert all(status_of(a) == 503 and b"connections open" in a for a in answers)
        for sock in first:
            sock.close()
        until(lambda: guard.count == 2, what="closed connections to give their slots back")
        assert get(port)[0] == 200
        until(lambda: guard.count == 2, what="the /healthz connection to give its slot back")


def test_a_websocket_holds_its_slot_until_it_closes(server):
    port = port_of(server)
    guard = guard_of(server)
    until(lambda: guard.count == 0, what="no open connection")

    async def session() -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            assert (await first_event(ws))["type"] == "hello"
            assert guard.open == {"127.0.0.1": 1}

    asyncio.run(session())
    until(lambda: guard.count == 0 and not guard.open, what="the websocket's slot back")


# --------------------------------------------------------------------------- timeouts


@pytest.mark.parametrize(
    ("send", "expect"),
    [
        (b"", b""),  # connect, send nothing: closed without a word
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"HTTP/1.1 408"),  # half a request
        (b"GET /ws?session=", b"HTTP/1.1 408"),  # half a request line
    ],
)
def test_a_connection_without_a_whole_request_is_closed_after_the_timeout(send, expect):
    with running(request_timeout=0.5) as server, connect(port_of(server)) as sock:
        start = time.monotonic()
        sock.sendall(send)
        answer = read_until_closed(sock, timeout=5)
        took = time.monotonic() - start
        assert answer.startswith(expect) and (expect or answer == b"")
        assert 0.4 < took < 5
        until(lambda: guard_of(server).count == 0, what="its slot back")


def test_the_timeout_starts_again_with_each_request_of_a_kept_connection():
    with (
        running(request_timeout=0.5, keep_alive_timeout=60) as server,
        connect(port_of(server)) as sock,
    ):
        for _ in range(3):  # each whole request in time: the connection stays
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_response(sock)[0] == 200
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # then one byte-trickle stalls
        assert status_of(read_until_closed(sock, timeout=5)) == 408


def test_an_idle_kept_alive_connection_is_closed():
    with (
        running(keep_alive_timeout=1, request_timeout=60) as server,
        connect(port_of(server)) as sock,
    ):
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(sock)[0] == 200
        start = time.monotonic()
        assert read_until_closed(sock, timeout=4) == b""
        assert time.monotonic() - start > 0.8


def test_a_websocket_that_does_not_answer_pings_is_closed():
    with running(ws_ping_interval=0.2, ws_ping_timeout=0.3) as server:
        port = port_of(server)
        with connect(port) as sock:
            sock.sendall(handshake("/ws", f"127.0.0.1:{port}"))
            # Read what comes (the 101, events, frames, pings) and answer nothing.
            data = read_until_closed(sock, timeout=8)
        assert data.startswith(b"HTTP/1.1 101")
        until(lambda: guard_of(server).count == 0, what="its slot back")


# --------------------------------------------------------------------------- request size


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (b"GET /?" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"".join(b"X-%d: %s\r\n" % (i, b"b" * 100) for i in range(200))
            + b"\r\n",
            431,
        ),
        (
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + b"".join(b"X-%d: a\r\n" % i for i in range(200))
            + b"\r\n",
            431,
        ),
        # A websocket handshake whose request line the websocket parser would refuse: before,
        # never answered.
        (handshake("/ws?session=" + "s" * 9000, "127.0.0.1"), 414),
        # Never ends: refused once over the bound, not after the request timeout.
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 40_000, 431),
    ],
    ids=["target", "header-line", "headers", "header-count", "websocket-line", "unfinished"],
)
def test_an_oversized_request_head_is_refused(server, request_, status):
    with connect(port_of(server)) as sock:
        sock.sendall(request_)
        answer = read_until_closed(sock, timeout=5)
    assert status_of(answer) == status and b"at most 16384 bytes" in answer


def test_a_request_head_within_the_bounds_is_served(server):
    port = port_of(server)
    assert get(port, "/healthz?" + "a" * 8000)[0] == 200
    assert ws_status(port, "/ws?x=" + "a" * 8000) == 101


def test_a_malformed_request_is_answered_400(server):
    with connect(port_of(server)) as sock:
        sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n")
        answer = read_until_closed(sock, timeout=5)
    assert status_of(answer) == 400 and b"not a valid HTTP/1.1 request" in answer


# --------------------------------------------------------------------------- the log


def test_resume_tokens_never_reach_the_log(tmp_path: Path):
    """`ganlab serve` as users run it: its whole output after sessions were resumed, with the
    right token, a wrong one and one spelt with percent escapes."""
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "GANLAB_WORKERS": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ganlab.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--device", "cpu"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:

        def up() -> bool:
            assert proc.poll() is None, log.read_text()
            try:
                return get(port)[0] == 200
            except OSError:
                return False

        until(up, 90, "the server to start")
        wrong = "WRONG" + "x" * 27

        async def sessions() -> str:
            base = f"ws://127.0.0.1:{port}/ws"
            async with websockets.connect(base) as ws:
                hello = await first_event(ws)
            sid, token = hello["session"], hello["token"]
            for query in (f"session={sid}&token={token}", f"session={sid}&tok%65n={token}"):
                async with websockets.connect(f"{base}?{query}") as ws:
                    again = await first_event(ws)
                    assert again["type"] == "hello" and again["resumed"] is True, again
            for _ in range(3):
                async with websockets.connect(f"{base}?session={sid}&token={wrong}") as ws:
                    refused = await first_event(ws)
                    assert refused["code"] == "bad_token", refused
            return str(token)

        token = asyncio.run(sessions())
        assert get(port, f"/healthz?token={token}")[0] == 200
        # uvicorn's lines for those requests: five websockets with a token, one GET.
        until(lambda: log.read_text().count('"WebSocket /ws?session=') >= 5
              and "/healthz?token=" in log.read_text(), what="the log lines")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text()
    assert token not in text and wrong not in text
    assert text.count("token=[redacted]") >= 4 and "tok%65n=[redacted]" in text


def test_other_upgrades_are_served_as_http_and_logged_once(server, caplog):
    caplog.set_level(logging.WARNING)
    port = port_of(server)
    for _ in range(5):
        with connect(port) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n"
                         b"Upgrade: h2c\r\n\r\n")  # fmt: skip
            assert read_response(sock) == (200, b'{"status":"ok"}')
    lines = [r.getMessage() for r in caplog.records if "upgrade" in r.getMessage().lower()]
    assert lines == ["request from 127.0.0.1 asks for an upgrade other than websocket"]
