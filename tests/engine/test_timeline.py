import numpy as np
import pytest
import torch

from ganlab.engine import timeline
from ganlab.engine.config import updated
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.step import step_together
from ganlab.engine.timeline import Policy, Timeline, capture
from ganlab.engine.trainer import Trainer

SMALL = {
    "data": {"name": "ring8"},
    "generator": {"layers": 2, "neurons": 16},
    "discriminator": {"layers": 2, "neurons": 16},
    "training": {"batch_size": 64},
    "view": {"grid": 24, "field": 8},
    "device": "cpu",
}

# The live run's script: (op, argument) in order. Config changes of every kind, single
# updates, a slow-motion walk and a walk abandoned after its first phase.
SCRIPT = [
    ("iterate", 12),
    ("config", {"g_optimizer": {"lr": 3e-3}}),  # a learning rate
    ("iterate", 9),
    ("d", None),
    ("g", None),
    ("d", None),
    ("iterate", 8),
    ("config", {"generator": {"neurons": 24}}),  # rebuilds G
    ("iterate", 7),
    ("config", {"loss": {"kind": "hinge"}}),
    ("iterate", 6),
    ("config", {"data": {"name": "gaussians"}}),
    ("iterate", 5),
    ("walk_started", "g"),  # a walk's first phase, then play, then its update phase:
    ("iterate", 3),  # to iteration 50: a snapshot (every 10) right before the update
    ("walk_finished", "g"),
    ("walk_abandoned", "d"),
    ("walk", "d"),
    ("walk", "g"),
    ("tick", None),
    ("config", {"generator": {"ema": 0.9}, "training": {"instance_noise": 0.1}}),
    ("iterate", 11),
    ("config", {"training": {"instance_noise": 0.0}}),  # its stream keeps its place ...
    ("iterate", 12),
    ("config", {"training": {"instance_noise": 0.1}}),  # ... for when it is on again
    ("iterate", 5),
]


def play(t, tl, script, seen):
    """Run the script on the live trainer `t`, recording into `tl`; after each iteration
    `seen[iteration] = (state, picture, losses)`."""

    def look():
        seen[t.iteration] = (capture(t), compute_picture(t, PictureCache()), t.losses())

    for op, arg in script:
        if op == "iterate":
            for _ in range(arg):
                t.step()
                tl.iterated(t)
                look()
        elif op == "config":
            t.configure(updated(t.config, arg))
            tl.configured(t)
        elif op in ("d", "g"):
            (t.step_d if op == "d" else t.step_g)()
            tl.updated(t, op)
        elif op == "walk_abandoned":
            next(t.walk(arg))  # draws the batches, applies nothing
            tl.updated(t, f"{arg}_grad")
        elif op == "walk_started":
            pending = t.walk(arg)
            next(pending)
            tl.updated(t, f"{arg}_grad")
        elif op == "walk_finished":
            for _ in pending:
                pass
            tl.updated(t, f"{arg}_apply")
        elif op == "walk":
            phases = t.walk(arg)
            next(phases)
            tl.updated(t, f"{arg}_grad")
            for _ in phases:
                pass
            tl.updated(t, f"{arg}_apply")
        elif op == "tick":
            t.iteration += 1
            tl.updated(t, "tick")
            look()


def assert_same(run, expected):
    state, picture, losses = expected
    got = capture(run)
    assert got.keys() == state.keys()
    for k, v in state.items():
        assert torch.equal(got[k], v), k
    mine = compute_picture(run, PictureCache())
    for name in picture.arrays:
        assert np.array_equal(getattr(mine, name), getattr(picture, name)), name
    assert run.losses() == losses


@pytest.fixture(scope="module")
def live():
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(every=10))
    seen = {0: (capture(t), compute_picture(t, PictureCache()), t.losses())}
    play(t, tl, SCRIPT, seen)
    return t, tl, seen


def test_the_log_counts_every_operation(live):
    t, tl, _ = live
    assert tl.iteration == t.iteration == 79
    assert tl.reachable() == (0, 79)
    iterations = sum(a for op, a in SCRIPT if op == "iterate") + 1
    assert tl.iteration == iterations
    # Runs of iterations are one entry each.
    assert [e.count for e in tl.entries if e.kind == "iterate"] == [12, 9, 8, 7, 6, 5, 3, 11, 12, 5]


@pytest.mark.parametrize("n", [0, 5, 12, 13, 21, 30, 36, 44, 47, 48, 50, 51, 55, 62, 69, 75, 79])
def test_seek_is_bit_exact(live, n):
    _, tl, seen = live
    run = tl.seek(n)
    assert run.iteration == n
    assert_same(run, seen[n])


def test_a_thinned_copy_keeps_the_whole_range_exact_within_a_smaller_budget(live):
    _, tl, seen = live
    kept = [s.iteration for s in tl.snapshots]
    small = tl.thinned(tl.nbytes // 3)
    assert small is not tl and [s.iteration for s in tl.snapshots] == kept  # untouched
    assert small.nbytes <= tl.nbytes // 3 and len(small.snapshots) < len(kept)
    assert small.snapshots[0] is tl.snapshots[0] and small.snapshots[-1] is tl.snapshots[-1]
    assert small.reachable() == tl.reachable()
    for n in (0, 13, 36, 62, 79):  # replayed from sparser snapshots, still bit-exact
        assert_same(small.seek(n), seen[n])
    assert tl.thinned(tl.nbytes) is tl


def test_seek_into_a_run_of_another_shape(live):
    _, tl, seen = live
    other = Trainer({**SMALL, "discriminator": {"layers": 3, "neurons": 8}})
    run = tl.seek(33, into=other, rows=[{"iteration": float(i)} for i in range(0, 60, 10)])
    assert run is other
    assert_same(run, seen[33])
    assert [r["iteration"] for r in run.history] == [0, 10, 20, 30]


def test_a_seek_inside_an_iteration_lands_on_its_boundary(live):
    _, tl, seen = live
    # Iteration 21 was followed by single updates d, g, d: seek(21) is before them ...
    assert tl.op_at(21) == 22  # 21 iterations and the learning-rate change
    run = tl.seek(21)
    counters = (run.iteration, run.d_updates, run.g_updates)
    assert counters == tuple(seen[21][0]["counters"].tolist())
    # ... and seek_op reaches the points between them.
    between = tl.seek_op(tl.op_at(21) + 2)
    d, g = counters[1:]
    assert (between.iteration, between.d_updates, between.g_updates) == (21, d + 1, g + 1)
    for bad in (-1, 80):
        with pytest.raises(ValueError, match=r"iteration must be within 0\.\.79"):
            tl.op_at(bad)


def test_branch_leaves_the_original_untouched(live):
    _, tl, seen = live
    before = [(s.op, {k: v.clone() for k, v in s.state.items()}) for s in tl.snapshots]
    entries = [(e.kind, e.op, e.count) for e in tl.entries]
    run, branch = tl.branch(30, {"d_optimizer": {"lr": 0.01}})
    assert run.iteration == 30 and run.config.d_optimizer.lr == 0.01
    assert branch.reachable() == (30, 30)
    for _ in range(15):
        run.step()
        branch.iterated(run)
    assert branch.reachable() == (30, 45)
    assert [(e.kind, e.op, e.count) for e in tl.entries] == entries
    assert tl.ops == entries[-1][1] + entries[-1][2]
    for (op, state), s in zip(before, tl.snapshots, strict=True):
        assert op == s.op and all(torch.equal(v, s.state[k]) for k, v in state.items())
    assert_same(tl.seek(45), seen[45])
    # The branch's own history is exact too, and differs from the original's.
    assert not torch.equal(branch.seek(40).D.params, seen[40][0]["d.params"])


def test_thinning_keeps_the_first_and_the_head_within_the_budget():
    stepped = Trainer(SMALL)
    stepped.step()  # a snapshot after an update also keeps the last batch's outputs
    size = sum(v.nbytes for v in capture(stepped).values())
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(budget=12 * size, every=1))
    seen = {}
    for _ in range(300):
        t.step()
        tl.iterated(t)
        if t.iteration in (7, 150, 299):
            seen[t.iteration] = (capture(t), compute_picture(t, PictureCache()), t.losses())
        assert tl.nbytes <= 12 * size
    ops = [s.op for s in tl.snapshots]
    assert len(ops) == 12 and ops[0] == 0 and ops[-1] == 300
    gaps = np.diff(ops)
    # Dense near the head, sparse with age: the oldest gap is many times the newest.
    assert gaps[0] >= 10 * gaps[-1]
    assert gaps[-1] <= 2
    for n, expected in seen.items():
        assert_same(tl.seek(n), expected)  # replays past the dropped snapshots


def test_thinning_many_at_once_drops_the_very_snapshots_one_at_a_time_would(monkeypatch):
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(budget=10**9, every=1))
    for i in range(400):
        if i % 3:
            t.step()
            tl.iterated(t)
        else:  # single updates too: snapshots of two sizes (with and without gradients)
            t.step_d()
            tl.updated(t, "d")
    size = tl.nbytes / len(tl.snapshots)
    for keep in (3, 17, 60, 250):
        monkeypatch.setattr(timeline, "BULK_THINNING", 10**9)  # the scan, one drop a step
        scanned = [s.op for s in tl.thinned(int(keep * size)).snapshots]
        monkeypatch.setattr(timeline, "BULK_THINNING", 0)  # the heap
        heaped = [s.op for s in tl.thinned(int(keep * size)).snapshots]
        assert heaped == scanned and len(scanned) < len(tl.snapshots)


class Ticks:
    """A clock that moves one unit per reading."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        self.now += 1.0
        return self.now


def test_the_cadence_follows_the_cost_of_a_snapshot():
    # A snapshot costs one unit of this clock and each iteration reads it once: with a 1%
    # share, one snapshot per 100 iterations.
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(share=0.01, clock=Ticks()))
    for _ in range(350):
        t.step()
        tl.iterated(t)
    assert [s.iteration for s in tl.snapshots] == [0, 100, 200, 300]


def test_the_log_refuses_what_it_cannot_replay():
    t = Trainer(SMALL)
    tl = Timeline(t)
    with pytest.raises(ValueError, match="unknown op"):
        tl.updated(t, "both")
    t.step()
    with pytest.raises(ValueError, match="at iteration 1, the log at 0"):
        tl.snapshot(t)


def test_iterations_made_in_a_group_replay_exactly():
    # The live server steps runs sharing a group key together (batched products); a replay
    # steps the run with one stand-in partner, which rounds as the live group did.
    runs = [Trainer({**SMALL, "seed": s}) for s in (1, 2, 3)]
    tl = Timeline(runs[0], Policy(every=8))
    naive = Timeline(runs[0], Policy(every=1000))  # the same log, as if stepped alone
    seen = {}

    def together(n, group):
        for _ in range(n):
            step_together(group)
            tl.iterated(runs[0], together=True)
            naive.iterated(runs[0])
            seen[runs[0].iteration] = (capture(runs[0]), compute_picture(runs[0],
                                       PictureCache()), runs[0].losses())  # fmt: skip

    together(10, runs)
    runs[0].step()  # alone for one iteration (its partners paused)
    tl.iterated(runs[0])
    naive.iterated(runs[0])
    together(9, runs[:2])
    for r in runs[:2]:
        r.configure(updated(r.config, {"discriminator": {"neurons": 24}}))
    tl.configured(runs[0])
    naive.configured(runs[0])
    together(10, runs[:2])
    for n in (4, 10, 15, 20, 26, 30):
        assert_same(tl.seek(n), seen[n])
    # Stepping alone instead would not be exact: the kernels round differently.
    assert not torch.equal(naive.seek(30).G.params, seen[30][0]["g.params"])


def test_a_seek_onto_a_snapshot_replays_nothing_and_shows_the_live_losses(monkeypatch):
    t = Trainer({**SMALL, "loss": {"kind": "wgan_gp"}})  # penalties: kept with the outputs
    tl = Timeline(t, Policy(every=5))
    for _ in range(20):
        t.step()
        tl.iterated(t)
    expected = (capture(t), compute_picture(t, PictureCache()), t.losses())
    assert any(k.startswith("last.penalty.") for k in expected[0])
    replayed = []
    monkeypatch.setattr(Timeline, "_replay", lambda self, run, a, b: replayed.append((a, b)))
    assert_same(tl.seek(20), expected)
    assert replayed == [(tl.op_at(20), tl.op_at(20))]  # nothing between the two


def test_config_changes_that_keep_the_data_share_its_section():
    drawn = {"name": "points", "points": [[i / 300, (i * 7 % 300) / 300] for i in range(300)]}
    t = Trainer({**SMALL, "data": drawn})
    tl = Timeline(t, Policy(every=1))
    for lr in (0.001, 0.002, 0.003):
        t.configure(updated(t.config, {"g_optimizer": {"lr": lr}}))
        tl.configured(t)
        t.step()
        tl.iterated(t)
    kept = [e.config for e in tl.entries if e.config is not None] + [
        s.config for s in tl.snapshots]  # fmt: skip
    assert len({id(c.data) for c in kept}) == 1  # one data section for all of them
    assert [e.config.g_optimizer.lr for e in tl.entries if e.config] == [0.001, 0.002, 0.003]
    t.configure(updated(t.config, {"data": {"name": "ring"}}))
    tl.configured(t)
    assert tl.entries[-1].config.data.name == "ring"
    back = tl.seek(2).config
    assert back.g_optimizer.lr == 0.002 and back.data.points == kept[0].data.points
