"""Live sessions over real loopback sockets: `ganlab serve` (uvicorn) in a process of its own
with two engine worker processes, and several concurrent `websockets` clients."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ganlab.wire.envelope import Message, decode

TIMEOUT = 25.0
CLIENTS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str) -> tuple[int, Any, float]:
    start = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
        return resp.status, json.loads(resp.read()), time.monotonic() - start


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """The real server on a free loopback port; yields (port, its log file)."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "GANLAB_WORKERS": "2", "GANLAB_MAX_SESSIONS": "16"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ganlab.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--device", "cpu"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if http_get(port, "/healthz")[1] == {"status": "ok"}:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        asyncio.run(warm_up(port))
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def warm_up(port: int) -> None:
    """Wait until both engine processes answer (starting them imports PyTorch: slow on a busy
    machine); sessions go to the least loaded process, so two at once reach both."""

    async def greet() -> None:
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws") as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 120))
            assert hello["type"] == "hello", hello
            await asyncio.wait_for(ws.recv(), 120)  # the history: the engine answered

    await asyncio.gather(greet(), greet())


class Client:
    """One websocket: text events as dicts, binary messages decoded."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = iter(range(1, 1 << 30))
        self.frames: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    async def recv(self, timeout: float = TIMEOUT) -> Any:
        msg = await asyncio.wait_for(self.ws.recv(), timeout)
        if isinstance(msg, str):
            event = json.loads(msg)
            self.events.append(event)
            return event
        out = decode(msg)
        if out.header["kind"] == "frame":
            self.frames.append(out.header)
        return out

    async def until(self, pred: Callable[[Any], bool], timeout: float = TIMEOUT) -> Any:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            assert left > 0, f"timed out; last events {self.events[-5:]}"
            msg = await self.recv(left)
            if pred(msg):
                return msg

    async def send(self, type: str, **fields: Any) -> int:
        cid = next(self.ids)
        await self.ws.send(json.dumps({"type": type, "id": cid, **fields}))
        return cid

    async def event(self, type: str, cid: int | None = None) -> dict[str, Any]:
        return await self.until(lambda m: isinstance(m, dict) and m["type"] == type
                                and (cid is None or m.get("id") == cid))  # fmt: skip

    async def frame(self, cond: Callable[[dict[str, Any]], bool]) -> Message:
        return await self.until(lambda m: isinstance(m, Message) and m.header["kind"] == "frame"
                                and cond(m.header))  # fmt: skip

    async def greeting(self) -> dict[str, Any]:
        hello = await self.recv()
        assert hello["type"] == "hello", hello
        assert (await self.recv()).header["kind"] == "history"
        assert (await self.recv()).header["kind"] == "frame"
        return hello


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_concurrent_sessions_train_independently(server):
    port, log = server
    url = f"ws://127.0.0.1:{port}/ws"

    async def main() -> list[str]:
        async with AsyncExitStack() as stack:
            socks = await asyncio.gather(*(
                stack.enter_async_context(websockets.connect(url, max_size=None))
                for _ in range(CLIENTS)
            ))  # fmt: skip
            clients = [Client(s) for s in socks]
            hellos = await asyncio.gather(*(c.greeting() for c in clients))
            sids = [h["session"] for h in hellos]
            assert len(set(sids)) == CLIENTS and len({h["token"] for h in hellos}) == CLIENTS
            assert all(h["resumed"] is False and h["iteration"] == 0 for h in hellos)

            # One session changes its generator; the others are not told of it.
            first = clients[0]
            cid = await first.send("config", set={"generator": {"neurons": 8}})
            event = await first.event("config", cid)
            assert event["config"]["generator"]["neurons"] == 8

            await asyncio.gather(*(c.send("play") for c in clients))

            async def advance(c: Client) -> None:
                await c.frame(lambda h: h["iteration"] >= 300 and h["playing"])

            async def health() -> list[float]:
                took = []
                for _ in range(3):
                    status, body, seconds = await asyncio.to_thread(http_get, port, "/healthz")
                    assert (status, body) == (200, {"status": "ok"})
                    took.append(seconds)
                    await asyncio.sleep(0.1)
                return took

            *_, took = await asyncio.gather(*(advance(c) for c in clients), health())
            assert max(took) < 5.0, took  # the HTTP side answers while all of them train

            for c in clients:
                playing = [h for h in c.frames if h["playing"]]
                assert len(playing) >= 3
                its = [h["iteration"] for h in c.frames]
                assert its == sorted(its)
                assert [h["frame"] for h in c.frames] == sorted({h["frame"] for h in c.frames})

            others = clients[1:]
            cids = await asyncio.gather(*(c.send("config", set={}) for c in others))
            events = await asyncio.gather(
                *(c.event("config", i) for c, i in zip(others, cids, strict=True))
            )
            assert [e["config"]["generator"]["neurons"] for e in events] == [16] * len(others)
            # Each session's frames only ever show its own commands.
            assert {h["applied"] for h in first.frames} <= {None, 1, 2}
            for c in others:
                assert {h["applied"] for h in c.frames} <= {None, 1, 2}
            assert not any(e["type"] == "config" for c in others for e in c.events[:-1])

            await asyncio.gather(*(c.send("pause") for c in clients))
            states = await asyncio.gather(*(c.event("state") for c in clients))
            assert all(s["playing"] is False and s["iteration"] >= 300 for s in states)
            errors = [e for c in clients for e in c.events if e["type"] == "error"]
            assert not errors, errors

        return sids

    sids = run(main())
    time.sleep(0.3)
    text = log.read_text()
    for sid in sids:
        assert f"session {sid} created" in text, sid
    assert "Traceback" not in text, text[-3000:]


def test_resume_replace_and_refusals_over_real_sockets(server):
    port, _ = server
    url = f"ws://127.0.0.1:{port}/ws"

    async def main() -> None:
        async with websockets.connect(url) as ws:
            c = Client(ws)
            hello = await c.greeting()
            for _ in range(3):
                cid = await c.send("step")
            await c.frame(lambda h: h["applied"] == cid)
        sid, token = hello["session"], hello["token"]
        resume = f"{url}?session={sid}&token={token}"

        async with websockets.connect(resume) as ws:
            old = Client(ws)
            back = await old.greeting()
            assert back["resumed"] is True and back["session"] == sid and back["iteration"] == 3
            async with websockets.connect(resume) as ws2:
                new = Client(ws2)
                assert (await new.greeting())["iteration"] == 3
                err = await old.event("error")
                assert err["code"] == "replaced"
                with pytest.raises(ConnectionClosed) as closed:
                    await old.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 4409
                cid = await new.send("ping")
                await new.event("pong", cid)

        refusals = [
            (f"session={sid}&token=wrong", "bad_token", 4403),
            (f"session={sid}", "bad_token", 4403),
            (f"session=x{sid}&token={token}", "unknown_session", 4404),
        ]
        for query, code, close in refusals:
            async with websockets.connect(f"{url}?{query}") as ws:
                refused = Client(ws)
                assert (await refused.recv())["code"] == code
                with pytest.raises(ConnectionClosed) as closed:
                    await refused.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == close

    run(main())


def test_cross_origin_handshake_refused_over_real_sockets(server):
    port, _ = server
    url = f"ws://127.0.0.1:{port}/ws"

    async def main() -> None:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url, origin="http://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        for origin in ("http://localhost:5173", f"http://127.0.0.1:{port}"):
            async with websockets.connect(url, origin=origin) as ws:
                assert (await Client(ws).greeting())["protocol"] == 1

    run(main())
