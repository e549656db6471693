"""When an engine process checkpoints its sessions (checkpointing.py): only changed sessions,
at most every `every` seconds, the most overdue first; writes in order on their own thread."""

import logging

import pytest

from ganlab.live.checkpointing import Checkpointing
from ganlab.live.checkpoints import CheckpointStore

DIGEST = "ab" * 32


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeSession:
    """What a checkpoint needs of a session: a revision and its bytes."""

    def __init__(self, name):
        self.name, self.rev, self.saves, self.fail = name, 0, 0, False

    def revision(self):
        return self.rev

    def checkpoint(self, token_sha256):
        if self.fail:
            raise ValueError("run files refuse NaN")
        self.saves += 1
        return f"{self.name}:{self.rev}:{token_sha256}".encode()


@pytest.fixture
def setup(tmp_path):
    clock = Clock()
    ck = Checkpointing(CheckpointStore(tmp_path, 1 << 20), every=10.0, clock=clock)
    yield ck, clock
    ck.close(5)


def test_only_changed_sessions_are_due_and_not_before_every_seconds(setup):
    ck, clock = setup
    a, b = FakeSession("a"), FakeSession("b")
    sessions = {"a": a, "b": b}
    ck.seated("a", DIGEST, saved=0)  # restored: its revision is on disk already
    ck.seated("b", DIGEST)  # new: never saved
    assert ck.due(sessions) is None  # not `every` seconds yet
    clock.now += 9.9
    assert ck.due(sessions) is None
    clock.now += 0.1
    assert ck.due(sessions) == "b"  # a is unchanged since its checkpoint
    ck.save("b", b)
    assert ck.due(sessions) is None
    a.rev = 1
    assert ck.due(sessions) == "a"
    ck.save("a", a)
    b.rev = 5
    clock.now += 9.0
    assert ck.due(sessions) is None  # changed, but saved 9 s ago
    clock.now += 1.0
    assert ck.due(sessions) == "b"


def test_the_most_overdue_goes_first(setup):
    ck, clock = setup
    sessions = {sid: FakeSession(sid) for sid in "xyz"}
    for sid in ("y", "z", "x"):  # seated a second apart, in this order
        ck.seated(sid, DIGEST)
        clock.now += 1
    clock.now += 20
    order = []
    while (sid := ck.due(sessions)) is not None:
        order.append(sid)
        ck.save(sid, sessions[sid])
    assert order == ["y", "z", "x"]


def test_saves_and_deletions_reach_the_disk_in_order(tmp_path):
    clock = Clock()
    store = CheckpointStore(tmp_path, 1 << 20)
    ck = Checkpointing(store, every=10.0, clock=clock)
    s = FakeSession("s")
    ck.seated("s", DIGEST)
    for rev in range(1, 4):
        s.rev = rev
        ck.save("s", s)
    ck.seated("gone", DIGEST)
    ck.save("gone", FakeSession("gone"))
    ck.forget("gone", delete=True)  # after its save: the file must not come back
    ck.seated("moved", DIGEST)
    ck.save("moved", FakeSession("moved"))
    ck.forget("moved", delete=False)  # moved to another process: the checkpoint stays
    assert ck.close(10)
    assert store.load("s") == f"s:3:{DIGEST}".encode()
    assert store.load("gone") is None and store.load("moved") is not None
    assert ck.due({"moved": FakeSession("moved")}) is None  # forgotten here


def test_save_changed_saves_every_changed_session_however_recent(setup):
    ck, _ = setup
    a, b, c = FakeSession("a"), FakeSession("b"), FakeSession("c")
    ck.seated("a", DIGEST, saved=0)
    ck.seated("b", DIGEST, saved=0)
    ck.seated("c", DIGEST)
    b.rev = 2
    assert ck.save_changed({"a": a, "b": b, "c": c}) == 2
    assert (a.saves, b.saves, c.saves) == (0, 1, 1)
    assert ck.save_changed({"a": a, "b": b, "c": c}) == 0


def test_a_session_that_cannot_be_saved_is_logged_once_and_not_retried(setup, caplog):
    ck, clock = setup
    s = FakeSession("s")
    s.fail = True
    ck.seated("s", DIGEST)
    clock.now += 10
    with caplog.at_level(logging.WARNING, "ganlab.checkpoints"):
        ck.save("s", s)
        clock.now += 10
        assert ck.due({"s": s}) is None  # the same revision: not tried again
    assert [r.getMessage() for r in caplog.records] == ["session s not checkpointed: run files "
                                                         "refuse NaN"]  # fmt: skip


class FullDisk(CheckpointStore):
    """A disk that is full for the first `failures` writes."""

    failures = 2

    def save(self, sid, data):
        if self.failures:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        super().save(sid, data)


def test_a_failing_disk_is_logged_and_the_writer_goes_on(tmp_path, caplog):
    store = FullDisk(tmp_path, 1 << 20)
    ck = Checkpointing(store, every=1.0)
    with caplog.at_level(logging.ERROR, "ganlab.checkpoints"):
        for sid in ("s", "t", "u"):
            ck.seated(sid, DIGEST)
            ck.save(sid, FakeSession(sid))
        assert ck.close(10)
    lines = [r.getMessage() for r in caplog.records]
    # Two failures, one line (the second is counted for the next); the third write lands.
    assert len(lines) == 1 and "session s not written: [Errno 28] No space" in lines[0]
    assert store.sids() == ["u"]
