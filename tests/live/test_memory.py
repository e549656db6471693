"""Giving freed memory back to the system (live/memory.py): a trim returns a freed hole of the
C heap where the C library is glibc, does nothing elsewhere, and runs at a bounded rate."""

from __future__ import annotations

import ctypes
import os

import pytest

from ganlab.live import memory
from ganlab.live.memory import MemoryReleaser, allocator, can_release, release_memory

CHUNK = 64 << 10  # below glibc's lowest mmap threshold: these come from the heap
CHUNKS = 1024  # 64 MiB in all
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class HeapHoles:
    """64 MiB of freed but resident memory in holes of the C heap, the way an engine process
    fragments it: 2 x 64 MiB of chunks are written (resident), then every other one is freed.
    The chunks still allocated keep the holes apart and off the top of the heap, so glibc
    cannot give them back by itself."""

    def __init__(self) -> None:
        self.libc = ctypes.CDLL(None)
        self.libc.malloc.restype = ctypes.c_void_p
        self.libc.malloc.argtypes = [ctypes.c_size_t]
        self.libc.free.argtypes = [ctypes.c_void_p]
        self.kept: list[int] = []

    def __enter__(self) -> int:
        """Make the holes; returns the RSS with them."""
        chunks = [self.libc.malloc(CHUNK) for _ in range(2 * CHUNKS)]
        assert all(chunks)
        for p in chunks:
            ctypes.memset(p, 1, CHUNK)
        for p in chunks[::2]:
            self.libc.free(p)
        self.kept = chunks[1::2]
        return rss_bytes()

    def __exit__(self, *exc: object) -> None:
        for p in self.kept:
            self.libc.free(p)


def test_release_gives_back_a_freed_hole_of_the_heap_with_glibc() -> None:
    if not can_release():  # elsewhere than glibc it is a no-op, and says so
        assert release_memory() is False
        assert allocator().startswith("not glibc")
        return
    assert allocator().startswith("glibc ")
    with HeapHoles() as held:
        assert release_memory() is True
        given_back = held - rss_bytes()
    # Nearly all of the 64 MiB (whatever else the process allocated meanwhile aside).
    assert given_back > 0.75 * CHUNK * CHUNKS, f"only {given_back / 2**20:.1f} MiB given back"


def test_without_glibc_release_is_a_no_op_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_GLIBC", None)
    assert not can_release()
    assert release_memory() is False
    assert "not glibc" in allocator()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_releaser_trims_only_after_memory_was_freed_and_at_a_bounded_rate() -> None:
    clock, calls = Clock(), []

    def release() -> bool:
        calls.append(clock.now)
        return True

    releaser = MemoryReleaser(every=10.0, clock=clock, release=release)
    assert releaser.maybe_release() is False  # nothing freed: no trim
    releaser.freed()
    assert releaser.maybe_release() is True
    assert releaser.maybe_release() is False  # done: nothing new freed
    for _ in range(5):  # a burst of changes within the interval
        clock.now += 1.0
        releaser.freed()
        assert releaser.maybe_release() is False
    clock.now += 5.0  # 10 s after the first trim: one trim for the whole burst
    assert releaser.maybe_release() is True
    assert calls == [1000.0, 1010.0] and releaser.trims == 2


def test_releaser_trims_for_real_by_default() -> None:
    """Wired to release_memory: after a freed hole, the releaser gives it back (glibc)."""
    releaser = MemoryReleaser(every=0.0)
    if not can_release():
        releaser.freed()
        assert releaser.maybe_release() is True  # it ran release_memory, which did nothing
        return
    with HeapHoles() as held:
        releaser.freed()
        assert releaser.maybe_release() is True
        assert held - rss_bytes() > 0.75 * CHUNK * CHUNKS
