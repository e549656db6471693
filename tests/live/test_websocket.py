"""The websocket protocol (docs/protocol.md) against the real app: FastAPI's TestClient around
`create_app`, its lifespan running the hub, the engine worker a thread of this process."""

from __future__ import annotations

import asyncio
import itertools
import json
import struct
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.websockets import WebSocketDisconnect

from ganlab import __version__
from ganlab.engine.config import ExperimentConfig
from ganlab.live.app import create_app
from ganlab.live.settings import Settings
from ganlab.wire.envelope import Message, decode, encode

TIMEOUT = 20.0
HISTORY_COLUMNS = [
    "iteration", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm",
    "kl_grid", "js_grid", "w1", "modes_covered", "modes_total", "high_quality_fraction",
    "reverse_kl", "d_gp", "d_r1", "d_r2", "d_total", "v_current", "v_optimal",
    "v_optimal_theory", "precision", "recall", "density", "coverage",
]  # fmt: skip
# Error codes of docs/protocol.md for commands (`internal` is an engine failure, never the
# answer to a message a client got wrong).
CLIENT_ERRORS = {"bad_json", "bad_message", "unknown_command", "invalid_config",
                 "invalid_points", "bad_run_file", "too_large", "rate_limited",
                 "busy"}  # fmt: skip
# SGD at rate 10 with one D step per iteration blows up within a few iterations (with the
# default two D steps, D saturates first and nothing diverges).
DIVERGING = {"d_optimizer": {"kind": "sgd", "lr": 10.0}, "g_optimizer": {"kind": "sgd", "lr": 10.0},
             "training": {"d_steps": 1}}  # fmt: skip
# D updates per iteration at the defaults a session starts with.
D_STEPS = ExperimentConfig().training.d_steps


def make_client(**overrides: Any) -> TestClient:
    # The TestClient's requests name the host "testserver": served here like a real name.
    overrides.setdefault("allowed_hosts", ["testserver"])
    return TestClient(create_app(Settings(workers=0, device="cpu", **overrides)))


@dataclass
class Closed:
    code: int


@dataclass
class WS:
    """One websocket of the TestClient, read with timeouts; text events come back as dicts,
    binary messages as decoded `Message`s, the server's close as `Closed`."""

    raw: Any
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    hello: dict[str, Any] = field(default_factory=dict)
    history: Message | None = None
    first_frame: Message | None = None

    def recv_raw(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        # The TestClient's own receive() waits forever: read its stream with a deadline.
        stream = self.raw._send_rx

        async def get() -> Any:
            with anyio.fail_after(timeout):
                return await stream.receive()

        return self.raw.portal.call(get)

    def recv(self, timeout: float = TIMEOUT) -> Any:
        msg = self.recv_raw(timeout)
        if msg["type"] == "websocket.close":
            return Closed(msg.get("code", 1000))
        if msg.get("text") is not None:
            return json.loads(msg["text"])
        return decode(msg["bytes"])

    def send(self, type: str, **fields: Any) -> int:
        """Send a command with a fresh id; returns the id."""
        cid = next(self.ids)
        self.raw.send_text(json.dumps({"type": type, "id": cid, **fields}))
        return cid

    def until(self, pred: Callable[[Any], bool], timeout: float = TIMEOUT,
              seen: list[Any] | None = None) -> Any:  # fmt: skip
        """Read until a message satisfies `pred`; the ones before go to `seen`."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; last messages: {summary(seen or [])}")
            try:
                msg = self.recv(left)
            except TimeoutError:
                raise AssertionError(f"timed out; messages seen: {summary(seen or [])}") from None
            if pred(msg):
                return msg
            if seen is not None:
                seen.append(msg)
            if isinstance(msg, Closed):
                raise AssertionError(f"connection closed ({msg.code}) while waiting")

    def event(self, type: str, cid: int | None = None, **kw: Any) -> dict[str, Any]:
        """The next text event of `type` (with id `cid`); an error for `cid` fails."""

        def pred(m: Any) -> bool:
            if isinstance(m, dict) and type != "error" and m.get("type") == "error":
                assert cid is None or m.get("id") != cid, f"command {cid} refused: {m}"
            return is_event(m, type) and (cid is None or m.get("id") == cid)

        return self.until(pred, **kw)

    def error(self, cid: int | None = None, **kw: Any) -> dict[str, Any]:
        return self.event("error", cid, **kw)

    def frame(self, cond: Callable[[dict[str, Any]], bool] = lambda h: True,
              **kw: Any) -> Message:  # fmt: skip
        return self.until(lambda m: is_binary(m, "frame") and cond(m.header), **kw)

    def binary(self, kind: str, **kw: Any) -> Message:
        return self.until(lambda m: is_binary(m, kind), **kw)

    def ping(self) -> list[Any]:
        """Ping and wait for the matching pong; returns what came before it."""
        seen: list[Any] = []
        cid = self.send("ping")
        self.event("pong", cid, seen=seen)
        return seen

    def applied(self, cid: int, **kw: Any) -> Message:
        """The first frame that reflects command `cid`."""
        return self.frame(lambda h: h["applied"] is not None and h["applied"] >= cid, **kw)


def is_event(m: Any, type: str) -> bool:
    return isinstance(m, dict) and m.get("type") == type


def is_binary(m: Any, kind: str) -> bool:
    return isinstance(m, Message) and m.header.get("kind") == kind


def summary(msgs: list[Any]) -> list[Any]:
    out = []
    for m in msgs[-8:]:
        if isinstance(m, Message):
            out.append({k: m.header.get(k) for k in ("kind", "frame", "iteration", "applied")})
        elif isinstance(m, dict) and m.get("type") in ("hello", "config"):
            out.append({"type": m["type"], "id": m.get("id")})
        else:
            out.append(m)
    return out


def errors_in(msgs: list[Any]) -> list[dict[str, Any]]:
    return [m for m in msgs if is_event(m, "error")]


@contextmanager
def connect(client: TestClient, path: str = "/ws", **kw: Any) -> Iterator[WS]:
    """A websocket without reading anything."""
    with client.websocket_connect(path, **kw) as raw:
        yield WS(raw)


@contextmanager
def session(client: TestClient, path: str = "/ws", **kw: Any) -> Iterator[WS]:
    """A live session: hello, the whole history and the first frame already read."""
    with connect(client, path, **kw) as ws:
        ws.hello = ws.recv()
        assert is_event(ws.hello, "hello"), ws.hello
        ws.history = ws.recv()
        assert is_binary(ws.history, "history"), ws.history
        ws.first_frame = ws.recv()
        assert is_binary(ws.first_frame, "frame"), ws.first_frame
        yield ws


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # Commands are not rate limited here (test_rate_limit has its own server).
    with make_client(commands_per_second=10_000) as c:
        yield c


# --------------------------------------------------------------------------- greeting


def test_hello_then_history_then_first_frame(client):
    with connect(client) as ws:
        hello = ws.recv()
        assert hello["type"] == "hello" and hello["protocol"] == 1
        assert isinstance(hello["session"], str) and len(hello["session"]) >= 8
        assert isinstance(hello["token"], str) and len(hello["token"]) >= 16
        assert hello["resumed"] is False
        assert hello["config"] == ExperimentConfig(device="cpu").model_dump()
        assert hello["iteration"] == 0 and hello["playing"] is False
        assert hello["speed"] == {"ips": None, "fps": 30}
        assert hello["limits"] == {
            "max_message_bytes": 1 << 20, "max_run_bytes": 64 << 20, "max_points": 20_000,
            "commands_per_second": 10_000, "session_timeout_s": 600, "checkpoint_seconds": 10.0,
        }  # fmt: skip
        assert hello["server"] == {"version": __version__, "device": "cpu"}

        history = ws.recv()
        assert is_binary(history, "history")
        assert history.header["history_columns"] == HISTORY_COLUMNS
        assert history.arrays["history"].shape == (0, len(HISTORY_COLUMNS))
        assert history.arrays["history"].dtype == np.float32

        frame = ws.recv()
        assert is_binary(frame, "frame")
        h = frame.header
        assert (h["frame"], h["iteration"], h["d_updates"], h["g_updates"]) == (1, 0, 0, 0)
        assert h["playing"] is False and h["applied"] is None and h["config_version"] == 0
        assert h["losses"] == {}  # missing before the first update
        assert h["output"] == "prob" and h["noise_dim"] == 2
        assert h["box"] == [0.0, 1.0, 0.0, 1.0]  # the default gaussians' view box
        assert h["history_columns"] == HISTORY_COLUMNS

    with session(client) as other:
        assert other.hello["session"] != hello["session"]
        assert other.hello["token"] != hello["token"]


# --------------------------------------------------------------------------- frames


def frame_bytes(ws: WS, cid: int) -> bytes:
    """The raw bytes of the first frame reflecting command `cid`."""
    while True:
        msg = ws.recv_raw()
        if msg.get("bytes") is not None:
            header = decode(msg["bytes"]).header
            if header["kind"] == "frame" and (header["applied"] or 0) >= cid:
                return msg["bytes"]


def test_frame_envelope_and_every_documented_array(client):
    with session(client) as ws:
        cid = ws.send("step", phase="both")
        data = frame_bytes(ws, cid)

    # The envelope, read by hand from the spec.
    assert data[:4] == b"GLB1"
    (size,) = struct.unpack("<I", data[4:8])
    assert (8 + size) % 8 == 0
    header = json.loads(data[8 : 8 + size])
    payload = data[8 + size :]
    for desc in header["arrays"]:
        assert desc["offset"] % 8 == 0, desc
    raw = {d["name"]: d for d in header["arrays"]}
    d = raw["fake_d"]
    q = np.frombuffer(payload[d["offset"] : d["offset"] + 240], dtype="u1")

    msg = decode(data)
    h, a = msg.header, msg.arrays
    assert h == header
    assert (h["iteration"], h["d_updates"], h["g_updates"]) == (1, D_STEPS, 1)
    assert h["applied"] == cid
    assert set(h["losses"]) == {"d_loss", "g_loss", "d_real", "d_fake"}
    assert 0.0 <= h["losses"]["d_real"] <= 1.0 and 0.0 <= h["losses"]["d_fake"] <= 1.0
    assert h["output"] == "prob"

    nr, nf, r, m, fg = 480, 240, 64, 21, 20  # the default view
    table = {
        "real": ("f4", (nr, 2)),
        "real_d": ("u1", (nr,)),
        "fake": ("f4", (nf, 2)),
        "fake_noise": ("f4", (nf, 2)),
        "fake_d": ("u1", (nf,)),
        "fake_grad": ("f4", (nf, 2)),
        "d_grid": ("u1", (r, r)),
        "manifold": ("f4", (m, m, 2)),
        "manifold_density": ("f4", (m - 1, m - 1)),
        "real_density": ("u1", (r, r)),
        "g_field": ("f4", (fg, fg, 2)),
        "history": ("f4", (0, len(HISTORY_COLUMNS))),
    }
    assert set(raw) == set(table)
    for name, (dtype, shape) in table.items():
        assert raw[name]["dtype"] == dtype, name
        assert tuple(raw[name]["shape"]) == shape, name
        assert a[name].shape == shape, name
        assert a[name].dtype == np.float32, name  # quantized ones decode to float32
    for name in ("real_d", "fake_d", "d_grid"):
        # For probabilities: min 0, max 1, 256 levels.
        assert (raw[name]["min"], raw[name]["max"]) == (0, 1), name
        assert a[name].min() >= 0.0 and a[name].max() <= 1.0, name
    assert len(np.unique(a["d_grid"])) > 1  # D varies over the view box
    assert raw["real_density"]["min"] == 0 and raw["real_density"]["max"] > 0
    assert a["real_density"].min() >= 0 and a["real_density"].max() > 0
    # Quantization as documented: min + q / 255 * (max - min).
    np.testing.assert_allclose(a["fake_d"], q / 255.0, atol=1e-6)
    for name in ("real", "fake", "fake_noise", "fake_grad", "manifold", "manifold_density"):
        assert np.isfinite(a[name]).all(), name
    # Samples lie in or near the view box; the manifold's density is a density.
    xmin, xmax, ymin, ymax = h["box"]
    x, y = a["real"][:, 0], a["real"][:, 1]
    inside = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    assert inside.mean() > 0.9
    assert (a["manifold_density"] >= 0).all()


def test_frame_shapes_follow_the_config(client):
    with session(client) as ws:
        noise = ws.first_frame.arrays["fake_noise"]
        cid = ws.send("step", phase="g")
        same = ws.applied(cid)
        # The fixed noise batch: fake i is the same noise point in every frame.
        np.testing.assert_array_equal(same.arrays["fake_noise"], noise)

        cid = ws.send("config", set={"noise": {"dim": 1},
                                     "view": {"grid": 32, "fakes": 100, "reals": 50}})  # fmt: skip
        ws.event("config", cid)
        f = ws.applied(cid)
        assert f.header["noise_dim"] == 1
        a = f.arrays
        assert a["fake"].shape == (100, 2) and a["fake_noise"].shape == (100, 1)
        assert a["fake_d"].shape == (100,) and a["fake_grad"].shape == (100, 2)
        assert a["real"].shape == (50, 2) and a["real_d"].shape == (50,)
        assert a["d_grid"].shape == (32, 32) and a["real_density"].shape == (32, 32)
        k = a["manifold"].shape[0]
        assert a["manifold"].shape == (k, 2) and k > 2  # a curve for 1D noise
        assert a["manifold_density"].shape == (k - 1,)

        cid = ws.send("config", set={"loss": {"kind": "wgan"}})
        ws.event("config", cid)
        f = ws.applied(cid)
        assert f.header["output"] == "score"
        desc = {d["name"]: d for d in f.header["arrays"]}
        assert desc["d_grid"]["dtype"] == "u1" and "min" in desc["d_grid"]
        lo, hi = desc["d_grid"]["min"], desc["d_grid"]["max"]
        assert lo <= f.arrays["d_grid"].min() and f.arrays["d_grid"].max() <= hi + 1e-6


# --------------------------------------------------------------------------- play, steps


def test_play_advances_and_pause_stops(client):
    with session(client) as ws:
        cid = ws.send("play")
        state = ws.event("state")
        assert state["playing"] is True and state["reason"] == "command"
        frames = []
        ws.frame(lambda h: frames.append(h) or h["iteration"] >= 100)
        playing = [h for h in frames if h["playing"]]
        assert len(playing) >= 2
        numbers = [h["frame"] for h in frames]
        assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
        its = [h["iteration"] for h in frames]
        assert its == sorted(its)
        ws.frame(lambda h: h["ips"] > 0)  # measured iterations per second

        cid = ws.send("pause")
        state = ws.event("state")
        assert state["playing"] is False and state["reason"] == "command"
        stopped = state["iteration"]
        assert stopped >= 100
        time.sleep(0.4)
        after = ws.ping()
        time.sleep(0.3)
        after += ws.ping()
        its = [m.header["iteration"] for m in after if is_binary(m, "frame")]
        assert all(i <= stopped for i in its), (stopped, its)
        # A step from the paused state starts exactly there.
        cid = ws.send("step", phase="both")
        assert ws.applied(cid).header["iteration"] == stopped + 1


def test_step_d_g_both_advance_exactly_their_counters(client):
    with session(client) as ws:

        def step(phase: str) -> dict[str, Any]:
            cid = ws.send("step", phase=phase)
            ack = ws.event("ack", cid)
            assert ack == {"type": "ack", "id": cid, "command": "step"}
            h = ws.applied(cid).header
            return {k: h[k] for k in ("iteration", "d_updates", "g_updates")}

        assert step("d") == {"iteration": 0, "d_updates": 1, "g_updates": 0}
        assert step("d") == {"iteration": 0, "d_updates": 2, "g_updates": 0}
        assert step("g") == {"iteration": 0, "d_updates": 2, "g_updates": 1}
        assert step("both") == {"iteration": 1, "d_updates": 2 + D_STEPS, "g_updates": 2}
        cid = ws.send("step")  # phase defaults to "both"
        h = ws.applied(cid).header
        assert (h["iteration"], h["d_updates"], h["g_updates"]) == (2, 2 + 2 * D_STEPS, 3)

        cid = ws.send("config", set={"training": {"d_steps": 3, "g_steps": 2}})
        ws.event("config", cid)
        counts = step("both")
        assert counts == {"iteration": 3, "d_updates": 5 + 2 * D_STEPS, "g_updates": 5}

        # A step while playing pauses first.
        cid = ws.send("play")
        ws.event("state")
        cid = ws.send("step", phase="d")
        state = ws.event("state")
        ws.event("ack", cid)
        h = ws.applied(cid).header
        # Three D updates in each iteration played, then the step's one.
        played = h["iteration"] - counts["iteration"]
        assert h["playing"] is False and h["d_updates"] == counts["d_updates"] + 3 * played + 1
        again = ws.ping()
        assert all(m.header["iteration"] == h["iteration"] for m in again if is_binary(m, "frame"))
        # The state event that tells of the pause says so.
        assert state["playing"] is False, f"the step paused the session, yet: {state}"


def walk(ws: WS, network: str, updates: int) -> list[Message]:
    """The five phases of one update of `network`, which has had `updates` updates so far;
    no frame before the last phase may show the update."""
    phases: list[Message] = []
    before: list[Any] = []
    for _ in range(5):
        ws.send("step", phase=network, sub=True)
        phases.append(ws.binary("phase", seen=before))
    frames = [m.header for m in before if is_binary(m, "frame")]
    assert all(h[f"{network}_updates"] == updates for h in frames), frames
    return phases


def test_step_sub_walks_five_phases_and_only_the_update_changes_counters(client):
    with session(client) as ws:
        phases = walk(ws, "d", 0)
        names = [p.header["phase"] for p in phases]
        assert names == ["generate", "classify", "loss", "gradients", "update"]
        assert [p.header["index"] for p in phases] == [0, 1, 2, 3, 4]
        assert {p.header["network"] for p in phases} == {"d"}
        gen, cls, loss, grads, upd = phases
        n = gen.arrays["noise"].shape[0]
        assert n == 150  # the default batch
        assert gen.arrays["noise"].shape == (n, 2)
        assert gen.arrays["fake"].shape == (n, 2) and gen.arrays["real"].shape == (n, 2)
        assert cls.arrays["d_fake"].shape == (n,) and cls.arrays["d_real"].shape == (n,)
        assert all(a.dtype == np.float32 for p in phases for a in p.arrays.values())
        assert np.isfinite(loss.header["values"]["d_loss"])
        values = grads.header["values"]
        assert values["grad_norm"] > 0 and len(values["layer_grad_norms"]) == 3
        assert upd.header["values"]["param_change"] > 0
        # The update is applied: a frame follows, with exactly one more D update.
        h = ws.frame(lambda h: h["d_updates"] > 0).header
        assert (h["iteration"], h["d_updates"], h["g_updates"]) == (0, 1, 0)

        # The iteration's other D updates, then its G update.
        for updates in range(1, D_STEPS):
            walk(ws, "d", updates)
        phases = walk(ws, "g", 0)
        assert [p.header["phase"] for p in phases] == names
        assert {p.header["network"] for p in phases} == {"g"}
        gen, cls, loss, grads, upd = phases
        assert set(gen.arrays) == {"noise", "fake"}
        assert set(cls.arrays) == {"d_fake"}
        assert np.isfinite(loss.header["values"]["g_loss"])
        assert grads.arrays["fake_grad"].shape == (n, 2)
        after = upd.arrays["fake"]
        assert after.shape == (n, 2) and not np.allclose(after, gen.arrays["fake"])
        h = ws.frame(lambda h: h["g_updates"] > 0).header
        # The D walks then the G walk complete the iteration (d_steps D's, g_steps = 1 G's).
        assert (h["iteration"], h["d_updates"], h["g_updates"]) == (1, D_STEPS, 1)

        # A walkthrough needs 'd' or 'g'.
        cid = ws.send("step", phase="both", sub=True)
        assert ws.error(cid)["code"] == "bad_message"


def test_another_command_cancels_an_unfinished_walkthrough(client):
    with session(client) as ws:
        ws.send("step", phase="d", sub=True)
        ws.send("step", phase="d", sub=True)
        assert ws.binary("phase").header["phase"] == "generate"
        assert ws.binary("phase").header["phase"] == "classify"
        ws.ping()  # any other command cancels it
        ws.send("step", phase="d", sub=True)
        restart = ws.binary("phase").header
        assert (restart["phase"], restart["index"]) == ("generate", 0)

        cid = ws.send("step", phase="g")  # cancels again; its own update happens
        h = ws.applied(cid).header
        assert (h["d_updates"], h["g_updates"]) == (0, 1)  # the walk's update never applied
        # Walking one network then the other starts the other's walk from the beginning.
        ws.send("step", phase="d", sub=True)
        ws.send("step", phase="g", sub=True)
        assert ws.binary("phase").header["network"] == "d"
        g = ws.binary("phase").header
        assert (g["network"], g["phase"], g["index"]) == ("g", "generate", 0)
        finish = [ws.send("step", phase="g", sub=True) for _ in range(4)]
        h = ws.applied(finish[-1]).header
        assert (h["d_updates"], h["g_updates"]) == (0, 2)


def step_until_a_row(ws: WS, timeout: float = 20.0) -> Any:
    """Step until an update's frame carries a metric row (the session's metric budget skips
    rows for a while after a costly one) and return that frame."""
    end = time.monotonic() + timeout
    while True:
        f = ws.applied(ws.send("step"))
        if f.arrays["history"].shape[0] or time.monotonic() > end:
            return f


def test_penalties_travel_as_their_own_terms_in_frames_history_and_walkthrough(client):
    """With WGAN-GP and R1 on, frames' losses and history rows and the D walk's loss phase
    carry each weighted penalty and the total; turned off, they go."""
    col = HISTORY_COLUMNS.index
    with session(client) as ws:
        small = {"metrics": {"every": 1, "samples": 200, "w1_samples": 50}}
        cid = ws.send("config", set={"loss": {"kind": "wgan_gp", "gp_weight": 10.0, "r1": 2.0},
                                     **small})  # fmt: skip
        ws.event("config", cid)
        cid = ws.send("step")
        f = ws.applied(cid)
        losses = f.header["losses"]
        assert {"d_loss", "d_gp", "d_r1", "d_total"} <= set(losses) and "d_r2" not in losses
        assert losses["d_gp"] > 0 and losses["d_r1"] > 0
        assert losses["d_total"] == pytest.approx(
            losses["d_loss"] + losses["d_gp"] + losses["d_r1"], rel=1e-6)  # fmt: skip
        rows = f.arrays["history"]
        assert rows.shape == (1, len(HISTORY_COLUMNS))
        assert rows[0, col("d_gp")] == pytest.approx(losses["d_gp"], rel=1e-6)
        assert rows[0, col("d_r1")] == pytest.approx(losses["d_r1"], rel=1e-6)
        assert rows[0, col("d_total")] == pytest.approx(losses["d_total"], rel=1e-6)
        assert np.isnan(rows[0, col("d_r2")])

        phases = walk(ws, "d", f.header["d_updates"])
        shown = phases[2].header["values"]
        assert set(shown) == {"d_loss", "d_gp", "d_r1", "d_total"}
        assert shown["d_total"] == pytest.approx(shown["d_loss"] + shown["d_gp"] + shown["d_r1"])
        # The walk's update is the one the next frame's losses report.
        after = ws.frame(lambda h: h["d_updates"] > f.header["d_updates"]).header["losses"]
        assert after["d_gp"] == pytest.approx(shown["d_gp"], rel=1e-5)

        cid = ws.send("config", set={"loss": {"kind": "log", "r1": 0.0}})
        ws.event("config", cid)
        f = step_until_a_row(ws)
        assert not {"d_gp", "d_r1", "d_r2", "d_total"} & set(f.header["losses"])
        rows = f.arrays["history"]
        assert rows.shape[0] == 1 and np.isnan(rows[0, col("d_gp")])
        assert np.isnan(rows[0, col("d_total")]) and np.isfinite(rows[0, col("d_loss")])
        phases = walk(ws, "d", f.header["d_updates"])
        assert set(phases[2].header["values"]) == {"d_loss"}


# --------------------------------------------------------------------------- config


def test_config_changes_take_effect(client):
    with session(client) as ws:
        version = ws.first_frame.header["config_version"]
        cid = ws.send("config", set={"g_optimizer": {"lr": 0.003}})
        event = ws.event("config", cid)
        assert event["config"]["g_optimizer"]["lr"] == 0.003
        untouched = ExperimentConfig().d_optimizer.lr
        assert event["config"]["d_optimizer"]["lr"] == untouched
        assert "g_optimizer" in event["rebuilt"]
        f = ws.applied(cid)
        assert f.header["applied"] == cid and f.header["config_version"] > version
        version = f.header["config_version"]
        before = f.arrays["fake"]

        # An architecture change rebuilds the generator: the fakes move.
        cid = ws.send("config", set={"generator": {"layers": 3, "neurons": 24}})
        event = ws.event("config", cid)
        assert event["config"]["generator"]["layers"] == 3
        assert event["config"]["generator"]["neurons"] == 24
        assert "generator" in event["rebuilt"]
        f = ws.applied(cid)
        assert f.header["config_version"] > version
        assert f.header["applied"] == cid
        assert not np.allclose(f.arrays["fake"], before, atol=1e-4)

        # The run continues: a step still works on the new networks.
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 1


def test_invalid_config_answers_an_error_and_the_session_still_works(client):
    with session(client) as ws:
        cases = [
            ({"generator": {"layers": 99}}, "generator.layers"),
            ({"generator": {"neurons": "many"}}, "generator.neurons"),
            ({"d_optimizer": {"lr": -1}}, "d_optimizer.lr"),
            ({"loss": {"kind": "nope"}}, "loss.kind"),
            ({"bogus": 1}, "bogus"),
            ({"view": {"grid": 100_000}}, "view.grid"),
            ({"view": {"field": 65}}, "view.field"),
            ({"view": {"field": -1}}, "view.field"),
            ({"view": {"optimal": "yes"}}, "view.optimal"),
        ]
        for patch, path in cases:
            cid = ws.send("config", set=patch)
            err = ws.error(cid)
            assert err["code"] == "invalid_config", (patch, err)
            assert err["field"] == path, (patch, err)
            assert isinstance(err["message"], str) and err["message"]
        cid = ws.send("config", set={"generator": {"layers": 99}})
        assert "8" in ws.error(cid)["message"]  # states the allowed range

        # Too costly for a shared core: refused naming a field.
        cid = ws.send("config", set={"training": {"batch_size": 4096},
                                     "generator": {"layers": 8, "neurons": 512},
                                     "discriminator": {"layers": 8, "neurons": 512}})  # fmt: skip
        err = ws.error(cid)
        assert err["code"] == "invalid_config" and err["field"]

        # Nothing was applied; the session still answers and steps.
        seen = ws.ping()
        assert not [m for m in seen if is_event(m, "config")]
        cid = ws.send("config", set={"seed": 3})
        event = ws.event("config", cid)
        assert event["config"]["generator"] == ExperimentConfig().generator.model_dump()
        assert event["config"]["view"]["grid"] == 64
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 1


def test_reset_clears_history_and_takes_a_seed(client):
    with session(client) as ws:
        cid = ws.send("config", set={"metrics": {"every": 1}})
        ws.event("config", cid)
        rows = []
        for i in range(1, 4):
            cid = ws.send("step")
            f = ws.applied(cid)
            assert f.header["iteration"] == i
            rows.append(f.arrays["history"])
        # History arrives incrementally: each frame carries the rows since the previous one
        # (back-to-back steps may skip rows: every row keeps to the session's metric budget).
        got = np.concatenate(rows)
        assert got.shape[1] == len(HISTORY_COLUMNS)
        its = got[:, 0].tolist()
        assert its[0] == 1.0 and its == sorted(set(its)) and set(its) <= {1.0, 2.0, 3.0}

        cid = ws.send("reset", seed=7)
        event = ws.event("config", cid)
        assert event["config"]["seed"] == 7 and event["rebuilt"] == ["reset"]
        history = ws.binary("history")
        assert history.arrays["history"].shape == (0, len(HISTORY_COLUMNS))
        f = ws.applied(cid)
        h = f.header
        assert (h["iteration"], h["d_updates"], h["g_updates"]) == (0, 0, 0)
        assert h["losses"] == {} and f.arrays["history"].shape[0] == 0
        seven = f.arrays["fake"]

        ws.send("step")
        cid = ws.send("reset", seed=7)  # same seed, same start
        np.testing.assert_array_equal(ws.applied(cid).arrays["fake"], seven)
        cid = ws.send("reset", seed=8)
        assert not np.allclose(ws.applied(cid).arrays["fake"], seven)
        cid = ws.send("reset")  # no seed: keeps the current one
        assert ws.event("config", cid)["config"]["seed"] == 8


# --------------------------------------------------------------------------- data


def test_data_preset_by_name_changes_box_and_real_samples(client):
    with session(client) as ws:
        assert ws.first_frame.header["box"] == [0.0, 1.0, 0.0, 1.0]
        cid = ws.send("data", set={"name": "grid25"})
        event = ws.event("config", cid)
        assert event["config"]["data"]["name"] == "grid25" and "data" in event["rebuilt"]
        f = ws.applied(cid)
        assert f.header["box"] == [-6.0, 6.0, -6.0, 6.0]
        real = f.arrays["real"]
        assert np.abs(real).max() > 3.0 and np.abs(real).max() <= 6.0
        # 25 modes on a 5x5 grid: reals come from all four quadrants.
        assert len({(bool(x > 0), bool(y > 0)) for x, y in real}) == 4

        cid = ws.send("data", set={"name": "atlantis"})
        err = ws.error(cid)
        assert err["code"] == "invalid_config" and err["field"].startswith("data")


def test_drawn_strokes_become_the_data(client):
    with session(client) as ws:
        cid = ws.send("data", set={"name": "drawing", "brush_width": 0.04,
                                   "strokes": [[[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]]})  # fmt: skip
        event = ws.event("config", cid)
        assert event["config"]["data"]["name"] == "drawing"
        real = ws.applied(cid).arrays["real"]
        # All reals lie in the brush's band around the diagonal stroke.
        assert np.abs(real[:, 0] - real[:, 1]).max() < 0.1
        assert real.min() > 0.0 and real.max() < 1.0
        assert real[:, 0].max() - real[:, 0].min() > 0.6  # along the whole stroke

        cid = ws.send("data", set={"name": "drawing", "strokes": []})
        assert ws.error(cid)["code"] == "invalid_config"


def test_import_points_from_csv_and_json(client):
    with session(client) as ws:
        cid = ws.send("data", **{"import": {"format": "csv", "text": "x,y\n10,20\n30,40\n10,40\n"}})
        event = ws.event("config", cid)
        assert event["config"]["data"]["name"] == "points"
        f = ws.applied(cid)
        xmin, xmax, ymin, ymax = f.header["box"]
        assert xmin < 10 < 30 < xmax and ymin < 20 < 40 < ymax  # fitted around the points
        got = {tuple(p) for p in np.round(f.arrays["real"], 3).tolist()}
        assert got == {(10.0, 20.0), (30.0, 40.0), (10.0, 40.0)}

        cid = ws.send("data", **{"import": {"format": "csv", "text": "x,y\n0,0\n1,abc\n2,2\n"}})
        err = ws.error(cid)
        assert err["code"] == "invalid_points" and "line 3" in err["message"]
        cid = ws.send("data", **{"import": {"format": "csv", "text": "0,0\n\nnan,1\n"}})
        err = ws.error(cid)
        assert err["code"] == "invalid_points" and "line 3" in err["message"]
        text = '[[0, 0],\n [1, 1],\n [2, "two"]]'
        cid = ws.send("data", **{"import": {"format": "json", "text": text}})
        err = ws.error(cid)
        assert err["code"] == "invalid_points" and "line 3" in err["message"]

        # Refused imports left the run's data alone.
        cid = ws.send("step")
        assert ws.applied(cid).header["box"] == f.header["box"]


def test_point_sets_over_20000_are_refused(client):
    with session(client) as ws:
        many = [[float(i % 100), float(i // 100)] for i in range(20_001)]
        cid = ws.send("data", set={"name": "points", "points": many})
        err = ws.error(cid)
        assert err["code"] == "invalid_config" and err["field"].startswith("data")
        text = "\n".join(f"{x},{y}" for x, y in many)
        cid = ws.send("data", **{"import": {"format": "csv", "text": text}})
        err = ws.error(cid)
        assert err["code"] == "invalid_points" and "20000" in err["message"].replace(",", "")
        strokes = [[[0.5, 0.5]] * 20_001]
        cid = ws.send("data", set={"name": "drawing", "strokes": strokes})
        assert ws.error(cid)["code"] == "invalid_config"
        # 20,000 exactly is allowed.
        cid = ws.send("data", set={"name": "points", "points": many[:20_000]})
        assert ws.event("config", cid)["config"]["data"]["name"] == "points"
        assert ws.applied(cid).header["box"][1] > 99


# --------------------------------------------------------------------------- save, load


def test_save_then_load_the_run_on_a_new_session(client):
    with session(client) as ws:
        cid = ws.send("data", set={"name": "ring"})
        ws.event("config", cid)
        for _ in range(3):
            cid = ws.send("step")
        original = ws.applied(cid)
        cid = ws.send("save")
        saved = ws.event("saved", cid)
        run = ws.binary("run")
        assert run.header["filename"] == saved["filename"]
        assert saved["filename"].startswith("ganlab-ring-3.")
        assert "/" not in saved["filename"] and "\\" not in saved["filename"]
        assert len(run.payload) == saved["bytes"] > 0
        assert run.arrays == {}

    with session(client) as other:
        assert other.first_frame.header["iteration"] == 0
        other.raw.send_bytes(encode({"kind": "run", "id": 41}, payload=run.payload))
        event = other.event("config", 41)
        assert event["config"]["data"]["name"] == "ring" and event["rebuilt"] == ["load"]
        assert other.binary("history").header["kind"] == "history"
        loaded = other.event("loaded", 41)
        assert loaded["iteration"] == 3
        f = other.applied(41)
        h = f.header
        assert (h["iteration"], h["d_updates"], h["g_updates"]) == (3, 3 * D_STEPS, 3)
        assert h["config_version"] > 0
        # The same weights: the same picture.
        np.testing.assert_allclose(f.arrays["fake"], original.arrays["fake"], atol=1e-6)
        np.testing.assert_array_equal(f.arrays["d_grid"], original.arrays["d_grid"])
        cid = other.send("step")
        assert other.applied(cid).header["iteration"] == 4


def test_a_corrupt_run_file_is_refused_and_the_run_kept(client):
    with session(client) as ws:
        cid = ws.send("step")
        ws.applied(cid)
        cid = ws.send("save")
        ws.event("saved", cid)
        good = ws.binary("run").payload
        for i, payload in enumerate([b"not a run file", good[: len(good) // 2], b"",
                                     good[:8] + b"\xff" * 64 + good[72:]]):  # fmt: skip
            ws.raw.send_bytes(encode({"kind": "run", "id": 100 + i}, payload=payload))
            err = ws.error(100 + i)
            assert err["code"] == "bad_run_file", err
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 2


# --------------------------------------------------------------------------- resume


def test_resume_with_the_token_and_refusals_without_it(client):
    with session(client) as ws:
        sid, token = ws.hello["session"], ws.hello["token"]
        cid = ws.send("play")
        ws.event("state")
        ws.frame(lambda h: h["iteration"] >= 20)
    # Gone: the session pauses and waits to be resumed.

    with connect(client, f"/ws?session={sid}&token=wrong") as bad:
        err = bad.recv()
        assert err["type"] == "error" and err["code"] == "bad_token"
        assert bad.recv() == Closed(4403)
    with connect(client, f"/ws?session={sid}") as bad:
        assert bad.recv()["code"] == "bad_token"
        assert bad.recv() == Closed(4403)
    with connect(client, f"/ws?session=nope{sid}&token={token}") as bad:
        assert bad.recv()["code"] == "unknown_session"
        assert bad.recv() == Closed(4404)

    with session(client, f"/ws?session={sid}&token={token}") as back:
        hello = back.hello
        assert hello["resumed"] is True and hello["session"] == sid and hello["token"] == token
        # It played when its client left: it plays on from where it paused.
        assert hello["playing"] is True and hello["iteration"] >= 20
        back.frame(lambda h: h["iteration"] > hello["iteration"])
        back.send("pause")
        stopped = back.event("state")
        assert stopped["playing"] is False
        cid = back.send("step")
        assert back.applied(cid).header["iteration"] == stopped["iteration"] + 1


def test_resuming_elsewhere_replaces_the_old_connection(client):
    with session(client) as old:
        sid, token = old.hello["session"], old.hello["token"]
        cid = old.send("step")
        old.applied(cid)
        with session(client, f"/ws?session={sid}&token={token}") as new:
            assert new.hello["resumed"] is True and new.hello["iteration"] == 1
            err = old.error()
            assert err["code"] == "replaced"
            old.until(lambda m: isinstance(m, Closed) and m.code == 4409)
            new.ping()
            cid = new.send("step")
            assert new.applied(cid).header["iteration"] == 2


def test_a_full_server_makes_room_by_ending_the_session_left_longest_ago():
    with make_client(max_sessions=2) as c, session(c) as second:
        with session(c) as first:
            with connect(c) as third:  # both sessions have a client: full
                err = third.recv()
                assert err["type"] == "error" and err["code"] == "server_full"
                assert third.recv() == Closed(1013)
            sid, token = first.hello["session"], first.hello["token"]
        # The first left: a new client gets its slot at once (not after session_timeout),
        # and resuming it is refused, saying why it may be gone.
        with session(c) as fresh:
            assert fresh.hello["session"] not in (sid, second.hello["session"])
        with connect(c, f"/ws?session={sid}&token={token}") as ws:
            err = ws.recv()
            assert err["code"] == "unknown_session" and "make room" in err["message"], err
            assert ws.recv() == Closed(4404)
        second.ping()


def test_connecting_and_closing_again_and_again_never_fills_the_server():
    # Each connection leaves a session behind, kept for resuming (session_timeout 600 s).
    with make_client(max_sessions=4) as c:
        for _ in range(16):
            with connect(c) as ws:
                hello = ws.recv()
                assert is_event(hello, "hello"), hello
        with session(c) as ws:
            ws.ping()


# --------------------------------------------------------------------------- origins


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://localhost.evil.example",
                                    "http://testserver.evil.example", "http://testserver:9999",
                                    "file://", "ws://evil.example"])  # fmt: skip
def test_cross_origin_handshake_is_refused(client, origin):
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"origin": origin}),
    ):
        pass


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:8000",
                                    "http://[::1]:3000", "http://testserver", None])  # fmt: skip
def test_local_and_own_origins_are_accepted(client, origin):
    headers = {"origin": origin} if origin else {}
    with session(client, headers=headers) as ws:
        assert ws.hello["protocol"] == 1


def test_allowed_origins_setting():
    with make_client(allowed_origins=["https://lab.example"]) as c:
        with session(c, headers={"origin": "https://lab.example"}) as ws:
            assert ws.hello["type"] == "hello"
        with (
            pytest.raises(WebSocketDisconnect),
            c.websocket_connect("/ws", headers={"origin": "https://evil.example"}),
        ):
            pass


# --------------------------------------------------------------------------- hostile input

HOSTILE_TEXT = [
    ("not json", "bad_json", None),
    ('{"type": "ping", "id": NaN}', "bad_json", None),
    ('{"type": "ping", "x": Infinity}', "bad_json", None),
    ('{"type": "ping"', "bad_json", None),
    ("[1, 2]", "bad_message", None),
    ('"ping"', "bad_message", None),
    ("null", "bad_message", None),
    ("[" * 100_000 + "]" * 100_000, None, None),  # bad_json or bad_message
    ('{"no_type": 1}', "unknown_command", "type"),
    ('{"type": "fly"}', "unknown_command", "type"),
    ('{"type": 5}', "unknown_command", "type"),
    ('{"type": "load"}', "bad_message", "type"),
    ('{"type": "step", "phase": "x"}', "bad_message", "phase"),
    ('{"type": "step", "sub": "yes"}', "bad_message", "sub"),
    ('{"type": "speed", "ips": 0}', "bad_message", "ips"),
    ('{"type": "speed", "fps": 61}', "bad_message", "fps"),
    ('{"type": "speed", "fps": "fast"}', "bad_message", "fps"),
    ('{"type": "reset", "seed": -1}', "bad_message", "seed"),
    ('{"type": "reset", "seed": "1"}', "bad_message", "seed"),
    ('{"type": "ping", "id": "abc"}', "bad_message", "id"),
    ('{"type": "ping", "id": -1}', "bad_message", "id"),
    ('{"type": "ping", "id": true}', "bad_message", "id"),
    (f'{{"type": "ping", "id": {2**53 + 1}}}', "bad_message", "id"),
    ('{"type": "ping", "extra": 1}', "bad_message", "extra"),
    ('{"type": "config"}', "bad_message", "set"),
    ('{"type": "config", "set": 5}', "bad_message", "set"),
    ('{"type": "data"}', "bad_message", None),
    ('{"type": "data", "set": {"name": "ring"}, "import": {"format": "csv", "text": ""}}',
     "bad_message", None),
    ('{"type": "data", "import": {"format": "xml", "text": "1,2"}}', "bad_message",
     "import.format"),
    ('{"type": "data", "set": {"name": 5}}', "invalid_config", "data.name"),
    # NaN points: no NaN literal in JSON (bad_json), infinities through overflowing numbers.
    ('{"type": "data", "set": {"name": "points", "points": [[NaN, 0]]}}', "bad_json", None),
    ('{"type": "data", "set": {"name": "points", "points": [[1e999, 0]]}}', "invalid_config",
     "data*"),
    ('{"type": "data", "set": {"name": "points", "points": [[1, 2, 3]]}}', "invalid_config",
     "data*"),
    ('{"type": "data", "set": {"name": "drawing", "strokes": [[[0.5, -1e999]]]}}',
     "invalid_config", "data*"),
    ('{"type": "data", "import": {"format": "csv", "text": "nan,1"}}', "invalid_points",
     "import.text"),
    ('{"type": "data", "import": {"format": "json", "text": "[[NaN, 1]]"}}', "invalid_points",
     "import.text"),
    ('{"type": "config", "set": {"training": {"batch_size": 1000000000}}}', "invalid_config",
     "training.batch_size"),
    ('{"type": "config", "set": {"discriminator": {"neurons": 100000}}}', "invalid_config",
     "discriminator.neurons"),
]  # fmt: skip
HOSTILE_BINARY = [
    (b"\x00\x01 garbage", "bad_message", None),
    (b"GLB1", "bad_message", None),
    (b"GLB1" + struct.pack("<I", 1 << 30) + b"{}", "bad_message", None),
    (b"GLB1" + struct.pack("<I", 8) + b"not json", "bad_message", None),
    (encode({"kind": "frame"}), "bad_message", "kind"),
    (encode({"kind": "run"}, payload=b"\x00" * 100), "bad_run_file", None),
    (b"GLB1" + struct.pack("<I", 64) + b'{"kind": "run", "arrays": [{"name": "x"}]}'.ljust(64),
     "bad_message", None),
]  # fmt: skip


def test_malformed_and_hostile_messages_each_get_an_error(client):
    with session(client) as ws:
        for text, code, path in HOSTILE_TEXT:
            ws.raw.send_text(text)
            seen = ws.ping()
            errs = errors_in(seen)
            assert len(errs) == 1, (text[:80], summary(seen))
            err = errs[0]
            if code is None:
                assert err["code"] in ("bad_json", "bad_message"), err
            elif path and path.endswith("*"):  # a field under this path
                assert err["code"] == code and err["field"].startswith(path[:-1]), (text, err)
            else:
                assert (err["code"], err["field"]) == (code, path), (text[:80], err)
            assert isinstance(err["message"], str) and err["message"]
        for data, code, path in HOSTILE_BINARY:
            ws.raw.send_bytes(data)
            errs = errors_in(ws.ping())
            assert len(errs) == 1, data[:40]
            assert (errs[0]["code"], errs[0]["field"]) == (code, path), (data[:40], errs[0])

        # Ids are echoed in errors.
        ws.raw.send_text('{"type": "fly", "id": 5}')
        assert ws.error(5)["code"] == "unknown_command"
        ws.raw.send_text('{"type": "step", "phase": "x", "id": 6}')
        assert ws.error(6)["field"] == "phase"
        cid = ws.send("config", set={"generator": {"layers": -1}})
        assert ws.error(cid)["id"] == cid

        # The session is unharmed.
        cid = ws.send("step")
        h = ws.applied(cid).header
        assert h["iteration"] == 1 and h["box"] == [0.0, 1.0, 0.0, 1.0]


def test_messages_over_the_size_cap_are_refused():
    with make_client(max_message_bytes=4096, max_run_bytes=1024) as c, session(c) as ws:
        assert ws.hello["limits"]["max_message_bytes"] == 4096
        ws.raw.send_text(json.dumps({"type": "ping", "pad": "x" * 5000}))
        err = errors_in(ws.ping())
        assert [e["code"] for e in err] == ["too_large"]
        # Counted in bytes, not characters.
        ws.raw.send_text(json.dumps({"type": "ping", "pad": "€" * 1500}, ensure_ascii=False))
        assert [e["code"] for e in errors_in(ws.ping())] == ["too_large"]
        # Just under the cap: judged on its content.
        ws.raw.send_text(json.dumps({"type": "ping", "pad": "x" * 3000}))
        err = errors_in(ws.ping())
        assert [(e["code"], e["field"]) for e in err] == [("bad_message", "pad")]
        # A binary message far over the run file cap.
        ws.raw.send_bytes(encode({"kind": "run"}, payload=b"\x00" * 200_000))
        assert [e["code"] for e in errors_in(ws.ping())] == ["too_large"]
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 1


def test_a_run_file_over_max_run_bytes_is_refused():
    """docs/protocol.md: a run file is loaded from a binary message 'at most max_run_bytes';
    Settings.max_run_bytes: 'Largest run file a client may load'."""
    with make_client(max_run_bytes=1024) as c, session(c) as ws:
        cid = ws.send("save")
        assert ws.event("saved", cid)["bytes"] > 8 * 1024
        run = ws.binary("run").payload
        ws.raw.send_bytes(encode({"kind": "run", "id": 77}, payload=run))
        seen = ws.ping()
        assert [e["code"] for e in errors_in(seen)] == ["too_large"], summary(seen)
        assert not [m for m in seen if is_event(m, "loaded")]


def test_deeply_nested_json_import_is_invalid_points(client):
    with session(client) as ws:
        text = "[" * 5000 + "]" * 5000
        cid = ws.send("data", **{"import": {"format": "json", "text": text}})
        err = ws.until(lambda m: is_event(m, "error"))
        assert (err["code"], err["field"], err["id"]) == ("invalid_points", "import.text", cid), err
        ws.ping()


def test_points_beyond_float32_are_refused_not_an_engine_failure(client):
    """Finite JSON numbers that overflow float32 are still bad points, not an `internal`
    failure of the engine."""
    for command in (
        {"import": {"format": "csv", "text": "1e300,1e300\n0,0\n"}},
        {"set": {"name": "points", "points": [[1e300, 1e300], [0, 0]]}},
    ):
        with session(client) as ws:
            cid = ws.send("data", **command)
            seen: list[Any] = []
            end = ws.until(lambda m, c=cid: is_event(m, "error") or (
                is_binary(m, "frame") and (m.header["applied"] or 0) >= c), seen=seen)  # fmt: skip
            seen += [end, *ws.ping()]
            internal = [e for e in errors_in(seen) if e["code"] == "internal"]
            assert not internal, (command, internal)
            if is_event(end, "error"):
                assert end["code"] in ("invalid_points", "invalid_config"), end


def test_a_deeply_nested_command_does_not_stall_the_engine():
    """A small message whose `set` nests 600 objects deep: answered like any other, and the
    sessions on the same engine worker keep answering."""
    deep = '{"a": ' * 600 + "1" + "}" * 600
    with make_client() as c, session(c) as a, session(c) as b:
        a.raw.send_text('{"type": "config", "id": 1, "set": ' + deep + "}")
        err = a.until(lambda m: is_event(m, "error"), timeout=5)
        assert err["code"] in CLIENT_ERRORS, err
        a.raw.send_text('{"type": "data", "id": 2, "set": ' + deep + "}")
        err = a.until(lambda m: is_event(m, "error"), timeout=5)
        assert err["code"] in CLIENT_ERRORS, err
        b.ping()
        cid = a.send("step")
        assert a.applied(cid, timeout=10).header["iteration"] == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.text(max_size=12)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)  # fmt: skip


def _or_any(*good: Any) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(good), json_values)


commands = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["play", "pause", "step", "reset", "config", "data",
                                        "speed", "save", "ping", "load"]), st.text(max_size=8))},
    optional={
        "id": _or_any(0, 1, 2**53, -1), "phase": _or_any("d", "g", "both"),
        "sub": _or_any(True, False), "seed": _or_any(0, 5, 2**31),
        "set": _or_any({}, {"seed": 2}, {"name": "ring"}, {"generator": {"layers": 1}}),
        "ips": _or_any(None, 1, 500.5, 0), "fps": _or_any(1, 30, 60, 0),
        "import": _or_any({"format": "csv", "text": "1,2\n3,4"}, {"format": "json"}),
        "extra": json_values,
    },
)  # fmt: skip
REPLIES = {"play": "state", "pause": "state", "step": "ack", "reset": "config",
           "config": "config", "data": "config", "speed": "speed", "save": "saved",
           "ping": "pong"}  # fmt: skip


def test_any_message_gets_its_reply_or_an_error(client):
    with session(client) as ws:
        marks = itertools.count(2**52)

        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
        @given(st.one_of(commands.map(json.dumps), json_values.map(json.dumps),
                         st.text(max_size=30)))  # fmt: skip
        def check(text: str) -> None:
            ws.raw.send_text(text)
            mark = next(marks)
            ws.raw.send_text(json.dumps({"type": "ping", "id": mark}))
            seen: list[Any] = []
            ws.until(lambda m: is_event(m, "pong") and m["id"] == mark, seen=seen)
            errs = errors_in(seen)
            assert all(e["code"] in CLIENT_ERRORS for e in errs), errs
            if errs:
                assert len(errs) == 1, errs
                return
            value = json.loads(text)
            assert isinstance(value, dict), text
            kind = value["type"]
            if kind == "step" and value.get("sub") is True:
                assert any(is_binary(m, "phase") for m in seen), summary(seen)
            else:
                assert any(is_event(m, REPLIES[kind]) for m in seen), (text, summary(seen))

        check()
        ws.send("pause")
        ws.event("state")
        ws.ping()


def test_rate_limit_refuses_a_burst_and_keeps_the_connection():
    with make_client(commands_per_second=5) as c, session(c) as ws:
        for i in range(30):
            ws.raw.send_text(json.dumps({"type": "ping", "id": 1000 + i}))
        replies = [ws.until(lambda m: is_event(m, "pong") or is_event(m, "error"))
                   for _ in range(30)]  # fmt: skip
        limited = [r for r in replies if r["type"] == "error"]
        pongs = [r for r in replies if r["type"] == "pong"]
        assert {r["code"] for r in limited} == {"rate_limited"}
        assert 8 <= len(pongs) <= 20, len(pongs)  # a burst of twice the rate gets through
        assert len(limited) >= 10
        time.sleep(0.5)
        ws.ping()  # the bucket refills; the connection survived
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 1


def test_an_unexpected_failure_on_a_message_answers_an_error_and_keeps_the_connection(
    client, monkeypatch, caplog
):
    import ganlab.live.websocket as endpoint

    real = endpoint.parse_command

    def failing(text: str) -> dict[str, Any]:  # a bug on one kind of message
        if "boom" in text:
            raise KeyError("boom")
        return real(text)

    monkeypatch.setattr(endpoint, "parse_command", failing)
    with session(client) as ws:
        for _ in range(3):
            ws.raw.send_text(json.dumps({"type": "ping", "boom": 1}))
            err = ws.error()
            assert err["code"] == "internal" and "KeyError" in err["message"], err
        ws.ping()
        cid = ws.send("step")
        assert ws.applied(cid).header["iteration"] == 1
    logged = [r for r in caplog.records if "unexpected error" in r.getMessage()
              and r.levelname == "ERROR"]  # fmt: skip
    assert len(logged) == 1, logged  # once, however often the client repeats it
    assert ws.hello["session"] in logged[0].getMessage()
    assert ws.hello["token"] not in caplog.text


# --------------------------------------------------------------------------- divergence, speed


def test_a_diverging_session_pauses_and_another_keeps_training(client):
    with session(client) as calm, session(client) as wild:
        cid = calm.send("play")
        calm.event("state")
        calm.frame(lambda h: h["iteration"] >= 10)

        cid = wild.send("config", set=DIVERGING)
        wild.event("config", cid)
        wild.send("play")
        diverged = wild.event("diverged")
        assert 0 < diverged["iteration"] <= 300 and "NaN" in diverged["message"]
        state = wild.event("state")
        assert state == {"type": "state", "playing": False, "reason": "diverged",
                         "iteration": diverged["iteration"], "d_updates": diverged["iteration"],
                         "g_updates": diverged["iteration"], "id": None}  # fmt: skip
        wild.frame(lambda h: h["iteration"] == diverged["iteration"] and not h["playing"])
        time.sleep(0.2)
        seen = wild.ping()
        assert all(m.header["iteration"] == diverged["iteration"]
                   for m in seen if is_binary(m, "frame"))  # fmt: skip

        # The other session on the same server never stopped (frames after a pong were drawn
        # after the divergence).
        calm.ping()
        calm.frame()
        last = calm.frame().header["iteration"]
        assert calm.frame(lambda h: h["iteration"] >= last + 100).header["playing"]

        # Reset, and the diverged session trains again.
        cid = wild.send("reset")
        wild.event("config", cid)
        cid = wild.send("config", set={"d_optimizer": {"kind": "adam", "lr": 0.001},
                                       "g_optimizer": {"kind": "adam", "lr": 0.001}})  # fmt: skip
        wild.event("config", cid)
        cid = wild.send("step")
        f = wild.applied(cid)
        assert f.header["iteration"] == 1 and np.isfinite(f.arrays["fake"]).all()


def measure(ws: WS, seconds: float) -> tuple[float, list[dict[str, Any]]]:
    """Iterations per second seen over about `seconds` of playing, and the frames' headers."""
    first = ws.frame(lambda h: h["playing"])
    t0, i0 = time.monotonic(), first.header["iteration"]
    headers = []
    while True:
        headers.append(ws.frame().header)
        t1 = time.monotonic()
        if t1 - t0 >= seconds:
            return (headers[-1]["iteration"] - i0) / (t1 - t0), headers


def test_speed_caps_iterations_and_frames(client):
    with session(client) as ws:
        cid = ws.send("speed", ips=50)
        assert ws.event("speed", cid) == {"type": "speed", "ips": 50, "fps": 30, "id": cid}
        ws.send("play")
        ws.event("state")
        capped, headers = measure(ws, 1.5)
        assert 20 <= capped <= 80, capped
        shown = [h["ips"] for h in headers]

        cid = ws.send("speed", ips=None)
        assert ws.event("speed", cid)["ips"] is None
        unlimited, _ = measure(ws, 1.0)
        assert unlimited >= 2 * capped, (capped, unlimited)

        cid = ws.send("speed", fps=5)
        assert ws.event("speed", cid) == {"type": "speed", "ips": None, "fps": 5, "id": cid}
        ws.frame()
        _, headers = measure(ws, 1.5)
        assert 3 <= len(headers) <= 10, len(headers)  # ~7 at 5 frames/s
        ws.send("pause")
        ws.event("state")
        # The frames' `ips` under the cap: "measured iterations per second over the last
        # second" (the first third of the frames left out: the second was not full yet).
        assert 30 <= float(np.median(shown[len(shown) // 3 :])) <= 75, shown


# --------------------------------------------------------------------------- send order


def test_frames_and_events_leave_in_the_order_they_were_made():
    from ganlab.live.websocket import Connection

    class FakeSocket:
        def __init__(self):
            self.sent = []

        async def send_text(self, text):
            self.sent.append(json.loads(text)["n"])

        async def send_bytes(self, data):
            self.sent.append(data.decode())

        async def close(self, code):
            self.sent.append(code)

    class FakeHub:
        credits = 0

        def credit(self, rec):
            self.credits += 1

    async def body():
        ws, hub = FakeSocket(), FakeHub()
        conn = Connection(ws, hub)
        conn.rec = object()
        conn.deliver("frame", b"old")
        conn.deliver("frame", b"f1")  # replaces the unsent one, whose credit comes back
        conn.deliver("text", {"n": "paused"})  # made after f1: must not overtake it
        conn.deliver("frame", b"f2")
        conn.close(1000, {"n": "bye"})
        await asyncio.wait_for(conn.send_loop(), 5)
        return ws.sent, hub.credits

    sent, credits = asyncio.run(body())
    assert sent == ["f1", "paused", "bye", 1000]
    assert credits == 2  # "old" replaced, "f1" sent ("f2" never left: the socket closed)


# --------------------------------------------------------------------------- slow readers


class StalledSocket:
    """A client that reads nothing until `flow` is set: every send waits."""

    def __init__(self) -> None:
        self.flow = asyncio.Event()
        self.sent: list[Any] = []

    async def send_text(self, text: str) -> None:
        await self.flow.wait()
        self.sent.append(json.loads(text))

    async def send_bytes(self, data: bytes) -> None:
        await self.flow.wait()
        self.sent.append(data)

    async def close(self, code: int) -> None:
        self.sent.append(code)


class RecordingHub:
    def __init__(self) -> None:
        self.commands: list[dict[str, Any]] = []

    def command(self, rec: Any, cmd: dict[str, Any], payload: bytes | None = None) -> None:
        self.commands.append(cmd)

    def credit(self, rec: Any) -> None:
        pass


def test_past_its_budget_a_connection_takes_only_ping_and_pause_until_it_reads():
    from types import SimpleNamespace

    from ganlab.live.websocket import OVERDRAFT_MAX, REPLY_ESTIMATE, Connection, Reader

    budget = 1 << 16
    big = {"type": "config", "config": {"points": [[0.5, 0.5]] * 8000}, "id": 1}  # ~100 KB

    async def body() -> None:
        ws, hub = StalledSocket(), RecordingHub()
        conn = Connection(ws, hub, budget)
        conn.rec = SimpleNamespace(sid="s")
        reader = Reader(conn, conn.rec, Settings(max_outgoing_bytes=budget,
                                                 commands_per_second=10_000))  # fmt: skip
        sender = asyncio.create_task(conn.send_loop())

        def send(**cmd: Any) -> bool:
            return reader.receive({"type": "websocket.receive", "text": json.dumps(cmd)})

        conn.deliver("text", big)  # the answer to a config change, not read yet
        await asyncio.sleep(0)  # the sender takes it, and waits on the socket
        assert budget < conn.queued_bytes < 2 * budget
        assert send(type="config", id=2, set={"seed": 3})
        assert send(type="save", id=3) and send(type="step", id=4)
        assert send(type="ping", id=5) and send(type="pause", id=6)
        assert [c["id"] for c in hub.commands] == [5, 6]  # only these went through
        ws.flow.set()  # the client reads
        while conn.queued_bytes:
            await asyncio.sleep(0.01)
        errors = [m for m in ws.sent if isinstance(m, dict) and m.get("type") == "error"]
        assert [(e["code"], e["id"]) for e in errors] == [("busy", 2), ("busy", 3), ("busy", 4)]
        assert "still sending earlier answers" in errors[0]["message"]
        assert send(type="config", id=7, set={"seed": 3})  # read: taken again
        assert hub.commands[-1]["id"] == 7

        # A client that never reads and goes on sending is closed, its answers dropped.
        ws.flow.clear()
        conn.deliver("text", big)
        await asyncio.sleep(0)
        sent = 0
        while send(type="ping", id=8):
            sent += 1
            assert sent <= OVERDRAFT_MAX // REPLY_ESTIMATE, "never closed"
        assert conn.closing == 1008 and conn.queued_bytes < 2 * budget
        ws.flow.set()
        await asyncio.wait_for(sender, TIMEOUT)
        assert ws.sent[-2]["code"] == "busy" and ws.sent[-1] == 1008

    asyncio.run(body())


def test_a_second_save_waits_for_the_first_run_file_to_be_sent():
    from types import SimpleNamespace

    from ganlab.live.websocket import Connection, Reader

    async def body() -> None:
        ws, hub = StalledSocket(), RecordingHub()
        conn = Connection(ws, hub)
        conn.rec = SimpleNamespace(sid="s")
        reader = Reader(conn, conn.rec, Settings(commands_per_second=10_000))
        sender = asyncio.create_task(conn.send_loop())

        def save(cid: int | None) -> None:
            reader.receive(
                {"type": "websocket.receive", "text": json.dumps({"type": "save", "id": cid})}
            )

        save(1)
        save(2)  # the first is not answered yet
        conn.deliver("text", {"type": "saved", "filename": "x", "bytes": 3, "id": 1})
        conn.deliver("binary", b"run")
        save(3)  # answered, but its run file not sent
        ws.flow.set()
        while conn.queued_bytes:
            await asyncio.sleep(0.01)
        save(4)  # sent: another may go
        conn.deliver("text", {"type": "error", "code": "internal", "message": "x", "id": 4})
        save(None)  # the engine refused the last one: no run file comes
        assert [c["id"] for c in hub.commands] == [1, 4, None]
        busy = [m["id"] for m in ws.sent if isinstance(m, dict) and m.get("code") == "busy"]
        assert busy == [2, 3]
        sender.cancel()

    asyncio.run(body())


def test_a_client_that_reads_nothing_holds_no_more_than_its_budget_in_the_server():
    """Over real sockets (the TestClient's transport never makes the server wait): a client
    asks for a dozen saves of a 5 MB run and reads nothing; the server's queue for it stays
    within max_outgoing_bytes, the saves it cannot take are refused as busy, and once the
    client reads, every save has its answer and saving works again."""
    import socket

    import uvicorn
    from websockets.asyncio.client import connect as ws_connect

    budget = 8 << 20
    wide = {"layers": 4, "neurons": 256}  # a run file of about 5 MB

    async def body() -> None:
        app = create_app(Settings(workers=0, device="cpu", max_outgoing_bytes=budget,
                                  commands_per_second=10_000))  # fmt: skip
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, ws="websockets-sansio", log_config=None,
                                               lifespan="on"))  # fmt: skip
        serving = asyncio.create_task(server.serve(sockets=[listener]))
        try:
            await until(lambda: server.started or serving.done())
            client = socket.socket()
            client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 14)
            client.connect(("127.0.0.1", port))
            async with ws_connect(f"ws://127.0.0.1:{port}/ws", sock=client, max_size=None,
                                  max_queue=1) as ws:  # fmt: skip
                hello = json.loads(await ws.recv())
                await ws.send(
                    json.dumps(
                        {
                            "type": "config",
                            "id": 1,
                            "set": {"generator": wide, "discriminator": wide},
                        }
                    )
                )
                await read_until(ws, lambda m: is_event(m, "config") and m["id"] == 1)
                conn = app.state.hub.sessions[hello["session"]].client
                peak, delivered = 0, []
                deliver = conn.deliver

                def spy(kind: str, data: Any) -> None:  # the queue at its fullest
                    nonlocal peak
                    deliver(kind, data)
                    peak = max(peak, held(conn))
                    delivered.append(data if kind == "text" else kind)

                conn.deliver = spy
                saves = list(range(100, 112))
                for cid in saves:
                    await ws.send(json.dumps({"type": "save", "id": cid}))
                await ws.send(json.dumps({"type": "ping", "id": 999}))
                # Not reading: wait until the server has answered everything asked.
                await until(lambda: any(is_event(d, "pong") and d["id"] == 999
                                        for d in delivered))  # fmt: skip
                assert peak <= budget, f"{peak / 2**20:.1f} MiB queued for a client not reading"
                seen = await read_until(ws, lambda m: is_event(m, "pong") and m["id"] == 999)
                answers = {m["id"]: m for m in seen
                           if isinstance(m, dict) and m.get("id") in saves}  # fmt: skip
                assert sorted(answers) == saves  # every save answered: saved, or busy
                busy = [m for m in answers.values() if m["type"] == "error"]
                assert busy and all(m["code"] == "busy" for m in busy), busy
                runs = [m for m in seen if isinstance(m, Message) and m.header["kind"] == "run"]
                assert len(runs) == len(answers) - len(busy) > 0
                assert len(runs[0].payload) > 4 << 20
                await ws.send(json.dumps({"type": "save", "id": 200}))
                seen = await read_until(ws, lambda m: is_binary(m, "run"))
                assert any(is_event(m, "saved") and m["id"] == 200 for m in seen)
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, TIMEOUT)

    asyncio.run(body())


def held(conn: Any) -> int:
    """Bytes a connection holds for its client: its queue and its frame waiting (text as
    JSON), and the message it is sending."""
    items = [d for _, d in conn.queue] + ([conn.frame] if conn.frame is not None else [])
    size = sum(len(d) if isinstance(d, (bytes, str)) else len(json.dumps(d)) for d in items)
    return size + getattr(conn, "sending", 0)


async def until(cond: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.01)


async def read_until(ws: Any, pred: Callable[[Any], bool]) -> list[Any]:
    """Reads (text as dicts, binary decoded) up to and including a message for `pred`."""
    seen: list[Any] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), TIMEOUT)
        seen.append(json.loads(raw) if isinstance(raw, str) else decode(raw))
        if pred(seen[-1]):
            return seen


def test_the_fps_setting_is_a_new_sessions_frame_rate():
    with make_client(fps=12) as client, session(client) as ws:
        assert ws.hello["speed"]["fps"] == 12


# --------------------------------------------------------------------------- history


def test_seek_branch_and_live_through_the_real_app(client):
    with session(client) as ws:
        assert ws.hello["timeline"]["head"] == 0 and ws.hello["timeline"]["live"] is True
        for _ in range(30):
            ws.send("step")
        ws.applied(ws.send("ping") - 1)
        at = {}
        for n in (10, 30):  # what the live run showed at 10 is what a seek there shows
            cid = ws.send("seek", iteration=n)
            tl = ws.event("timeline", cid)
            assert tl["iteration"] == n and tl["head"] == 30 and tl["live"] is (n == 30)
            f = ws.applied(cid)
            assert f.header["iteration"] == n and f.header["live"] is (n == 30)
            at[n] = f.arrays["fake"]
        cid = ws.send("seek", iteration=31)
        err = ws.error(cid)
        assert err["code"] == "bad_seek" and "0..30" in err["message"]
        cid = ws.send("seek", iteration=10)
        assert np.array_equal(ws.applied(cid).arrays["fake"], at[10])

        cid = ws.send("branch", set={"g_optimizer": {"lr": 0.004}})
        config = ws.event("config", cid)
        assert "branch" in config["rebuilt"] and config["config"]["g_optimizer"]["lr"] == 0.004
        assert ws.binary("history").header["kind"] == "history"
        tl = ws.event("timeline", cid)
        assert [b["from"] for b in tl["branches"]] == [0, 10] and tl["branch"] == 1
        f = ws.applied(cid)
        assert (f.header["iteration"], f.header["branch"], f.header["live"]) == (10, 1, True)
        for _ in range(5):
            ws.send("step")
        cid = ws.send("live", branch=0)
        ws.event("config", cid)
        f = ws.applied(cid)
        assert (f.header["iteration"], f.header["branch"]) == (30, 0)
        assert np.array_equal(f.arrays["fake"], at[30])  # the original is untouched
        cid = ws.send("live", branch=1)
        assert ws.applied(cid).header["iteration"] == 15
        cid = ws.send("seek", iteration="ten")
        assert ws.error(cid)["code"] == "bad_message"
        ws.ping()  # the session goes on


def test_the_history_budget_setting_reaches_each_session():
    with make_client(history_bytes=123_456) as c, session(c) as ws:
        assert ws.hello["timeline"]["budget"] == 123_456
