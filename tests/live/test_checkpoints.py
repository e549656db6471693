"""Checkpoints of live sessions: the store on disk (atomic writes, a disk budget, checked ids)
and what a checkpoint holds (Session.checkpoint / Session.restore)."""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from session_helpers import SMALL, play

from ganlab.engine import runfile
from ganlab.engine.runfile import RunFileError
from ganlab.engine.timeline import Policy, capture
from ganlab.live.checkpoints import CheckpointStore, default_directory, token_digest
from ganlab.live.session import Limits, Session

TOKEN = "resume-token-of-the-test"
DIGEST = token_digest(TOKEN)


def trained(sid="s1", n=30):
    s = Session(sid, SMALL)
    s.attach({"session": sid, "token": TOKEN})
    play(s, n)
    return s


def same_state(a, b, of=capture):
    ca, cb = of(a), of(b)
    assert ca.keys() == cb.keys()
    for k in ca:
        assert torch.equal(ca[k], cb[k]), k


# ---------------------------------------------------------------- the store on disk
# The child process writes a checkpoint slowly, in chunks, through the store's own save:
# the parent kills it with SIGKILL while the temporary file is part written.
SLOW_WRITER = textwrap.dedent("""
    import os, sys, time
    import ganlab.live.checkpoints as ck

    real_fdopen = os.fdopen

    class Slow:
        def __init__(self, f):
            self.f = f
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self.f.__exit__(*exc)
        def write(self, data):
            for i in range(0, len(data), 1 << 16):
                self.f.write(data[i : i + (1 << 16)])
                self.f.flush()
                time.sleep(0.002)
        def __getattr__(self, name):
            return getattr(self.f, name)

    ck.os.fdopen = lambda fd, mode: Slow(real_fdopen(fd, mode))
    store = ck.CheckpointStore(sys.argv[1], 1 << 30)
    store.save(sys.argv[2], b"B" * int(sys.argv[3]))
""")


def kill_mid_write(directory: Path, sid: str, size: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "server")}
    child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(directory), sid, str(size)],
                             stdout=subprocess.DEVNULL, env=env)  # fmt: skip
    deadline = time.monotonic() + 30
    try:
        while not partly_written(directory, size):  # whatever name the bytes go to
            assert child.poll() is None, "the writer ended before it could be killed"
            assert time.monotonic() < deadline, "the writer never started writing"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL


def partly_written(directory: Path, size: int) -> bool:
    for p in directory.iterdir():
        try:
            with p.open("rb") as f:
                if 0 < os.fstat(f.fileno()).st_size < size and f.read(1) == b"B":
                    return True
        except FileNotFoundError:  # renamed meanwhile
            continue
    return False


@pytest.mark.parametrize("previous", [True, False])
def test_a_writer_killed_mid_write_leaves_the_previous_checkpoint_or_nothing(tmp_path, previous):
    store = CheckpointStore(tmp_path, 1 << 30)
    old = trained().checkpoint(DIGEST) if previous else None
    if old is not None:
        store.save("s1", old)
    kill_mid_write(tmp_path, "s1", 8 << 20)
    assert store.load("s1") == old  # the complete old checkpoint, never part of the new one
    assert store.sids() == (["s1"] if previous else [])  # the leftover is not a session
    assert store.total_bytes() == (len(old) if old else 0)
    reopened = CheckpointStore(tmp_path, 1 << 30)  # a restarted server
    assert reopened.clean(older_than=0) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == (["s1.ckpt"] if previous else [])
    if old is not None:
        session, meta = Session.restore(reopened.load("s1"), Limits(), 30)
        assert session.trainer.iteration == 30 and meta["sid"] == "s1"


def test_stale_temporary_files_are_cleaned_and_young_ones_and_other_files_kept(tmp_path):
    (tmp_path / ".s1.x8z.tmp").write_bytes(b"half")
    os.utime(tmp_path / ".s1.x8z.tmp", (time.time() - 120,) * 2)  # a crash, two minutes ago
    (tmp_path / ".s3.y2k.tmp").write_bytes(b"being written")  # another process's write
    (tmp_path / "notes.txt").write_bytes(b"not ours")
    (tmp_path / "s2.ckpt").write_bytes(b"whole")
    store = CheckpointStore(tmp_path, 1000)
    assert store.sids() == ["s2"] and store.total_bytes() == 5  # temporaries never count
    assert store.clean() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s3.y2k.tmp", "notes.txt", "s2.ckpt"]


def test_the_header_is_the_run_files_header_alone(tmp_path):
    store = CheckpointStore(tmp_path, 1 << 30)
    data = trained(n=5).checkpoint(DIGEST)
    store.save("s1", data)
    head = store.header("s1")
    assert head is not None and len(head) < len(data) and data.startswith(head)
    assert runfile.session_meta(head) == runfile.session_meta(data)
    assert runfile.session_meta(head)["token_sha256"] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert store.header("nobody") is None


def test_the_disk_budget_deletes_the_oldest_first_never_the_newest(tmp_path):
    store = CheckpointStore(tmp_path, 250)
    # Ages set apart by hand (file times can be coarser than a few writes), against name order.
    for age, sid in enumerate(["z", "a", "m"]):
        store.save(sid, bytes([age]) * 100 if sid != "m" else b"m" * 40)
        os.utime(tmp_path / f"{sid}.ckpt", ns=(10**18 + age * 10**9,) * 2)
    assert store.sids() == ["z", "a", "m"] and store.total_bytes() == 240
    store.save("q", b"q" * 100)  # 340 bytes: "z", the oldest, goes
    assert sorted(store.sids()) == ["a", "m", "q"] and store.load("z") is None
    assert store.total_bytes() == sum(p.stat().st_size for p in tmp_path.iterdir()) == 240
    store.save("a", b"a" * 150)  # rewritten: now the newest, counted once; "m" goes
    assert sorted(store.sids()) == ["a", "q"] and store.total_bytes() == 250
    store.save("big", b"b" * 1000)  # alone over the budget: kept, all the others go
    assert store.sids() == ["big"] and store.load("big") == b"b" * 1000


@pytest.mark.parametrize("sid", ["", "a" * 65, "../x", "a/b", ".hidden", "a b", "é", "x.ckpt",
                                 "..", "a\x00"])  # fmt: skip
def test_bad_session_ids_are_refused_and_nothing_is_written(tmp_path, sid):
    store = CheckpointStore(tmp_path / "d", 1000)
    for call in (lambda: store.save(sid, b"x"), lambda: store.load(sid),
                 lambda: store.delete(sid)):  # fmt: skip
        with pytest.raises(ValueError, match="bad session id"):
            call()
    assert list(tmp_path.rglob("*")) == [tmp_path / "d"]


def test_good_session_ids_round_trip(tmp_path):
    store = CheckpointStore(tmp_path, 1000)
    for sid in ["A-z_09", "a" * 64, "-"]:
        store.save(sid, sid.encode())
        assert store.load(sid) == sid.encode()
    store.delete("-")
    assert sorted(store.sids()) == ["A-z_09", "a" * 64] and store.load("-") is None


def test_default_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLAB_STATE_DIR", str(tmp_path / "state"))
    assert default_directory() == tmp_path / "state" / "sessions"
    monkeypatch.delenv("GANLAB_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))  # Linux's user state directory
    assert default_directory() == tmp_path / "xdg" / "ganlab" / "sessions"


# ---------------------------------------------------------------- what a checkpoint holds
def test_a_restored_session_is_the_same_run_with_its_history_paused():
    s = Session("s1", SMALL)
    s.attach({"session": "s1", "token": TOKEN})
    s.handle({"type": "speed", "ips": 250.0, "fps": 12})
    s.handle({"type": "play"})
    play(s, 120)
    s.handle({"type": "config", "set": {"g_optimizer": {"lr": 0.003}}})
    play(s, 80)
    data = s.checkpoint(DIGEST)
    assert TOKEN.encode() not in data  # only the digest is kept
    restored, meta = Session.restore(data, Limits(), 30)
    assert restored.trainer.iteration == 200 and restored.sid == "s1"
    assert restored.playing is False and meta["playing"] is True
    assert (restored.ips, restored.fps) == (250.0, 12) == (meta["ips"], meta["fps"])
    assert meta["token_sha256"] == hashlib.new("sha256", TOKEN.encode()).hexdigest()
    assert meta["token_sha256"] != hashlib.sha256(b"another token").hexdigest()
    assert restored.trainer.config == s.trainer.config
    assert restored.trainer.history == s.trainer.history
    # (A run file keeps no last batch's outputs: those come back with the next step.)
    same_state(restored.trainer, s.trainer, of=lambda t: t.state())
    for it in (50, 150):  # before and after the config change
        restored.handle({"type": "seek", "iteration": it})
        s.handle({"type": "seek", "iteration": it})
        same_state(restored.past, s.past)
    for x in (s, restored):  # and it goes on exactly as the original does
        x.handle({"type": "live"})
        play(x, 15)
    same_state(restored.trainer, s.trainer)


def test_a_checkpoint_keeps_the_whole_history_thinned_to_its_own_budget():
    s = Session("s1", SMALL)
    s.timeline.policy = Policy(every=10)  # (snapshots by count: many of them)
    s.attach({"session": "s1", "token": TOKEN})
    play(s, 150)
    whole = s.timeline
    cap = whole.nbytes // 3
    s.limits = replace(s.limits, checkpoint_history_bytes=cap)
    restored, _ = Session.restore(s.checkpoint(DIGEST), Limits(), 30)
    history = restored.timeline
    assert len(whole.snapshots) > 6 and history.nbytes <= cap < whole.nbytes
    assert s.timeline is whole and len(history.snapshots) < len(whole.snapshots)
    assert history.reachable() == whole.reachable() == (0, 150)
    restored.handle({"type": "seek", "iteration": 3})  # replayed from a sparser snapshot
    s.handle({"type": "seek", "iteration": 3})
    same_state(restored.past, s.past)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "flipped"])
def test_a_corrupt_checkpoint_is_refused_and_the_store_is_intact(tmp_path, damage):
    store = CheckpointStore(tmp_path, 1 << 30)
    good = trained("good").checkpoint(DIGEST)
    store.save("good", good)
    bad = trained("bad", 5).checkpoint(DIGEST)
    if damage == "truncated":
        bad = bad[: len(bad) // 2]
    elif damage == "garbage":
        bad = os.urandom(4096)
    else:  # a tensor's bytes overwritten with NaN (0xFF...) past the header
        size = int.from_bytes(bad[:8], "little")
        bad = bad[: 8 + size] + b"\xff" * 64 + bad[8 + size + 64 :]
    store.save("bad", bad)
    with pytest.raises(RunFileError) as err:
        Session.restore(store.load("bad"), Limits(), 30)
    message = str(err.value)  # one sentence saying what is wrong, no dump of the bytes
    assert 20 < len(message) < 300 and "\n" not in message, message
    assert sorted(store.sids()) == ["bad", "good"] and store.load("good") == good
    session, meta = Session.restore(store.load("good"), Limits(), 30)
    assert session.trainer.iteration == 30 and meta["sid"] == "good"


def settings(**over):
    meta = {"sid": "s1", "fps": 30, "ips": None, "playing": False, "token_sha256": "0" * 64}
    return {**meta, **over}


@pytest.mark.parametrize(("meta", "says"), [
    (None, "not a session checkpoint"),
    (settings(fps=0), "fps"),
    (settings(fps=61), "fps"),
    (settings(fps=2.5), "fps"),
    (settings(ips=0.5), "ips"),
    (settings(ips="fast"), "ips"),
    (settings(playing="yes"), "playing"),
    (settings(sid="../etc"), "session id"),
    (settings(token_sha256=TOKEN), "token_sha256"),
    (settings(token="in clear"), "exactly"),
    ({"sid": "s1"}, "exactly"),
])  # fmt: skip
def test_bad_session_settings_are_refused_with_a_sentence(meta, says):
    t = trained().trainer
    data = runfile.dumps(t, extra=meta)
    with pytest.raises(RunFileError, match=says):
        Session.restore(data, Limits(), 30)
    assert runfile.loads(data).iteration == 30  # the run itself is a valid run file


def test_session_meta_reads_back_what_dumps_kept():
    t = trained().trainer
    assert runfile.session_meta(runfile.dumps(t)) is None
    kept = {"sid": "x", "n": 3, "f": 2.5, "none": None, "yes": True}
    assert runfile.session_meta(runfile.dumps(t, extra=kept)) == kept
    with pytest.raises(RunFileError, match="not a run file"):
        runfile.session_meta(b"\x00" * 4)


def test_a_checkpoint_too_costly_for_the_limits_is_refused():
    data = trained().checkpoint(DIGEST)
    with pytest.raises(RunFileError, match="checkpoint refused: too costly"):
        Session.restore(data, Limits(iteration_gflop=1e-9), 30)
