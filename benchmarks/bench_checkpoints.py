"""What checkpointing costs training: K playing sessions with and without checkpoints.

The load benchmark's clients (bench_load.py: K websocket clients playing, a config change
every half second) against the real server twice in one run, alternating: once with
checkpoints every `GANLAB_CHECKPOINT_SECONDS` (default 10, as shipped) and once with
checkpoints in effect off (every hour: none falls within a round). Each round is long enough
for several checkpoints of every session. Reports the total and the slowest session's
iterations/s of each, and their ratio.

The machine's own drift between rounds (often 10-30%) can be larger than the effect, so the
benchmark also measures the cost directly: the engine CPU one checkpoint of a session with a
full history (the default 32 MiB budget, thinned to the 4 MiB a checkpoint keeps) takes, and
what that is, for K sessions checkpointed every 10 s, of the machine's cores.

Target (issue 16): at K=20, checkpointing costs at most 5% of training speed.

    .venv/bin/python benchmarks/bench_checkpoints.py [--clients 20] [--seconds 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import free_port, run_clients, start_server
from ganlab.live.ray_cluster import descendants

# The line each engine process logs as it stops (live/checkpointing.py).
COST_LINE = re.compile(r"(\d+) checkpoints made in ([\d.]+) s and written in ([\d.]+) s of CPU")


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds process `pid` used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(k: int, seconds: float, every: str) -> tuple[float, float, float]:
    """(total it/s, slowest session's it/s, the share of the engine processes' CPU that went
    to checkpoints) of K clients on a fresh server."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        log = Path(state, "server.log")
        env = {"GANLAB_STATE_DIR": state, "GANLAB_CHECKPOINT_SECONDS": every}
        server = start_server(port, env, log=log)
        try:
            # (The port opens before the engines start; the server answers once they run.)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=120):
                pass
            engines = descendants(server.pid)
            before = sum(cpu_seconds(pid) for pid in engines)
            results = asyncio.run(run_clients(port, k, seconds, 1))
            used = sum(cpu_seconds(pid) for pid in engines) - before
            written = len(list(Path(state).glob("sessions/*.ckpt")))
        finally:
            server.terminate()
            server.wait(60)
        # (the checkpoints made as the server stopped count too: a slight overestimate)
        costs = [tuple(map(float, m.groups())) for m in COST_LINE.finditer(log.read_text())]
    made = sum(m for _, m, _ in costs)
    spent = made + sum(w for _, _, w in costs)
    count = int(sum(n for n, _, _ in costs))
    ips = [r["ips"] for r in results]
    print(f"  checkpoints every {every:>4} s: total {sum(ips):7.0f} it/s, slowest session "
          f"{min(ips):6.1f} it/s, median {statistics.median(ips):6.1f} ({written} checkpoint "
          f"files at the end; {count} made, {spent:.2f} s of CPU ({made:.2f} s making them) = "
          f"{spent / used:.1%} of the "
          f"engine processes' {used:.0f} s)", flush=True)  # fmt: skip
    return sum(ips), min(ips), spent / used


def direct_cost(k: int, every: float) -> None:
    """CPU of one checkpoint of a session whose history fills the default budget."""
    import torch

    from ganlab.engine.timeline import Policy
    from ganlab.live.session import Session

    torch.set_num_threads(1)
    s = Session("bench", {"device": "cpu"})
    s.timeline.policy = Policy(budget=s.timeline.policy.budget, every=4)  # snapshots by count
    s.attach({"session": "bench", "token": "t"})
    s.handle({"type": "play"})
    while s.timeline.nbytes < 0.95 * s.timeline.policy.budget:
        s.train_slice(0.05)
    times = []
    for _ in range(7):
        start = time.thread_time()
        data = s.checkpoint("0" * 64)
        times.append(time.thread_time() - start)
    cost = statistics.median(times)
    cores = os.cpu_count() or 1
    print(f"direct: a session at iteration {s.trainer.iteration} with "
          f"{s.timeline.nbytes / 2**20:.1f} MiB of history ({len(s.timeline.snapshots)} "
          f"snapshots): a checkpoint of {len(data) / 2**20:.1f} MiB takes {cost * 1e3:.1f} ms "
          f"of engine CPU (median of 7); K={k} every {every:g} s: {k * cost / every / cores:.1%}"
          f" of {cores} cores", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--every", default="10", help="seconds between checkpoints (on)")
    args = parser.parse_args()
    direct_cost(args.clients, float(args.every))
    on, off = [], []
    for _ in range(args.rounds):  # alternating: a drift of the machine hits both alike
        off.append(one_round(args.clients, args.seconds, "3600"))
        on.append(one_round(args.clients, args.seconds, args.every))
    total = sum(r[0] for r in on) / sum(r[0] for r in off)
    slowest = sum(r[1] for r in on) / sum(r[1] for r in off)
    share = statistics.mean(r[2] for r in on)
    print(
        f"K={args.clients}: with checkpoints every {args.every} s, training speed is "
        f"{total:.3f} of without (total it/s), {slowest:.3f} for the slowest session "
        f"({args.rounds} rounds of {args.seconds:.0f} s each); measured in the server, "
        f"checkpoints took {share:.1%} of the engine processes' CPU"
    )


if __name__ == "__main__":
    main()
