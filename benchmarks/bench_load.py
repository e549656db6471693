"""Load benchmark: the real server (uvicorn on loopback) and K real websocket clients.

Each client opens a session, plays for a fixed time at the default frame rate, and every
half second sends a `config` command (alternating the generator's learning rate) and times
how long until the first frame whose `applied` field shows it. Reports per-client frames/s,
per-session iterations/s, frame size and the command-to-frame latency.

Sessions whose networks have the same shapes step together on a worker (step.py); with
`--shapes N` the clients' generators get N different widths, so that they form N groups
instead of one (N=K: every session steps alone).

With `--ray` the server's engines are 2 Ray actors on a local Ray cluster (2 CPUs) that the
benchmark starts and ends itself (ganlab.live.ray_cluster), instead of local processes.

Targets (2-core machine): K=1: >= 30 frames/s, latency p95 < 100 ms. K=20: every client
>= 15 frames/s and every session >= 100 iterations/s. A default frame < 64 KB. With --ray,
K=20 within 80% of the multi-process figures (frames/s and it/s of the slowest session).

    .venv/bin/python benchmarks/bench_load.py [--clients 1 20] [--seconds 10] [--shapes 1]
                                              [--ray] [--device cuda] [--capacity]

With `--capacity` it finds how many sessions the server holds with every session at 15
frames/s and 100 it/s (on a GPU: `--device cuda --capacity`, issue 16's figure for how many
sessions one GPU holds; sessions of one shape step together there as on CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import websockets

from ganlab.wire.envelope import decode_header

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, extra_env: dict[str, str], device: str = "cpu",
                 log: Path | None = None) -> subprocess.Popen[bytes]:  # fmt: skip
    """`ganlab serve` on `port`; its output (the log) to the file `log`, or nowhere."""
    ganlab = Path(sys.executable).with_name("ganlab")
    env = {**os.environ, "GANLAB_MAX_SESSIONS": "1000", **extra_env}
    cmd = [str(ganlab), "serve", "--port", str(port), "--device", device]
    with open(log or os.devnull, "wb") as out:  # (the child keeps its own descriptor)
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


async def client(url: str, seconds: float, start: asyncio.Event,
                 neurons: int | None = None) -> dict[str, float]:  # fmt: skip
    async with websockets.connect(url, max_size=None, compression=None) as ws:
        json.loads(await ws.recv())  # hello
        if neurons is not None:
            wider = {"type": "config", "set": {"generator": {"neurons": neurons}}}
            await ws.send(json.dumps(wider))
            while not (isinstance(m := await ws.recv(), str) and json.loads(m)["type"] == "config"):
                pass
        await start.wait()
        await ws.send(json.dumps({"type": "play"}))
        frames, sizes, latencies = 0, [], []
        first_it = last_it = None
        pending: dict[int, float] = {}
        next_cmd, cmd_id = time.perf_counter() + 0.5, 0
        t0 = time.perf_counter()
        end = t0 + seconds
        while (now := time.perf_counter()) < end:
            if now >= next_cmd:
                cmd_id += 1
                lr = 1e-3 if cmd_id % 2 else 2e-3
                pending[cmd_id] = time.perf_counter()
                await ws.send(json.dumps({"type": "config", "id": cmd_id,
                                          "set": {"g_optimizer": {"lr": lr}}}))  # fmt: skip
                next_cmd = now + 0.5
            try:
                msg = await asyncio.wait_for(ws.recv(), timeout=max(0.001, end - now))
            except TimeoutError:
                break
            if isinstance(msg, str):
                continue
            arrived = time.perf_counter()
            header, _ = decode_header(msg)
            if header["kind"] != "frame":
                continue
            frames += 1
            sizes.append(len(msg))
            last_it = header["iteration"]
            if first_it is None:
                first_it, t_first = last_it, arrived
            applied = header.get("applied")
            for cid in [c for c in pending if applied is not None and c <= applied]:
                latencies.append(arrived - pending.pop(cid))
        elapsed = time.perf_counter() - t0
        await ws.send(json.dumps({"type": "pause"}))
    ips = (last_it - first_it) / (arrived - t_first) if frames > 1 else 0.0
    return {"fps": frames / elapsed, "ips": ips, "bytes": statistics.median(sizes),
            "latencies": latencies}  # fmt: skip


async def run_clients(port: int, k: int, seconds: float, shapes: int) -> list[dict[str, float]]:
    url = f"ws://127.0.0.1:{port}/ws"
    start = asyncio.Event()
    # Widths around the default 16, one per shape (the default first).
    widths = [16 + (1 if s % 2 else -1) * ((s + 1) // 2) for s in range(shapes)]
    tasks = [
        asyncio.create_task(client(url, seconds, start, widths[i % shapes] if shapes > 1 else None))
        for i in range(k)
    ]
    await asyncio.sleep(1.0 + 0.05 * k)  # every session created before anyone plays
    start.set()
    return await asyncio.gather(*tasks)


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--all", action="store_true",
                        help="print every session's it/s and frames/s")  # fmt: skip
    parser.add_argument("--shapes", type=int, default=1,
                        help="different generator widths among the clients (groups)")  # fmt: skip
    parser.add_argument("--ray", action="store_true",
                        help="engines as 2 actors of a local Ray cluster started here")  # fmt: skip
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="where the sessions train")  # fmt: skip
    parser.add_argument("--capacity", action="store_true",
                        help="find the most sessions the server holds with every session at "
                        f">= {FPS_TARGET} frames/s and >= {IPS_TARGET} it/s")  # fmt: skip
    args = parser.parse_args()
    if args.capacity:
        capacity(args)
        return
    lowest = {"processes": run_engines(args, ray=False)}
    if args.ray:  # the multi-process baseline above, then the same on Ray
        lowest["ray"] = run_engines(args, ray=True)
        for k in args.clients:
            (fps0, ips0), (fps1, ips1) = lowest["processes"][k], lowest["ray"][k]
            print(f"K={k:<3} Ray / processes, slowest session: frames/s {fps1 / fps0:.2f}, "
                  f"it/s {ips1 / ips0:.2f}", flush=True)  # fmt: skip


FPS_TARGET, IPS_TARGET = 15, 100
CAPACITY_MAX = 512


def capacity(args: argparse.Namespace) -> None:
    """The largest K whose slowest session keeps FPS_TARGET frames/s and IPS_TARGET it/s:
    K doubles until one falls short, then the gap is bisected. One server for all trials."""
    port = free_port()
    server = start_server(port, {}, args.device)
    print(f"capacity on {args.device}: every session >= {FPS_TARGET} frames/s and >= "
          f"{IPS_TARGET} it/s, {args.seconds:.0f} s a trial", flush=True)  # fmt: skip

    def holds(k: int) -> bool:
        results = asyncio.run(run_clients(port, k, args.seconds, args.shapes))
        fps, ips = min(r["fps"] for r in results), min(r["ips"] for r in results)
        ok = fps >= FPS_TARGET and ips >= IPS_TARGET
        print(f"  K={k:<4} slowest: {fps:5.1f} frames/s, {ips:7.1f} it/s -> "
              f"{'holds' if ok else 'falls short'}", flush=True)  # fmt: skip
        time.sleep(1.0)
        return ok

    try:
        good, bad = 0, None
        k = 1
        while k <= CAPACITY_MAX and holds(k):
            good, k = k, k * 2
        bad = k if k <= CAPACITY_MAX else None
        while bad is not None and bad - good > max(1, good // 8):  # within 1/8
            mid = (good + bad) // 2
            good, bad = (mid, bad) if holds(mid) else (good, mid)
    finally:
        server.terminate()
        server.wait(30)
    more = f" (fewer than {bad})" if bad is not None else f" (the most tried: {CAPACITY_MAX})"
    print(f"capacity on {args.device}: {good} sessions{more}", flush=True)


def run_engines(args: argparse.Namespace, ray: bool) -> dict[int, tuple[float, float]]:
    """Every K on a fresh server (engines: local processes, or 2 Ray actors on a local
    cluster started for it); the slowest session's frames/s and it/s per K."""
    port = free_port()
    with ExitStack() as stack:
        env = {}
        if ray:
            from ganlab.live.ray_cluster import LocalCluster

            address = stack.enter_context(LocalCluster(num_cpus=2))
            env = {"GANLAB_RAY_ADDRESS": address, "GANLAB_WORKERS": "2"}
            print(f"engines: 2 Ray actors on a local cluster at {address}", flush=True)
        else:
            print(f"engines: local processes ({os.cpu_count()} cores)", flush=True)
        return run_all(args, port, start_server(port, env, args.device))


def run_all(args: argparse.Namespace, port: int,
            server: subprocess.Popen[bytes]) -> dict[int, tuple[float, float]]:  # fmt: skip
    lowest = {}
    try:
        for k in args.clients:
            results = asyncio.run(run_clients(port, k, args.seconds, args.shapes))
            fps = [r["fps"] for r in results]
            ips = [r["ips"] for r in results]
            lowest[k] = (min(fps), min(ips))
            lat = [x for r in results for x in r["latencies"]]
            if args.all:  # sessions on one engine process come out in a block of their own
                print("  it/s:", sorted(round(x) for x in ips))
                print("  frames/s:", sorted(round(x, 1) for x in fps))
            print(f"K={k:<3} shapes {min(args.shapes, k):<2} | frames/s per client min "
                  f"{min(fps):6.1f} median "
                  f"{statistics.median(fps):6.1f} | it/s per session min {min(ips):7.1f} "
                  f"median {statistics.median(ips):7.1f} | frame {results[0]['bytes'] / 1024:.1f}"
                  f" KB | config->frame latency p50 {statistics.median(lat) * 1e3:.1f} ms "
                  f"p95 {p95(lat) * 1e3:.1f} ms ({len(lat)} commands)", flush=True)  # fmt: skip
            time.sleep(1.0)
    finally:
        server.terminate()
        server.wait(10)
    return lowest


if __name__ == "__main__":
    main()
