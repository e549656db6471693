"""Handing freed memory back to the operating system, in engine processes.

Why: a config change frees a session's networks, optimizer state, picture inputs and the step
tensors of the old shapes; a dropped session frees all of its own. glibc's malloc keeps that
memory. Its mmap threshold adapts upwards (up to 32 MiB) once a large tensor is freed, so
tensors up to that size come from the heap, between long-lived allocations: the holes between
those stay resident, and glibc gives back only free memory at the very top of the heap. With
10 sessions changing config every 5 s, the free holes of one process's heap reached 130 MiB in
8 minutes (memory in use: +28 MiB), and none of it went back when the sessions were dropped.

`malloc_trim(0)` gives back every free page of the heap, holes included (madvise): ~0.1 ms per
MiB given back, ~0.1 ms when there is nothing to give. A fixed low mmap threshold
(MALLOC_MMAP_THRESHOLD_) would give freed memory back at once, but every large tensor's pages
would be faulted in afresh: a batch-1024 step went from 18 to 34 ms. So the adaptive threshold
stays, and `MemoryReleaser` trims at a bounded rate, only after memory was freed. Elsewhere than
glibc (musl, macOS, Windows) there is no such call, and releasing is a no-op.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable

# Seconds between two trims at most: a trim costs the engine loop milliseconds, and the pages
# it gives back are faulted in again by the next large allocations.
RELEASE_EVERY = 10.0


def _load_glibc() -> ctypes.CDLL | None:
    """The C library of this process if it is glibc (malloc_trim is a GNU extension)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into this process
        version = libc.gnu_get_libc_version  # only glibc has it (musl has no malloc_trim)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    version.restype = ctypes.c_char_p
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return libc


_GLIBC = _load_glibc()


def allocator() -> str:
    """What releasing memory means here, in words: 'glibc 2.36' or why it does nothing."""
    if _GLIBC is None:
        return "not glibc: freed memory is left to the C library (no malloc_trim here)"
    return f"glibc {_GLIBC.gnu_get_libc_version().decode()}"


def can_release() -> bool:
    return _GLIBC is not None


def release_memory() -> bool:
    """Give the free memory of the C heap back to the system; whether any was given back
    (always False where the C library is not glibc)."""
    if _GLIBC is None:
        return False
    return bool(_GLIBC.malloc_trim(0))


class MemoryReleaser:
    """Trims after memory was freed, at most once per `every` seconds.

    An engine process calls `freed()` when it lets go of much memory (a session dropped or
    moved away, a config change, a reset or a loaded run) and `maybe_release()` once per turn
    of its loop; the trim waits until `every` seconds have passed since the last, so a burst
    of changes costs one trim."""

    def __init__(self, every: float = RELEASE_EVERY, clock: Callable[[], float] = time.monotonic,
                 release: Callable[[], bool] = release_memory) -> None:  # fmt: skip
        self.every = every
        self.clock = clock
        self.release = release
        self.pending = False
        self.released_at = -float("inf")
        self.trims = 0

    def freed(self) -> None:
        self.pending = True

    def maybe_release(self) -> bool:
        """Trim if memory was freed and the last trim is `every` seconds old; whether it
        trimmed."""
        if not self.pending:
            return False
        now = self.clock()
        if now - self.released_at < self.every:
            return False
        self.pending = False
        self.released_at = now
        self.trims += 1
        self.release()  # a no-op where the C library is not glibc
        return True
