import numpy as np
import torch

from ganlab.engine import d_side
from ganlab.engine.d_side import Judged, field_points
from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.trainer import Trainer

SMALL = {"generator": {"layers": 1, "neurons": 8}, "discriminator": {"layers": 1, "neurons": 8}}


def test_field_points_are_cell_centres_row_by_row_from_ymin():
    pts = field_points(4, (0.0, 2.0, -1.0, 1.0)).numpy()
    assert pts.shape == (16, 2)
    np.testing.assert_allclose(pts[0], [0.25, -0.75])
    np.testing.assert_allclose(pts[3], [1.75, -0.75])  # along x first
    np.testing.assert_allclose(pts[4], [0.25, -0.25])  # then the next row up
    assert field_points(0, (0.0, 1.0, 0.0, 1.0)).shape == (0, 2)


def test_judging_the_grid_in_chunks_gives_the_same_numbers(monkeypatch):
    t = Trainer({**SMALL, "discriminator": {"layers": 1, "neurons": 8, "packing": 2},
                 "view": {"grid": 16, "fakes": 40, "reals": 40, "field": 3}})  # fmt: skip
    t.train(5)
    cache = PictureCache()
    whole = compute_picture(t, cache)
    monkeypatch.setattr(d_side, "ROWS_AT_ONCE", 1000)  # fewer than the grid's 16 * 16 * 48
    chunked = compute_picture(t, cache)
    np.testing.assert_allclose(chunked.d_grid, whole.d_grid, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(chunked.g_field, whole.g_field)


def test_without_packing_each_point_is_one_row():
    t = Trainer(SMALL)
    real, grid, field = torch.randn(5, 2), torch.randn(7, 2), torch.randn(3, 2)
    j = Judged(real, grid, field, 1, seed=0)
    fake = torch.randn(4, 2)
    with torch.inference_mode():
        side = j.judge(t, fake)
        direct = torch.sigmoid(t.judge(torch.cat([fake, real, grid]))).reshape(-1)
    torch.testing.assert_close(torch.cat([side.fake_d, side.real_d, side.d_grid]), direct)
    assert side.fake_grad.shape == (4, 2) and side.field_grad.shape == (3, 2)
