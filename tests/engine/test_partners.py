import itertools

import numpy as np
import pytest
import torch

from ganlab.engine.partners import Partners, column_clusters, kmeans_pp, lloyd


def _lloyd_loop(pool: np.ndarray, centres: np.ndarray, steps: int) -> np.ndarray:
    """Plain Lloyd, one point and one cluster at a time (no cluster goes empty here)."""
    c = centres.astype(np.float64).copy()
    for _ in range(steps + 1):
        members: list[list[int]] = [[] for _ in c]
        for i, p in enumerate(pool):
            members[int(np.argmin([np.sum((p - q) ** 2) for q in c]))].append(i)
        c = np.array([pool[idx].mean(0) for idx in members])
    return c


def _pack_mean(f, x, pool, m):
    """Brute force: mean of f over every pack of x with an ordered (m-1)-tuple of pool points
    as partners, x in every slot (the packs listed one by one)."""
    packs = []
    for others in itertools.product(pool.tolist(), repeat=m - 1):
        for s in range(m):
            cols = list(others)
            cols.insert(s, x.tolist())
            packs.append([v for col in cols for v in col])
    return float(f(torch.tensor(packs, dtype=torch.float64)).mean())


def test_lloyd_matches_a_plain_loop_and_weights_are_cluster_shares():
    rng = np.random.default_rng(0)
    pool = np.concatenate([rng.normal(c, 0.3, (40, 2)) for c in ((-2, 0), (2, 0), (0, 2))])
    start = pool[[0, 50, 100, 5]]
    c, w = lloyd(torch.tensor(pool), torch.tensor(start), steps=6)
    np.testing.assert_allclose(c.numpy(), _lloyd_loop(pool, start, 6), atol=1e-12)
    assign = np.argmin(((pool[:, None] - c.numpy()[None]) ** 2).sum(2), 1)
    np.testing.assert_allclose(w.numpy(), np.bincount(assign, minlength=4) / len(pool))


def test_an_empty_cluster_restarts_at_the_farthest_point():
    pool = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [9.0, 0.0]])
    start = torch.tensor([[0.0, 0.0], [5.0, 5.0], [100.0, 100.0]])  # the third gets nothing
    c, w = lloyd(pool, start, steps=3)
    assert (w > 0).all() and float(w.sum()) == pytest.approx(1.0)
    assert [9.0, 0.0] in c.tolist()  # the lone far point took the empty cluster


def test_kmeans_pp_is_seeded_and_picks_distinct_spread_points():
    pool = torch.cat([torch.zeros(50, 2), torch.ones(50, 2) * 4, torch.tensor([[8.0, 0.0]])])
    a = kmeans_pp(pool, 3, torch.Generator().manual_seed(7))
    b = kmeans_pp(pool, 3, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    assert len({tuple(p) for p in a.tolist()}) == 3  # one from each group: d2 is 0 elsewhere


@pytest.mark.parametrize("m", [2, 3, 4])
def test_a_pool_no_larger_than_k_gives_the_exact_mean(m):
    gen = torch.Generator().manual_seed(m)
    q = Partners(m, 24, seed=0)
    pool = torch.randn(q.k, 2, generator=gen, dtype=torch.float64)
    x = torch.randn(3, 2, generator=gen, dtype=torch.float64)
    w = torch.randn(2 * m, generator=gen, dtype=torch.float64)
    f = lambda packs: torch.tanh(packs @ w) + (packs**2).sum(1)  # noqa: E731
    q.fit(pool)
    got = q.mean(f(q.packs(x)))
    for i in range(3):
        assert float(got[i]) == pytest.approx(_pack_mean(f, x[i], pool, m), abs=1e-12)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_exact_for_d_linear_in_each_partner_and_close_for_a_curved_one(m):
    """Centres are cluster means and the columns take the product of the shares: exact when
    D is linear in each column (multilinear), which no single pack of centres is."""
    gen = torch.Generator().manual_seed(10 + m)
    pool = torch.randn(60 if m == 2 else 20, 2, generator=gen, dtype=torch.float64)
    x = torch.randn(2, 2, generator=gen, dtype=torch.float64)
    a = torch.randn(m, 2, generator=gen, dtype=torch.float64)

    def multilinear(packs):
        cols = packs.reshape(-1, m, 2)
        return ((cols * a).sum(2) + 1).prod(1)

    def curved(packs):
        return torch.nn.functional.softplus(packs.sum(1))  # convex: one centre is short

    q, one = Partners(m, 24 if m > 2 else 8, seed=1), Partners(m, 1, seed=1)
    assert 1 < q.k < len(pool)
    q.fit(pool)
    one.fit(pool)
    for i in range(2):
        exact = _pack_mean(multilinear, x[i], pool, m)
        assert float(q.mean(multilinear(q.packs(x)))[i]) == pytest.approx(exact, abs=1e-10)
        # Convex: one centre falls short (Jensen); k clusters per column much less.
        exact = _pack_mean(curved, x[i], pool, m)
        err = abs(float(q.mean(curved(q.packs(x)))[i]) - exact)
        err_one = abs(float(one.mean(curved(one.packs(x)))[i]) - exact)
        assert err < 0.5 * err_one and err_one > 0.1


def test_column_clusters_keep_the_packs_per_point_bounded():
    assert column_clusters(2, 24) == 24
    for m in (3, 4):
        c = column_clusters(m, 24)
        assert m * c ** (m - 1) <= 4 * 24 < m * (c + 1) ** (m - 1)
        assert Partners(m, 24, 0).rows == m * c ** (m - 1)


def test_packs_place_the_point_in_every_slot_with_every_tuple_of_centres():
    m = 3
    q = Partners(m, 2, seed=0)
    pool = torch.tensor([[0.0, 0.0], [0.2, 0.0], [10.0, 0.0], [10.0, 0.4]])
    q.fit(pool)
    centres = q.centres.tolist()
    x = torch.tensor([[7.0, 8.0]])
    rows = q.packs(x).reshape(q.rows, m, 2).tolist()
    expected = []
    for s in range(m):
        for others in itertools.product(centres, repeat=m - 1):
            cols = list(others)
            cols.insert(s, [7.0, 8.0])
            expected.append(cols)
    assert sorted(map(str, rows)) == sorted(map(str, expected))
    assert float(q.row_weight.sum()) == pytest.approx(1.0)


def test_grad_takes_each_points_own_slot_weighted():
    m = 2
    q = Partners(m, 3, seed=0)
    q.fit(torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.1]]))
    g = torch.randn(2 * q.rows, 2 * m, generator=torch.Generator().manual_seed(0))
    packs = q.packs(torch.tensor([[5.0, 5.0], [6.0, 6.0]])).reshape(2, q.rows, m, 2)
    expected = torch.zeros(2, 2)
    for i, xi in enumerate(([5.0, 5.0], [6.0, 6.0])):
        for r in range(q.rows):
            s = [c.tolist() for c in packs[i, r]].index(xi)  # where the point sits
            expected[i] += g[i * q.rows + r, 2 * s : 2 * s + 2] * q.row_weight[r]
    torch.testing.assert_close(q.grad(g), expected)


def test_a_warm_fit_follows_the_pool_and_a_fresh_one_is_reproducible():
    gen = torch.Generator().manual_seed(3)
    pool = torch.cat([torch.randn(30, 2, generator=gen) * 0.1 + c
                      for c in torch.tensor([[-3.0, 0.0], [3.0, 0.0], [0.0, 3.0]])])  # fmt: skip
    q, again = Partners(2, 3, seed=5), Partners(2, 3, seed=5)
    q.fit(pool)
    again.fit(pool)
    assert torch.equal(q.centres, again.centres)
    before = q.centres.clone()
    q.fit(pool + torch.tensor([0.5, 0.0]))  # warm: the same clusters, moved
    torch.testing.assert_close(q.centres, before + torch.tensor([0.5, 0.0]))


def test_points_that_are_not_finite_are_left_out_of_the_pool():
    gen = torch.Generator().manual_seed(4)
    pool = torch.randn(40, 2, generator=gen)
    q, clean = Partners(2, 4, seed=2), Partners(2, 4, seed=2)
    q.fit(torch.cat([pool[:20], torch.tensor([[float("nan"), 0.0]]), pool[20:]]))
    clean.fit(pool)
    torch.testing.assert_close(q.centres, clean.centres)
    torch.testing.assert_close(q.weights, clean.weights)
    q.fit(torch.full((40, 2), float("inf")))  # nothing left: D's value is not a number
    assert torch.isnan(q.packs(torch.zeros(1, 2))).any(1).all()  # every pack's partner
    q.fit(pool)  # and the next finite pool starts afresh
    torch.testing.assert_close(q.centres, clean.centres)
