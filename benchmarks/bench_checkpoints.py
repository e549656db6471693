"""What checkpointing costs training: K playing sessions with and without checkpoints.

The load benchmark's clients (bench_load.py: K websocket clients playing, a config change
every half second) against the real server twice in one run, alternating: once with
checkpoints every `GANLAB_CHECKPOINT_SECONDS` (default 10, as shipped) and once with
checkpoints in effect off (every hour: none falls within a round). Each round is long enough
for several checkpoints of every session. Reports the total and the slowest session's
iterations/s of each, and their ratio.

Target (issue 16): at K=20, checkpointing costs at most 5% of training speed.

    .venv/bin/python benchmarks/bench_checkpoints.py [--clients 20] [--seconds 40] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_load import free_port, run_clients, start_server


def one_round(k: int, seconds: float, every: str) -> tuple[float, float]:
    """(total it/s, slowest session's it/s) of K clients on a fresh server."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        server = start_server(port, {"GANLAB_STATE_DIR": state, "GANLAB_CHECKPOINT_SECONDS": every})
        try:
            results = asyncio.run(run_clients(port, k, seconds, 1))
            written = len(list(Path(state).glob("sessions/*.ckpt")))
        finally:
            server.terminate()
            server.wait(60)
    ips = [r["ips"] for r in results]
    print(f"  checkpoints every {every:>4} s: total {sum(ips):7.0f} it/s, slowest session "
          f"{min(ips):6.1f} it/s, median {statistics.median(ips):6.1f} ({written} checkpoint "
          "files at the end)", flush=True)  # fmt: skip
    return sum(ips), min(ips)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--every", default="10", help="seconds between checkpoints (on)")
    args = parser.parse_args()
    on, off = [], []
    for _ in range(args.rounds):  # alternating: a drift of the machine hits both alike
        off.append(one_round(args.clients, args.seconds, "3600"))
        on.append(one_round(args.clients, args.seconds, args.every))
    total = sum(t for t, _ in on) / sum(t for t, _ in off)
    slowest = sum(s for _, s in on) / sum(s for _, s in off)
    print(
        f"K={args.clients}: with checkpoints every {args.every} s, training speed is "
        f"{total:.3f} of without (total it/s), {slowest:.3f} for the slowest session "
        f"({args.rounds} rounds of {args.seconds:.0f} s each)"
    )


if __name__ == "__main__":
    main()
