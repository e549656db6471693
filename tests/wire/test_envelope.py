import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ganlab.wire.envelope import (
    MAGIC,
    FrameError,
    Quantized,
    decode,
    decode_header,
    encode,
    prepare,
)


def test_round_trip_float_int_and_payload():
    a = np.arange(12, dtype=np.float32).reshape(3, 4) / 7
    b = np.array([1, -2, 3], dtype=np.int64)
    data = encode({"kind": "test", "n": 5}, {"a": a, "b": b}, payload=b"tail")
    m = decode(data)
    assert m.header["kind"] == "test" and m.header["n"] == 5
    np.testing.assert_array_equal(m.arrays["a"], a)
    assert m.arrays["b"].dtype == np.dtype("<i4")
    np.testing.assert_array_equal(m.arrays["b"], b)
    assert m.payload == b"tail"


def test_layout_is_aligned_little_endian():
    data = encode({"kind": "x"}, {"one": np.ones(3, np.float32), "two": np.ones(5, np.float32)})
    assert data[:4] == b"GLB1"
    (h,) = struct.unpack("<I", data[4:8])
    assert (8 + h) % 8 == 0
    header, _ = decode_header(data)
    offsets = [d["offset"] for d in header["arrays"]]
    assert offsets == [0, 16]  # 12 bytes padded to 16
    first = np.frombuffer(data[8 + h : 8 + h + 12], dtype="<f4")
    np.testing.assert_array_equal(first, 1.0)


def test_quantized_within_half_a_level():
    rng = np.random.default_rng(0)
    v = rng.uniform(-3, 5, size=1000)
    m = decode(encode({"kind": "q"}, {"v8": Quantized(v, 8), "v16": Quantized(v, 16)}))
    span = v.max() - v.min()
    assert np.abs(m.arrays["v8"] - v).max() <= span / 255 / 2 + 1e-5
    assert np.abs(m.arrays["v16"] - v).max() <= span / 65535 / 2 + 1e-4
    d = decode_header(encode({"kind": "q"}, {"v": Quantized(v, 8)}))[0]["arrays"][0]
    assert d["dtype"] == "u1" and d["min"] == pytest.approx(v.min())


def test_quantized_fixed_range_clamps_non_finite():
    v = np.array([0.0, 0.5, 1.0, np.nan, np.inf, -np.inf, 2.0])
    out = decode(encode({"kind": "q"}, {"v": Quantized(v, 8, 0.0, 1.0)})).arrays["v"]
    np.testing.assert_allclose(out, [0, 128 / 255, 1, 0, 1, 0, 1], atol=1e-6)


def test_constant_array_quantizes():
    out = decode(encode({"kind": "q"}, {"v": Quantized(np.full(4, 2.5), 8)})).arrays["v"]
    np.testing.assert_allclose(out, 2.5)


@pytest.mark.parametrize("value", [3e38, -3e38, 1e20])
def test_a_flat_array_of_huge_values_quantizes(value):
    # lo + 1 == lo for such values: the range must still be a real one.
    out = decode(encode({"kind": "q"}, {"v": Quantized(np.full(4, value), 8)})).arrays["v"]
    np.testing.assert_allclose(out, value, rtol=1e-5)


def test_header_rejects_nan():
    with pytest.raises(ValueError):
        encode({"kind": "x", "bad": float("nan")})


@pytest.mark.parametrize(
    "data",
    [b"", b"GLB1", b"XXXX\0\0\0\0", b"GLB1" + struct.pack("<I", 99) + b"{}",
     b"GLB1" + struct.pack("<I", 2) + b"[]", b"GLB1" + struct.pack("<I", 3) + b"{x}"],
)  # fmt: skip
def test_bad_envelopes_raise_frame_error(data):
    with pytest.raises(FrameError):
        decode(data)


def test_array_outside_message_is_refused():
    head = b'{"kind":"x","arrays":[{"name":"a","dtype":"f4","shape":[1000],"offset":0}]}'
    head += b" " * ((-len(head)) % 8)
    with pytest.raises(FrameError, match="outside"):
        decode(b"GLB1" + struct.pack("<I", len(head)) + head + b"\0" * 16)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(data):
    try:
        m = decode(b"GLB1" + data)
    except FrameError as exc:
        assert str(exc)  # refused with a reason
    else:
        assert isinstance(m.header["kind"], str)
        assert all(isinstance(a, np.ndarray) for a in m.arrays.values())


def test_a_prepared_array_encodes_as_the_array_itself():
    values = np.linspace(-1, 2, 15, dtype=np.float32).reshape(3, 5)
    q = Quantized(values, 8, 0.0, 1.0)
    plain = decode(encode({"kind": "x"}, {"a": values, "q": q, "i": np.arange(3)}))
    ready = {"a": prepare(values), "q": prepare(q), "i": prepare(np.arange(3))}
    assert encode({"kind": "x"}, ready) == encode(
        {"kind": "x"}, {"a": values, "q": q, "i": np.arange(3)}
    )
    again = decode(encode({"kind": "x"}, ready))
    for name in ("a", "q", "i"):
        np.testing.assert_array_equal(again.arrays[name], plain.arrays[name])


# --------------------------------------------------------------------------- hostile headers


def envelope(head: bytes | str, body: bytes = b"\0" * 64) -> bytes:
    raw = head.encode() if isinstance(head, str) else head
    return b"GLB1" + struct.pack("<I", len(raw)) + raw + body


def described(**array: object) -> bytes:
    d = {"name": "a", "dtype": "u1", "shape": [4], "offset": 0, **array}
    return envelope(json.dumps({"kind": "x", "arrays": [{k: v for k, v in d.items()
                                                         if v is not ABSENT}]}))  # fmt: skip


ABSENT = object()


MALFORMED = {
    "max-missing": described(min=0.0),
    "min-missing": described(max=1.0),
    "min-a-string": described(min="x", max=1.0),
    "min-a-list": described(min=[0], max=1.0),
    "min-a-bool": described(min=True, max=1.0),
    "range-on-f4": described(dtype="f4", min=0.0, max=1.0),  # only u1/u2 are quantized
    "name-missing": described(name=ABSENT),
    "name-a-number": described(name=5),
    "dtype-missing": described(dtype=ABSENT),
    "dtype-a-list": described(dtype=["u1"]),
    "dtype-unknown": described(dtype="f8"),
    "shape-missing": described(shape=ABSENT),
    "shape-nested": described(shape=[[4]]),
    "shape-bool": described(shape=[True]),
    "shape-float": described(shape=[4.0]),
    "shape-a-number": described(shape=4),
    "shape-negative": described(shape=[-1]),
    "shape-9-dims": described(shape=[1] * 9),
    "shape-wraps-int64": described(shape=[2**32, 2**32]),
    "shape-huge": described(shape=[2**62, 4]),
    "offset-missing": described(offset=ABSENT),
    "offset-negative": described(offset=-8),
    "offset-huge": described(offset=2**62),
    "offset-bool": described(offset=True),
    "offset-float": described(offset=8.0),
    "offset-string": described(offset="0"),
    "offset-1e400": envelope('{"kind":"x","arrays":[{"name":"a","dtype":"u1","shape":[4],'
                             '"offset":1e400}]}'),
    "shape-1e400": envelope('{"kind":"x","arrays":[{"name":"a","dtype":"u1","shape":[1e400],'
                            '"offset":0}]}'),
    "max-1e400": envelope('{"kind":"x","arrays":[{"name":"a","dtype":"u1","shape":[4],'
                          '"offset":0,"min":0,"max":1e400}]}'),
    "int-5000-digits": envelope('{"kind":"x","n":' + "9" * 5000 + "}"),
    "shape-5000-digits": envelope('{"kind":"x","arrays":[{"name":"a","dtype":"u1","shape":['
                                  + "9" * 5000 + '],"offset":0}]}'),
    "nan": envelope('{"kind":"x","n":NaN}'),
    "minus-infinity": envelope('{"kind":"x","n":-Infinity}'),
    "header-a-number": envelope("5"),
    "header-1e400": envelope("1e400"),
    "header-a-string": envelope('"GLB1"'),
    "description-a-number": envelope('{"kind":"x","arrays":[5]}'),
    "description-null": envelope('{"kind":"x","arrays":[null]}'),
    "arrays-an-object": envelope('{"kind":"x","arrays":{"a":1}}'),
    "bad-utf8": envelope(b'{"kind":"\xff"}'),
}  # fmt: skip


@pytest.mark.parametrize("data", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_envelopes_raise_only_frame_error_with_a_short_message(data):
    with pytest.raises(FrameError) as info:
        decode(data)
    assert 0 < len(str(info.value)) <= 200


def test_a_huge_claimed_shape_is_refused_before_anything_is_allocated():
    # 2**40 float32 values (4 TiB) claimed over 64 real bytes: refused by arithmetic alone.
    with pytest.raises(FrameError, match="outside"):
        decode(described(dtype="f4", shape=[2**20, 2**20]))


def test_an_error_quotes_a_long_name_only_in_part():
    with pytest.raises(FrameError) as info:
        decode(described(name="n" * 100_000, dtype="bogus"))
    assert len(str(info.value)) < 200 and "..." in str(info.value)


def test_quantized_array_with_extreme_range_decodes_without_warnings():
    out = decode(described(min=-3e38, max=3e38)).arrays["a"]
    assert out.dtype == np.float32 and out.shape == (4,)


# Raw JSON tokens a dict cannot hold: substituted for these markers after json.dumps.
RAW_TOKENS = {"@inf@": "1e400", "@ninf@": "-1e400", "@digits@": "7" * 5000, "@nan@": "NaN",
              "@deep@": "[" * 5000 + "]" * 5000, "@exp@": "1e-400", "@float@": "4.0"}  # fmt: skip
json_scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=6)
    | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(list(RAW_TOKENS))
)  # fmt: skip
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=4),
                           max_leaves=8)  # fmt: skip


# Array descriptions: a valid one with at most one field made hostile, changed or left out,
# so that most examples reach the array checks rather than stopping at the first field.
valid_descriptions = st.fixed_dictionaries(
    {"name": st.text(max_size=4), "dtype": st.sampled_from(["f4", "u1", "u2", "i4"]),
     "shape": st.lists(st.integers(0, 4), max_size=3), "offset": st.sampled_from([0, 8, 16])},
    optional={"min": st.floats(-10, 10), "max": st.floats(-10, 10)},
)  # fmt: skip
hostile_fields = {
    "name": json_values,
    "dtype": st.sampled_from(["f8", "", "<f4"]) | json_values,
    "shape": st.lists(st.integers(-2, 2**64), max_size=9) | json_values,
    "offset": st.integers(-8, 2**64) | json_values,
    "min": json_values,
    "max": json_values,
}


@st.composite
def descriptions(draw):
    d = draw(valid_descriptions)
    key = draw(st.sampled_from([None, *hostile_fields]))
    if key is not None and draw(st.booleans()):
        d.pop(key, None)
    elif key is not None:
        d[key] = draw(hostile_fields[key])
    return d


headers = st.fixed_dictionaries(
    {"kind": st.text(max_size=4)},
    optional={"arrays": st.lists(descriptions(), max_size=3)
              | st.lists(descriptions() | json_values, max_size=4) | json_values,
              "id": st.integers(0, 2**53)},
)  # fmt: skip
bodies = st.binary(max_size=256) | st.builds(bytes, st.integers(0, 512))


def header_text(header: object) -> str:
    text = json.dumps(header)  # NaN and Infinity come out as such: tokens JSON lacks
    for marker, raw in RAW_TOKENS.items():
        text = text.replace(f'"{marker}"', raw)
    return text


@settings(max_examples=500, deadline=None)
@given(headers | json_values, bodies)
def test_random_headers_give_a_message_or_frame_error_only(header, body):
    data = envelope(header_text(header), body)
    try:
        m = decode(data)
    except FrameError as exc:
        assert 0 < len(str(exc)) <= 200
    else:
        assert isinstance(m.header["kind"], str)
        for arr in m.arrays.values():
            assert isinstance(arr, np.ndarray) and arr.nbytes <= 4 * len(body)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=100).map(str.encode), st.binary(max_size=64))
def test_random_bytes_after_a_valid_magic_and_length_never_crash(head, body):
    try:
        decode(envelope(head, body))
    except FrameError as exc:
        assert str(exc)


names = st.text(min_size=1, max_size=8).filter(lambda s: s not in ("kind", "arrays"))
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
plain_arrays = st.one_of(
    hnp.arrays(np.float32, shapes, elements=st.floats(width=32, allow_nan=False)),
    hnp.arrays(np.int32, shapes),
)
quantized = st.builds(
    Quantized,
    hnp.arrays(np.float64, shapes, elements=st.floats(-1e3, 1e3)),
    st.sampled_from([8, 16]),
)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8) \
    | st.floats(allow_nan=False, allow_infinity=False)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(names, scalars, max_size=4),
    st.dictionaries(names, plain_arrays | quantized, max_size=4),
    st.binary(max_size=64),
)
def test_any_encoded_message_round_trips(extra, arrays, payload):
    m = decode(encode({**extra, "kind": "k"}, arrays, payload))
    assert {k: v for k, v in m.header.items() if k != "arrays"} == {**extra, "kind": "k"}
    assert m.payload == payload and m.arrays.keys() == arrays.keys()
    for name, value in arrays.items():
        got = m.arrays[name]
        if isinstance(value, Quantized):
            v = np.asarray(value.values, dtype=np.float32)
            span = float(v.max() - v.min()) if v.size else 0.0
            tolerance = span / ((1 << value.bits) - 1) / 2 + 1e-6 * (1 + np.abs(v).max(initial=0))
            assert got.shape == v.shape and np.all(np.abs(got - v) <= tolerance)
        else:
            assert got.shape == value.shape
            np.testing.assert_array_equal(got, value)


def test_a_quantized_zero_dimensional_array_decodes_to_an_array() -> None:
    """Found by the random-header test: shape [] with u1 quantization gave a numpy scalar."""
    header = {"kind": "t", "arrays": [{"name": "a", "dtype": "u1", "shape": [], "offset": 0,
                                       "min": 0.0, "max": 1.0}]}  # fmt: skip
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)  # the body starts 8-aligned
    data = MAGIC + struct.pack("<I", len(text)) + text + bytes([255]) + bytes(7)
    arr = decode(data).arrays["a"]
    assert isinstance(arr, np.ndarray) and arr.shape == () and float(arr) == 1.0


def test_a_range_too_narrow_for_float32_counts_as_flat():
    # 255 / 1.2e-38 overflows float32: the scale must not, and the values come back.
    v = np.array([1.17549435e-38, 0.0])
    got = decode(encode({"kind": "k"}, {"a": Quantized(v, 8)})).arrays["a"]
    assert np.all(np.isfinite(got)) and np.abs(got - v).max() <= 1e-6
