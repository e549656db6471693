import time

from ganlab.live.pacing import Pacing


def test_without_a_cap_every_step_is_allowed_and_nothing_waits():
    p = Pacing()
    assert all(p.may_step() for _ in range(1000)) and p.wait(time.perf_counter()) == 0.0


def test_a_cap_starts_empty_and_allows_its_rate():
    p = Pacing()
    p.cap(100.0)
    now = time.perf_counter()
    assert not p.may_step() and 0.0 < p.wait(now) <= 0.01 + 1e-9
    deadline = now + 5.0
    while p.wait(time.perf_counter()) > 0 and time.perf_counter() < deadline:
        time.sleep(0.001)
    assert p.may_step()


def test_the_measured_rate_follows_the_marks():
    p = Pacing()
    start = time.perf_counter()
    p.mark(start - 0.5, 0)
    p.mark(start, 100)
    assert abs(p.measured(True) - 200.0) < 5 and p.measured(False) == 0.0
