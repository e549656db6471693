from ganlab.live.fair_share import FairShare


def test_the_least_served_busy_session_goes_first_and_a_costly_one_sits_out():
    fair = FairShare(lag=0.01)
    fair.mark_busy(["hog", "cheap"])
    fair.charge(["hog"], 0.5)  # one long turn
    assert fair.order([["hog"], ["cheap"]]) == [["cheap"], ["hog"]]
    assert fair.eligible(["cheap"]) and not fair.eligible(["hog"])
    for _ in range(40):
        fair.charge(["cheap"], 0.01)
    assert not fair.eligible(["hog"])  # 0.4 s: not yet level
    for _ in range(10):
        fair.charge(["cheap"], 0.01)
    assert fair.eligible(["hog"])


def test_an_idle_session_banks_no_time():
    fair = FairShare(lag=0.0)
    fair.mark_busy(["a", "b"])
    fair.charge(["a"], 5.0)
    fair.charge(["b"], 5.0)
    fair.mark_busy(["a"])  # b idles while a works on
    fair.charge(["a"], 3.0)
    fair.mark_busy(["a", "b"])  # b comes back level with a, not 3 s behind
    assert fair.used["b"] == fair.used["a"] == 8.0
    assert fair.eligible(["a"]) and fair.eligible(["b"])


def test_a_group_is_charged_in_shares_and_a_dropped_session_is_forgotten():
    fair = FairShare()
    fair.mark_busy(["a", "b", "c"])
    fair.charge(["a", "b"], 0.2)
    assert fair.used["a"] == fair.used["b"] == 0.1 and fair.used["c"] == 0.0
    fair.forget("c")
    assert "c" not in fair.used and fair.floor() == 0.1
