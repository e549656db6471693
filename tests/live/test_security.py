import pytest

from ganlab.live.security import TokenBucket, origin_allowed


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
