"""What checkpointing costs training: K playing sessions with and without checkpoints.

Side by side: two real servers run at once, each with one engine process and K/2 of the load
benchmark's clients (bench_load.py: websocket clients playing, a config change every half
second): one checkpoints every `GANLAB_CHECKPOINT_SECONDS` (default 10, as shipped), the
other in effect never (every hour). The two engine processes share the machine's cores
alike (the same priority), so a drift of the machine (often 10-30% between runs here) hits
both at once, and what one spends on checkpoints shows as its lower training speed. Each
round is long enough for several checkpoints of every session; the servers swap ports and
order each round. Reports each side's total and slowest session's iterations/s, and their
ratio. Two engine processes with K/2 sessions each hold what a server of two engines holds
at K.

Also measured, two ways: the engine CPU one checkpoint of a session with a full history
takes (the default 32 MiB budget, thinned to the 2 MiB a checkpoint keeps), and what that is
for K sessions every 10 s; and, in the servers themselves, the share of the engine process's
CPU that went to checkpoints (each engine logs the CPU time it spent making and writing
them as it stops).

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


class Side:
    """One server of the pair: checkpoints every `every` seconds, one engine process."""

    def __init__(self, every: str, state: str) -> None:
        self.every, self.port = every, free_port()
        self.log = Path(state, f"server-{every}.log")
        env = {"GANLAB_STATE_DIR": state, "GANLAB_CHECKPOINT_SECONDS": every,
               "GANLAB_WORKERS": "1"}  # fmt: skip
        self.server = start_server(self.port, env, log=self.log)
        # (The port opens before the engines start; the server answers once they run.)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=120):
            pass
        self.engines = descendants(self.server.pid)
        self.cpu = self.cpu_now()

    def cpu_now(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.engines)

    def stop(self) -> tuple[float, int, float, float]:
        """Stop the server: (engine CPU seconds since the start, checkpoints made, CPU seconds
        making and writing them, of which making)."""
        used = self.cpu_now() - self.cpu
        self.server.terminate()
        self.server.wait(60)
        # (the checkpoints made as the server stops count too: a slight overestimate)
        costs = [tuple(map(float, m.groups())) for m in COST_LINE.finditer(self.log.read_text())]
        made = sum(m for _, m, _ in costs)
        return used, int(sum(n for n, _, _ in costs)), made + sum(w for _, _, w in costs), made


async def both(sides: list[Side], k: int, seconds: float) -> list[list[dict[str, float]]]:
    return list(await asyncio.gather(*(run_clients(s.port, k, seconds, 1) for s in sides)))


def one_round(k: int, seconds: float, every: str, flip: bool) -> dict[str, tuple[float, ...]]:
    """Per side ("on", "off"): (total it/s, slowest session's it/s, the share of its engine's
    CPU that went to checkpoints), K/2 clients on each of two servers at once."""
    out = {}
    with tempfile.TemporaryDirectory() as state:
        names = ["off", "on"] if flip else ["on", "off"]
        sides = [Side(every if name == "on" else "3600", state) for name in names]
        try:
            results = asyncio.run(both(sides, k // 2, seconds))
        finally:
            stopped = [side.stop() for side in sides]
        for name, side, res, (used, count, spent, made) in zip(names, sides, results, stopped,
                                                              strict=True):  # fmt: skip
            ips = [r["ips"] for r in res]
            print(f"  checkpoints every {side.every:>4} s: total {sum(ips):7.0f} it/s, slowest "
                  f"session {min(ips):6.1f} it/s, median {statistics.median(ips):6.1f} "
                  f"({count} checkpoints made, {spent:.2f} s of CPU ({made:.2f} s making "
                  f"them) = {spent / used:.1%} of its engine's {used:.0f} s)",
                  flush=True)  # fmt: skip
            out[name] = (sum(ips), min(ips), spent / used)
    return out


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
    rounds = [one_round(args.clients, args.seconds, args.every, flip=bool(i % 2))
              for i in range(args.rounds)]  # fmt: skip
    on, off = [r["on"] for r in rounds], [r["off"] for r in rounds]
    total = sum(r[0] for r in on) / sum(r[0] for r in off)
    slowest = sum(r[1] for r in on) / sum(r[1] for r in off)
    # Each side also checkpoints its changed sessions as it stops: what that costs is the
    # whole of the "off" side's share, and part of the "on" side's.
    share = statistics.mean(r[2] for r in on)
    net = share - statistics.mean(r[2] for r in off)
    print(
        f"K={args.clients} (two servers side by side, {args.clients // 2} sessions each): "
        f"with checkpoints every {args.every} s, training speed is {total:.3f} of without "
        f"(total it/s), {slowest:.3f} for the slowest session ({args.rounds} rounds of "
        f"{args.seconds:.0f} s); measured in the server, checkpoints took {share:.1%} of its "
        f"engine's CPU, {net:.1%} without those made as the server stops"
    )


if __name__ == "__main__":
    main()
