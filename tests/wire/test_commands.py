import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganlab.wire.commands import ProtocolError, parse_command


def cmd(**kw):
    return parse_command(json.dumps(kw))


def test_valid_commands_keep_only_given_fields():
    assert cmd(type="play") == {"type": "play"}
    assert cmd(type="step", phase="d", id=3) == {"type": "step", "phase": "d", "id": 3}
    assert cmd(type="speed", ips=None) == {"type": "speed", "ips": None}
    assert cmd(type="config", set={"seed": 1}) == {"type": "config", "set": {"seed": 1}}
    out = cmd(type="data", **{"import": {"format": "csv", "text": "1,2"}})
    assert out == {"type": "data", "import": {"format": "csv", "text": "1,2"}}


def error(text):
    with pytest.raises(ProtocolError) as info:
        parse_command(text)
    return info.value


def test_error_codes_and_fields():
    assert error("{nope").code == "bad_json"
    assert error('{"type": "play", "x": NaN}').code == "bad_json"
    assert error("[1, 2]").code == "bad_message"
    e = error('{"type": "fly", "id": 4}')
    assert (e.code, e.field, e.id) == ("unknown_command", "type", 4)
    e = error('{"type": "step", "phase": "x", "id": 9}')
    assert (e.code, e.field, e.id) == ("bad_message", "phase", 9)
    e = error('{"type": "speed", "fps": 61}')
    assert e.field == "fps" and "60" in e.message
    assert error('{"type": "speed", "fps": "30"}').field == "fps"  # strict: no coercion
    assert error('{"type": "step", "phase": "both", "sub": true}').code == "bad_message"
    assert error('{"type": "data"}').code == "bad_message"
    assert error('{"type": "play", "extra": 1}').field == "extra"
    assert error('{"type": "load"}').code == "bad_message"
    assert error('{"type": "play", "id": -1}').field == "id"


def test_error_event_shape():
    event = error('{"type": "fly"}').event()
    assert set(event) == {"type", "code", "message", "field", "id"} and event["type"] == "error"


def test_deep_nesting_is_a_clean_error():
    e = error("[" * 100_000 + "]" * 100_000)
    assert e.code in ("bad_json", "bad_message")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
commands = st.fixed_dictionaries(
    {"type": st.sampled_from(["play", "pause", "step", "reset", "config", "data", "speed",
                              "save", "ping", "bogus"])},
    optional={"phase": json_values, "sub": json_values, "set": json_values, "ips": json_values,
              "fps": json_values, "seed": json_values, "id": json_values},
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.one_of(json_values, commands))
def test_any_json_gives_a_command_or_a_protocol_error(value):
    try:
        out = parse_command(json.dumps(value))
    except ProtocolError as exc:
        assert exc.code in {"bad_json", "bad_message", "unknown_command"}
        assert isinstance(exc.message, str) and exc.message
    else:
        assert isinstance(value, dict) and out["type"] == value["type"]


@pytest.mark.parametrize(
    "text",
    ['{"type": "play", "id": ' + "9" * 5000 + "}",
     '{"type": "config", "set": {"seed": -' + "1" * 4301 + "}}",
     "[" + "7" * 100_000 + "]"],
    ids=["id", "negative-in-set", "top-level"],
)  # fmt: skip
def test_integers_over_python_s_digit_limit_are_a_clear_bad_json(text):
    e = error(text)
    assert e.code == "bad_json"
    assert "digits" in e.message and "sys." not in e.message and len(e.message) < 120


def test_a_huge_but_parseable_integer_reaches_the_field_check():
    e = error('{"type": "reset", "seed": 1' + "0" * 300 + "}")
    assert (e.code, e.field) == ("bad_message", "seed")
    assert cmd(type="config", set={"seed": 10**300}) == {"type": "config", "set": {"seed": 10**300}}


@pytest.mark.parametrize(
    "text",
    ['{"type": "' + "x" * 900_000 + '"}',
     '{"type": [' + "1, " * 100_000 + "1]}",
     '{"type": "play", "' + "k" * 900_000 + '": 1}'],
    ids=["type-string", "type-list", "unknown-field"],
)  # fmt: skip
def test_errors_quote_at_most_a_short_part_of_the_client_s_text(text):
    e = error(text)
    assert len(e.message) < 200 and "..." in e.message
    assert e.field is None or len(e.field) <= 60
