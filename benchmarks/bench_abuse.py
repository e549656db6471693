"""Abuse benchmark: attacks on the real server, and what an honest session beside them gets.

For each attack a fresh server (`ganlab serve`, GANLAB_WORKERS=--workers; with 1, the honest
session and the attacker share one engine process) is started on a free port. An honest
session plays at defaults, reads every frame and sends a `ping` every 250 ms. It is measured
alone (the baseline), while the attack runs and in the 2 s after the attacker left: frames/s
over sliding 1-s windows (the lowest window and the mean), ping round trips (p95 and max, a
ping still unanswered counts as its age so far) and the recovery: how long after the attacker
left until a 1-s window again holds 80% of the baseline's frames. The RSS of the server
process and of its engine processes is sampled every 0.5 s; the peak growth over the value at
the attack's start is reported.

Targets (per attack): honest min >= 10 frames/s, ping max <= 1 s, recovery <= 2 s, the honest
connection stays open, no engine process restarts, peak RSS growth of the server and of the
engines each <= --max-growth-mib, and the attack's own check where it has one (a new client
still gets `hello`, /healthz answers, every malformed envelope gets an error). Prints
PASS/FAIL per attack and exits 0 either way: it is a measurement.

The server gets a soft limit of --server-nofile open files (1024, a common default; its hard
limit stays), so that `idle-connections` measures what a usual deployment would see.

    .venv/bin/python benchmarks/bench_abuse.py [--attack step-flood ...] [--workers 1] [--quick]
    .venv/bin/python benchmarks/bench_abuse.py --attack config-churn --minutes 10
    .venv/bin/python benchmarks/bench_abuse.py --server-source /tmp/before/server  # see --help
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import json
import os
import random
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import websockets
from rich.console import Console
from rich.table import Table
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from ganlab.engine.config import MAX_POINTS, ExperimentConfig, MetricsConfig, merge, parse_config
from ganlab.engine.cost import iteration_flops
from ganlab.wire.envelope import decode, decode_header, encode

TARGET_MIN_FPS = 10.0
TARGET_PING_S = 1.0
TARGET_RECOVERY_S = 2.0
RECOVERED_SHARE = 0.8  # of the baseline's mean frames/s, in one 1-s window
AFTER_S = 2.0  # the honest session's figures cover the attack and this long after it
PING_EVERY = 0.25
WINDOW_STEP = 0.05  # sliding 1-s windows start this far apart
RSS_EVERY = 0.5
HISTORY_ROWS = 5_000_000  # big-history: 15 MB of "{}," rows, under the run file's 16 MiB header
MIB = 1 << 20

console = Console(width=None if sys.stdout.isatty() else 200)


def now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def healthz(port: int, timeout: float) -> str:
    """'ok', or what went wrong (for the report)."""
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return "ok" if reply.status == 200 else f"HTTP {reply.status}"
    except Exception as exc:  # timeouts, refusals, resets: each is an answer here
        return f"{type(exc).__name__}: {exc}"[:80]


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


def start_server(workers: int, nofile: int, log: Path, source: str | None) -> Server:
    port = free_port()
    ganlab = Path(sys.executable).with_name("ganlab")
    env = {**os.environ, "GANLAB_WORKERS": str(workers)}
    if source:  # another tree's package (an unchanged copy: the "before") ahead of ours
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source, env.get("PYTHONPATH")]))
    cmd = [str(ganlab), "serve", "--port", str(port), "--device", "cpu"]
    with log.open("wb") as out:
        # A session of its own: stop_server can end the engine processes it leaves behind.
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    if nofile:
        _, hard = resource.prlimit(proc.pid, resource.RLIMIT_NOFILE)
        soft = nofile if hard == resource.RLIM_INFINITY else min(nofile, hard)
        resource.prlimit(proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
    server = Server(proc, port, log)
    deadline = now() + 120
    while now() < deadline and server.alive:
        if healthz(port, 1.0) == "ok":
            return server
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"server did not start; see {log}")


def stop_server(server: Server) -> None:
    if server.alive:
        server.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(10)
    # Engine processes still busy (or the server itself): they are ours, in its group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(10)


def log_errors(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "ERROR" in line or line.startswith("Traceback")]


# --------------------------------------------------------------------------- memory


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def children(pid: int) -> list[int]:
    """Child processes: from /proc/<pid>/task/*/children where the kernel has it, else by
    scanning /proc for the parent id."""
    listed = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if listed:
        try:
            return [int(c) for f in listed for c in f.read_text().split()]
        except (OSError, ValueError):
            pass
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def is_engine(pid: int) -> bool:
    """Engine processes are multiprocessing spawns (the resource tracker is not one)."""
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass(frozen=True)
class Sample:
    t: float
    server_kib: int
    engine_kib: int
    engines: frozenset[int]


class RssSampler(threading.Thread):
    """Samples the server's and its engines' RSS every RSS_EVERY seconds."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[Sample] = []
        self.halt = threading.Event()

    def sample(self) -> Sample:
        engines = frozenset(p for p in children(self.pid) if is_engine(p))
        s = Sample(now(), rss_kib(self.pid), sum(rss_kib(p) for p in engines), engines)
        self.samples.append(s)
        return s

    def run(self) -> None:
        while not self.halt.wait(RSS_EVERY):
            self.sample()

    def between(self, t0: float, t1: float) -> list[Sample]:
        return [s for s in list(self.samples) if t0 <= s.t <= t1]


# --------------------------------------------------------------------------- clients


def connect(url: str, timeout: float = 15.0) -> Any:
    # No keepalive pings of our own: a frozen server must show in our figures, not make the
    # client library close the connection.
    return websockets.connect(url, max_size=None, compression=None, ping_interval=None,
                              open_timeout=timeout, close_timeout=2)  # fmt: skip


class Refused(Exception):
    """The server answered a new connection with an error instead of `hello`."""


async def first_message(url: str, timeout: float = 5.0) -> dict[str, Any]:
    """What a newcomer gets first (`hello`, or an error), as an event; failures as `failed`."""
    try:
        async with connect(url, timeout) as ws:
            event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            return event
    except (OSError, TimeoutError, websockets.WebSocketException) as exc:
        return {"type": "failed", "code": type(exc).__name__, "message": str(exc)[:80]}


def describe(event: dict[str, Any]) -> str:
    if event.get("type") in ("error", "failed"):
        return f"{event.get('type')} {event.get('code')}"
    return str(event.get("type"))


@dataclass
class Window:
    """The honest session's figures over one stretch of time."""

    min_fps: float
    mean_fps: float
    ping_p95: float
    ping_max: float
    unanswered: int  # pings with no pong yet: counted at their age so far


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


class Honest:
    """The honest session: plays at defaults, takes every frame, pings every 250 ms."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.frames: list[float] = []
        self.sent: dict[int, float] = {}
        self.rtt: dict[int, float] = {}
        self.errors: Counter[str] = Counter()
        self.closed_at: float | None = None
        self.close_reason = ""
        self.hello: dict[str, Any] = {}
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.ws = await connect(self.url, 30.0)
        self.hello = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
        if self.hello.get("type") != "hello":
            raise Refused(f"honest session refused: {describe(self.hello)}")
        await self.ws.send(json.dumps({"type": "play"}))
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._ping())]

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                arrived = now()
                if isinstance(msg, bytes):
                    if decode_header(msg)[0].get("kind") == "frame":
                        self.frames.append(arrived)
                    continue
                event = json.loads(msg)
                if event.get("type") == "pong" and event.get("id") in self.sent:
                    self.rtt.setdefault(event["id"], arrived - self.sent[event["id"]])
                elif event.get("type") == "error":
                    self.errors[str(event.get("code"))] += 1
        except websockets.ConnectionClosed:
            pass
        self.closed_at = now()
        self.close_reason = f"closed {self.ws.close_code}"

    async def _ping(self) -> None:
        start = now()
        for i in itertools.count(1):
            delay = start + i * PING_EVERY - now()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.closed_at is not None:
                return
            self.sent[i] = now()
            try:
                await self.ws.send(json.dumps({"type": "ping", "id": i}))
            except websockets.ConnectionClosed:
                return

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def count(self, t0: float, t1: float) -> int:
        return bisect.bisect_left(self.frames, t1) - bisect.bisect_left(self.frames, t0)

    def window(self, t0: float, t1: float, at: float) -> Window:
        t1 = max(t1, t0 + 1.0)
        starts = [t0 + k * WINDOW_STEP for k in range(int((t1 - 1.0 - t0) / WINDOW_STEP) + 1)]
        lowest = min(self.count(s, s + 1.0) for s in starts)
        rtts, unanswered = [], 0
        for i, sent in list(self.sent.items()):
            if t0 <= sent < t1:
                if i not in self.rtt:
                    unanswered += 1
                rtts.append(self.rtt.get(i, at - sent))
        return Window(float(lowest), self.count(t0, t1) / (t1 - t0), p95(rtts),
                      max(rtts, default=float("nan")), unanswered)  # fmt: skip

    def recovery(self, left: float, frames: float, at: float) -> float | None:
        """Seconds after `left` until a 1-s window holds `frames` frames (None: not yet)."""
        r = 0.0
        while left + r + 1.0 <= at:
            if self.count(left + r, left + r + 1.0) >= frames:
                return r
            r += WINDOW_STEP
        return None

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:  # the server may be gone or stuck; we only stop listening
            self.ws.transport.abort()


class Requester(Protocol):
    async def request(self, cmd: dict[str, Any], replies: set[str],
                      timeout: float) -> dict[str, Any] | None: ...  # fmt: skip


class Client:
    """An attacker's websocket that reads everything: counts event types and error codes,
    hands replies to whoever waits for them (by command id), keeps `run` files."""

    def __init__(self, ws: Any, hello: dict[str, Any], tally: Counter[str]) -> None:
        self.ws, self.hello, self.tally = ws, hello, tally
        self.events: Counter[str] = Counter()
        self.frames = 0
        self.waiting: dict[int, tuple[set[str], asyncio.Future[dict[str, Any]]]] = {}
        self.runs: asyncio.Queue[bytes] = asyncio.Queue()
        self.ids = itertools.count(1)
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, tally: Counter[str], timeout: float = 15.0) -> Client:
        ws = await connect(url, timeout)
        first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if first.get("type") != "hello":
            tally[str(first.get("code"))] += 1
            await ws.close()
            raise Refused(f"attacker refused: {describe(first)}")
        return cls(ws, first, tally)

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if isinstance(msg, bytes):
                    kind = decode_header(msg)[0].get("kind")
                    self.frames += kind == "frame"
                    if kind == "run":
                        self.runs.put_nowait(msg)
                    continue
                event = json.loads(msg)
                kind = str(event.get("type"))
                self.events[kind] += 1
                if kind == "error":
                    self.tally[str(event.get("code"))] += 1
                wait = self.waiting.get(event.get("id", -1))
                if wait is not None and kind in wait[0] and not wait[1].done():
                    del self.waiting[event["id"]]
                    wait[1].set_result(event)
        except websockets.ConnectionClosed:
            pass

    @property
    def closed(self) -> bool:
        return self.reader.done()

    async def request(self, cmd: dict[str, Any], replies: set[str],
                      timeout: float) -> dict[str, Any] | None:  # fmt: skip
        mid = next(self.ids)
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = (replies | {"error"}, fut)
        await self.ws.send(json.dumps({**cmd, "id": mid}))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self.waiting.pop(mid, None)
            return None

    async def request_binary(self, header: dict[str, Any], payload: bytes, replies: set[str],
                             timeout: float) -> dict[str, Any] | None:  # fmt: skip
        mid = next(self.ids) + 1000
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[mid] = (replies | {"error"}, fut)
        await self.ws.send(encode({**header, "id": mid}, payload=payload))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            return None

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.ws.close(), 3)
        except Exception:  # a stuck server: leave without the closing handshake
            self.ws.transport.abort()
        self.reader.cancel()


class StalledClient:
    """A websocket client that stops reading once set up, like a stalled (or malicious) tab:
    what the server sends it piles up on the server's side. Built on the websockets library's
    sans-I/O protocol over a socket with a small receive buffer, so the kernel holds little."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 protocol: ClientProtocol, tally: Counter[str]) -> None:  # fmt: skip
        self.reader, self.writer, self.protocol, self.tally = reader, writer, protocol, tally
        self.ids = itertools.count(1)
        self.hello: dict[str, Any] = {}

    @classmethod
    async def open(cls, url: str, tally: Counter[str], rcvbuf: int = 1 << 16) -> StalledClient:
        uri = parse_uri(url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (uri.host, uri.port))
        reader, writer = await asyncio.open_connection(sock=sock)
        protocol = ClientProtocol(uri, max_size=None)
        protocol.send_request(protocol.connect())
        client = cls(reader, writer, protocol, tally)
        await client._flush()
        client.hello = await client.read_until(lambda e: True, 15.0)
        if client.hello.get("type") != "hello":
            client.abort()
            raise Refused(f"attacker refused: {describe(client.hello)}")
        return client

    async def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            self.writer.write(chunk)
        await self.writer.drain()

    async def send(self, cmd: dict[str, Any]) -> None:
        self.protocol.send_text(json.dumps(cmd).encode())
        await self._flush()

    async def read_until(self, match: Callable[[dict[str, Any]], bool],
                         timeout: float) -> dict[str, Any]:  # fmt: skip
        """Read (while setting up only) until a JSON event that `match`es."""
        deadline = now() + timeout
        while True:
            found: dict[str, Any] | None = None
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    text: dict[str, Any] = json.loads(bytes(event.data))
                    if text.get("type") == "error":
                        self.tally[str(text.get("code"))] += 1
                    if found is None and match(text):
                        found = text
            if self.protocol.handshake_exc is not None:
                raise self.protocol.handshake_exc
            if found is not None:
                return found
            data = await asyncio.wait_for(self.reader.read(1 << 16), max(0.01, deadline - now()))
            if not data:
                raise ConnectionError("the server closed the connection")
            self.protocol.receive_data(data)
            await self._flush()  # pongs and the like

    async def request(self, cmd: dict[str, Any], replies: set[str],
                      timeout: float) -> dict[str, Any] | None:  # fmt: skip
        mid = next(self.ids)
        await self.send({**cmd, "id": mid})
        kinds = replies | {"error"}
        try:
            return await self.read_until(lambda e: e.get("id") == mid and e.get("type") in kinds,
                                         timeout)  # fmt: skip
        except TimeoutError:
            return None

    def abort(self) -> None:
        self.writer.transport.abort()


async def paced(rate: float, count: int, send: Callable[[int], Awaitable[None]]) -> None:
    """`count` sends, `rate` per second."""
    start = now()
    for i in range(count):
        delay = start + i / rate - now()
        if delay > 0:
            await asyncio.sleep(delay)
        await send(i)


async def until(condition: Callable[[], bool], timeout: float, every: float = 0.01) -> bool:
    """Poll `condition` until it holds or `timeout` passes; whether it held."""
    deadline = now() + timeout
    while not condition():
        if now() >= deadline:
            return False
        await asyncio.sleep(every)
    return True


# --------------------------------------------------------------------------- attacks


@dataclass
class Context:
    """What an attack gets, and what it reports: error codes, notes, its own check."""

    url: str
    port: int
    quick: bool
    limits: dict[str, Any]
    honest: Honest
    sampler: RssSampler
    minutes: float
    tally: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    check: tuple[bool, str] | None = None
    prepared: Any = None
    errors_read: bool = True  # False: the attacker never reads its replies

    def seconds(self, normal: float, quick: float) -> float:
        return quick if self.quick else normal


def big_networks(layers: int, neurons: list[int], batches: list[int]) -> list[tuple[str, Any]]:
    """Configs of both networks `layers` x `neurons` at each batch size, costliest first."""
    base = ExperimentConfig().model_dump()
    rows = []
    for n in neurons:
        for b in batches:
            net = {"layers": layers, "neurons": n}
            patch = {"generator": net, "discriminator": net, "training": {"batch_size": b}}
            gflop = iteration_flops(parse_config(merge(base, patch))) / 1e9
            rows.append((gflop, f"{layers}x{n} batch {b} ({gflop:.1f} GFLOP/iteration)", patch))
    rows.sort(key=lambda r: -r[0])
    return [(label, patch) for _, label, patch in rows]


async def find_accepted(client: Requester, candidates: list[tuple[str, Any]],
                        ctx: Context) -> str | None:  # fmt: skip
    """Try configs in order until the server accepts one; its label (None: none was)."""
    for refused, (label, patch) in enumerate(candidates):
        reply = await client.request({"type": "config", "set": patch}, {"config"}, 60.0)
        if reply is None:
            ctx.notes.append(f"no answer to config {label} within 60 s")
            return None
        if reply["type"] == "config":
            ctx.notes.append(f"config {label} accepted ({refused} costlier refused)")
            ctx.tally["invalid_config"] -= refused  # probing, not the attack
            if ctx.tally["invalid_config"] <= 0:
                del ctx.tally["invalid_config"]
            return label
    ctx.notes.append(f"none of {len(candidates)} configs accepted")
    return None


async def step_flood(ctx: Context) -> None:
    """The costliest config accepted, then `step` at 50/s, then leave."""
    client = await Client.open(ctx.url, ctx.tally)
    try:
        configs = big_networks(8, [512, 448, 384, 320, 256, 192, 128],
                               [4096, 2048, 1024, 512, 250, 150, 100])  # fmt: skip
        if await find_accepted(client, configs, ctx) is None:
            return
        rate, seconds = 50.0, ctx.seconds(10, 3)
        step = {"type": "step"}
        await paced(rate, int(rate * seconds), lambda i: client.ws.send(json.dumps(step)))
        ctx.notes.append(f"{int(rate * seconds)} steps at {rate:g}/s; "
                         f"{client.events['ack']} acknowledged before it left")  # fmt: skip
    finally:
        await client.close()


async def metric_step(ctx: Context) -> None:
    """A metric row every iteration at the largest sample counts, then 10 steps at once."""
    limits = MetricsConfig.model_json_schema()["properties"]
    samples, w1 = limits["samples"]["maximum"], limits["w1_samples"]["maximum"]
    candidates = []
    while samples >= limits["samples"]["minimum"] and w1 >= limits["w1_samples"]["minimum"]:
        patch = {"metrics": {"every": 1, "samples": samples, "w1_samples": w1}}
        candidates.append((f"metrics every=1 samples={samples} w1_samples={w1}", patch))
        samples, w1 = samples // 2, w1 // 2
    client = await Client.open(ctx.url, ctx.tally)
    try:
        if await find_accepted(client, candidates, ctx) is None:
            return
        for _ in range(10):
            await client.ws.send(json.dumps({"type": "step"}))
        wait = ctx.seconds(10, 4)
        await until(lambda: client.events["ack"] + client.events["error"] >= 10, wait, 0.05)
        ctx.notes.append(f"10 steps sent at once; {client.events['ack']} acknowledged "
                         f"within {wait:g} s")  # fmt: skip
    finally:
        await client.close()


async def big_play(ctx: Context) -> None:
    """Play the largest networks accepted at batch 250, taking every frame."""
    client = await Client.open(ctx.url, ctx.tally)
    try:
        configs = big_networks(8, [512, 448, 384, 320, 256, 192, 128, 64], [250])
        if await find_accepted(client, configs, ctx) is None:
            return
        seconds = ctx.seconds(12, 4)
        await client.ws.send(json.dumps({"type": "play"}))
        await asyncio.sleep(seconds)  # it plays meanwhile; its reader takes every frame
        ctx.notes.append(f"it played {seconds:g} s and got {client.frames} frames")
    finally:
        await client.close()


async def save_flood(ctx: Context) -> None:
    """An 8x512 run, then `save` every half second and never a reply read."""
    client = await StalledClient.open(ctx.url, ctx.tally)
    ctx.errors_read = False
    try:
        if await find_accepted(client, big_networks(8, [512, 384, 256, 128], [150]), ctx) is None:
            return
        count, seconds = (8, 4.0) if ctx.quick else (30, 15.0)
        await paced(count / seconds, count, lambda i: client.send({"type": "save"}))
        ctx.notes.append(f"{count} saves over {seconds:g} s, not one reply read")
    finally:
        client.abort()


async def config_flood(ctx: Context) -> None:
    """20,000 imported points, then learning-rate changes at the rate limit, never a reply read
    (each `config` reply carries the whole point set)."""
    rng = random.Random(1)
    text = "x,y\n" + "\n".join(f"{rng.gauss(0, 1):.6f},{rng.gauss(0, 1):.6f}"
                               for _ in range(MAX_POINTS))  # fmt: skip
    client = await StalledClient.open(ctx.url, ctx.tally)
    ctx.errors_read = False
    try:
        data = {"type": "data", "import": {"format": "csv", "text": text}}
        reply = await client.request(data, {"config"}, 60.0)
        ctx.notes.append(f"{MAX_POINTS} points imported: "
                         f"{describe(reply) if reply else 'no answer in 60 s'}")  # fmt: skip
        rate = float(ctx.limits.get("commands_per_second", 50))
        seconds = ctx.seconds(10, 3)

        def lr(i: int) -> Awaitable[None]:
            rate = {"g_optimizer": {"lr": 1e-3 if i % 2 else 2e-3}}
            return client.send({"type": "config", "set": rate})

        await paced(rate, int(rate * seconds), lr)
        ctx.notes.append(f"{int(rate * seconds)} learning-rate changes at {rate:g}/s, unread")
    finally:
        client.abort()


async def slot_churn(ctx: Context) -> None:
    """64 connect-and-close cycles as fast as possible; then does a newcomer get `hello`?"""
    got: Counter[str] = Counter()
    start = now()
    for _ in range(64):
        event = await first_message(ctx.url, 10.0)
        got[describe(event)] += 1
        if event.get("type") == "error":
            ctx.tally[str(event.get("code"))] += 1
    summary = ", ".join(f"{k} x{v}" for k, v in got.items())
    ctx.notes.append(f"64 cycles in {now() - start:.1f} s: {summary}")
    newcomer = await first_message(ctx.url, 10.0)
    ctx.check = (newcomer.get("type") == "hello", f"a new client got {describe(newcomer)}")


def open_idle(port: int, count: int) -> tuple[list[socket.socket], int]:
    socks: list[socket.socket] = []
    failed = 0
    while len(socks) < count and failed < 20:
        try:
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=2.0))
        except OSError:
            failed += 1
    return socks, failed


async def idle_connections(ctx: Context) -> None:
    """2,000 idle TCP connections held; meanwhile, do /healthz and a new session work?"""
    socks, failed = await asyncio.to_thread(open_idle, ctx.port, 2000)
    try:
        ctx.notes.append(f"{len(socks)} idle connections open ({failed} failed)")
        await asyncio.sleep(ctx.seconds(10, 3))  # held idle
        health, newcomer = await asyncio.gather(asyncio.to_thread(healthz, ctx.port, 5.0),
                                                first_message(ctx.url, 5.0))  # fmt: skip
        ok = health == "ok" and newcomer.get("type") == "hello"
        ctx.check = (ok, f"/healthz: {health}; new session: {describe(newcomer)}")
    finally:
        for s in socks:
            s.close()


def with_history(run: bytes, rows: int) -> bytes:
    """The run file (safetensors) with its metadata history replaced by `rows` empty rows."""
    (size,) = struct.unpack("<Q", run[:8])
    header = json.loads(run[8 : 8 + size])
    header["__metadata__"]["history"] = "[" + ",".join(["{}"] * rows) + "]"
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # safetensors allows padding the header with spaces
    return struct.pack("<Q", len(head)) + head + run[8 + size :]


async def big_history_prepare(ctx: Context) -> tuple[Client, bytes]:
    client = await Client.open(ctx.url, ctx.tally)
    reply = await client.request({"type": "save"}, {"saved"}, 30.0)
    if reply is None or reply["type"] != "saved":
        raise RuntimeError(f"save failed: {reply}")
    run = decode(await asyncio.wait_for(client.runs.get(), 30.0)).payload
    return client, await asyncio.to_thread(with_history, run, HISTORY_ROWS)


async def big_history(ctx: Context) -> None:
    """A valid run file whose history holds millions of empty rows, sent as a `run`."""
    client, crafted = ctx.prepared
    try:
        wait = ctx.seconds(15, 5)
        reply = await client.request_binary({"kind": "run"}, crafted, {"loaded"}, wait)
        answer = (f"{describe(reply)} {reply.get('message', '')}"[:140] if reply
                  else f"no answer within {wait:g} s")  # fmt: skip
        ctx.notes.append(f"{len(crafted) / MIB:.1f} MiB run file, {HISTORY_ROWS:,} history rows:"
                         f" {answer}")  # fmt: skip
    finally:
        await client.close()


def malformed_envelopes() -> list[tuple[str, bytes]]:
    """Binary messages that are not valid envelopes, each with a name for the report."""
    digits = "9" * 5000

    def env(header: str | bytes, payload: bytes = b"") -> bytes:
        head = header.encode() if isinstance(header, str) else header
        head += b" " * (-len(head) % 8)
        return b"GLB1" + struct.pack("<I", len(head)) + head + payload

    def array(**fields: str) -> str:
        desc = {"name": '"a"', "dtype": '"f4"', "shape": "[2]", "offset": "0", **fields}
        inner = ",".join(f'"{k}":{v}' for k, v in desc.items())
        return '{"kind":"run","arrays":[{' + inner + "}]}"

    return [
        ("too short", b"GLB1"),
        ("no magic", b"NOPE" + struct.pack("<I", 8) + b"{}      "),
        ("header length past the end", b"GLB1" + struct.pack("<I", 0xFFFFFFFF) + b"{}      "),
        ("header not JSON", env("not json")),
        ("header not UTF-8", env(b"\xff\xfe{}")),
        ("header not an object", env("[1, 2]")),
        ("header without kind", env("{}")),
        ("kind 1e400", env('{"kind":1e400,"arrays":[]}')),
        ("kind not run", env('{"kind":"frame","arrays":[]}')),
        ("arrays not a list", env('{"kind":"run","arrays":"x"}')),
        ("array without fields", env('{"kind":"run","arrays":[{}]}')),
        ("array not an object", env('{"kind":"run","arrays":[1]}')),
        ("offset 1e400", env(array(offset="1e400"), bytes(8))),
        ("shape 1e400", env(array(shape="[1e400]"), bytes(8))),
        ("offset of 5000 digits", env(array(offset=digits), bytes(8))),
        ("shape of 5000 digits", env(array(shape=f"[{digits}]"), bytes(8))),
        ("id of 5000 digits", env('{"kind":"run","arrays":[],"id":' + digits + "}")),
        ("negative shape", env(array(shape="[-8]"), bytes(8))),
        ("shape product overflows", env(array(shape=f"[{2**62},{2**62}]"), bytes(8))),
        ("offset past the end", env(array(offset="4096"), bytes(8))),
        ("unknown dtype", env(array(dtype='"c16"'), bytes(8))),
        ("min not a number", env(array(dtype='"u1"', min='"x"', max="1"), bytes(8))),
        ("header nested 100,000 deep", env("[" * 100_000 + "]" * 100_000)),
        ("NaN in header, empty run", env('{"kind":"run","arrays":[],"x":NaN}')),
        ("empty run file", env('{"kind":"run","arrays":[]}')),
        ("garbage run file", env('{"kind":"run","arrays":[]}', b"\x07" * 64)),
    ]


async def bad_headers(ctx: Context) -> None:
    """A few hundred malformed binary envelopes, at the rate limit; each should get an
    `error` and leave the connection open."""
    variants = malformed_envelopes()
    total = int(ctx.seconds(300, 100))
    rate = 0.9 * float(ctx.limits.get("commands_per_second", 50))
    client = await Client.open(ctx.url, ctx.tally)
    resume = f"{ctx.url}?session={client.hello['session']}&token={client.hello['token']}"
    answered, dropped, unanswered = 0, Counter[str](), Counter[str]()
    start = now()
    try:
        for i in range(total):
            delay = start + i / rate - now()
            if delay > 0:
                await asyncio.sleep(delay)
            name, data = variants[i % len(variants)]
            before = client.events["error"]
            with contextlib.suppress(websockets.ConnectionClosed):
                await client.ws.send(data)

            def answered_or_closed(c: Client = client, before: int = before) -> bool:
                return c.events["error"] > before or c.closed

            await until(answered_or_closed, 3.0)
            if client.events["error"] > before:
                answered += 1
            elif client.closed:  # dropped without an answer: come back to the same session
                dropped[name] += 1
                client = await Client.open(resume, ctx.tally)
            else:
                unanswered[name] += 1
    finally:
        await client.close()

    def names(c: Counter[str]) -> str:
        return ", ".join(f"{k} x{v}" for k, v in c.items()) or "none"

    ctx.check = (answered == total, f"{answered}/{total} answered with an error")
    ctx.notes.append(f"dropped without an error: {names(dropped)}")
    ctx.notes.append(f"no answer within 3 s: {names(unanswered)}")


CHURN = [
    {"generator": {"neurons": 32}}, {"generator": {"neurons": 16}},
    {"discriminator": {"layers": 3}}, {"discriminator": {"layers": 2}},
    {"data": {"name": "ring"}}, {"data": {"name": "gaussians"}},
    {"view": {"grid": 96}}, {"view": {"grid": 64}},
    {"training": {"batch_size": 256}}, {"training": {"batch_size": 150}},
    {"noise": {"dim": 1}}, {"noise": {"dim": 2}},
    {"loss": {"kind": "lsgan"}}, {"loss": {"kind": "log"}},
    {"generator": {"activation": "tanh"}}, {"generator": {"activation": "relu"}},
    {"data": {"name": "spiral"}}, {"metrics": {"every": 10}}, {"metrics": {"every": 100}},
]  # fmt: skip


async def config_churn(ctx: Context) -> None:
    """10 playing sessions each changing its config every 5 s; prints the RSS curve. The check:
    the engines' RSS levels off (the second half adds at most a quarter of the growth, or
    16 MiB)."""
    seconds = ctx.minutes * 60
    report_every = 60.0 if seconds >= 180 else seconds / 3
    clients = [await Client.open(ctx.url, ctx.tally) for _ in range(10)]
    start = now()
    first = ctx.sampler.sample()

    async def churn(k: int, client: Client) -> None:
        await client.ws.send(json.dumps({"type": "play"}))
        for i in itertools.count(1):
            delay = start + i * 5.0 + k * 0.5 - now()  # spread over the 5 s
            if now() + delay >= start + seconds:
                return
            await asyncio.sleep(max(0.0, delay))
            patch = CHURN[(k * 7 + i) % len(CHURN)]
            await client.ws.send(json.dumps({"type": "config", "set": patch}))

    tasks = [asyncio.create_task(churn(k, c)) for k, c in enumerate(clients)]
    console.print(f"  {'minute':>6} {'server MiB':>11} {'engines MiB':>12} {'honest f/s':>11}")
    try:
        mark = start
        while (t := now()) < start + seconds:
            await asyncio.sleep(min(report_every, start + seconds - t))
            s = ctx.sampler.sample()
            fps = ctx.honest.count(mark, s.t) / max(1e-9, s.t - mark)
            console.print(f"  {(s.t - start) / 60:6.1f} {s.server_kib / 1024:11.0f} "
                          f"{s.engine_kib / 1024:12.0f} {fps:11.1f}")  # fmt: skip
            mark = s.t
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for c in clients:
            await c.close()
    samples = ctx.sampler.between(start, now())
    mid = [s.engine_kib for s in samples if s.t >= start + seconds / 2] or [first.engine_kib]
    total = (samples[-1].engine_kib if samples else first.engine_kib) - first.engine_kib
    late = (samples[-1].engine_kib if samples else first.engine_kib) - mid[0]
    flat = late * 1024 <= max(16 * MIB, 0.25 * max(total, 0) * 1024)
    ctx.check = (flat, f"engines grew {total / 1024:+.0f} MiB, {late / 1024:+.0f} MiB of it "
                       "in the second half")  # fmt: skip
    ctx.notes.append(f"{sum(c.events['config'] for c in clients)} config changes applied")


@dataclass(frozen=True)
class Attack:
    run: Callable[[Context], Awaitable[None]]
    prepare: Callable[[Context], Awaitable[Any]] | None = None
    default: bool = True


ATTACKS = {
    "step-flood": Attack(step_flood),
    "metric-step": Attack(metric_step),
    "big-play": Attack(big_play),
    "save-flood": Attack(save_flood),
    "config-flood": Attack(config_flood),
    "slot-churn": Attack(slot_churn),
    "idle-connections": Attack(idle_connections),
    "big-history": Attack(big_history, big_history_prepare),
    "bad-headers": Attack(bad_headers),
    "config-churn": Attack(config_churn, default=False),
}


# --------------------------------------------------------------------------- measuring


@dataclass
class Result:
    name: str
    base: Window | None = None
    during: Window | None = None
    recovery: float | None = None
    observed: float = 0.0  # how long after the attack recovery was watched
    server_growth: float = float("nan")  # MiB
    engine_growth: float = float("nan")
    errors: Counter[str] = field(default_factory=Counter)
    errors_read: bool = True
    survived: bool = False
    close_reason: str = ""
    check: tuple[bool, str] | None = None
    engines_restarted: bool = False
    server_alive: bool = True
    notes: list[str] = field(default_factory=list)

    def failures(self, max_growth: float) -> list[str]:
        if self.base is None or self.during is None:
            return ["not measured"]
        out = []
        if not self.during.min_fps >= TARGET_MIN_FPS:
            out.append("frames/s")
        if not self.during.ping_max <= TARGET_PING_S:
            out.append("ping")
        if self.recovery is None or self.recovery > TARGET_RECOVERY_S:
            out.append("recovery")
        if not self.survived:
            out.append("honest connection")
        if not self.server_alive:
            out.append("server died")
        if self.engines_restarted:
            out.append("engine restarted")
        if not (self.server_growth <= max_growth and self.engine_growth <= max_growth):
            out.append("memory")
        if self.check is not None and not self.check[0]:
            out.append("check")
        return out


@dataclass(frozen=True)
class Timing:
    warmup: float
    baseline: float
    recovery_max: float

    @classmethod
    def of(cls, quick: bool) -> Timing:
        return cls(1.0, 2.0, 4.0) if quick else cls(1.5, 3.0, 8.0)


async def measure(name: str, server: Server, sampler: RssSampler, args: argparse.Namespace,
                  result: Result) -> None:  # fmt: skip
    attack, timing = ATTACKS[name], Timing.of(args.quick)
    url = f"ws://127.0.0.1:{server.port}/ws"
    honest = Honest(url)
    await honest.start()
    await asyncio.sleep(timing.warmup)  # the first frames warm up kernels and caches
    minutes = args.minutes if args.minutes is not None else (0.5 if args.quick else 10.0)
    ctx = Context(url, server.port, args.quick, honest.hello.get("limits", {}), honest, sampler,
                  minutes)  # fmt: skip
    if attack.prepare is not None:
        ctx.prepared = await attack.prepare(ctx)
    b0 = now()
    await asyncio.sleep(timing.baseline)
    result.base = base = honest.window(b0, now(), now())
    at_start = sampler.sample()
    t0 = now()
    budget = minutes * 60 + 120 if name == "config-churn" else 90.0
    try:
        await asyncio.wait_for(attack.run(ctx), budget)
    except TimeoutError:
        ctx.notes.append(f"attack cut off after {budget:g} s")
    except Exception as exc:  # the attack's own failure is a finding, not a crash
        ctx.notes.append(f"attack ended early: {type(exc).__name__}: {exc}"[:200])
    left = now()
    # Recovery: poll until a 1-s window is back at 80% of the baseline (and AFTER_S passed).
    while True:
        t = now()
        result.recovery = honest.recovery(left, RECOVERED_SHARE * base.mean_fps, t)
        done = t - left >= AFTER_S and result.recovery is not None
        if done or honest.closed or t - left >= timing.recovery_max:
            break
        await asyncio.sleep(0.1)
    end = now()
    result.observed = end - left
    result.during = honest.window(t0, left + AFTER_S, end)
    samples = [at_start, *sampler.between(t0, end), sampler.sample()]
    result.server_growth = (max(s.server_kib for s in samples) - at_start.server_kib) / 1024
    result.engine_growth = (max(s.engine_kib for s in samples) - at_start.engine_kib) / 1024
    result.engines_restarted = any(s.engines != at_start.engines for s in samples)
    result.survived, result.close_reason = not honest.closed, honest.close_reason
    result.server_alive = server.alive
    result.errors, result.errors_read = +ctx.tally, ctx.errors_read
    result.check, result.notes = ctx.check, ctx.notes
    if honest.errors:
        result.notes.append(f"honest session got errors: {dict(honest.errors)}")
    await honest.close()


def run_one(name: str, args: argparse.Namespace, logdir: Path) -> Result:
    result = Result(name)
    server = start_server(args.workers, args.server_nofile, logdir / f"{name}.log",
                          args.server_source)  # fmt: skip
    sampler = RssSampler(server.proc.pid)
    sampler.start()
    try:
        asyncio.run(measure(name, server, sampler, args, result))
    except Exception as exc:  # e.g. the honest session could not even start
        result.notes.append(f"not measured: {type(exc).__name__}: {exc}"[:200])
    finally:
        sampler.halt.set()
        result.server_alive = result.server_alive and server.alive
        stop_server(server)
    errors = log_errors(server.log)
    if errors:
        result.notes.append(f"server log: {len(errors)} error lines, first: {errors[0][:150]}")
    return result


# --------------------------------------------------------------------------- report


def fmt(value: float, unit: str = "", digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}{unit}"


def errors_text(r: Result) -> str:
    read = ", ".join(f"{k} x{v}" for k, v in r.errors.most_common())
    if not r.errors_read:
        return f"{read} (then unread)" if read else "not read"
    return read or "none"


def row(r: Result, max_growth: float) -> list[str]:
    fails = r.failures(max_growth)
    verdict = "[green]PASS[/]" if not fails else f"[red]FAIL[/] {', '.join(fails)}"
    if r.base is None or r.during is None:
        return [r.name, *["-"] * 11, verdict]
    d, b = r.during, r.base
    ratio = d.mean_fps / b.mean_fps if b.mean_fps > 0 else float("nan")
    late = ">" if d.unanswered else ""
    recovery = f"{r.recovery:.1f} s" if r.recovery is not None else f">{r.observed:.0f} s"
    check = "-" if r.check is None else ("ok" if r.check[0] else "[red]no[/]")
    return [r.name, fmt(b.mean_fps), fmt(d.min_fps), f"{d.mean_fps:.1f} ({fmt(ratio, 'x', 2)})",
            fmt(d.ping_p95 * 1e3, " ms", 0), f"{late}{fmt(d.ping_max * 1e3, ' ms', 0)}", recovery,
            fmt(r.server_growth, " MiB", 0), fmt(r.engine_growth, " MiB", 0), errors_text(r),
            "open" if r.survived else r.close_reason or "closed", check, verdict]  # fmt: skip


def report(results: list[Result], args: argparse.Namespace) -> None:
    table = Table(title=f"Abuse benchmark: honest session beside each attack "
                        f"(workers={args.workers}{', quick' if args.quick else ''})")  # fmt: skip
    growth = f"(<={args.max_growth_mib:g} MiB)"
    for col in ("attack", "base f/s", f"min f/s (>={TARGET_MIN_FPS:g})", "mean f/s (x base)",
                "ping p95", f"ping max (<={TARGET_PING_S:g} s)",
                f"recovery (<={TARGET_RECOVERY_S:g} s)", f"server ΔRSS {growth}",
                f"engine ΔRSS {growth}", "attacker errors", "honest conn", "check",
                "result"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for r in results:
        table.add_row(*row(r, args.max_growth_mib))
    console.print(table)
    console.print(f"Targets: min >= {TARGET_MIN_FPS:g} frames/s (lowest 1-s window during the "
                  f"attack and {AFTER_S:g} s after), ping max <= {TARGET_PING_S:g} s (a '>' "
                  f"marks pings still unanswered, counted at their age), recovery to "
                  f"{RECOVERED_SHARE:.0%} of the baseline <= {TARGET_RECOVERY_S:g} s, honest "
                  f"connection open, no engine restart, peak RSS growth <= "
                  f"{args.max_growth_mib:g} MiB (server and engines each), the attack's "
                  "check.")  # fmt: skip
    for r in results:
        lines = ([f"check: {r.check[1]}"] if r.check else []) + r.notes
        for line in lines:
            console.print(f"  {r.name}: {line}", markup=False, highlight=False)
    passed = sum(not r.failures(args.max_growth_mib) for r in results)
    console.print(f"{passed}/{len(results)} attacks pass")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attack", action="append", choices=list(ATTACKS),
                        help="an attack (repeatable); default: all but config-churn")  # fmt: skip
    parser.add_argument("--workers", type=int, default=1,
                        help="engine processes (1: the honest session and the attacker's "
                        "share one)")  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="3-5 s per attack (smoke run)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="length of config-churn (default 10; 0.5 with --quick)")  # fmt: skip
    parser.add_argument("--server-nofile", type=int, default=1024,
                        help="the server's soft limit of open files (0: inherit ours)")  # fmt: skip
    parser.add_argument("--server-source", default=None,
                        help="run the server from this directory's ganlab package, e.g. an "
                        "unchanged copy: git archive HEAD server | tar -x -C /tmp/before; "
                        "--server-source /tmp/before/server")  # fmt: skip
    parser.add_argument("--max-growth-mib", type=float, default=512.0,
                        help="target: peak RSS growth of the server, and of the engines "
                        "(MiB)")  # fmt: skip
    args = parser.parse_args()
    # idle-connections holds thousands of sockets open from this process.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    names = args.attack or [n for n, a in ATTACKS.items() if a.default]
    logdir = Path(tempfile.mkdtemp(prefix="bench_abuse_"))
    console.print(f"server logs in {logdir}")
    results = []
    for name in names:
        started = now()
        r = run_one(name, args, logdir)
        results.append(r)
        fails = r.failures(args.max_growth_mib)
        d = r.during
        figures = (f"min {d.min_fps:.1f} f/s, mean {d.mean_fps:.1f} f/s, ping max "
                   f"{d.ping_max:.2f} s" if d else "not measured")  # fmt: skip
        console.print(f"{name}: {figures}: {'PASS' if not fails else 'FAIL ' + ', '.join(fails)}"
                      f" ({now() - started:.0f} s)", markup=False)  # fmt: skip
    report(results, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
