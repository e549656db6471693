import time

import numpy as np
import pytest
from session_helpers import SMALL, events, make

from ganlab.live.frame_schedule import CREDITS, FRAME_SHARE
from ganlab.live.session import Limits, Session
from ganlab.wire.commands import ProtocolError
from ganlab.wire.envelope import decode


def test_attach_greets_with_hello_and_history():
    s = Session("s", SMALL)
    outs = s.attach({"session": "s", "token": "t", "resumed": False})
    hello = events(outs)[0]
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["session"] == "s"
    assert hello["config"]["generator"]["neurons"] == 8 and hello["iteration"] == 0
    assert decode(events(outs, "binary")[0]).header["kind"] == "history"
    assert s.credits == CREDITS and s.frame_due(time.perf_counter())


def test_steps_advance_exactly_what_they_say():
    s = make()
    t = s.trainer
    s.handle({"type": "step", "phase": "d"})
    assert (t.d_updates, t.g_updates, t.iteration) == (1, 0, 0)
    s.handle({"type": "step", "phase": "g"})
    assert (t.d_updates, t.g_updates, t.iteration) == (1, 1, 0)
    s.handle({"type": "config", "set": {"training": {"d_steps": 3}}})
    s.handle({"type": "step", "phase": "both", "id": 5})
    assert (t.d_updates, t.g_updates, t.iteration) == (4, 2, 1)
    assert s.applied == 5 and s.dirty


def test_walkthrough_phases_then_update():
    s = make()
    names = []
    for _ in range(5):
        outs = s.handle({"type": "step", "phase": "d", "sub": True})
        names.append(decode(events(outs, "binary")[0]).header["phase"])
        if len(names) < 5:
            assert s.trainer.d_updates == 0
    assert names == ["generate", "classify", "loss", "gradients", "update"]
    assert s.trainer.d_updates == 1 and s.walk is None


def test_other_command_cancels_walkthrough():
    s = make()
    s.handle({"type": "step", "phase": "g", "sub": True})
    s.handle({"type": "pause"})
    outs = s.handle({"type": "step", "phase": "g", "sub": True})
    assert decode(events(outs, "binary")[0]).header["phase"] == "generate"
    assert s.trainer.g_updates == 0


def test_invalid_config_is_refused_and_run_untouched():
    s = make()
    s.handle({"type": "step"})
    before = s.trainer.config
    with pytest.raises(ProtocolError) as info:
        s.handle({"type": "config", "set": {"generator": {"layers": 99}}})
    assert (info.value.code, info.value.field) == ("invalid_config", "generator.layers")
    assert s.trainer.config == before and s.trainer.iteration == 1


def test_config_event_reports_rebuilt_sections():
    s = make()
    out = events(s.handle({"type": "config", "id": 2, "set": {"g_optimizer": {"lr": 0.01}}}))[0]
    assert out["type"] == "config" and out["rebuilt"] == ["g_optimizer"] and out["id"] == 2
    assert out["config"]["g_optimizer"]["lr"] == 0.01


def test_import_points_and_bad_rows():
    s = make()
    s.handle({"type": "data", "import": {"format": "csv", "text": "x,y\n0,0\n1,1\n2,0\n"}})
    assert s.trainer.config.data.name == "points" and len(s.trainer.config.data.points) == 3
    with pytest.raises(ProtocolError) as info:
        s.handle({"type": "data", "import": {"format": "csv", "text": "0,0\n1,oops\n"}})
    assert info.value.code == "invalid_points" and "line 2" in info.value.message


def test_reset_clears_history_and_takes_seed():
    s = make()
    for _ in range(3):
        s.handle({"type": "step"})
    s.trainer.record()
    outs = s.handle({"type": "reset", "seed": 7})
    assert s.trainer.iteration == 0 and s.trainer.config.seed == 7 and not s.trainer.history
    assert decode(events(outs, "binary")[0]).arrays["history"].shape[0] == 0


@pytest.mark.parametrize("command", ["reset", "load"])
def test_reset_or_load_while_playing_says_that_training_stopped(command):
    s = make()
    saved = decode(events(s.handle({"type": "save"}), "binary")[0]).payload
    s.handle({"type": "play", "id": 1})
    for _ in range(3):
        s.handle({"type": "step"})
    s.handle({"type": "play", "id": 2})
    outs = s.handle({"type": command, "id": 3}, saved if command == "load" else None)
    state = [e for e in events(outs) if e["type"] == "state"]
    assert not s.playing
    assert state == [{"type": "state", "playing": False, "reason": command, "iteration": 0,
                      "d_updates": 0, "g_updates": 0, "id": 3}]  # fmt: skip
    # Paused already: nothing to say.
    outs = s.handle({"type": command, "id": 4}, saved if command == "load" else None)
    assert [e for e in events(outs) if e["type"] == "state"] == []


def test_save_then_load_continues_the_run():
    s = make()
    for _ in range(5):
        s.handle({"type": "step"})
    outs = s.handle({"type": "save"})
    saved = events(outs)[0]
    run = decode(events(outs, "binary")[0])
    assert saved["bytes"] == len(run.payload) and saved["filename"].endswith("-5.ganlab")
    other = make()
    outs = other.handle({"type": "load"}, run.payload)
    assert other.trainer.iteration == 5
    assert [e["type"] for e in events(outs)] == ["config", "loaded", "timeline"]
    s.handle({"type": "step"})
    other.handle({"type": "step"})
    assert np.array_equal(s.trainer.G.params.numpy(), other.trainer.G.params.numpy())
    with pytest.raises(ProtocolError) as info:
        other.handle({"type": "load"}, b"not a run file")
    assert info.value.code == "bad_run_file"


def test_play_trains_under_an_ips_cap():
    s = make()
    s.handle({"type": "speed", "ips": 100})
    s.handle({"type": "play"})
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:
        s.train_slice(0.002)
        time.sleep(0.001)
    assert 20 <= s.trainer.iteration <= 60  # 100/s for 0.5 s, plus a small burst


def test_frames_need_credits_and_respect_the_frame_rate():
    s = make()
    s.handle({"type": "play"})
    s.handle({"type": "speed", "fps": 10})
    now = time.perf_counter()
    first = decode(s.frame(now))
    assert first.header["frame"] == 1 and first.header["playing"]
    s.train_slice(0.005)
    assert not s.frame_due(now + 0.05)  # 10 frames/s: not yet
    assert s.frame_due(now + 0.11)
    s.frame(now + 0.11)
    s.train_slice(0.005)
    assert s.credits == 0 and not s.frame_due(now + 1.0)  # two in flight: wait
    s.credits += 1
    assert s.frame_due(now + 1.0)


def test_frame_interval_grows_when_sessions_share_a_worker():
    s = make()
    s.frames.cost = 0.002
    assert s.frame_interval(1) == pytest.approx(1 / 30)
    assert s.frame_interval(20) == pytest.approx(0.002 * 20 / FRAME_SHARE)
    assert 0.0 < FRAME_SHARE < 1.0


def test_frame_carries_new_history_rows_once():
    s = make()
    s.handle({"type": "config", "set": {"metrics": {"every": 5}}})
    s.handle({"type": "play"})
    while s.trainer.iteration < 30:
        s.train_slice(0.01)
    rows = decode(s.frame(time.perf_counter())).arrays["history"]
    assert rows.shape[0] >= 1 and list(rows[:, 0] % 5) == [0] * rows.shape[0]
    assert decode(s.frame(time.perf_counter())).arrays["history"].shape[0] == 0


def test_metric_rows_thin_out_when_they_cost_too_much():
    s = make()
    s.handle({"type": "config", "set": {"metrics": {"every": 1}}})
    s.handle({"type": "play"})
    s.train_slice(1.2)
    rows = s.trainer.history
    assert 0 < len(rows) < s.trainer.iteration
    assert any("w1" in r for r in rows) and any("w1" not in r for r in rows)


def test_divergence_pauses_and_tells_the_client():
    s = make(g_optimizer={"kind": "sgd", "lr": 10.0}, d_optimizer={"kind": "sgd", "lr": 10.0},
             loss={"kind": "lsgan"})  # fmt: skip
    s.handle({"type": "play"})
    outs = []
    for _ in range(200):
        outs += s.train_slice(0.01)
        if not s.playing:
            break
    kinds = [e["type"] for e in events(outs)]
    assert "diverged" in kinds and not s.playing
    assert decode(s.frame(time.perf_counter())).header["kind"] == "frame"  # still drawable


def test_detach_pauses():
    s = make()
    s.handle({"type": "play"})
    s.detach()
    assert not s.playing and not s.runnable and not s.frame_due(time.perf_counter())


def test_too_costly_configs_are_refused_naming_the_field():
    s = make()
    big = {"layers": 8, "neurons": 512}
    with pytest.raises(ProtocolError) as info:
        s.handle(
            {"type": "config", "set": {"discriminator": big, "training": {"batch_size": 4096}}}
        )
    assert info.value.code == "invalid_config" and info.value.field == "discriminator.layers"
    assert "GFLOP per iteration" in info.value.message
    with pytest.raises(ProtocolError) as info:
        s.handle({"type": "config", "set": {"view": {"grid": 256}, "discriminator": big}})
    assert "per picture" in info.value.message and info.value.field == "view.grid"
    assert s.trainer.config.discriminator.neurons == 8  # untouched
    s.handle({"type": "config", "set": {"discriminator": {"layers": 3, "neurons": 64}}})
    assert s.trainer.config.discriminator.neurons == 64


def test_cost_limits_are_settable():
    with pytest.raises(ProtocolError):
        Session("s", SMALL, Limits(iteration_gflop=1e-6))


def test_step_while_playing_pauses_and_says_so():
    s = make()
    s.handle({"type": "play"})
    outs = s.handle({"type": "step", "phase": "d", "id": 3})
    state = events(outs)[0]
    assert state == {"type": "state", "playing": False, "reason": "command", "iteration": 0,
                     "d_updates": 0, "g_updates": 0, "id": 3}  # fmt: skip
    assert [e["type"] for e in events(outs)][-1] == "ack"


def test_measured_rate_follows_the_cap():
    s = make()
    s.handle({"type": "speed", "ips": 50})
    s.handle({"type": "play"})
    end = time.perf_counter() + 1.5
    while time.perf_counter() < end:
        time.sleep(max(0.0, s.train_wait(time.perf_counter())))
        s.train_slice(0.002)
    assert 35 <= s.measured_ips() <= 65
    assert s.train_wait(time.perf_counter()) <= 1 / 50


def test_a_capped_session_owes_no_frame_until_training_moves_on():
    s = make()
    s.handle({"type": "speed", "ips": 5, "fps": 30})
    s.handle({"type": "play"})
    s.train_slice(0.002)  # the one iteration the cap allows now
    s.frame(time.perf_counter())
    later = time.perf_counter() + 0.1  # past the frame interval, before the next iteration
    # Its worker may sleep until the next iteration: nothing new to draw before it.
    assert s.next_frame_in(later) is None and not s.frame_due(later)
    assert 0.05 < s.train_wait(later) <= 0.2
    s.trainer.step()
    assert s.next_frame_in(later) == 0.0 and s.frame_due(later)


def test_a_session_moves_between_processes_whole_and_exact():
    import pickle

    import torch

    s = make()
    s.handle({"type": "play"})
    for _ in range(3):
        s.train_slice(0.01)
    s.handle({"type": "speed", "ips": 500, "fps": 12})
    s.credits = 1
    moved = pickle.loads(pickle.dumps(s))
    # Play state, pacing and counters come along; the picture cache is rebuilt there.
    for name in ("playing", "attached", "ips", "fps", "credits", "config_version",
                 "history_sent"):  # fmt: skip
        assert getattr(moved, name) == getattr(s, name), name
    assert moved.frames.count == s.frames.count
    assert moved.trainer.iteration == s.trainer.iteration > 0
    assert moved.trainer.history == s.trainer.history
    # Both go on exactly alike: weights, optimizer state and random streams all moved.
    for _ in range(5):
        s.trainer.step()
        moved.trainer.step()
    assert torch.equal(moved.trainer.G.params, s.trainer.G.params)
    assert torch.equal(moved.trainer.D.params, s.trainer.D.params)
    frame = decode(moved.frame(time.perf_counter()))
    assert frame.header["iteration"] == s.trainer.iteration


def _walk(s, network):
    for _ in range(5):
        s.handle({"type": "step", "phase": network, "sub": True})


def test_a_completed_slow_motion_walk_counts_the_iteration():
    s = make(training={"d_steps": 2, "g_steps": 1}, metrics={"every": 2})
    t = s.trainer
    _walk(s, "d")
    _walk(s, "d")
    assert (t.iteration, t.d_updates, t.g_updates) == (0, 2, 0)
    _walk(s, "g")
    assert (t.iteration, t.d_updates, t.g_updates) == (1, 2, 1)
    for net in ["d", "d", "g"]:
        _walk(s, net)
    assert t.iteration == 2 and len(t.history) == 1  # a metric row every 2 iterations
    # A single step in between starts the iteration's updates over.
    _walk(s, "d")
    s.handle({"type": "step", "phase": "g"})
    _walk(s, "d")
    _walk(s, "g")
    assert t.iteration == 2
    # The state event carries the counters of the same moment.
    state = events(s.handle({"type": "play", "id": 9}))[0]
    assert (state["iteration"], state["d_updates"], state["g_updates"]) == (2, 6, 4)


@pytest.mark.parametrize("scheme", ["simultaneous", "extragradient"])
def test_under_a_joint_scheme_a_walk_of_one_d_and_one_g_update_counts_the_iteration(scheme):
    """Those schemes make one update of each per iteration (d_steps does not apply): slow
    motion, which shows single updates, counts the iteration after one D and one G."""
    s = make(training={"d_steps": 3, "g_steps": 2, "scheme": scheme})
    t = s.trainer
    assert t.walk_plan() == ["d", "g"]
    _walk(s, "d")
    assert t.iteration == 0
    _walk(s, "g")
    assert (t.iteration, t.d_updates, t.g_updates) == (1, 1, 1)


def test_every_metric_row_goes_through_the_budget_whatever_the_command(monkeypatch):
    import ganlab.live.metric_budget as budget

    asked = []
    real = budget.metric_row

    def spy(trainer, **kw):
        asked.append(kw["w1_samples"])
        return real(trainer, **kw)

    monkeypatch.setattr(budget, "metric_row", spy)
    s = make(metrics={"every": 1, "samples": 10000, "w1_samples": 5000})
    for _ in range(10):
        s.handle({"type": "step"})
    # W1 at most at the live cap, and rows thinned: 10 quick steps do not make 10 full rows.
    assert asked and max(asked) <= Limits().w1_points
    assert len(s.trainer.history) < 10


def test_a_config_event_carries_the_data_only_when_it_changed():
    s = make()
    points = [[0.1 * i, 0.2] for i in range(2000)]
    first = events(s.handle({"type": "data", "set": {"name": "points", "points": points}}))[0]
    assert first["config"]["data"]["name"] == "points"
    lr = events(s.handle({"type": "config", "set": {"g_optimizer": {"lr": 0.001}}}))[0]
    assert "data" not in lr["config"] and lr["config"]["g_optimizer"]["lr"] == 0.001
    assert "data" in events(s.handle({"type": "reset"}))[0]["config"]


def test_the_frame_rate_of_a_new_session_is_the_servers_default():
    assert Session("s", SMALL, fps=12).attach({})[0].data["speed"]["fps"] == 12


def test_a_history_longer_than_a_run_file_holds_is_thinned_and_sent_again(monkeypatch):
    from ganlab.engine import runfile

    monkeypatch.setattr(runfile, "MAX_HISTORY_ROWS", 8)
    s = make(metrics={"every": 1})
    s.metrics.record = lambda t, sharing=1: t.history.append({"iteration": t.iteration}) or True
    sent = []
    for _ in range(9):
        sent += events(s.handle({"type": "step"}), "binary")
    assert len(s.trainer.history) == 4 and s.trainer.history[-1]["iteration"] == 9
    assert [decode(b).header["kind"] for b in sent] == ["history"]
