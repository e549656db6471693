import pytest

from ganlab.engine import bounded_json
from ganlab.engine.bounded_json import JsonLimit, cut, depth


def test_integers_past_the_limit_are_refused_naming_it():
    assert bounded_json.loads('{"a": -12345}', 5) == {"a": -12345}
    with pytest.raises(JsonLimit, match="6 digits; numbers have at most 5"):
        bounded_json.loads("[123456]", 5)
    with pytest.raises(JsonLimit, match="5000 digits"):
        bounded_json.loads("9" * 5000, 4300)  # past Python's own limit: still ours


def test_constants_and_overflowing_floats():
    with pytest.raises(JsonLimit, match="NaN"):
        bounded_json.loads("[NaN]", 10)
    assert bounded_json.loads("[Infinity]", 10, constants=True) == [float("inf")]
    assert bounded_json.loads("1e400", 10) == float("inf")
    with pytest.raises(JsonLimit, match="too large"):
        bounded_json.loads("1e400", 10, finite=True)
    with pytest.raises(ValueError):
        bounded_json.loads("{bad", 10)


def test_depth_counts_containers_and_stops_past_the_limit():
    assert depth(1, 5) == 0 and depth([], 5) == 1 and depth({"a": [[1]]}, 5) == 3
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    assert depth(deep, 32) == 33


def test_cut_keeps_short_text_and_shortens_long_text():
    assert cut("short") == "short"
    long = cut("x" * 1000)
    assert len(long) == 60 and long.endswith("...")
