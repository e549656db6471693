import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ganlab.wire.envelope import FrameError, Quantized, decode, decode_header, encode, prepare


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
