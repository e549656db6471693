"""A local Ray cluster of its own, started and ended safely: for the tests and the load
benchmark (a deployment starts its cluster with `ray start`, deploy/compose.yaml).

The head runs on loopback in a fresh, short temp dir (Ray's socket paths must fit), on a free
port, without dashboard or usage stats. `ray stop` would end every Ray process of the machine,
whichever cluster it belongs to: this one ends by killing its own process tree instead (the
head runs in a session of its own; Ray's workers, which start sessions of their own, are found
as its descendants).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

RAY = Path(sys.executable).with_name("ray")
STARTED = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class LocalCluster:
    """`with LocalCluster(num_cpus=2) as address:` a Ray head on loopback for the block."""

    def __init__(self, num_cpus: int = 2, start_timeout: float = 60.0) -> None:
        self.num_cpus, self.start_timeout = num_cpus, start_timeout
        self.head: subprocess.Popen[bytes] | None = None
        self.temp = ""
        self.address = ""

    def start(self) -> str:
        """Start the head and wait until it runs; returns its address (host:port)."""
        self.temp = tempfile.mkdtemp(prefix="glray-", dir="/tmp")
        port = free_port()
        logfile = Path(self.temp, "head.log")
        start = time.monotonic()
        with logfile.open("w") as out:
            self.head = subprocess.Popen(
                [str(RAY), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                 "--port", str(port), "--num-cpus", str(self.num_cpus),
                 "--include-dashboard", "false", "--disable-usage-stats",
                 "--temp-dir", self.temp],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.address = f"127.0.0.1:{port}"
        while STARTED not in logfile.read_text():
            if self.head.poll() is not None:
                self.stop()
                raise RuntimeError(f"the Ray head failed: {logfile.read_text()[-2000:]}")
            if time.monotonic() - start > self.start_timeout:
                self.stop()
                raise RuntimeError(f"the Ray head did not start in {self.start_timeout:g} s")
            time.sleep(0.05)
        return self.address

    def stop(self, timeout: float = 10.0) -> list[int]:
        """Kill the head and everything below it; returns the processes still running after
        `timeout` (none, normally)."""
        left: list[int] = []
        if self.head is not None:
            tree = [self.head.pid, *descendants(self.head.pid)]
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.head.pid, signal.SIGKILL)
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.head.wait(timeout)
            end = time.monotonic() + timeout
            while (left := [pid for pid in tree if alive(pid)]) and time.monotonic() < end:
                time.sleep(0.05)
            self.head = None
        if self.temp:
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = ""
        return left

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()
