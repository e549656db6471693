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
                                  "start": 0, "head": 0}  # fmt: skip
    assert tree.get(2) is None and tree.get(-1) is None


def test_the_tree_is_full_at_its_limit():
    tree = RunTree(Timeline(Trainer(SMALL)))
    while not tree.full:
        tree.add(0, 0, None, tree.current.timeline)
    assert len(tree.branches) == MAX_BRANCHES
