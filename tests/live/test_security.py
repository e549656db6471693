import io
import logging

import pytest
from uvicorn.logging import AccessFormatter

from ganlab.live.security import (
    LOCAL_NAMES,
    LogThrottle,
    RedactTokens,
    TokenBucket,
    host_allowed,
    host_pattern,
    install_log_redaction,
    origin_allowed,
    redact_tokens,
    trusted_hosts,
)


@pytest.mark.parametrize(
    ("origin", "host", "allowed", "ok"),
    [
        (None, "example.org", [], True),
        ("http://localhost:5173", "127.0.0.1:8000", [], True),
        ("http://127.0.0.1:9999", "127.0.0.1:8000", [], True),
        ("http://[::1]:8000", "[::1]:8000", [], True),
        ("https://gan.example.org", "gan.example.org", [], True),
        ("https://gan.example.org:8443", "gan.example.org", [], False),
        ("http://evil.example", "127.0.0.1:8000", [], False),
        ("http://evil.example", "127.0.0.1:8000", ["http://evil.example"], True),
        ("http://evil.example/", "127.0.0.1:8000", ["*"], True),
        ("null", "127.0.0.1:8000", [], False),
        ("file://", "127.0.0.1:8000", [], False),
        ("http://localhost.evil.example", "127.0.0.1:8000", [], False),
    ],
)
def test_origin_rules(origin, host, allowed, ok):
    assert origin_allowed(origin, host, allowed) is ok


def test_token_bucket_allows_bursts_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=5, clock=lambda: now[0])
    assert [bucket.take() for _ in range(7)] == [True] * 5 + [False] * 2
    now[0] += 0.25  # 2.5 tokens back
    assert [bucket.take() for _ in range(3)] == [True, True, False]
    now[0] += 100
    assert sum(bucket.take() for _ in range(10)) == 5  # never more than the burst


# --------------------------------------------------------------------------- host names


@pytest.mark.parametrize(
    ("entry", "pattern"),
    [("Lab.Example.ORG", "lab.example.org"), (" lab.example. ", "lab.example"),
     ("10.0.0.2", "10.0.0.2"), ("::1", "[::1]"), ("[FE80::0:1]", "[fe80::1]"),
     ("*.lab.example", "*.lab.example"), ("*", "*"), ("my_host", "my_host")],
)  # fmt: skip
def test_host_patterns_are_normalised(entry, pattern):
    assert host_pattern(entry) == pattern


@pytest.mark.parametrize(
    "entry",
    ["http://lab.example", "lab.example:8000", "lab.example/", "*lab.example", "a.*.example",
     "", "[::g]", "lab example", "-lab.example", "[10.0.0.1]"],
)  # fmt: skip
def test_bad_host_patterns_say_what_is_allowed(entry):
    with pytest.raises(ValueError, match="is not a host name: give a name or address"):
        host_pattern(entry)


@pytest.mark.parametrize(
    ("listen", "extra", "hosts"),
    [
        ("127.0.0.1", [], list(LOCAL_NAMES)),
        ("0.0.0.0", [], list(LOCAL_NAMES)),  # every interface names no host
        ("::", [], list(LOCAL_NAMES)),
        ("192.168.1.5", ["lab.example"], [*LOCAL_NAMES, "192.168.1.5", "lab.example"]),
        ("fe80::1", [], [*LOCAL_NAMES, "[fe80::1]"]),
        ("0.0.0.0", ["*"], [*LOCAL_NAMES, "*"]),
    ],
)
def test_trusted_hosts(listen, extra, hosts):
    assert trusted_hosts(listen, extra) == hosts


@pytest.mark.parametrize(
    ("host", "ok"),
    [("localhost", True), ("LOCALHOST", True), ("::1", True), ("[::1]", True),
     ("lab.example", True), ("a.b.lab.example", True), ("evil.example", False),
     ("localhost.evil.example", False), ("lab.example.evil", False), ("xlab.example", False)],
)  # fmt: skip
def test_host_allowed(host, ok):
    assert host_allowed(host, [*LOCAL_NAMES, "lab.example", "*.lab.example"]) is ok


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [
        # Same origin counts only for a host served: not for a name rebound to this machine.
        ("http://evil.example:8000", "evil.example:8000", False),
        ("https://gan.example.org", "gan.example.org", True),
        ("https://sub.lab.example", "sub.lab.example", True),
        ("http://localhost:5173", "127.0.0.1:8000", True),
        ("http://[::1]:8000", "[::1]:8000", True),
    ],
)
def test_same_origin_only_for_hosts_served(origin, host, ok):
    hosts = [*LOCAL_NAMES, "gan.example.org", "*.lab.example"]
    assert origin_allowed(origin, host, [], hosts) is ok
    assert origin_allowed(origin, host, [])  # without hosts: HostCheck has checked the host


# --------------------------------------------------------------------------- the log


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("/ws?session=abc&token=S3cr-t_", "/ws?session=abc&token=[redacted]"),
        ("/ws?token=S3cr-t_&session=abc", "/ws?token=[redacted]&session=abc"),
        ('"WebSocket /ws?session=a&tok%65n=S3cr" [accepted]',
         '"WebSocket /ws?session=a&tok%65n=[redacted]" [accepted]'),
        ("/ws?Token=S3cr&token=&x=1", "/ws?Token=[redacted]&token=[redacted]&x=1"),
        ("/ws?tokens=1&my_token=2&session=token", "/ws?tokens=1&my_token=2&session=token"),
        ("no query: token=S3cr", "no query: token=S3cr"),  # not a query parameter
        ("/token/path", "/token/path"),
    ],
)  # fmt: skip
def test_tokens_are_redacted(text, out):
    assert redact_tokens(text) == out


def test_uvicorns_access_line_loses_the_token():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    logger = logging.getLogger("test_security.access")
    logger.addHandler(handler)
    logger.addFilter(RedactTokens())
    logger.propagate = False
    try:
        # As uvicorn's httptools protocol logs a request.
        logger.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                       "/ws?session=abc&token=S3cret", "1.1", 101)  # fmt: skip
    finally:
        logger.removeHandler(handler)
    assert out.getvalue().startswith('127.0.0.1:5000 - "GET /ws?session=abc&token=[redacted]')
    assert "S3cret" not in out.getvalue()


def test_log_redaction_is_installed_once():
    install_log_redaction()
    install_log_redaction()
    for name in ("uvicorn.access", "uvicorn.error", "ganlab.sessions"):
        assert sum(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters) == 1


def test_log_throttle_one_line_per_key_per_interval_with_a_count(caplog):
    caplog.set_level(logging.INFO, logger="test_security.throttle")
    now = [0.0]
    throttle = LogThrottle(logging.getLogger("test_security.throttle"), 60, lambda: now[0])
    said = [throttle.log(logging.WARNING, "s1", "session %s refused", "s1") for _ in range(50)]
    assert said == [True] + [False] * 49
    assert throttle.log(logging.WARNING, "s2", "session %s refused", "s2")  # another key
    now[0] = 61.0
    assert throttle.log(logging.WARNING, "s1", "session %s refused", "s1")
    assert [r.getMessage() for r in caplog.records] == [
        "session s1 refused", "session s2 refused",
        "session s1 refused (49 more since the line 61 s ago)"]  # fmt: skip


def test_log_throttle_keeps_a_bounded_table(caplog):
    caplog.set_level(logging.INFO, logger="test_security.throttle")
    now = [0.0]
    throttle = LogThrottle(logging.getLogger("test_security.throttle"), 60, lambda: now[0], 100)
    said = sum(throttle.log(logging.INFO, f"k{i}", "k") for i in range(1000))
    assert said == 100 + 1  # 100 keys, then one line for all the others
    assert len(throttle.seen) == 101
    now[0] = 120.0  # all old: room again
    assert throttle.log(logging.INFO, "new", "k") and len(throttle.seen) == 1


def test_token_bucket_says_how_long_until_the_next_token():
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=2, clock=lambda: now[0], tokens=0.0)
    assert bucket.wait() == 0.1 and not bucket.take()
    now[0] = 0.05
    assert abs(bucket.wait() - 0.05) < 1e-12
    now[0] = 0.1
    assert bucket.wait() == 0.0 and bucket.take()
