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
