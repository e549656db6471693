import multiprocessing
import pickle
import threading
import time

import pytest

import ganlab.live.engine_process
from ganlab.live.engine_messages import (
    Attach,
    Batch,
    Command,
    Create,
    Credit,
    Detach,
    Drop,
    Export,
    Exported,
    ExportFailed,
    Failed,
    Frame,
    Heartbeat,
    Import,
    Ready,
    Stop,
    Text,
    unbatched,
)
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
    assert isinstance(conn.recv(), Ready)
    yield conn
    conn.send(Stop())
    thread.join(5)
    assert not thread.is_alive()


def read_until(conn, pred, timeout=20.0):
    seen = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if conn.poll(0.1):
            got = conn.recv()
            # A round's messages come as one Batch([...]).
            for msg in unbatched(got):  # a round's messages come as one Batch
                seen.append(msg)
                if isinstance(msg, Frame):
                    conn.send(Credit(msg.sid))
                if pred(msg):
                    return msg, seen
    raise AssertionError(f"condition not met; last messages {seen[-5:]}")


def test_sessions_train_in_turn_and_stream_frames(worker):
    for sid in ("a", "b"):
        worker.send(Create(sid, SMALL, {}))
        worker.send(Attach(sid, {"session": sid}))
        worker.send(Command(sid, {"type": "play"}))
    done = set()

    def both_advanced(msg):
        if isinstance(msg, Frame) and decode(msg.data).header["iteration"] >= 50:
            done.add(msg.sid)
        return done == {"a", "b"}

    read_until(worker, both_advanced)


def test_refused_command_answers_an_error_with_its_id(worker):
    worker.send(Create("a", SMALL, {}))
    worker.send(Attach("a", {}))
    worker.send(Command("a", {"type": "config", "id": 4, "set": {"seed": -1}}))
    msg, _ = read_until(worker, lambda m: isinstance(m, Text) and m.event["type"] == "error")
    assert (
        msg.event["code"] == "invalid_config"
        and msg.event["field"] == "seed"
        and msg.event["id"] == 4
    )


def test_a_failing_session_does_not_stop_the_others(worker, monkeypatch):
    original = Session._cmd_save

    def broken(self, cmd, payload):
        if self.sid == "bad":
            raise RuntimeError("boom")
        return original(self, cmd, payload)

    monkeypatch.setattr(Session, "_cmd_save", broken)
    for sid in ("bad", "good"):
        worker.send(Create(sid, SMALL, {}))
        worker.send(Attach(sid, {}))
    worker.send(Command("bad", {"type": "save"}))
    msg, _ = read_until(worker, lambda m: isinstance(m, Text) and m.event["type"] == "error")
    assert msg.sid == "bad" and msg.event["code"] == "internal" and "boom" in msg.event["message"]
    worker.send(Command("good", {"type": "step"}))
    worker.send(Command("bad", {"type": "step"}))
    got = set()

    def stepped(m):
        if isinstance(m, Text) and m.event["type"] == "ack":
            got.add(m.sid)
        return got == {"bad", "good"}

    read_until(worker, stepped)


def test_detached_session_pauses_and_dropped_one_is_gone(worker):
    worker.send(Create("a", SMALL, {}))
    worker.send(Attach("a", {}))
    worker.send(Command("a", {"type": "play"}))
    read_until(worker, lambda m: isinstance(m, Frame) and decode(m.data).header["iteration"] > 5)
    worker.send(Detach("a"))
    worker.send(Attach("a", {}))
    msg, _ = read_until(worker, lambda m: isinstance(m, Text) and m.event["type"] == "hello")
    assert msg.event["playing"] is False
    worker.send(Drop("a"))
    worker.send(Command("a", {"type": "ping"}))
    worker.send(Create("z", SMALL, {}))
    worker.send(Attach("z", {}))
    _, seen = read_until(worker, lambda m: isinstance(m, Text) and m.sid == "z")
    assert not any(isinstance(m, Text) and m.sid == "a" and m.event["type"] == "pong" for m in seen)


def playing(sid, config=SMALL, ips=None):
    s = Session(sid, config)
    s.attach({})
    s.playing = True
    s.pacing.cap(ips)
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
        worker.send(Create(sid, config, {}))
        worker.send(Attach(sid, {}))
        worker.send(Command(sid, {"type": "play"}))
    done = set()

    def all_far(msg):
        if isinstance(msg, Frame) and decode(msg.data).header["iteration"] >= 300:
            done.add(msg.sid)
        return done == {"a", "b", "c"}

    _, seen = read_until(worker, all_far)
    # a and b stepped in pairs; c, of another shape, alone (never through the group path).
    assert calls and set(calls) == {2}
    # After the group path broke, every session went on training alone, with no error.
    assert len(calls) > 20
    assert not any(isinstance(m, Text) and m.event["type"] == "error" for m in seen)


def test_load_reports_and_a_session_exported_then_imported_elsewhere(worker, monkeypatch):
    monkeypatch.setattr(ganlab.live.engine_process, "LOAD_SETTLED", 0.0)
    worker.send(Create("a", SMALL, {}))
    worker.send(Create("capped", SMALL, {}))
    for sid in ("a", "capped"):
        worker.send(Attach(sid, {}))
        worker.send(Command(sid, {"type": "play"}))
    worker.send(Command("capped", {"type": "speed", "ips": 50}))
    # A load report lists the playing sessions without a speed cap, with their group keys.
    msg, _ = read_until(worker, lambda m: isinstance(m, Heartbeat) and m.load and m.load[0][1] > 0)
    assert [row[0] for row in msg.load] == ["a"] and msg.load[0][2] is not None
    # Exported, the session leaves this worker whole...
    worker.send(Export("a"))
    exported, _ = read_until(worker, lambda m: isinstance(m, Exported))
    moved_at = pickle.loads(exported.blob).trainer.iteration
    worker.send(Command("a", {"type": "ping"}))
    worker.send(Export("a"))
    failed, seen = read_until(worker, lambda m: isinstance(m, ExportFailed))
    assert failed.sid == "a" and not any(isinstance(m, Text) and m.sid == "a" for m in seen)
    # A paused session stays where it is (moving it would gain nothing).
    worker.send(Command("capped", {"type": "pause"}))
    worker.send(Export("capped"))
    failed, _ = read_until(worker, lambda m: isinstance(m, ExportFailed))
    assert failed.sid == "capped"
    worker.send(Command("capped", {"type": "ping"}))
    read_until(
        worker, lambda m: isinstance(m, Text) and m.sid == "capped" and m.event["type"] == "pong"
    )
    # ...and another worker takes it in and goes on from where it was.
    conn, child = multiprocessing.Pipe()
    thread = threading.Thread(target=serve, args=(child, 0), daemon=True)
    thread.start()
    try:
        assert isinstance(conn.recv(), Ready)
        conn.send(Import("a", exported.blob, "ab" * 32))
        conn.send(Credit("a"))
        frame, _ = read_until(conn, lambda m: isinstance(m, Frame) and m.sid == "a")
        assert decode(frame.data).header["iteration"] >= moved_at > 0
        conn.send(Import("b", b"not a session", "ab" * 32))
        bad, _ = read_until(conn, lambda m: isinstance(m, Failed))
        assert bad.sid == "b" and "moving the session failed" in bad.message
    finally:
        conn.send(Stop())
        thread.join(5)


def test_a_round_answers_in_one_message_and_a_batch_of_commands_is_taken_in_order(worker):
    worker.send(Batch([Create("a", SMALL, {}), Attach("a", {"session": "a"}),
                           Command("a", {"type": "ping", "id": 7})]))  # fmt: skip
    while isinstance(got := worker.recv(), Heartbeat):
        pass
    # The greeting, the answer to the ping and the first frame were made in one round.
    assert isinstance(got, Batch)
    kinds = [
        (type(m).__name__, m.event["type"] if isinstance(m, Text) else None) for m in got.items
    ]
    assert kinds[0] == ("Text", "hello") and ("Text", "pong") in kinds and ("Frame", None) in kinds
    assert kinds.index(("Text", "hello")) < kinds.index(("Text", "pong"))


# A session at about 0.15 s per iteration (limits raised so the engine takes it).
HOG = {"generator": {"layers": 6, "neurons": 512}, "discriminator": {"layers": 6, "neurons": 512},
       "training": {"batch_size": 256}, "device": "cpu"}  # fmt: skip
HOG_LIMITS = {"iteration_gflop": 100.0, "picture_gflop": 100.0}


def test_a_costly_sessions_commands_wait_for_its_turn_and_the_neighbour_answers_at_once(worker):
    worker.send(Create("hog", HOG, HOG_LIMITS))
    worker.send(Create("honest", SMALL, {}))
    for sid in ("hog", "honest"):
        worker.send(Attach(sid, {}))
    worker.send(Command("honest", {"type": "play"}))
    read_until(worker, lambda m: isinstance(m, Frame) and m.sid == "honest")
    # 30 costly steps (4-5 s of work) in one go, then a ping from the neighbour.
    worker.send(Batch([Command("hog", {"type": "step", "id": i}) for i in range(30)]))
    sent = time.monotonic()
    worker.send(Command("honest", {"type": "ping", "id": 99}))
    _, seen = read_until(worker, lambda m: isinstance(m, Text) and m.event["type"] == "pong")
    assert time.monotonic() - sent < 1.5
    # The neighbour kept drawing meanwhile, and the costly session had not done all its steps.
    acks = [m for m in seen if isinstance(m, Text) and m.sid == "hog" and m.event["type"] == "ack"]
    assert len(acks) < 30


def test_commands_waiting_when_the_client_leaves_are_dropped(worker):
    worker.send(Create("hog", HOG, HOG_LIMITS))
    worker.send(Attach("hog", {}))
    worker.send(Batch([Command("hog", {"type": "step"}) for _ in range(20)] + [Detach("hog")]))
    worker.send(Attach("hog", {}))
    hello, _ = read_until(worker, lambda m: isinstance(m, Text) and m.event["type"] == "hello")
    assert hello.event["iteration"] < 20


def test_more_than_max_pending_commands_are_refused_as_busy(worker):
    worker.send(Create("hog", HOG, HOG_LIMITS))
    worker.send(Attach("hog", {}))
    n = ganlab.live.engine_process.MAX_PENDING + 8
    worker.send(Batch([Command("hog", {"type": "step", "id": i}) for i in range(n)]))
    busy = []

    def refused(m):
        if isinstance(m, Text) and m.event["type"] == "error" and m.event["code"] == "busy":
            busy.append(m.event["id"])
        return len(busy) >= 7

    read_until(worker, refused)
    assert all(i >= n - 8 for i in busy)  # the last ones, not the first


def test_a_costly_playing_session_still_draws_its_frames_and_so_does_its_neighbour(worker):
    worker.send(Create("hog", HOG, HOG_LIMITS))
    worker.send(Create("honest", SMALL, {}))
    for sid in ("hog", "honest"):
        worker.send(Attach(sid, {}))
        worker.send(Command(sid, {"type": "play"}))
    seen = {"hog": 0, "honest": 0}

    def both_drew(m):
        if isinstance(m, Frame) and decode(m.data).header["iteration"] > 0:
            seen[m.sid] += 1
        return seen["hog"] >= 3 and seen["honest"] >= 10

    read_until(worker, both_drew)


def test_memory_is_handed_back_after_a_config_change_and_a_drop(monkeypatch):
    from ganlab.live.memory import MemoryReleaser

    trims = []

    def releaser() -> MemoryReleaser:
        return MemoryReleaser(every=0.0, release=lambda: trims.append(1) or True)

    monkeypatch.setattr(ganlab.live.engine_process, "MemoryReleaser", releaser)
    conn, child = multiprocessing.Pipe()
    thread = threading.Thread(target=serve, args=(child, 0), daemon=True)
    thread.start()
    try:
        assert isinstance(conn.recv(), Ready)
        conn.send(Create("a", SMALL, {}))
        conn.send(Attach("a", {}))
        conn.send(Command("a", {"type": "ping"}))
        read_until(conn, lambda m: isinstance(m, Text) and m.event["type"] == "pong")
        assert trims == []  # nothing freed yet
        conn.send(Command("a", {"type": "config", "set": {"generator": {"neurons": 12}}}))
        read_until(conn, lambda m: isinstance(m, Text) and m.event["type"] == "config")
        conn.send(Command("a", {"type": "ping", "id": 5}))
        read_until(conn, lambda m: isinstance(m, Text) and m.event.get("id") == 5)
        read_until(conn, lambda m: len(trims) == 1)
        conn.send(Drop("a"))
        conn.send(Create("b", SMALL, {}))
        conn.send(Attach("b", {}))
        read_until(conn, lambda m: len(trims) == 2)  # heartbeats come every HEARTBEAT s
    finally:
        conn.send(Stop())
        thread.join(5)
