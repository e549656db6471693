"""Time travel in a live session: seek, live and branch (docs/protocol.md, "History")."""

import pickle

import numpy as np
import pytest
import torch
from session_helpers import SMALL, events, make, play

from ganlab.engine import runfile
from ganlab.engine.timeline import capture
from ganlab.live.engine_process import train_together
from ganlab.live.session import Session
from ganlab.wire.commands import ProtocolError
from ganlab.wire.envelope import decode

# Header fields that say when and how a frame was drawn, not what it shows.
WHEN = {"frame", "playing", "ips", "applied", "config_version", "live", "head"}


def frame(s):
    s.credits = 2
    return decode(s.frame(0.0))


def shown(msg):
    """What a frame shows: its picture's arrays and header fields (the new metric rows and
    what comes from them, the modes' counts, aside: a past point brings none)."""
    rows = lambda k: k == "history" or k.startswith("mode")  # noqa: E731
    arrays = {k: v for k, v in msg.arrays.items() if not rows(k)}
    header = {k: v for k, v in msg.header.items() if k not in WHEN | {"arrays"} and not rows(k)}
    return header, arrays


def assert_same_picture(a, b):
    (ha, aa), (hb, ab) = shown(a), shown(b)
    assert ha == hb
    assert aa.keys() == ab.keys()
    for k in aa:
        assert np.array_equal(np.asarray(aa[k]), np.asarray(ab[k])), k


def test_seek_shows_bit_for_bit_the_frame_the_live_run_showed():
    s = make()
    live = {}
    frame(s)
    for n in (40, 41, 120, 300, 301):  # changes of several kinds between the seen points
        play(s, n - s.trainer.iteration)
        live[n] = frame(s)
        if n == 41:
            s.handle({"type": "config", "set": {"g_optimizer": {"lr": 0.003}}})
            s.handle({"type": "step", "phase": "d"})
        if n == 120:
            s.handle({"type": "data", "set": {"name": "ring"}})
            s.handle({"type": "config", "set": {"discriminator": {"neurons": 12}}})
    play(s, 50)
    for n, expected in live.items():
        outs = s.handle({"type": "seek", "iteration": n, "id": n})
        event = events(outs)[-1]
        assert event["type"] == "timeline" and event["live"] is False and event["id"] == n
        got = frame(s)
        assert got.header["live"] is False and got.header["iteration"] == n
        assert got.header["head"] == 351 and got.header["applied"] == n
        assert got.arrays["history"].shape[0] == 0  # a past point brings no new rows
        assert_same_picture(got, expected)
    # The live run went on untouched: back to live shows the head.
    s.handle({"type": "live"})
    f = frame(s)
    assert f.header["live"] is True and f.header["iteration"] == 351


def test_runs_stepped_in_a_group_replay_exactly():
    a, b = make(), make(seed=7)
    frame(a)
    group = [("a", a), ("b", b)]
    while a.trainer.iteration < 200:
        for session in (a, b):
            session.playing = session.attached = True
        train_together(group, 2)
    seen = a.trainer.iteration
    expected = capture(a.trainer)
    play(a, 30)
    a.handle({"type": "seek", "iteration": seen})
    got = capture(a.past)
    assert all(torch.equal(got[k], expected[k]) for k in expected)


def test_a_walkthrough_and_single_updates_replay_exactly():
    s = make()
    play(s, 10)
    for net in s.trainer.walk_plan():  # the iteration's updates in slow motion: it counts
        for _ in range(5):
            s.handle({"type": "step", "phase": net, "sub": True})
    assert s.trainer.iteration == 11
    expected = capture(s.trainer)
    s.handle({"type": "step", "phase": "d", "sub": True})  # a walk abandoned after a phase
    s.handle({"type": "step", "phase": "g"})
    play(s, 5)
    s.handle({"type": "seek", "iteration": 11})
    got = capture(s.past)
    assert all(torch.equal(got[k], expected[k]) for k in expected)


def test_seeking_pauses_and_commands_that_change_the_run_go_back_to_live():
    s = make()
    s.handle({"type": "play"})
    play(s, 60)
    outs = s.handle({"type": "seek", "iteration": 20})
    state = events(outs)[0]
    assert state["type"] == "state" and state["playing"] is False and state["reason"] == "seek"
    assert s.past is not None and s.past.iteration == 20
    s.handle({"type": "config", "set": {"d_optimizer": {"lr": 0.002}}})
    assert s.past is None and s.trainer.iteration == 60  # applied at the head
    assert s.trainer.config.d_optimizer.lr == 0.002
    s.handle({"type": "seek", "iteration": 60})  # the head: the same as live
    assert s.past is None


def test_a_bad_seek_is_refused_and_nothing_changes():
    s = make()
    play(s, 30)
    s.handle({"type": "seek", "iteration": 10})
    for cmd, field in (({"type": "seek", "iteration": 31}, "iteration"),
                       ({"type": "seek", "iteration": 5, "branch": 3}, "branch"),
                       ({"type": "live", "branch": 1}, "branch"),
                       ({"type": "branch", "iteration": 99}, "iteration")):  # fmt: skip
        with pytest.raises(ProtocolError) as err:
            s.handle(cmd)
        assert err.value.code == "bad_seek" and err.value.field == field
        assert s.past is not None and s.past.iteration == 10 and s.trainer.iteration == 30
    assert "0..30" in ProtocolError.__str__(_refusal(s, {"type": "seek", "iteration": 31}))


def _refusal(s, cmd):
    with pytest.raises(ProtocolError) as err:
        s.handle(cmd)
    return err.value


def test_branch_continues_from_the_shown_point_and_leaves_the_original_untouched():
    s = make()
    play(s, 100)
    head = capture(s.trainer)
    head_frame = frame(s)
    rows = list(s.trainer.history)
    s.handle({"type": "seek", "iteration": 40})
    at_40 = capture(s.past)
    outs = s.handle({"type": "branch", "set": {"g_optimizer": {"lr": 0.004}}, "id": 9})
    config, timeline = events(outs)[0], events(outs)[-1]
    assert config["type"] == "config" and "branch" in config["rebuilt"]
    assert config["config"]["g_optimizer"]["lr"] == 0.004
    history = decode(events(outs, "binary")[0])
    assert history.arrays["history"].shape[0] == sum(r["iteration"] <= 40 for r in rows)
    assert timeline["branch"] == 1 and timeline["live"] is True
    assert [(b["id"], b["parent"], b["from"], b["label"], b["head"])
            for b in timeline["branches"]] == [
        (0, None, 0, "main", 100), (1, 0, 40, "g_optimizer.lr = 0.004", 40)]  # fmt: skip
    # The branch starts exactly at the point, with the change; then trains on its own.
    got = capture(s.trainer)
    same = [k for k in at_40 if not k.startswith(("g_opt", "config"))]
    assert all(torch.equal(got[k], at_40[k]) for k in same if k in got)
    assert s.trainer.config.g_optimizer.lr == 0.004
    play(s, 25)
    assert s.trainer.iteration == 65
    # Back to the original: its head is as it was, picture and all.
    outs = s.handle({"type": "live", "branch": 0})
    assert events(outs)[0]["type"] == "config" and events(outs)[-1]["branch"] == 0
    back = capture(s.trainer)
    assert all(torch.equal(back[k], head[k]) for k in head)
    assert_same_picture(frame(s), head_frame)
    # And the branch is still there where it was left.
    s.handle({"type": "live", "branch": 1})
    assert s.trainer.iteration == 65 and s.trainer.config.g_optimizer.lr == 0.004


def test_a_refused_branch_change_leaves_everything_as_it_was():
    s = make()
    play(s, 20)
    err = _refusal(s, {"type": "branch", "iteration": 5, "set": {"generator": {"layers": 99}}})
    assert err.code == "invalid_config" and err.field == "generator.layers"
    assert len(s.tree.branches) == 1 and s.trainer.iteration == 20


def test_a_session_keeps_at_most_sixteen_branches():
    s = make()
    play(s, 3)
    for _ in range(15):
        s.handle({"type": "branch", "iteration": 1})
    err = _refusal(s, {"type": "branch", "iteration": 1})
    assert err.code == "too_many_branches" and "16" in err.message
    s.handle({"type": "reset"})  # a new history: one branch again
    assert len(s.tree.branches) == 1 and s.timeline.reachable() == (0, 0)


def test_a_saved_run_carries_its_history_and_loads_scrubbable():
    s = make()
    play(s, 80)
    s.handle({"type": "config", "set": {"loss": {"kind": "lsgan"}}})
    play(s, 40)
    s.handle({"type": "seek", "iteration": 70})
    expected = frame(s)
    run = events(s.handle({"type": "save"}), "binary")[0]
    other = make()
    outs = other.handle({"type": "load"}, decode(run).payload)
    timeline = events(outs)[-1]
    assert timeline["type"] == "timeline" and (timeline["start"], timeline["head"]) == (0, 120)
    other.handle({"type": "seek", "iteration": 70})
    assert_same_picture(frame(other), expected)


def test_a_moved_session_keeps_its_branches_and_history():
    s = make()
    play(s, 50)
    s.handle({"type": "branch", "iteration": 20})
    play(s, 10)
    moved = pickle.loads(pickle.dumps(s))
    assert moved.tree.describe() == s.tree.describe()
    moved.handle({"type": "live", "branch": 0})
    assert moved.trainer.iteration == 50
    moved.handle({"type": "seek", "iteration": 25})
    s.handle({"type": "live", "branch": 0})
    s.handle({"type": "seek", "iteration": 25})
    a, b = capture(moved.past), capture(s.past)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_the_history_budget_is_a_limit_of_the_session():
    s = Session("s", SMALL, limits=_limits(history_bytes=0))
    play(s, 200)
    assert len(s.timeline.snapshots) <= 2 and s.timeline.policy.budget == 0
    s.handle({"type": "seek", "iteration": 150})  # replays from the first: still reachable
    assert s.past.iteration == 150


def _limits(**kw):
    from ganlab.live.session import Limits

    return Limits(**kw)


def test_hello_carries_the_timeline():
    s = Session("s", SMALL)
    hello = events(s.attach({}))[0]
    tl = hello["timeline"]
    assert (tl["branch"], tl["live"], tl["start"], tl["head"]) == (0, True, 0, 0)
    assert tl["branches"] == [{"id": 0, "parent": None, "from": 0, "label": "main",
                               "change": None, "start": 0, "head": 0}]  # fmt: skip
    assert tl["budget"] == 32 * 2**20 and tl["snapshots"] == [0]


def test_run_file_history_is_cut_from_the_oldest_end_to_fit_the_limit():
    s = Session("s", SMALL)
    play(s, 400)
    limit = len(runfile.dumps(s.trainer, s.timeline)) // 2
    s.limits = _limits(run_bytes=limit)
    data = decode(events(s.handle({"type": "save"}), "binary")[0]).payload
    assert len(data) <= limit
    _, tl = runfile.loads_with_history(data)
    assert tl is not None and tl.iteration == 400 and tl.start_iteration > 0


def test_a_display_change_keeps_the_past_point_and_draws_it_the_new_way():
    s = make()
    play(s, 60)
    s.handle({"type": "seek", "iteration": 20})
    before = frame(s)
    s.handle({"type": "config", "set": {"view": {"optimal": True}}})
    assert s.past is not None and s.past.iteration == 20  # still the past point
    after = frame(s)
    assert after.header["live"] is False and after.header["iteration"] == 20
    assert "d_optimal" in after.arrays and "d_optimal" not in before.arrays
    assert np.array_equal(after.arrays["fake"], before.arrays["fake"])
    s.handle({"type": "seek", "iteration": 30})  # later seeks keep the lens
    assert "d_optimal" in frame(s).arrays
    s.handle({"type": "config", "set": {"view": {"optimal": False}, "seed": 3}})
    assert s.past is None  # not only display: back to live


def test_a_branch_shows_its_lineage_before_where_it_started():
    s = make()
    play(s, 80)
    s.handle({"type": "seek", "iteration": 30})
    parent_at_10 = capture(s._seek_run(10))
    s.handle({"type": "branch", "set": {"d_optimizer": {"lr": 0.004}}})
    play(s, 20)
    outs = s.handle({"type": "seek", "iteration": 10})  # before the branch: its parent's
    timeline = events(outs)[-1]
    assert (timeline["start"], timeline["head"], timeline["branch"]) == (0, 50, 1)
    assert timeline["snapshots"][0] == 0 and timeline["snapshots"] == sorted(
        set(timeline["snapshots"]))  # fmt: skip
    assert any(n < 30 for n in timeline["snapshots"]) and 30 in timeline["snapshots"]
    got = capture(s.past)
    assert all(torch.equal(got[k], parent_at_10[k]) for k in parent_at_10)
    assert frame(s).header["start"] == 0
    s.handle({"type": "seek", "iteration": 30})  # the branch point: the branch's, changed
    assert s.past is not None and s.past.config.d_optimizer.lr == 0.004
    s.handle({"type": "seek", "iteration": 12})
    s.handle({"type": "branch"})  # from the parent's part: the parent is the main run
    assert [b["parent"] for b in s.tree.describe()] == [None, 0, 0]


def test_a_pause_brings_the_history_just_played():
    s = make()
    s.handle({"type": "play"})
    play(s, 40)
    state, timeline = events(s.handle({"type": "pause", "id": 3}))
    assert state["type"] == "state" and state["playing"] is False
    assert timeline["type"] == "timeline" and timeline["head"] == 40 and timeline["id"] == 3
    assert timeline["snapshots"] == [snap.iteration for snap in s.timeline.snapshots]
