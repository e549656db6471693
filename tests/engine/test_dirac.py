"""The Dirac-GAN against closed forms written out by hand, plain loops and torch.optim."""

import json
import math

import numpy as np
import pytest
import torch

from ganlab.engine import dirac
from ganlab.engine.config import ConfigError, parse_config


def sig(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def config(loss=None, training=None, sgd=None, **extra):
    """A config; sgd=(lr_G, lr_D) makes both optimizers plain SGD."""
    data = {"loss": loss or {}, "training": training or {}, **extra}
    if sgd:
        data["g_optimizer"] = {"kind": "sgd", "lr": sgd[0]}
        data["d_optimizer"] = {"kind": "sgd", "lr": sgd[1]}
    return parse_config(data)


# The field (-dL_G/dθ, -dL_D/dψ) by hand, with D(x) = ψx, real 0, fake θ, o = ψθ.
def closed_field(kind, t, p, generator="non_saturating", r1=0.0, r2=0.0, gp=10.0):
    o = p * t
    if kind == "log":
        v_t = p * sig(o) if generator == "minimax" else p * sig(-o)
        v_p = -t * sig(o)
    elif kind == "lsgan":  # G: (o - 1)^2 / 2, D: (0 - 1)^2 / 2 + o^2 / 2
        v_t, v_p = -(o - 1) * p, -o * t
    elif kind in ("wgan", "wgan_gp"):
        v_t, v_p = p, -t
        if kind == "wgan_gp":  # λ (|ψ| - 1)^2
            v_p = v_p - gp * 2 * (np.abs(p) - 1) * np.sign(p)
    elif kind == "hinge":  # D: relu(1 - 0) + relu(1 + o)
        v_t, v_p = p, -t * (o > -1)
    v_p = v_p - (r1 + r2) * p  # γ/2 ψ^2 each
    return v_t, v_p


POINTS = np.random.default_rng(0).uniform(-2.5, 2.5, size=(200, 2))


@pytest.mark.parametrize(
    "loss",
    [
        {"kind": "log"},
        {"kind": "log", "generator": "minimax"},
        {"kind": "log", "r1": 0.7},
        {"kind": "log", "r2": 0.3, "r1": 0.2},
        {"kind": "lsgan"},
        {"kind": "wgan"},
        {"kind": "wgan_gp", "gp_weight": 3.0},
        {"kind": "hinge"},
    ],
)
def test_field_matches_closed_forms(loss):
    game = dirac.Game(config(loss))
    t, p = (torch.tensor(POINTS[:, i]) for i in range(2))
    v_t, v_p = game.field(t, p)
    want_t, want_p = closed_field(
        loss["kind"], POINTS[:, 0], POINTS[:, 1], loss.get("generator", "non_saturating"),
        loss.get("r1", 0.0), loss.get("r2", 0.0), loss.get("gp_weight", 10.0),
    )  # fmt: skip
    np.testing.assert_allclose(v_t.numpy(), want_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(v_p.numpy(), want_p, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("loss", "want"),
    [
        # Purely imaginary: ±i f'(0), f'(0) = 1/2 for the log loss, 1 for the linear ones.
        ({"kind": "log"}, [-0.5j, 0.5j]),
        ({"kind": "log", "generator": "minimax"}, [-0.5j, 0.5j]),
        ({"kind": "wgan"}, [-1j, 1j]),
        ({"kind": "hinge"}, [-1j, 1j]),
        # R1: -γ/2 ± sqrt(γ²/4 - f'(0)²), complex for γ < 1 and real for γ > 1.
        ({"kind": "log", "r1": 0.4}, [-0.2 - math.sqrt(0.21) * 1j, -0.2 + math.sqrt(0.21) * 1j]),
        ({"kind": "log", "r1": 3.0}, [-1.5 - math.sqrt(2.0), -1.5 + math.sqrt(2.0)]),
    ],
)
def test_eigenvalues_at_the_equilibrium(loss, want):
    got = dirac.eigenvalues(config(loss))
    assert got is not None
    key = lambda z: (z.imag, z.real)  # noqa: E731
    np.testing.assert_allclose(sorted(got, key=key), sorted(want, key=key), atol=1e-6)


def test_no_eigenvalues_where_the_field_has_a_kink():
    # WGAN-GP's |ψ| jumps the field at ψ = 0 by 4λ: no Jacobian there.
    assert dirac.eigenvalues(config({"kind": "wgan_gp"})) is None
    assert dirac.eigenvalues(config({"kind": "wgan_gp", "gp_weight": 0.0})) is not None


def plain_loop(kind, scheme, lr_g, lr_d, steps, d_steps=1, g_steps=1, start=dirac.START, **kw):
    """The engine's schemes by hand with plain gradient steps on the closed-form field."""

    def v(t, p):
        a, b = closed_field(kind, np.float64(t), np.float64(p), **kw)
        return float(a), float(b)

    t, p = start
    out = [(t, p)]
    for _ in range(steps):
        if scheme == "alternating":
            for _ in range(d_steps):
                p += lr_d * v(t, p)[1]
            for _ in range(g_steps):
                t += lr_g * v(t, p)[0]
        elif scheme == "simultaneous":
            a, b = v(t, p)
            t, p = t + lr_g * a, p + lr_d * b
        else:  # extragradient: look ahead one step, then step from here with the field there
            a, b = v(t, p)
            a, b = v(t + lr_g * a, p + lr_d * b)
            t, p = t + lr_g * a, p + lr_d * b
        out.append((t, p))
    return np.array(out)


@pytest.mark.parametrize(
    ("loss", "training"),
    [
        ({"kind": "log", "generator": "minimax"}, {"scheme": "simultaneous"}),
        ({"kind": "log"}, {"scheme": "alternating", "d_steps": 2, "g_steps": 1}),
        ({"kind": "log", "r1": 0.5}, {"scheme": "extragradient"}),
        ({"kind": "hinge"}, {"scheme": "alternating", "d_steps": 1, "g_steps": 3}),
        ({"kind": "wgan_gp", "gp_weight": 0.5}, {"scheme": "simultaneous"}),
    ],
)
def test_trajectory_matches_a_plain_loop(loss, training):
    c = config(loss, training, sgd=(0.07, 0.05))
    got = dirac.trajectory(c, 150)
    kw = {k: loss[k] for k in ("generator", "r1") if k in loss}
    if "gp_weight" in loss:
        kw["gp"] = loss["gp_weight"]
    want = plain_loop(loss["kind"], training["scheme"], 0.07, 0.05, 150,
                      training.get("d_steps", 1), training.get("g_steps", 1), **kw)  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_adam_follows_torch_optim():
    c = parse_config({
        "loss": {"kind": "log", "generator": "minimax"},
        "training": {"scheme": "simultaneous"},
        "g_optimizer": {"kind": "adam", "lr": 0.01, "beta1": 0.5, "beta2": 0.9},
        "d_optimizer": {"kind": "adam", "lr": 0.03, "beta1": 0.0, "beta2": 0.99},
    })  # fmt: skip
    t = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    p = torch.tensor([-1.0], dtype=torch.float64, requires_grad=True)
    opt_g = torch.optim.Adam([t], lr=0.01, betas=(0.5, 0.9), eps=1e-8)
    opt_d = torch.optim.Adam([p], lr=0.03, betas=(0.0, 0.99), eps=1e-8)
    want = [dirac.START]
    for _ in range(300):
        a, b = closed_field("log", t.item(), p.item(), "minimax")
        t.grad, p.grad = (
            torch.tensor([-a], dtype=torch.float64),
            torch.tensor([-b], dtype=torch.float64),
        )
        opt_g.step()
        opt_d.step()
        want.append((t.item(), p.item()))
    np.testing.assert_allclose(dirac.trajectory(c, 300), np.array(want), rtol=1e-6, atol=1e-9)


def test_clipping_and_halflife():
    c = config({"kind": "wgan", "clip": 0.3}, {"scheme": "simultaneous", "lr_halflife": 40},
               sgd=(0.1, 0.2))  # fmt: skip
    got = dirac.trajectory(c, 120)
    assert np.abs(got[1:, 1]).max() <= 0.3 + 1e-12
    t, p = dirac.START
    for i in range(120):
        s = 0.5 ** (i / 40)
        t, p = t + 0.1 * s * p, float(np.clip(p - 0.2 * s * t, -0.3, 0.3))
    np.testing.assert_allclose(got[-1], [t, p], rtol=1e-9)


MINIMAX = {"kind": "log", "generator": "minimax"}


def judged(loss, training, steps=1000, lr=0.1):
    c = config(loss, training, sgd=(lr, lr))
    path = dirac.trajectory(c, steps)
    return path, dirac.verdict(path, dirac.rates(c))


def test_simultaneous_steps_spiral_out():
    path, v = judged(MINIMAX, {"scheme": "simultaneous"})
    r = np.hypot(path[:, 0], path[:, 1])
    assert r[-1] > 1.5 * r[0] and v.kind == "spirals_out" and v.turns > 1


def test_r1_converges():
    path, v = judged({**MINIMAX, "r1": 1.0}, {"scheme": "simultaneous"})
    assert np.hypot(*path[-1]) < 1e-3 and v.kind == "converges"


def test_alternating_small_steps_circle():
    path, v = judged(MINIMAX, {"scheme": "alternating", "d_steps": 1}, steps=2000, lr=0.05)
    r = np.hypot(path[:, 0], path[:, 1])
    assert 0.9 < r[-200:].mean() / r[0] < 1.1 and v.kind == "circles" and v.turns > 2


def test_non_saturating_is_not_one_game():
    # With G's -log D the field is no longer (-dL/dθ, dL/dψ) of one L: its continuous flow
    # loses θ² + ψ² at rate ψθ·tanh(ψθ/2) >= 0, the minimax one keeps it.
    t, p = (torch.tensor(POINTS[:, i]) for i in range(2))
    for generator, sign in (("non_saturating", -1), ("minimax", 0)):
        v_t, v_p = dirac.Game(config({"kind": "log", "generator": generator})).field(t, p)
        change = (t * v_t + p * v_p).numpy()
        o = POINTS[:, 0] * POINTS[:, 1]
        np.testing.assert_allclose(change, sign * o * np.tanh(o / 2), atol=1e-12)


def test_stationary_points_away_from_the_data():
    # WGAN-GP: at ψ -> 0- the penalty's pull -2λ(|ψ| - 1)·sign ψ = -2λ balances -θ at θ = -2λ,
    # where G stops (from START, D scores the fakes below the data: ψ < 0).
    path, v = judged({"kind": "wgan_gp", "gp_weight": 2.0}, {"scheme": "simultaneous"},
                     steps=3000, lr=0.05)  # fmt: skip
    np.testing.assert_allclose(path[-1], [-4.0, 0.0], atol=1e-6)
    assert v.kind == "stops"
    # LSGAN: D(0) = 0 whatever ψ, and the whole line ψ = 0 is stationary.
    t = torch.linspace(-2, 2, 9, dtype=torch.float64)
    v_t, v_p = dirac.Game(config({"kind": "lsgan"})).field(t, torch.zeros_like(t))
    assert v_t.abs().max() == 0 and v_p.abs().max() == 0


def test_verdict_on_made_up_paths():
    rate = {"theta": 1.0, "psi": 1.0}
    a = np.linspace(0, 6 * math.pi, 600)
    ring = np.stack([np.cos(a), np.sin(a)], 1)
    assert dirac.verdict(ring, rate).kind == "circles"
    assert dirac.verdict(ring * np.exp(a / 8)[:, None], rate).kind == "spirals_out"
    assert dirac.verdict(ring * np.exp(-a)[:, None], rate).kind == "converges"
    assert dirac.verdict(ring[:50], rate).kind == "too_short"
    still = np.vstack([[[1.0, 1.0]], np.tile([[2.0, 0.0]], (50, 1))])
    assert dirac.verdict(still, rate).kind == "stops"
    assert dirac.verdict(np.array([[1.0, 1.0], [np.inf, 0.0]]), rate).kind == "blows_up"
    # Unequal rates: an ellipse the linearised flow keeps counts as circling, not spiralling.
    squashed = ring * [1.0, 5.0]
    assert dirac.verdict(squashed, {"theta": 1.0, "psi": 25.0}).kind == "circles"
    # Coming in part of the way: winding (three turns) or heading straight in say so.
    wind = dirac.verdict(ring * np.exp(-a / 40)[:, None], rate)
    assert wind.kind == "approaches" and "winds in" in wind.words and "(3.0 turns)" in wind.words
    # The distance is the mean over the last twentieth (30 points) of the path.
    assert f"still {np.exp(-a[-30:] / 40).mean():.2f} of" in wind.words
    line = np.stack([np.linspace(1, 0.4, 100), np.zeros(100)], 1)
    straight = dirac.verdict(line, rate)
    assert straight.kind == "approaches" and "without going round it" in straight.words
    assert f"still {line[-5:, 0].mean():.2f} of" in straight.words
    # In, then round and round at a third of the distance: it circles, nearer than it began.
    settled = dirac.verdict(ring * np.maximum(np.exp(-a), 1 / 3)[:, None], rate)
    assert settled.kind == "circles" and "comes in to 0.33 of" in settled.words
    half_turn = dirac.verdict(ring[:300] * np.linspace(1, 0.5, 300)[:, None], rate)
    assert half_turn.kind == "approaches" and "round" not in half_turn.words


def test_plain_steps_wind_in_and_r1_stops_the_winding():
    # The page's defaults with plain gradient steps: the non-saturating loss winds slowly in;
    # R1 makes the same steps head in without going round (the headline's lesson).
    def plain(loss):
        c = dirac.plain_sgd(parse_config({"loss": loss}))
        assert c is not None
        return dirac.verdict(dirac.trajectory(c, 20_000), dirac.rates(c))

    # Hinge: in at first, then round at 0.62 of the distance for good.
    hinge = plain({"kind": "hinge"})
    assert hinge.kind == "circles" and "gets no closer" in hinge.words and hinge.ratio < 0.8
    bare, r1 = plain({}), plain({"r1": 1.0})
    assert bare.kind == "approaches" and bare.turns > 2 and "winds in" in bare.words
    assert r1.kind == "approaches" and r1.turns < 0.25 and r1.ratio < bare.ratio


LOSSES = [
    {"kind": "log"},
    {"kind": "log", "generator": "minimax", "r1": 0.7},
    {"kind": "lsgan", "r2": 0.4, "label_smoothing": 0.1},
    {"kind": "wgan"},
    {"kind": "wgan_gp", "gp_weight": 3.0, "r1": 0.2},
    {"kind": "hinge"},
]


@pytest.mark.parametrize("loss", LOSSES)
def test_fast_path_matches_autograd(loss):
    c = config(loss)
    game = dirac.Game(c)
    d_grad, g_grad = dirac.gradients(c)
    pts = np.vstack([POINTS, [[0.0, 0.0], [1.0, -1.0], [0.5, 0.0]]])
    t, p = (torch.tensor(pts[:, i]) for i in range(2))
    np.testing.assert_allclose([d_grad(a, b) for a, b in pts], game.d_grad(t, p).numpy(),
                               rtol=1e-12, atol=1e-14)  # fmt: skip
    np.testing.assert_allclose([g_grad(a, b) for a, b in pts], game.g_grad(t, p).numpy(),
                               rtol=1e-12, atol=1e-14)  # fmt: skip


def test_an_objective_without_closed_forms_takes_autograd(monkeypatch):
    c = config({"kind": "log", "r1": 0.5}, {"scheme": "extragradient"}, sgd=(0.05, 0.08))
    fast = dirac.trajectory(c, 60)
    monkeypatch.delitem(dirac.CLOSED, "log")
    np.testing.assert_allclose(dirac.trajectory(c, 60), fast, rtol=1e-12, atol=1e-14)


def test_long_paths_are_thinned_for_drawing():
    c = config(MINIMAX, {"scheme": "alternating"}, sgd=(0.01, 0.01))
    full = dirac.trajectory(c, 6000)
    shown = np.array(dirac.describe(c, 6000)["path"])
    assert len(shown) <= dirac.SHOWN + 1
    np.testing.assert_array_equal(shown[[0, -1]], full[[0, -1]])
    every = math.ceil(6000 / dirac.SHOWN)
    assert every > 1
    np.testing.assert_array_equal(shown[:-1], full[:-1:every])


def test_a_blown_up_path_stops_and_its_answer_is_plain_json():
    c = config({"kind": "lsgan"}, {"scheme": "simultaneous"}, sgd=(10.0, 10.0))
    out = dirac.describe(c, 1000)
    assert out["iterations"] < 1000 and out["verdict"]["kind"] == "blows_up"
    assert out["half"] == [1e3, 1e3]  # the picture stops growing
    json.dumps(out, allow_nan=False)  # what the server's JSON response requires


def test_describe_and_requests():
    both_sgd = {"loss": {"r1": 2.0}, "g_optimizer": {"kind": "sgd"}, "d_optimizer": {"kind": "sgd"}}
    req, c = dirac.parse_request({"config": both_sgd, "steps": 50})
    out = dirac.describe(c, req.steps, req.start)
    assert out["iterations"] == 50 and len(out["path"]) == 51
    f = out["field"]
    assert len(f["v_theta"]) == len(f["theta"]) * len(f["psi"]) == dirac.GRID**2
    # The middle of the grid is the equilibrium, where the field vanishes.
    assert f["theta"][dirac.GRID // 2] == 0 and f["v_theta"][dirac.GRID**2 // 2] == 0
    # Both SGD already: nothing to compare. Adam on one side: plain SGD at the same rates.
    assert out["plain_sgd"] is None
    mixed = {
        "g_optimizer": {"kind": "adam", "lr": 0.02},
        "d_optimizer": {"kind": "sgd", "lr": 0.03, "momentum": 0.5},
    }
    req, c = dirac.parse_request({"config": mixed, "steps": 400})
    sgd = parse_config(
        {"g_optimizer": {"kind": "sgd", "lr": 0.02}, "d_optimizer": {"kind": "sgd", "lr": 0.03}}
    )
    want = dirac.verdict(dirac.trajectory(sgd, 400), dirac.rates(sgd))
    assert dirac.describe(c, 400)["plain_sgd"] == {
        "kind": want.kind,
        "words": want.words,
        "turns": want.turns,
        "ratio": want.ratio,
    }
    with pytest.raises(ConfigError, match=r"config\.loss\.r1: must be >= 0"):
        dirac.parse_request({"config": {"loss": {"r1": -1}}})
    with pytest.raises(ConfigError, match="steps: must be <= 50000"):
        dirac.parse_request({"steps": 10**6})
    with pytest.raises(ConfigError, match="start"):
        dirac.parse_request({"start": [float("nan"), 0]})
