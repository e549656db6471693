import multiprocessing
import threading
import time

import pytest

from ganlab.frames import decode
from ganlab.session import Session
from ganlab.worker import serve

SMALL = {"generator": {"neurons": 8}, "discriminator": {"neurons": 8}, "device": "cpu",
         "view": {"grid": 16, "fakes": 24, "reals": 24}}  # fmt: skip


@pytest.fixture
def worker():
    conn, child = multiprocessing.Pipe()
    thread = threading.Thread(target=serve, args=(child, 0), daemon=True)
    thread.start()
    assert conn.recv()[0] == "ready"
    yield conn
    conn.send(("stop",))
    thread.join(5)
    assert not thread.is_alive()


def read_until(conn, pred, timeout=20.0):
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.poll(0.1):
            msg = conn.recv()
            seen.append(msg)
            if msg[0] == "frame":
                conn.send(("credit", msg[1]))
            if pred(msg):
                return msg, seen
    raise AssertionError(f"condition not met; last messages {[m[:2] for m in seen[-5:]]}")


def test_sessions_train_in_turn_and_stream_frames(worker):
    for sid in ("a", "b"):
        worker.send(("create", sid, SMALL, {}))
        worker.send(("attach", sid, {"session": sid}))
        worker.send(("command", sid, {"type": "play"}, None))
    done = set()

    def both_advanced(msg):
        if msg[0] == "frame" and decode(msg[2]).header["iteration"] >= 50:
            done.add(msg[1])
        return done == {"a", "b"}

    read_until(worker, both_advanced)


def test_refused_command_answers_an_error_with_its_id(worker):
    worker.send(("create", "a", SMALL, {}))
    worker.send(("attach", "a", {}))
    worker.send(("command", "a", {"type": "config", "id": 4, "set": {"seed": -1}}, None))
    msg, _ = read_until(worker, lambda m: m[0] == "text" and m[2]["type"] == "error")
    assert msg[2]["code"] == "invalid_config" and msg[2]["field"] == "seed" and msg[2]["id"] == 4


def test_a_failing_session_does_not_stop_the_others(worker, monkeypatch):
    original = Session._cmd_save

    def broken(self, cmd, payload):
        if self.sid == "bad":
            raise RuntimeError("boom")
        return original(self, cmd, payload)

    monkeypatch.setattr(Session, "_cmd_save", broken)
    for sid in ("bad", "good"):
        worker.send(("create", sid, SMALL, {}))
        worker.send(("attach", sid, {}))
    worker.send(("command", "bad", {"type": "save"}, None))
    msg, _ = read_until(worker, lambda m: m[0] == "text" and m[2]["type"] == "error")
    assert msg[1] == "bad" and msg[2]["code"] == "internal" and "boom" in msg[2]["message"]
    worker.send(("command", "good", {"type": "step"}, None))
    worker.send(("command", "bad", {"type": "step"}, None))
    got = set()

    def stepped(m):
        if m[0] == "text" and m[2]["type"] == "ack":
            got.add(m[1])
        return got == {"bad", "good"}

    read_until(worker, stepped)


def test_detached_session_pauses_and_dropped_one_is_gone(worker):
    worker.send(("create", "a", SMALL, {}))
    worker.send(("attach", "a", {}))
    worker.send(("command", "a", {"type": "play"}, None))
    read_until(worker, lambda m: m[0] == "frame" and decode(m[2]).header["iteration"] > 5)
    worker.send(("detach", "a"))
    worker.send(("attach", "a", {}))
    msg, _ = read_until(worker, lambda m: m[0] == "text" and m[2]["type"] == "hello")
    assert msg[2]["playing"] is False
    worker.send(("drop", "a"))
    worker.send(("command", "a", {"type": "ping"}, None))
    worker.send(("create", "z", SMALL, {}))
    worker.send(("attach", "z", {}))
    _, seen = read_until(worker, lambda m: m[0] == "text" and m[1] == "z")
    assert not any(m[1] == "a" and m[0] == "text" and m[2]["type"] == "pong" for m in seen)
