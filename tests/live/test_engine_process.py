import multiprocessing
import pickle
import threading
import time

import pytest

import ganlab.live.engine_process
from ganlab.live.engine_process import serve, train_together
from ganlab.live.session import Session
from ganlab.wire.envelope import decode

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
            got = conn.recv()
            # A round's messages come as one ("batch", [...]).
            for msg in got[1] if got[0] == "batch" else [got]:
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


def playing(sid, config=SMALL, ips=None):
    s = Session(sid, config)
    s.attach({})
    s.playing = True
    s.ips = ips
    return s


def test_sessions_of_one_shape_step_together_within_their_caps():
    sessions = [playing("a"), playing("b"), playing("c", ips=40.0)]
    start = time.perf_counter()
    while time.perf_counter() - start < 0.5:
        out = train_together([(s.sid, s) for s in sessions], sharing=3)
        assert [sid for sid, _ in out] == ["a", "b", "c"]
    it = [s.trainer.iteration for s in sessions]
    assert it[0] == it[1] > 40  # uncapped members step every time
    assert 10 <= it[2] <= 40 * 0.5 + 3  # the capped one keeps to its 40 iterations/s
    assert sessions[0].measured_ips() > 0


def test_worker_groups_sessions_by_shape_and_falls_back_when_a_group_fails(worker, monkeypatch):
    calls = []
    real = ganlab.live.engine_process.step_together

    def counting(runs):
        calls.append(len(runs))
        if len(calls) > 20:
            raise RuntimeError("group failure")
        return real(runs)

    monkeypatch.setattr(ganlab.live.engine_process, "step_together", counting)
    monkeypatch.setattr(ganlab.live.engine_process, "GROUP_BACKOFF", 0.05)
    other = {**SMALL, "generator": {"neurons": 4}}
    for sid, config in (("a", SMALL), ("b", SMALL), ("c", other)):
        worker.send(("create", sid, config, {}))
        worker.send(("attach", sid, {}))
        worker.send(("command", sid, {"type": "play"}, None))
    done = set()

    def all_far(msg):
        if msg[0] == "frame" and decode(msg[2]).header["iteration"] >= 300:
            done.add(msg[1])
        return done == {"a", "b", "c"}

    _, seen = read_until(worker, all_far)
    # a and b stepped in pairs; c, of another shape, alone (never through the group path).
    assert calls and set(calls) == {2}
    # After the group path broke, every session went on training alone, with no error.
    assert len(calls) > 20
    assert not any(m[0] == "text" and m[2]["type"] == "error" for m in seen)


def test_load_reports_and_a_session_exported_then_imported_elsewhere(worker, monkeypatch):
    monkeypatch.setattr(ganlab.live.engine_process, "LOAD_SETTLED", 0.0)
    worker.send(("create", "a", SMALL, {}))
    worker.send(("create", "capped", SMALL, {}))
    for sid in ("a", "capped"):
        worker.send(("attach", sid, {}))
        worker.send(("command", sid, {"type": "play"}, None))
    worker.send(("command", "capped", {"type": "speed", "ips": 50}, None))
    # A load report lists the playing sessions without a speed cap, with their group keys.
    msg, _ = read_until(worker, lambda m: m[0] == "load" and m[1] and m[1][0][1] > 0)
    assert [row[0] for row in msg[1]] == ["a"] and msg[1][0][2] is not None
    # Exported, the session leaves this worker whole...
    worker.send(("export", "a"))
    exported, _ = read_until(worker, lambda m: m[0] == "exported")
    moved_at = pickle.loads(exported[2]).trainer.iteration
    worker.send(("command", "a", {"type": "ping"}, None))
    worker.send(("export", "a"))
    failed, seen = read_until(worker, lambda m: m[0] == "export_failed")
    assert failed[1] == "a" and not any(m[0] == "text" and m[1] == "a" for m in seen)
    # A paused session stays where it is (moving it would gain nothing).
    worker.send(("command", "capped", {"type": "pause"}, None))
    worker.send(("export", "capped"))
    failed, _ = read_until(worker, lambda m: m[0] == "export_failed")
    assert failed[1] == "capped"
    worker.send(("command", "capped", {"type": "ping"}, None))
    read_until(worker, lambda m: m[0] == "text" and m[1] == "capped" and m[2]["type"] == "pong")
    # ...and another worker takes it in and goes on from where it was.
    conn, child = multiprocessing.Pipe()
    thread = threading.Thread(target=serve, args=(child, 0), daemon=True)
    thread.start()
    try:
        assert conn.recv()[0] == "ready"
        conn.send(("import", "a", exported[2]))
        conn.send(("credit", "a"))
        frame, _ = read_until(conn, lambda m: m[0] == "frame" and m[1] == "a")
        assert decode(frame[2]).header["iteration"] >= moved_at > 0
        conn.send(("import", "b", b"not a session"))
        bad, _ = read_until(conn, lambda m: m[0] == "failed")
        assert bad[1] == "b" and "moving the session failed" in bad[2]
    finally:
        conn.send(("stop",))
        thread.join(5)


def test_a_round_answers_in_one_message_and_a_batch_of_commands_is_taken_in_order(worker):
    worker.send(("batch", [("create", "a", SMALL, {}), ("attach", "a", {"session": "a"}),
                           ("command", "a", {"type": "ping", "id": 7}, None)]))  # fmt: skip
    got = worker.recv()
    # The greeting, the answer to the ping and the first frame were made in one round.
    assert got[0] == "batch"
    kinds = [(m[0], m[2]["type"] if m[0] == "text" else None) for m in got[1]]
    assert kinds[0] == ("text", "hello") and ("text", "pong") in kinds and ("frame", None) in kinds
    assert kinds.index(("text", "hello")) < kinds.index(("text", "pong"))
