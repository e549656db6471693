"""Who may open a websocket, and how fast a connection may send commands."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """A browser's websocket handshake is allowed from the page's own origin (same host and
    port as the request), from localhost on any port, and from origins listed in `allowed`
    ('*' for any). Clients that are not browsers send no Origin and are allowed."""
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if "*" in allowed or origin in allowed:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if parts.hostname in LOCAL_HOSTS:
        return True
    return host is not None and parts.netloc.lower() == host.lower()


class TokenBucket:
    """`rate` events per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst
        self.at = clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False
