"""The test tree's own rules: pytest imports test files by basename (no packages here), so
two files with one name in different folders stop the whole run at collection."""

from collections import Counter
from pathlib import Path


def test_test_file_basenames_are_unique() -> None:
    names = Counter(p.name for p in Path(__file__).parent.rglob("test_*.py"))
    assert len(names) > 50  # the walk found the tree
    assert [n for n, k in names.items() if k > 1] == []
