import pytest

from ganlab.engine.config import parse_config
from ganlab.engine.cost import iteration_flops, picture_flops


def test_cost_grows_with_size():
    small = parse_config({})
    wide = parse_config({"generator": {"neurons": 64}, "discriminator": {"neurons": 64}})
    assert iteration_flops(wide) > 10 * iteration_flops(small)
    big_batch = parse_config({"training": {"batch_size": 1500}})
    assert iteration_flops(big_batch) == pytest.approx(10 * iteration_flops(small))
    more_steps = parse_config({"training": {"d_steps": 3}})
    assert iteration_flops(more_steps) > iteration_flops(small)
    fine = parse_config({"view": {"grid": 128}})
    assert picture_flops(fine) > 3 * picture_flops(small)


def test_variants_that_add_work_cost_more():
    base = parse_config({})
    cost = iteration_flops(base)
    for change, at_least in (
        ({"training": {"unrolled_steps": 5}}, 5.0),  # five extra differentiated D updates
        ({"loss": {"r1": 1.0, "r2": 1.0}}, 1.5),
        ({"loss": {"kind": "wgan_gp"}}, 1.2),
    ):
        assert iteration_flops(parse_config(change)) > at_least * cost, change
    # Schemes: one update of each per iteration; extragradient twice that.
    one_each = parse_config({"training": {"d_steps": 1, "g_steps": 1}})
    simultaneous = parse_config({"training": {"scheme": "simultaneous", "d_steps": 5}})
    extragradient = parse_config({"training": {"scheme": "extragradient"}})
    assert iteration_flops(simultaneous) == pytest.approx(iteration_flops(one_each))
    assert iteration_flops(extragradient) == pytest.approx(2 * iteration_flops(one_each))
