"""Who may connect and how: host names served (against DNS rebinding), websocket origins,
how fast a connection may send commands, and what the log may say about it (no tokens, and
not one line per refused attempt)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Collection, Sequence
from ipaddress import IPv6Address
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
# The names a browser on this machine uses; a page elsewhere cannot make its requests carry
# them (its own name is what goes in Host), so they are always served.
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
# Listening on every interface names no host: the operator lists them (allowed_hosts).
WILDCARD_ADDRESSES = {"", "0.0.0.0", "::", "[::]"}

log = logging.getLogger("ganlab.security")

_NAME = re.compile(r"(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def host_pattern(entry: str) -> str:
    """One entry of the allowed_hosts setting, checked and normalised: a host name or IPv4
    address, an IPv6 address (bracketed here, as in a Host header), '*.example.org' (the
    domain's subdomains) or '*' (any). Raises ValueError saying what is allowed."""
    name = entry.strip().lower().rstrip(".")
    if name == "*":
        return name
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    if ":" in bare:
        try:
            return f"[{IPv6Address(bare).compressed}]"
        except ValueError:
            pass
    elif _NAME.fullmatch(name):
        return name
    raise ValueError(f"{entry!r} is not a host name: give a name or address without scheme, "
                     "port or path, '*.example.org' or '*'")  # fmt: skip


def trusted_hosts(listen_host: str, extra: Sequence[str]) -> list[str]:
    """The Host names served: this machine's names, the address listened on (unless it is
    every interface) and the operator's `extra` ('*' = any)."""
    hosts = list(LOCAL_NAMES)
    if listen_host not in WILDCARD_ADDRESSES:
        hosts.append(host_pattern(listen_host))
    hosts.extend(host_pattern(h) for h in extra)
    return list(dict.fromkeys(hosts))


def host_allowed(host: str, hosts: Collection[str]) -> bool:
    """Whether `host` (no port; IPv6 bracketed or not) is one of `hosts` as trusted_hosts
    gives them, matched as Starlette's TrustedHostMiddleware matches them."""
    host = host.lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return any(
        p == "*" or host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in hosts
    )


class HostCheck:
    """Refuses HTTP requests and websocket handshakes whose Host header is not served (400):
    a page on another site that rebinds its name to this machine's address sends its own name
    there. Starlette's TrustedHostMiddleware does the check; this adds one log line per
    refused name every 30 s, telling the operator the setting that would let it in."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app, self.hosts = app, list(hosts)
        self.refusals = LogThrottle(log, interval=30.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        passed = False

        async def inner(scope: Scope, receive: Receive, send: Send) -> None:
            nonlocal passed
            passed = True
            await self.app(scope, receive, send)

        check = TrustedHostMiddleware(inner, allowed_hosts=self.hosts, www_redirect=False)
        await check(scope, receive, send)
        if not passed:
            host = _header(scope, b"host")
            kind = "websocket" if scope["type"] == "websocket" else "request"
            self.refusals.log(logging.WARNING, host, "%s refused: Host %r is not served; "
                              "allowed: %s (setting allowed_hosts, GANLAB_ALLOWED_HOSTS)",
                              kind, host[:100], ", ".join(self.hosts))  # fmt: skip


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def origin_allowed(
    origin: str | None, host: str | None, allowed: list[str], hosts: Collection[str] | None = None
) -> bool:
    """A browser's websocket handshake is allowed from the page's own origin (same host and
    port as the request) when that host is served (`hosts`, as trusted_hosts gives them; None:
    any, HostCheck having checked it already), from localhost on any port, and from origins
    listed in `allowed` ('*' for any). Clients that are not browsers send no Origin and are
    allowed."""
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
    if host is None or parts.netloc.lower() != host.lower():
        return False
    return hosts is None or (parts.hostname is not None and host_allowed(parts.hostname, hosts))


class TokenBucket:
    """`rate` events per second on average, bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic,
                 tokens: float | None = None) -> None:  # fmt: skip
        """Starts full, or with `tokens`."""
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens = burst if tokens is None else tokens
        self.at = clock()

    def _level(self, now: float) -> float:
        return min(self.burst, self.tokens + (now - self.at) * self.rate)

    def take(self) -> bool:
        now = self.clock()
        self.tokens, self.at = self._level(now), now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait(self, now: float | None = None) -> float:
        """Seconds until `take` would succeed (0 if now)."""
        level = self._level(self.clock() if now is None else now)
        return 0.0 if level >= 1.0 else (1.0 - level) / self.rate


# ---------------------------------------------------------------------------- what the log says

# A query parameter: its separator, name and value (Starlette splits queries on '&' only).
_PARAM = re.compile(r"([?&])([^=&\s\"'?#]*)=([^&\s\"'#]*)")


def redact_tokens(text: str) -> str:
    """`text` with the value of every `token` query parameter (the secret that resumes a
    session) replaced, its name matched as the server reads it (percent-decoded)."""
    if "=" not in text:
        return text

    def hide(m: re.Match[str]) -> str:
        if unquote_plus(m.group(2)).strip().lower() != "token":
            return m.group(0)
        return f"{m.group(1)}{m.group(2)}=[redacted]"

    return _PARAM.sub(hide, text)


class RedactTokens(logging.Filter):
    """Takes resume tokens out of a log record's message and arguments: uvicorn's access line
    and its websocket lines carry the request's query string, `/ws?session=..&token=..`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_tokens(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact_tokens(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


# The loggers that write request lines: uvicorn's HTTP access log, its websocket lines
# ("uvicorn.error") and its message trace, and the sessions' own.
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn.asgi", "ganlab.sessions")


# One line per event: when, how grave, which part of the server, what.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def log_like_the_server() -> None:
    """Log lines from INFO up to stderr, in the server's format, tokens redacted: for the
    server's process, and for its engine processes (spawned: they inherit no logging setup,
    and their stderr is the server's)."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    install_log_redaction()


def install_log_redaction() -> None:
    """Puts RedactTokens on the loggers that could write a token; once per logger, however
    often it is called. A logger's filters survive logging.config.dictConfig (uvicorn's
    logging setup), which replaces its handlers only."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())


class LogThrottle:
    """At most one log line per key (a client address, a session id) per `interval` seconds:
    the events in between are counted, and the count goes with the key's next line. A client
    that repeats a refused attempt costs a line an interval, not a line an attempt; past
    `max_keys` keys in one interval, the others share one key."""

    OTHERS = "(other keys)"

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 4096,
    ) -> None:
        self.logger, self.interval, self.clock, self.max_keys = logger, interval, clock, max_keys
        self.seen: dict[str, list[float]] = {}  # key -> [time of its last line, held back]

    def log(self, level: int, key: str, msg: str, *args: Any) -> bool:
        """Logs `msg % args` unless the key had a line less than `interval` ago (then
        counts it); True if it logged."""
        now = self.clock()
        if key not in self.seen and len(self.seen) >= self.max_keys:
            self.seen = {k: v for k, v in self.seen.items() if now - v[0] < self.interval}
            if len(self.seen) >= self.max_keys:
                key = self.OTHERS
        entry = self.seen.get(key)
        if entry is not None and now - entry[0] < self.interval:
            entry[1] += 1
            return False
        self.seen[key] = [now, 0]
        if entry is not None and entry[1]:
            msg += " (%d more since the line %.0f s ago)"
            args = (*args, int(entry[1]), now - entry[0])
        self.logger.log(level, msg, *args)
        return True
