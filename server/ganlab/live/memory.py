"""Handing freed memory back to the operating system, in engine processes.

Why: an engine process frees tens of MB whenever a session's config changes (networks,
optimizer state, picture inputs, and the per-step tensors of the old shapes) or a session is
dropped, but glibc's malloc keeps most of it. Its mmap threshold adapts upwards (up to 32
MiB), so after the first large tensor is freed, tensors up to that size come from the heap,
where they end up interleaved with long-lived allocations; the holes between those stay
resident, and glibc gives back only the free memory at the very top of the heap. Under
config changes the holes grow with every new mix of sizes: about +90 MB per process in six
minutes, while the memory in use stayed within +20 MB.

`malloc_trim(0)` gives back every free page of the heap, holes included (madvise), and keeps
the adaptive threshold, which steps need: a fixed low threshold (freed memory goes back at
once) made a batch-1024 step 80% slower, every tensor's pages faulted in afresh. A trim
takes ~1-80 ms, so `MemoryReleaser` does it at a bounded rate, only after memory was freed.
Elsewhere than glibc (musl, macOS, Windows) there is no such call, and this is a no-op.
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
