"""How fast a playing session trains: an optional iterations/s cap (a token bucket), and the
speed it actually reached, measured over about the last second."""

from __future__ import annotations

import time
from collections import deque

from ganlab.live.security import TokenBucket

# Measured-rate samples are kept at least this far apart (seconds).
RATE_SPACING = 0.05
# A capped session banks at most this long's worth of iterations (seconds).
BANK_SECONDS = 0.05


class Pacing:
    def __init__(self) -> None:
        self.ips: float | None = None
        self.bucket: TokenBucket | None = None
        self.played_at = time.perf_counter()
        # (time, iteration) samples at least RATE_SPACING apart, for the measured rate.
        self.samples: deque[tuple[float, int]] = deque(maxlen=64)

    def cap(self, ips: float | None) -> None:
        """Set the iterations/s cap (None = as fast as the share allows); nothing banked."""
        self.ips = ips
        self.bucket = None if ips is None else self._empty_bucket(ips)

    def start(self) -> None:
        """Play pressed: the cap starts from an empty bank."""
        self.played_at = time.perf_counter()
        if self.ips is not None:
            self.bucket = self._empty_bucket(self.ips)

    @staticmethod
    def _empty_bucket(ips: float) -> TokenBucket:
        return TokenBucket(ips, max(1.0, ips * BANK_SECONDS), clock=time.perf_counter, tokens=0.0)

    def may_step(self) -> bool:
        """Whether the cap allows one more iteration now (and spend it)."""
        return self.bucket is None or self.bucket.take()

    def wait(self, now: float) -> float:
        """Seconds until the cap allows an iteration, 0 if now."""
        return 0.0 if self.bucket is None else self.bucket.wait(now)

    def mark(self, now: float, iteration: int) -> None:
        """Note where training stands, for the measured rate."""
        if not self.samples or now - self.samples[-1][0] >= RATE_SPACING:
            self.samples.append((now, iteration))

    def measured(self, playing: bool) -> float:
        """Iterations per second over about the last second of play."""
        if not playing or len(self.samples) < 2:
            return 0.0
        now = time.perf_counter()
        recent = [(t, i) for t, i in self.samples if now - t <= 1.0 + RATE_SPACING]
        if len(recent) < 2:
            return 0.0
        (t0, i0), (t1, i1) = recent[0], recent[-1]
        return (i1 - i0) / (t1 - t0) if t1 - t0 >= RATE_SPACING else 0.0
