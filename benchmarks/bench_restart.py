"""Restart benchmark: K playing sessions, the server killed (or stopped) and started again.

K real websocket clients each open a session and play at the page's speed (100 it/s, the cap
a page sets) for `--play` seconds. Then the server is killed with its engine processes
(`--how kill`: SIGKILL to its process group, as a crashed machine; `term`: a clean stop) and
started again on the same state directory. As soon as it answers, every client resumes its
own session with its token. Reported, per client: how long after the server answered its run
was live again (the resumed `hello` and a frame that trains on), and how much training it
lost: the iterations between the last frame it saw before the kill and the restored one,
in seconds of that session's training.

Targets (issue 16): K=20, every client resumes its own run within 5 s of the server
answering, losing at most 10 s of training (`GANLAB_CHECKPOINT_SECONDS`, default 10).

    .venv/bin/python benchmarks/bench_restart.py [--clients 20] [--play 25] [--how kill]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

from ganlab.wire.envelope import decode_header

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import free_port

IPS = 100


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    ganlab = Path(sys.executable).with_name("ganlab")
    cmd = [str(ganlab), "serve", "--port", str(port), "--device", "cpu"]
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "ab")  # noqa: SIM115
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip


def wait_healthy(port: int, timeout: float = 120.0) -> float:
    """Wait until the server answers; returns the time it did."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return time.monotonic()
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the server did not answer")


async def frames(ws: websockets.ClientConnection, until: float) -> list[tuple[float, int]]:
    """(arrival time, iteration) of each frame until `until`."""
    seen = []
    while (left := until - time.monotonic()) > 0:
        try:
            msg = await asyncio.wait_for(ws.recv(), timeout=left)
        except TimeoutError:
            break
        if isinstance(msg, bytes) and (header := decode_header(msg)[0])["kind"] == "frame":
            seen.append((time.monotonic(), header["iteration"]))
    return seen


async def play(url: str, seconds: float) -> dict[str, object]:
    ws = await websockets.connect(url, max_size=None, compression=None)
    hello = json.loads(await ws.recv())
    await ws.send(json.dumps({"type": "speed", "ips": IPS}))
    await ws.send(json.dumps({"type": "play"}))
    seen = await frames(ws, time.monotonic() + seconds)
    # The connection is left open: the kill ends it, as it would a page's.
    (t0, i0), (t1, i1) = seen[len(seen) // 2], seen[-1]
    return {"ws": ws, "sid": hello["session"], "token": hello["token"],
            "ips": (i1 - i0) / (t1 - t0), "last": i1}  # fmt: skip


async def resume(url: str, c: dict[str, object], answered: float) -> dict[str, float]:
    q = f"?session={c['sid']}&token={c['token']}"
    async with websockets.connect(url + q, max_size=None, compression=None) as ws:
        hello = json.loads(await ws.recv())
        greeted = time.monotonic() - answered
        if hello.get("type") != "hello":
            raise SystemExit(f"a client could not resume: {hello}")
        restored = hello["iteration"]
        first = None
        # Live again: a frame beyond the restored iteration (it trains on).
        while True:
            msg = await ws.recv()
            if isinstance(msg, bytes):
                header = decode_header(msg)[0]
                if header["kind"] == "frame" and first is None:
                    first = time.monotonic() - answered
                if header["kind"] == "frame" and header["iteration"] > restored:
                    break
        live = time.monotonic() - answered
    lost = max(0, int(c["last"]) - restored)  # type: ignore[call-overload]
    rate = float(c["ips"])  # type: ignore[arg-type]
    return {"live_s": live, "hello_s": greeted, "frame_s": first or live, "lost_it": lost,
            "lost_s": lost / rate, "restored": float(bool(hello.get("restored")))}  # fmt: skip


async def measure(port: int, env: dict[str, str], k: int, seconds: float,
                  how: str) -> tuple[list[dict[str, object]], list[dict[str, float]]]:  # fmt: skip
    url = f"ws://127.0.0.1:{port}/ws"
    server = start_server(port, env)
    try:
        await asyncio.to_thread(wait_healthy, port)
        clients = list(await asyncio.gather(*(play(url, seconds) for _ in range(k))))
        if how == "kill":
            os.killpg(server.pid, signal.SIGKILL)
        else:
            server.terminate()
        await asyncio.to_thread(server.wait, 120)
        # The old connections are gone with the server: closed before it comes back.
        await asyncio.gather(*(c["ws"].close() for c in clients))  # type: ignore[attr-defined]
        server = start_server(port, env)
        answered = await asyncio.to_thread(wait_healthy, port)
        results = list(await asyncio.gather(*(resume(url, c, answered) for c in clients)))
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 60)
    return clients, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--play", type=float, default=25.0, help="seconds of play before")
    parser.add_argument("--how", choices=["kill", "term"], default="kill")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state:
        env = {"GANLAB_STATE_DIR": state, "GANLAB_MAX_SESSIONS": "200"}
        clients, results = asyncio.run(measure(free_port(), env, args.clients, args.play,
                                               args.how))  # fmt: skip
    live = [r["live_s"] for r in results]
    lost = [r["lost_s"] for r in results]
    print(
        f"K={args.clients} {args.how}: {sum(r['restored'] for r in results):.0f} restored | "
        f"live again after the server answered: median {statistics.median(live):.2f} s, "
        f"max {max(live):.2f} s (hello max {max(r['hello_s'] for r in results):.2f} s, "
        f"first frame max {max(r['frame_s'] for r in results):.2f} s) | training lost: median "
        f"{statistics.median(lost):.1f} s, "
        f"max {max(lost):.1f} s (max {max(r['lost_it'] for r in results):.0f} iterations) "
        f"| it/s before: median {statistics.median(float(c['ips']) for c in clients):.0f}"
    )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
