"""The distributions: built-in shapes and mixtures, drawings, imported points and parsing."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ganlab.engine.config
from ganlab.engine.config import DataConfig
from ganlab.engine.distributions import (
    DISTRIBUTIONS,
    Box,
    Distribution,
    PointsError,
    from_points,
    from_strokes,
    parse_points,
    register,
    resolve,
    validate_custom,
)
from ganlab.engine.distributions.custom import parse_points_csv, parse_points_json, resample_stroke

N = 20_000


def draw(dist: Distribution, n: int = N, seed: int = 0) -> torch.Tensor:
    return dist.sample(n, torch.Generator().manual_seed(seed))


# --------------------------------------------------------------------------- registry


def test_registry_holds_all_built_ins_with_metadata() -> None:
    expected = {
        "ganlab": {"line", "gaussians", "ring", "disjoint"},
        "benchmark": {"ring8", "grid25", "8gaussians", "25gaussians", "swissroll"},
        "classic": {"moons", "spiral", "checkerboard"},
    }
    groups: dict[str, set[str]] = {}
    for name, dist in DISTRIBUTIONS.items():
        assert dist.name == name
        assert dist.title and dist.description and "\n" not in dist.description
        groups.setdefault(dist.group, set()).add(name)
    assert groups == expected
    assert list(DISTRIBUTIONS)[:4] == ["line", "gaussians", "ring", "disjoint"]


def test_register_rejects_duplicates_and_reserved_names() -> None:
    existing = DISTRIBUTIONS["line"]
    with pytest.raises(ValueError, match="already registered"):
        register(existing)
    for name in ("drawing", "points"):
        with pytest.raises(ValueError, match="reserved"):
            register(Distribution(name, "t", "d", existing.box, existing.sampler))
    assert DISTRIBUTIONS["line"] is existing


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_shape_dtype_determinism_and_box(name: str) -> None:
    dist = DISTRIBUTIONS[name]
    a, b, c = draw(dist, 2000, 1), draw(dist, 2000, 1), draw(dist, 2000, 2)
    assert a.shape == (2000, 2) and a.dtype == torch.float32 and a.device.type == "cpu"
    assert torch.isfinite(a).all()
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert dist.sample(0, torch.Generator()).shape == (0, 2)
    box = dist.box
    inside = (
        (a[:, 0] >= box.xmin)
        & (a[:, 0] <= box.xmax)
        & (a[:, 1] >= box.ymin)
        & (a[:, 1] <= box.ymax)
    )
    assert inside.float().mean() > 0.98  # "gaussians" spills ~1.1% below y = 0 by design


def test_sampling_uses_only_the_given_generator() -> None:
    torch.manual_seed(123)
    a = draw(DISTRIBUTIONS["ring"], 100)
    torch.manual_seed(456)
    b = draw(DISTRIBUTIONS["ring"], 100)
    assert torch.equal(a, b)


# --------------------------------------------------------------------------- moments


def _close(actual: torch.Tensor, expected: tuple[float, float], tol: float) -> None:
    assert actual.tolist() == pytest.approx(list(expected), abs=tol)


def test_line_moments() -> None:
    x = draw(DISTRIBUTIONS["line"]).double()
    _close(x.mean(0), (0.425, 0.75), 0.005)
    # Var(0.75u) = 0.75²/12, Var(0.3u) = 0.3²/12, plus 0.01² of noise.
    _close(x.std(0), (math.sqrt(0.75**2 / 12 + 1e-4), math.sqrt(0.3**2 / 12 + 1e-4)), 0.004)
    # The shared u makes x and y almost perfectly anti-correlated.
    assert torch.corrcoef(x.T)[0, 1] < -0.99


def test_ring_moments_and_radius() -> None:
    x = draw(DISTRIBUTIONS["ring"]).double()
    _close(x.mean(0), (0.5, 0.45), 0.005)
    _close(x.std(0), (math.sqrt(0.09 / 2 + 0.025**2), math.sqrt(0.0625 / 2 + 0.025**2)), 0.004)
    ellipse = ((x[:, 0] - 0.5) / 0.3) ** 2 + ((x[:, 1] - 0.45) / 0.25) ** 2
    assert ellipse.mean().item() == pytest.approx(1.0, abs=0.03)


def test_gaussians_moments() -> None:
    x = draw(DISTRIBUTIONS["gaussians"]).double()
    _close(x.mean(0), (0.5, 0.55), 0.006)


def test_grid25_moments() -> None:
    x = draw(DISTRIBUTIONS["grid25"], 50_000).double()
    _close(x.mean(0), (0.0, 0.0), 0.05)
    _close(x.var(0), (8 + 0.05**2, 8 + 0.05**2), 0.15)


def test_ring8_points_lie_on_the_unit_circle() -> None:
    x = draw(DISTRIBUTIONS["ring8"])
    radius = x.norm(dim=1)
    assert (radius - 1).abs().max() < 0.06
    assert radius.mean().item() == pytest.approx(1.0, abs=0.002)
    means = torch.tensor([m.mean for m in DISTRIBUTIONS["ring8"].modes])
    assert torch.cdist(means, means).add(torch.eye(8)).min() > 0.7  # eight distinct modes


def test_8gaussians_and_25gaussians_scale() -> None:
    d8 = DISTRIBUTIONS["8gaussians"]
    assert len(d8.modes) == 8
    for mode in d8.modes:
        assert math.hypot(*mode.mean) == pytest.approx(2 / 1.414)
        assert mode.sigma == pytest.approx((0.02 / 1.414, 0.02 / 1.414))
    assert draw(d8).norm(dim=1).mean().item() == pytest.approx(2 / 1.414, abs=0.003)

    d25 = DISTRIBUTIONS["25gaussians"]
    assert len(d25.modes) == 25
    coords = sorted({round(m.mean[0], 6) for m in d25.modes})
    assert coords == pytest.approx([2 * k / 2.828 for k in range(-2, 3)])
    assert all(m.sigma == pytest.approx((0.05 / 2.828,) * 2) for m in d25.modes)
    x = draw(d25)
    assert x.abs().max().item() == pytest.approx(4 / 2.828, abs=0.1)


def test_grid25_modes_and_sigma() -> None:
    modes = DISTRIBUTIONS["grid25"].modes
    assert {m.mean for m in modes} == {
        (float(x), float(y)) for x in range(-4, 5, 2) for y in range(-4, 5, 2)
    }
    assert all(m.sigma == (0.05, 0.05) for m in modes)


MIXTURES = [name for name, dist in DISTRIBUTIONS.items() if dist.is_mixture]


def test_mixture_list() -> None:
    assert set(MIXTURES) == {
        "gaussians",
        "disjoint",
        "ring8",
        "grid25",
        "8gaussians",
        "25gaussians",
    }


@pytest.mark.parametrize("name", MIXTURES)
def test_mixture_samples_near_modes_and_balanced(name: str) -> None:
    dist = DISTRIBUTIONS[name]
    x = draw(dist).double()
    means = torch.tensor([m.mean for m in dist.modes], dtype=torch.float64)
    sigmas = torch.tensor([m.sigma for m in dist.modes], dtype=torch.float64)
    z = (x[:, None, :] - means[None]) / sigmas[None]  # (n, k, 2) in units of σ
    nearest = z.pow(2).sum(-1).argmin(1)
    per_axis = z[torch.arange(len(x)), nearest].abs().amax(1)
    assert (per_axis <= 4).double().mean() > 0.99
    counts = torch.bincount(nearest, minlength=len(dist.modes)).double()
    expected = len(x) / len(dist.modes)
    assert ((counts - expected).abs() / expected).max() < 0.2


def test_swissroll_range() -> None:
    x = draw(DISTRIBUTIONS["swissroll"])
    radius = x.norm(dim=1)
    # t in [1.5π, 4.5π], so |(x, z)| = t / 7.5 up to the noise.
    assert radius.min() > 1.5 * math.pi / 7.5 - 0.2
    assert radius.max() < 4.5 * math.pi / 7.5 + 0.2


def test_classics_shape() -> None:
    moons = draw(DISTRIBUTIONS["moons"])
    assert moons.mean(0).abs().max() < 0.1
    spiral = draw(DISTRIBUTIONS["spiral"])
    assert spiral.mean(0).abs().max() < 0.1
    board = draw(DISTRIBUTIONS["checkerboard"])
    assert board.min() >= -2 and board.max() <= 2
    cells = torch.floor(board + 2).long().clamp(0, 3)
    assert ((cells[:, 0] + cells[:, 1]) % 2 == 0).all()
    counts = torch.bincount(cells[:, 0] * 4 + cells[:, 1], minlength=16).double()
    dark = counts[counts > 0]
    assert len(dark) == 8
    assert ((dark - N / 8).abs() / (N / 8)).max() < 0.1


# --------------------------------------------------------------------------- drawing


def test_drawing_is_even_by_arc_length() -> None:
    long_stroke = [(0.1, 0.2), (0.9, 0.2)]  # length 0.8, two points
    # Length 0.2 with 100 points crowded towards the start (quadratic spacing).
    short_stroke = [(0.5, 0.6 + 0.2 * (k / 99) ** 2) for k in range(100)]
    dist = from_strokes([long_stroke, short_stroke], brush_width=1e-4)
    assert dist.name == "drawing" and dist.group == "custom"
    assert dist.box == Box(0.0, 1.0, 0.0, 1.0)
    x = draw(dist).double()
    on_long = x[:, 1] < 0.4
    assert on_long.double().mean().item() == pytest.approx(0.8, abs=0.015)
    # Within each stroke, positions are uniform along the length too.
    xs = x[on_long, 0]
    hist = torch.histc(xs, bins=8, min=0.1, max=0.9)
    assert ((hist - hist.mean()).abs() / hist.mean()).max() < 0.15
    ys = x[~on_long, 1]
    hist = torch.histc(ys, bins=4, min=0.6, max=0.8)
    assert ((hist - hist.mean()).abs() / hist.mean()).max() < 0.15


def test_drawing_agrees_with_resample_stroke() -> None:
    stroke = [(0.1, 0.1), (0.11, 0.1), (0.12, 0.1), (0.5, 0.1), (0.5, 0.5)]
    even = resample_stroke(stroke, 0.01)
    steps = np.linalg.norm(np.diff(even, axis=0), axis=1)
    assert steps.max() <= 0.01 + 1e-12
    assert np.allclose(even[0], stroke[0]) and np.allclose(even[-1], stroke[-1])
    # Away from the corner (where the chord cuts across), every step has the same length.
    assert np.allclose(np.delete(steps, np.argmin(steps)), steps.max(), atol=1e-9)
    # Resampled evenly, the sampler would put the same mass on each part as on the original.
    x = draw(from_strokes([stroke], 1e-4)).double()
    share = (x[:, 1] < 0.1 + 1e-3).double().mean().item()
    resampled_share = float(np.mean(even[:, 1] < 0.1 + 1e-9))
    assert share == pytest.approx(resampled_share, abs=0.03)
    assert share == pytest.approx(0.4 / 0.8, abs=0.015)


def test_resample_stroke_degenerate_inputs() -> None:
    assert resample_stroke([(0.3, 0.4)], 0.1).tolist() == [[0.3, 0.4]]
    assert resample_stroke([(0.3, 0.4), (0.3, 0.4)], 0.1).tolist() == [[0.3, 0.4]]
    with pytest.raises(ValueError):
        resample_stroke([(0.0, 0.0), (1.0, 0.0)], 0.0)


def test_tap_strokes_are_dots() -> None:
    width = 0.04
    only_tap = draw(from_strokes([[(0.3, 0.6)]], width)).double()
    _close(only_tap.mean(0), (0.3, 0.6), 0.002)
    _close(only_tap.std(0), (width / 4, width / 4), 0.0005)
    # A tap and a zero-length stroke each weigh as brush_width of length.
    strokes = [[(0.1, 0.1)], [(0.9, 0.9), (0.9, 0.9)], [(0.2, 0.5), (0.76, 0.5)]]
    x = draw(from_strokes(strokes, width)).double()
    near_tap = (x - torch.tensor([0.1, 0.1], dtype=torch.float64)).norm(dim=1) < 0.05
    near_dot = (x - torch.tensor([0.9, 0.9], dtype=torch.float64)).norm(dim=1) < 0.05
    share = width / (0.56 + 2 * width)
    assert near_tap.double().mean().item() == pytest.approx(share, abs=0.01)
    assert near_dot.double().mean().item() == pytest.approx(share, abs=0.01)


@pytest.mark.parametrize("width", [0.01, 0.08])
def test_brush_width_sets_spread(width: float) -> None:
    x = draw(from_strokes([[(0.1, 0.5), (0.9, 0.5)]], width)).double()
    offset = x[:, 1] - 0.5
    assert offset.std().item() == pytest.approx(width / 4, rel=0.03)
    assert (offset.abs() <= width / 2).double().mean().item() == pytest.approx(0.954, abs=0.01)


def test_from_strokes_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        from_strokes([], 0.04)
    with pytest.raises(ValueError):
        from_strokes([[(0.1, 0.1)]], 0.0)


# --------------------------------------------------------------------------- imported points


def test_from_points_samples_the_set() -> None:
    pts = [(0.0, 0.0), (1.0, 0.0), (0.0, 3.0)]
    dist = from_points(pts, jitter=0.0)
    assert dist.name == "points" and dist.group == "custom"
    x = draw(dist)
    uniq, counts = torch.unique(x, dim=0, return_counts=True)
    assert sorted(map(tuple, uniq.tolist())) == sorted(pts)
    assert ((counts.double() - N / 3).abs() / (N / 3)).max() < 0.05
    # Box: the bounding box [0,1]x[0,3] grows by 10% of the long side and turns square.
    box = dist.box
    assert box.center == pytest.approx((0.5, 1.5))
    assert box.xmax - box.xmin == pytest.approx(3.6)
    assert box.ymax - box.ymin == pytest.approx(3.6)


def test_from_points_jitter_and_degenerate_box() -> None:
    dist = from_points([(2.0, -1.0)], jitter=0.1)
    x = draw(dist).double()
    _close(x.mean(0), (2.0, -1.0), 0.004)
    _close(x.std(0), (0.1, 0.1), 0.003)
    assert dist.box == Box(1.9, 2.1, -1.1, -0.9)
    with pytest.raises(ValueError):
        from_points([(0.0, 0.0)], jitter=-1.0)


# --------------------------------------------------------------------------- parsing


def test_parse_csv_happy_paths() -> None:
    text = "x,y\n1,2\n\n  3.5 , -4e-1 \n"
    assert parse_points_csv(text).tolist() == [[1.0, 2.0], [3.5, -0.4]]
    assert parse_points_csv("1;2\n3;4").tolist() == [[1, 2], [3, 4]]
    assert parse_points_csv("\ufeffa\tb\r\n1\t2\r\n").tolist() == [[1, 2]]
    out = parse_points_csv("0,0\n")
    assert out.shape == (1, 2) and out.dtype == np.float64


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("x,y\n1,2\n\n3,4\n5,6\n\nabc,1\n", 7, "expected 2 numbers, got 'abc,1'"),
        ("1,2\n1,2,3\n", 2, "expected 2 numbers"),
        ("1,2\n3\n", 2, "expected 2 numbers"),
        ("1,2\n\nnan,1\n", 3, "finite"),
        ("1,2\n1,inf\n", 2, "finite"),
        ("1,2\n-Infinity,1\n", 2, "finite"),
        ("1,x\n", 1, "expected 2 numbers"),
    ],
)
def test_parse_csv_errors_name_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(PointsError) as info:
        parse_points_csv(text)
    assert info.value.line == line
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"line {line}: ")
    assert isinstance(info.value, ValueError)


def test_parse_csv_error_message_format() -> None:
    with pytest.raises(PointsError, match=r"^line 2: expected 2 numbers, got 'abc,1'$"):
        parse_points_csv("1,2\nabc,1")


@pytest.mark.parametrize("text", ["", "\n\n  \n", "x,y\n"])
def test_parse_empty_is_rejected(text: str) -> None:
    with pytest.raises(PointsError, match="no points"):
        parse_points_csv(text)


def test_parse_over_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ganlab.engine.config, "MAX_POINTS", 3)
    assert parse_points_csv("1,1\n2,2\n3,3").shape == (3, 2)
    with pytest.raises(PointsError, match="at most 3") as info:
        parse_points_csv("x,y\n1,1\n2,2\n3,3\n4,4\n")
    assert info.value.line == 5
    text = json.dumps([[1, 1], [2, 2], [3, 3], [4, 4]], indent=0)
    with pytest.raises(PointsError, match="at most 3"):
        parse_points_json(text)
    with pytest.raises(ValueError, match="at most 3"):
        validate_custom(strokes=None, points=[(0, 0)] * 4)


def test_parse_json_happy_paths() -> None:
    expected = [[1.0, 2.0], [3.0, -4.5]]
    assert parse_points_json("[[1, 2], [3, -4.5]]").tolist() == expected
    assert parse_points_json('[{"x": 1, "y": 2}, {"x": 3, "y": -4.5, "label": "a"}]').tolist() == (
        expected
    )
    assert parse_points_json('{"name": "s", "points": [[1, 2], [3, -4.5]]}').tolist() == expected


def test_parse_json_errors_name_the_line() -> None:
    with pytest.raises(PointsError) as info:
        parse_points_json("[\n[1, 2],\n[3, 4\n")
    assert info.value.line >= 3 and "invalid JSON" in str(info.value)

    text = '{\n  "meta": {"a": [1, 2]},\n  "points": [\n    [1, 2],\n    [1, "abc"]\n  ]\n}'
    with pytest.raises(PointsError, match=r"points\[1\]") as info:
        parse_points_json(text)
    assert info.value.line == 5

    with pytest.raises(PointsError, match="finite") as info:
        parse_points_json("[[0, 0],\n [0, 0],\n [NaN, 1]]")
    assert info.value.line == 3
    with pytest.raises(PointsError, match="finite"):
        parse_points_json('[{"x": 1, "y": Infinity}]')
    with pytest.raises(PointsError, match="finite"):
        parse_points_json("[[1e400, 0]]")
    with pytest.raises(PointsError, match=r"points\[0\]"):
        parse_points_json("[[1, 2, 3]]")
    with pytest.raises(PointsError, match=r"points\[0\]"):
        parse_points_json('[{"x": true, "y": 1}]')
    with pytest.raises(PointsError, match="no points"):
        parse_points_json("[]")
    with pytest.raises(PointsError, match="expected a list"):
        parse_points_json('{"pts": []}')


@pytest.mark.parametrize(
    ("text", "fmt", "line"),
    [
        ("[[1, 2],\n [" + "9" * 5000 + ", 1]]", "json", 2),
        ("[[1, 2],\n [-" + "9" * 5000 + ", 1]]", None, 2),  # guessed from the text
        ('{"points": [[1, 2]],\n "n": ' + "7" * 4301 + "}", "json", 2),
        ('[{"x": 1, "y": ' + "3" * 100_000 + "}]", "data.json", 1),
    ],
    ids=["json", "guessed", "other-key", "object-item"],
)
def test_integers_over_python_s_digit_limit_are_a_points_error(
    text: str, fmt: str | None, line: int
) -> None:
    with pytest.raises(PointsError, match="digits") as info:
        parse_points(text, fmt)
    assert info.value.line == line and len(str(info.value)) < 120


def test_a_huge_but_parseable_integer_is_out_of_range() -> None:
    with pytest.raises(PointsError, match=r"finite|within"):
        parse_points_json("[[1" + "0" * 300 + ", 0]]")


@pytest.mark.parametrize(
    "text",
    ["1,2\n" + "x" * 900_000, "1,2\n" + "9" * 900_000 + ",1", "1,2\n3,1" + "0" * 900_000,
     "1,2\n1,2," + "3," * 450_000],
    ids=["words", "infinite", "out-of-range", "many-fields"],
)  # fmt: skip
def test_a_csv_error_quotes_at_most_a_short_part_of_the_line(text: str) -> None:
    with pytest.raises(PointsError) as info:
        parse_points_csv(text)
    assert info.value.line == 2
    assert len(str(info.value)) < 150 and str(info.value).endswith("...")


def test_a_json_error_quotes_at_most_a_short_part_of_the_item() -> None:
    with pytest.raises(PointsError) as info:
        parse_points_json('[[1, 2], [3, "' + "q" * 900_000 + '"]]')
    assert len(str(info.value)) < 150 and str(info.value).endswith("...")


def test_parse_points_dispatch() -> None:
    assert parse_points("[[1, 2]]", "data.JSON").tolist() == [[1, 2]]
    assert parse_points("1,2", "data.csv").tolist() == [[1, 2]]
    assert parse_points("1\t2", "tsv").tolist() == [[1, 2]]
    assert parse_points('{"points": [[1, 2]]}', "").tolist() == [[1, 2]]
    assert parse_points("x;y\n1;2", "upload").tolist() == [[1, 2]]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("strokes", "points", "fragment"),
    [
        (None, None, "missing"),
        ([], None, "empty"),
        ([[(0.1, 0.1)], []], None, "stroke 1 is empty"),
        ([[(0.1, math.nan)]], None, "finite"),
        ([[(0.1, math.inf)]], None, "finite"),
        (None, [], "empty"),
        (None, [(0.0, math.nan)], "finite"),
    ],
)
def test_validate_custom_errors(strokes: object, points: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        validate_custom(strokes, points)  # type: ignore[arg-type]


def test_validate_custom_limits_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    validate_custom([[(0.1, 0.1), (0.2, 0.2)]], None)
    validate_custom(None, [(1.0, 2.0)])
    with pytest.raises(ValueError, match="strokes"):
        validate_custom(None, [(1.0, 2.0)], name="drawing")
    with pytest.raises(ValueError, match="point"):
        validate_custom([[(0.1, 0.1)]], None, name="points")
    monkeypatch.setattr(ganlab.engine.config, "MAX_STROKE_POINTS", 3)
    with pytest.raises(ValueError, match="at most 3"):
        validate_custom([[(0.1, 0.1), (0.2, 0.2)], [(0.3, 0.3), (0.4, 0.4)]], None)


def test_config_validation_uses_validate_custom() -> None:
    with pytest.raises(ValueError, match="stroke"):
        DataConfig(name="drawing", strokes=[])
    with pytest.raises(ValueError, match="finite"):
        DataConfig(name="points", points=[(0.0, math.nan)])


# --------------------------------------------------------------------------- resolve


def test_resolve_all_kinds() -> None:
    assert resolve(DataConfig(name="ring8")) is DISTRIBUTIONS["ring8"]
    drawing = resolve(DataConfig(name="drawing", strokes=[[(0.2, 0.2), (0.8, 0.8)]]))
    assert drawing.name == "drawing"
    assert draw(drawing, 10).shape == (10, 2)
    pts = resolve(DataConfig(name="points", points=[(1.0, 1.0), (2.0, 2.0)], jitter=0.01))
    assert pts.name == "points"
    assert draw(pts, 10).shape == (10, 2)


def test_resolve_unknown_name() -> None:
    data = SimpleNamespace(name="nope", strokes=None, brush_width=0.04, points=None, jitter=0.0)
    with pytest.raises(ValueError, match=r"unknown distribution 'nope'; allowed: .*ring8"):
        resolve(data)  # type: ignore[arg-type]


def test_huge_coordinates_and_strokes_outside_the_square_are_refused():
    from ganlab.engine.distributions.custom import PointsError, parse_points, validate_custom

    with pytest.raises(ValueError, match="within"):
        validate_custom(strokes=None, points=[[0, 0], [1e300, 1]])
    with pytest.raises(ValueError, match="unit square"):
        validate_custom(strokes=[[[0, 0], [1e308, 0.5]]], points=None)
    with pytest.raises(PointsError) as info:
        parse_points("0,0\n1e300,1\n", "csv")
    assert info.value.line == 2
    with pytest.raises(PointsError, match="deeply"):
        parse_points("[" * 5000 + "]" * 5000, "json")
