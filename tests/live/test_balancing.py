from collections import Counter

from ganlab.live.balancing import BALANCE_GAP, BALANCE_SETTLE, COOLDOWN, Balancer, plan_move


def rows(n, ips, key="k", prefix="s"):
    return [(f"{prefix}{i}", ips, key) for i in range(n)]


def test_plan_move_evens_out_clear_imbalances_only():
    a, b = "worker a", "worker b"
    # Even, or within the noise of scheduling: stay.
    assert plan_move([(a, rows(10, 100.0)), (b, rows(10, 100.0, prefix="t"))]) is None
    near = 100.0 * (1 + BALANCE_GAP) * 0.99
    assert plan_move([(a, rows(10, 100.0)), (b, rows(10, near, prefix="t"))]) is None
    # Twelve sessions at 60 against eight at 150: one of the twelve moves over.
    sid, dest = plan_move([(a, rows(12, 60.0)), (b, rows(8, 150.0, prefix="t"))])
    assert dest == b and sid.startswith("s")
    # A worker with nothing playing takes one from a busy worker...
    assert plan_move([(a, rows(4, 100.0)), (b, [])])[1] == b
    # ...but a lone session has nowhere better to go, and one worker cannot balance.
    assert plan_move([(a, rows(1, 10.0)), (b, [])]) is None
    assert plan_move([(a, rows(5, 10.0))]) is None
    assert plan_move([(a, []), (b, [])]) is None


def test_plan_move_needs_a_clear_gain():
    # 30 sessions against an idle worker: one fewer lifts the others by 1/29, about 3.4%,
    # within the noise of the measurements.
    assert plan_move([("a", rows(30, 100.0)), ("b", [])]) is None
    assert plan_move([("a", rows(15, 100.0)), ("b", [])]) is not None


def test_plan_move_prefers_a_session_that_joins_a_group_over_there():
    slow = [("x", 50.0, "shape-1"), ("y", 50.0, "shape-2"), ("z", 50.0, None)]
    fast = rows(3, 200.0, key="shape-2", prefix="t")
    assert plan_move([("a", slow), ("b", fast)]) == ("y", "b")


def test_plan_move_only_moves_sessions_allowed_to_go_there():
    slow = [("x", 50.0, "shape-2"), ("y", 50.0, "shape-1")]
    fast = rows(3, 200.0, key="shape-2", prefix="t")
    assert plan_move([("a", slow), ("b", fast)], lambda sid, dest: sid != "x") == ("y", "b")
    assert plan_move([("a", slow), ("b", fast)], lambda sid, dest: False) is None


# Sessions of different costs on two processes of equal speed, each process's time shared
# evenly by its sessions: the split the audit saw move one session back and forth, every
# settling time (113 moves in 10 minutes). Cost in units of a process's time per iteration.
COSTS = {"s0": 4.0, "s1": 10.0, "s2": 2.0, "s3": 10.0}


def load_reports(where, now):
    """What each process reports with the sessions where they are now."""
    reports = []
    for proc in ("A", "B"):
        mine = [s for s, p in where.items() if p == proc]
        reports.append((proc, [(s, 1.0 / (len(mine) * COSTS[s]), f"cost-{COSTS[s]:g}")
                               for s in mine], now))  # fmt: skip
    return reports


def test_sessions_of_unequal_cost_are_not_moved_back_and_forth():
    where = {"s0": "A", "s1": "A", "s2": "B", "s3": "B"}
    balancer = Balancer()
    moves = []
    now = 0.0
    while now < 600.0:  # ten minutes of reports, twice a second
        move = balancer.decide(now, load_reports(where, now))
        if move is not None:
            sid, dest = move
            assert dest != where[sid]
            balancer.moved(sid, where[sid], now)
            moves.append((now, sid, where[sid], dest))
            where[sid] = dest
        now += 0.5
    per_session = Counter(sid for _, sid, _, _ in moves)
    assert moves and max(per_session.values()) == 1, moves
    assert len(moves) <= len(COSTS), moves


def test_a_session_stays_where_it_went_for_the_cooldown_and_never_goes_straight_back():
    balancer = Balancer()
    sid, dest = balancer.decide(0.0, [("A", rows(4, 100.0), 0.0), ("B", [], 0.0)])
    assert dest == "B"
    balancer.moved(sid, "A", 0.0)

    def crowded(t, idle):
        # Its new process is now the crowded one; `idle` has room.
        return [("B", [(sid, 50.0, "k"), *rows(3, 50.0, prefix="o")], t), (idle, [], t)]

    # Within the cooldown another session goes, wherever the room is.
    t = BALANCE_SETTLE + 1.0
    assert balancer.decide(t, crowded(t, "C")) == ("o0", "C")
    # After it, the session may move again (it is listed first: it would be the one)...
    t = COOLDOWN + 1.0
    assert balancer.decide(t, crowded(t, "C")) == (sid, "C")
    # ...but not back to where it came from.
    assert balancer.decide(t, crowded(t, "A")) == ("o0", "A")
    balancer.forget(sid)  # a session gone: nothing of it is kept
    assert balancer.decide(t, crowded(t, "A")) == (sid, "A")


def test_no_move_while_the_last_one_settles_or_on_stale_reports():
    balancer = Balancer()
    balancer.moved("x", "A", 10.0)
    crowded = [("A", rows(4, 100.0), 12.0), ("B", [], 12.0)]
    assert balancer.decide(12.0, crowded) is None  # settling
    t = 10.0 + BALANCE_SETTLE + 0.5
    assert balancer.decide(t, [("A", rows(4, 100.0), t - 2.0), ("B", [], t)]) is None  # stale
    assert balancer.decide(t, [("A", rows(4, 100.0), t), ("B", None, 0.0)]) is None  # no report
    assert balancer.decide(t, [("A", rows(4, 100.0), t), ("B", [], t)]) is not None
