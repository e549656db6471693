"""The local Ray cluster's process bookkeeping (the cluster itself starts in test_ray_engine.py
and test_ray_hub.py, whose fixtures check that it ends whole)."""

import subprocess
import time

from ganlab.live.ray_cluster import LocalCluster, alive, descendants


def children_by_ps(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                         text=True, check=False).stdout  # fmt: skip
    return {int(x) for x in out.split()}


def test_descendants_are_the_whole_tree_and_a_killed_one_is_not_alive():
    tree = subprocess.Popen(["sh", "-c", "sh -c 'sleep 60 & wait' & sleep 60 & wait"])
    try:
        end = time.monotonic() + 10
        while len(found := descendants(tree.pid)) < 3 and time.monotonic() < end:
            time.sleep(0.02)  # the shells start their children
        kids = children_by_ps(tree.pid)
        grandkids = set().union(*(children_by_ps(k) for k in kids))
        assert len(kids) == 2 and len(grandkids) == 1
        assert set(found) == kids | grandkids
        assert all(alive(pid) for pid in found)
    finally:
        tree.kill()
        tree.wait()
    assert not alive(tree.pid) and descendants(tree.pid) == []
    for pid in found:
        subprocess.run(["kill", "-9", str(pid)], check=False)
    end = time.monotonic() + 10
    while any(alive(pid) for pid in found) and time.monotonic() < end:
        time.sleep(0.02)
    assert not any(alive(pid) for pid in found)


def test_a_cluster_never_started_stops_as_a_no_op():
    assert LocalCluster().stop() == []
