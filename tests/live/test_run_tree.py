"""A session's branches: labels, switching heads, the limit."""

from ganlab.engine.timeline import Timeline
from ganlab.engine.trainer import Trainer
from ganlab.live.run_tree import LABEL_CHARS, MAX_BRANCHES, RunTree, label

SMALL = {"generator": {"neurons": 4}, "discriminator": {"neurons": 4}}


def test_labels_name_the_change():
    assert label(None) == "copy" and label({}) == "copy"
    assert label({"g_optimizer": {"lr": 0.003}}) == "g_optimizer.lr = 0.003"
    two = label({"loss": {"kind": "lsgan"}, "training": {"d_steps": 3}})
    assert two == "loss.kind = lsgan, training.d_steps = 3"
    assert label({"data": {"name": "drawing", "strokes": [[[0, 0]]]}}).endswith("strokes = …")
    long = label({"a" * 80: 1})
    assert len(long) == LABEL_CHARS and long.endswith("…")


def test_switching_keeps_each_branchs_head():
    main, other = Trainer(SMALL), Trainer(SMALL)
    tree = RunTree(Timeline(main))
    branch = tree.add(0, 0, {"seed": 3}, Timeline(other))
    tree.current.head, tree.shown = main, branch.id  # the session shows the new branch
    assert tree.switch(0, other) is main and tree.shown == 0
    assert tree.branches[1].head is other and tree.branches[0].head is None
    assert tree.switch(0, main) is main  # the shown one: nothing changes
    assert [b["id"] for b in tree.describe()] == [0, 1]
    assert tree.describe()[1] == {"id": 1, "parent": 0, "from": 0, "label": "seed = 3",
                                  "change": [("seed", 3)], "start": 0, "head": 0}  # fmt: skip
    assert tree.describe()[0]["change"] is None
    assert tree.get(2) is None and tree.get(-1) is None


def test_the_tree_is_full_at_its_limit():
    tree = RunTree(Timeline(Trainer(SMALL)))
    while not tree.full:
        tree.add(0, 0, None, tree.current.timeline)
    assert len(tree.branches) == MAX_BRANCHES


def test_branches_share_the_budget_and_old_histories_thin_to_their_share():
    from ganlab.engine.timeline import Policy

    t = Trainer(SMALL)
    tl = Timeline(t, Policy(every=1))
    for _ in range(40):
        t.step()
        tl.iterated(t)
    tree = RunTree(tl)
    whole = tl.nbytes
    tree.add(0, 10, None, Timeline(Trainer(SMALL), Policy(every=1)))
    tree.share(whole // 2)
    assert all(b.timeline.policy.budget == whole // 4 for b in tree.branches)
    assert tl.nbytes <= whole // 4 and tree.nbytes <= whole // 2
    assert tl.snapshots[0].iteration == 0 and tl.snapshots[-1].iteration == 40
