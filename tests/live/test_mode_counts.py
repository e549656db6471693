"""Per-mode counts over the websocket (docs/protocol.md `mode_nearest`, `mode_high_quality`):
they come with the newest metric row of a frame or history message, for data with modes only."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from test_websocket import HISTORY_COLUMNS, WS, make_client, session

from ganlab.wire.envelope import Message

MODE_ARRAYS = {"mode_nearest", "mode_high_quality"}
MODE_HEADER = {"mode_samples", "mode_iteration"}
SMALL = {"metrics": {"every": 1, "samples": 200, "w1_samples": 50}}


def step_to_a_row(ws: WS) -> Message:
    """Step until a frame brings a metric row (the session's metric budget may skip some)."""
    for _ in range(100):
        f = ws.applied(ws.send("step"))
        if f.arrays["history"].shape[0]:
            return f
    raise AssertionError("no metric row in 100 steps")


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with make_client(commands_per_second=10_000) as c:
        yield c


def test_frames_and_history_carry_the_newest_rows_counts_per_mode(client):
    col = HISTORY_COLUMNS.index
    with session(client) as ws:
        assert not MODE_ARRAYS & set(ws.history.arrays)  # no row yet
        cid = ws.send("data", set={"name": "ring8"})
        ws.event("config", cid)
        cid = ws.send("config", set=SMALL)
        ws.event("config", cid)
        f = step_to_a_row(ws)
        rows = f.arrays["history"]
        nearest, good = f.arrays["mode_nearest"], f.arrays["mode_high_quality"]
        assert nearest.shape == good.shape == (8,) and nearest.dtype == np.int32
        assert f.header["mode_samples"] == 200 and nearest.sum() == 200
        assert f.header["mode_iteration"] == rows[-1, col("iteration")] == f.header["iteration"]
        assert (good <= nearest).all()
        # The row's columns are these counts summarised.
        assert rows[-1, col("high_quality_fraction")] == pytest.approx(good.sum() / 200)
        assert rows[-1, col("modes_covered")] == np.count_nonzero(good)
        q = nearest[nearest > 0] / 200
        expected = math.log(8) + float(np.sum(q * np.log(q)))
        assert rows[-1, col("reverse_kl")] == pytest.approx(expected, rel=1e-5, abs=1e-6)

        # A frame without a new row (a change of view) carries no counts: the last stay.
        cid = ws.send("config", set={"view": {"grid": 32}})
        ws.event("config", cid)
        f2 = ws.applied(cid)
        assert f2.arrays["history"].shape[0] == 0
        assert not MODE_ARRAYS & set(f2.arrays) and not MODE_HEADER & set(f2.header)

        sid, token = ws.hello["session"], ws.hello["token"]
    # Back again: the whole history comes with its newest row's counts.
    with session(client, f"/ws?session={sid}&token={token}") as back:
        np.testing.assert_array_equal(back.history.arrays["mode_nearest"], nearest)
        np.testing.assert_array_equal(back.history.arrays["mode_high_quality"], good)
        assert back.history.header["mode_samples"] == 200

        # Data without modes: rows, but no counts.
        cid = back.send("data", set={"name": "moons"})
        back.event("config", cid)
        f3 = step_to_a_row(back)
        assert not MODE_ARRAYS & set(f3.arrays) and not MODE_HEADER & set(f3.header)
