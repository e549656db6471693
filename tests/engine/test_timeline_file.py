"""A run's history in a run file: exact round trips, trimming to a size, damaged files."""

import json

import pytest
import safetensors.torch
import torch

from ganlab.engine import runfile
from ganlab.engine import timeline_file as tf
from ganlab.engine.config import updated
from ganlab.engine.runfile import RunFileError
from ganlab.engine.timeline import Policy, Timeline, capture
from ganlab.engine.trainer import Trainer

SMALL = {"generator": {"neurons": 8}, "discriminator": {"neurons": 8},
         "view": {"grid": 16, "fakes": 24, "reals": 24},
         "training": {"batch_size": 32}}  # fmt: skip
DRAWN = {"name": "drawing", "strokes": [[[0.2, 0.2], [0.8, 0.7]]], "brush_width": 0.05}


@pytest.fixture(scope="module")
def recorded():
    """A run with changes of every kind, its history, and its state at some iterations."""
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(every=20))
    seen = {}
    for i in range(1, 201):
        t.step()
        tl.iterated(t)
        if i in (10, 50, 95, 131, 200):  # an iteration's boundary: before changes made there
            seen[i] = capture(t)
        if i == 50:
            t.configure(updated(t.config, {"g_optimizer": {"lr": 0.004}}))
            tl.configured(t)
            t.step_d()
            tl.updated(t, "d")
        if i == 90:
            t.configure(updated(t.config, {"data": DRAWN}))
            tl.configured(t)
        if i == 130:
            t.configure(updated(t.config, {"discriminator": {"neurons": 12}}))
            tl.configured(t)
    return t, tl, seen


def same(run, expected):
    got = capture(run)
    return got.keys() == expected.keys() and all(torch.equal(got[k], v)
                                                 for k, v in expected.items())  # fmt: skip


def test_a_saved_history_seeks_exactly_as_the_live_one(recorded):
    t, tl, seen = recorded
    loaded, history = runfile.loads_with_history(runfile.dumps(t, tl))
    assert history is not None and history.reachable() == (0, 200)
    assert [s.iteration for s in history.snapshots] == [s.iteration for s in tl.snapshots]
    for n, expected in seen.items():
        assert same(history.seek(n), expected), n
    # (the run itself comes without its last batch's outputs: a run file never kept them)
    assert same(loaded, {k: v for k, v in seen[200].items() if not k.startswith("last.")})


def test_configs_and_their_data_are_stored_once_each(recorded):
    _, tl, _ = recorded
    _, text = tf.encode(tl)
    meta = json.loads(text)
    assert len(meta["data"]) == 2  # the default data and the drawing
    assert len(meta["configs"]) == 4  # start, lr, drawing, neurons
    assert len(meta["snapshots"]) == len(tl.snapshots)


def test_a_file_without_history_loads_without_one(recorded):
    t, _, _ = recorded
    assert runfile.loads_with_history(runfile.dumps(t))[1] is None


def test_fit_drops_the_oldest_snapshots_never_the_head(recorded):
    t, tl, seen = recorded
    whole = len(runfile.dumps(t, tl))
    for limit in (whole // 2, whole // 4):
        data = runfile.dumps(t, tl, max_bytes=limit)
        assert len(data) <= limit
        _, part = runfile.loads_with_history(data)
        assert part.iteration == 200 and part.start_iteration > 0
        kept = [s.iteration for s in part.snapshots]
        assert kept == [s.iteration for s in tl.snapshots][-len(kept) :]  # the newest ones
        for n, expected in seen.items():
            if n >= part.start_iteration:
                assert same(part.seek(n), expected), n
    tiny = tf.fit(tl, 0)
    assert [s.iteration for s in tiny.snapshots] == [200] and tiny.reachable() == (200, 200)


def test_trimming_splits_a_run_of_iterations_at_the_snapshot():
    t = Trainer(SMALL)
    tl = Timeline(t, Policy(every=7))
    for _ in range(30):
        t.step()
        tl.iterated(t)
    part = tl.trimmed(2)  # from iteration 14, inside the log's one run of 30 iterations
    assert part.start_iteration == 14 and part.entries[0].count == 16
    assert part.op_at(20) == 6
    assert same(part.seek(29), capture(tl.seek(29)))


def damaged(t, tl, change):
    """The file with its history's JSON changed by `change(meta)`."""
    tensors, text = tf.encode(tl)
    meta = json.loads(text)
    change(meta, tensors)
    data = runfile.dumps(t)
    header = runfile._metadata(data)
    header["timeline"] = json.dumps(meta)
    return safetensors.torch.save({**t.state(), **tensors}, metadata=header)


@pytest.mark.parametrize(("change", "words"), [
    (lambda m, _: m["entries"].pop(3), "does not follow"),
    (lambda m, _: m["entries"][0].__setitem__(0, "explode"), "kind one of"),
    (lambda m, _: m.__setitem__("iteration", 199), "ends at iteration 199"),
    (lambda m, _: m["snapshots"][1].__setitem__(1, 3), "says iteration 3"),
    (lambda m, _: m["snapshots"].reverse(), "in order"),
    (lambda m, t: t.__setitem__(F32, t[F32][:-3]), "run past the packed float32 data"),
    (lambda m, t: t.__setitem__(F32, torch.cat([t[F32], t[F32][:5]])), "data left over"),
    (lambda m, t: t.__setitem__("timeline.1.D.0.weight", torch.zeros(4)), "tensor name"),
    (lambda m, _: m["snapshots"][1].__setitem__(3, 9), "layout must be an integer"),
    (lambda m, _: m["snapshots"][1].pop(), "must be [op, iteration, config, layout]"),
    (lambda m, _: m["layouts"][0][0].__setitem__(2, [-1]), "shape must be an integer"),
    (lambda m, _: m["layouts"][0][0].pop(), "must be [key, dtype, shape]"),
    (lambda m, _: m["layouts"][0].append(m["layouts"][0][0]), "names a tensor twice"),
    (lambda m, _: m["configs"][0].__setitem__("seed", -4), "config 0 is invalid"),
    (lambda m, _: m["configs"][0].__setitem__("data", 7), "data must be an integer"),
    (lambda m, _: m.__setitem__("entries", [[1] * 5] * 50_001), "at most 50000"),
    (lambda m, _: m["entries"][1].__setitem__(3, 10**6), "count must be"),
])  # fmt: skip
def test_a_damaged_history_is_refused_saying_how(recorded, change, words):
    t, tl, _ = recorded
    with pytest.raises(RunFileError) as err:
        runfile.loads_with_history(damaged(t, tl, change))
    assert words in str(err.value)


F32 = "timeline.packed.float32"


def unpacked(t, tl, change=lambda m, t: None):
    """The file as it was written before snapshots were packed: a tensor per entry."""
    tensors = {f"timeline.{i}.{k}": v for i, s in enumerate(tl.snapshots)
               for k, v in s.state.items()}  # fmt: skip
    meta = json.loads(tf.encode(tl)[1])
    del meta["layouts"]
    meta["snapshots"] = [row[:3] for row in meta["snapshots"]]
    change(meta, tensors)
    header = runfile._metadata(runfile.dumps(t))
    header["timeline"] = json.dumps(meta)
    return safetensors.torch.save({**t.state(), **tensors}, metadata=header)


def test_a_history_written_a_tensor_per_entry_still_loads(recorded):
    t, tl, seen = recorded
    _, history = runfile.loads_with_history(unpacked(t, tl))
    assert [s.iteration for s in history.snapshots] == [s.iteration for s in tl.snapshots]
    assert same(history.seek(95), seen[95])
    lose_one = lambda m, t: [t.pop(k) for k in list(t) if k.startswith("timeline.1.")]  # noqa: E731
    with pytest.raises(RunFileError, match="tensors differ"):
        runfile.loads_with_history(unpacked(t, tl, lose_one))


def test_packed_snapshots_are_a_few_tensors_each_with_its_own_storage(recorded):
    t, tl, _ = recorded
    tensors, _ = tf.encode(tl)
    assert set(tensors) <= {f"timeline.packed.{d}" for d in ("float32", "int64", "uint8")}
    total = sum(v.nbytes for v in tensors.values())
    assert total == sum(s.nbytes for s in tl.snapshots)
    _, history = runfile.loads_with_history(runfile.dumps(t, tl))
    for old, new in zip(tl.snapshots, history.snapshots, strict=True):
        assert old.state.keys() == new.state.keys()
        for k, v in new.state.items():
            assert torch.equal(v, old.state[k]) and v.dtype == old.state[k].dtype
            assert v.untyped_storage().nbytes() == v.nbytes  # not a view of the file's data


def test_an_undamaged_rewrite_loads(recorded):
    t, tl, seen = recorded  # the damaging route itself, changing nothing
    _, history = runfile.loads_with_history(damaged(t, tl, lambda m, _: None))
    assert same(history.seek(95), seen[95])
