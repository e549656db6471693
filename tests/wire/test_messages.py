import numpy as np

from ganlab.engine.picture import PictureCache, compute_picture
from ganlab.engine.trainer import Trainer
from ganlab.wire.envelope import decode
from ganlab.wire.messages import (
    HISTORY_COLUMNS,
    frame_message,
    history_array,
    history_message,
    phase_message,
    run_message,
)


def test_history_array_fills_missing_with_nan():
    arr = history_array([{"iteration": 100.0, "d_loss": 0.5}, {"iteration": 200.0, "w1": 0.1}])
    assert arr.shape == (2, len(HISTORY_COLUMNS)) and arr.dtype == np.float32
    assert arr[0, 0] == 100 and arr[0, 1] == 0.5 and np.isnan(arr[0, HISTORY_COLUMNS.index("w1")])
    assert arr[1, HISTORY_COLUMNS.index("w1")] == np.float32(0.1)


def test_frame_holds_the_picture():
    t = Trainer({"data": {"name": "ring"}})
    t.train(30)
    p = compute_picture(t, PictureCache())
    rows = [t.record()]
    data = frame_message(p, {"frame": 1, "iteration": t.iteration}, t.losses(), rows)
    assert len(data) < 64 * 1024
    m = decode(data)
    h = m.header
    assert h["kind"] == "frame" and h["iteration"] == 30 and h["output"] == "prob"
    assert h["box"] == p.box and h["noise_dim"] == 2
    assert set(h["losses"]) == {"d_loss", "g_loss", "d_real", "d_fake"}
    np.testing.assert_array_equal(m.arrays["fake"], p.fake)
    np.testing.assert_array_equal(m.arrays["manifold"], p.manifold)
    assert np.abs(m.arrays["d_grid"] - p.d_grid).max() <= 0.5 / 255 + 1e-6
    assert np.abs(m.arrays["fake_d"] - p.fake_d).max() <= 0.5 / 255 + 1e-6
    dens = m.arrays["real_density"]
    assert np.abs(dens - p.real_density).max() <= p.real_density.max() / 255
    assert m.arrays["history"].shape == (1, len(HISTORY_COLUMNS))
    assert m.arrays["history"][0, 0] == 30


def test_critic_scores_use_their_own_range():
    t = Trainer({"loss": {"kind": "wgan_gp"}})
    t.train(20)
    p = compute_picture(t, PictureCache())
    m = decode(frame_message(p, {}, t.losses(), []))
    d = next(a for a in m.header["arrays"] if a["name"] == "d_grid")
    assert m.header["output"] == "score"
    assert d["min"] == float(p.d_grid.min()) and d["max"] == float(p.d_grid.max())


def test_history_phase_and_run_messages():
    m = decode(history_message([{"iteration": 1.0}] * 3))
    assert m.header["kind"] == "history" and m.arrays["history"].shape == (3, len(HISTORY_COLUMNS))
    values = {"fake": np.ones((4, 2)), "grad_norm": 2.0, "layer_grad_norms": [1.0, float("nan")]}
    m = decode(phase_message("g", "gradients", 3, values))
    assert m.header["values"] == {"grad_norm": 2.0, "layer_grad_norms": [1.0, None]}
    assert m.arrays["fake"].dtype == np.float32 and m.header["index"] == 3
    m = decode(run_message(b"\x00run-bytes", "a.safetensors"))
    assert m.header == {"kind": "run", "filename": "a.safetensors", "arrays": []}
    assert m.payload == b"\x00run-bytes"


def test_arrays_a_view_keeps_are_encoded_once_and_never_served_stale():
    t = Trainer({"data": {"name": "ring"}})
    cache = PictureCache()
    first, second = compute_picture(t, cache), compute_picture(t, cache)
    assert first.real_density is second.real_density and first.fake_noise is second.fake_noise
    a = decode(frame_message(first, {"frame": 1}, {}, []))
    b = decode(frame_message(second, {"frame": 2}, {}, []))
    for name in ("real", "fake_noise", "real_density"):
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name])
    np.testing.assert_array_equal(b.arrays["real"], second.real)
    # A new view (new arrays, even at the same place in memory later) is encoded afresh.
    t.configure({"data": {"name": "grid25"}, "seed": 3})
    third = compute_picture(t, cache)
    c = decode(frame_message(third, {"frame": 3}, {}, []))
    np.testing.assert_array_equal(c.arrays["real"], third.real)
    np.testing.assert_array_equal(c.arrays["fake_noise"], third.fake_noise)
    assert not np.array_equal(c.arrays["real"], a.arrays["real"])
    assert np.abs(c.arrays["real_density"] - third.real_density).max() <= (
        third.real_density.max() / 255
    )


def test_cached_constant_arrays_go_with_the_arrays():
    import gc

    from ganlab.wire import messages

    arrays = [np.random.default_rng(i).random((50, 2)).astype(np.float32) for i in range(10)]
    for a in arrays:
        messages._constant(a)
    ids = [id(a) for a in arrays]
    assert all(i in messages._constants for i in ids)
    del arrays, a
    gc.collect()
    assert not any(i in messages._constants for i in ids)


def test_the_optimal_lens_travels_as_float32_with_how_p_g_was_obtained():
    t = Trainer({"noise": {"dim": 1}, "view": {"optimal": True, "grid": 32}})
    t.train(10)
    p = compute_picture(t, PictureCache())
    assert p.d_optimal is not None and p.fake_density is not None
    p.d_optimal[0, 0] = np.nan  # an undefined cell stays undefined on the wire
    m = decode(frame_message(p, {}, t.losses(), []))
    np.testing.assert_array_equal(m.arrays["d_optimal"], p.d_optimal)
    how = m.header["fake_density"]
    assert how["kind"] == "kde" and how["samples"] == p.fake_density.samples
    assert how["width"] == list(p.fake_density.width)
    t.configure({"view": {"optimal": False}})
    m = decode(frame_message(compute_picture(t, PictureCache()), {}, t.losses(), []))
    assert "d_optimal" not in m.arrays and "fake_density" not in m.header


def test_the_gradient_field_travels_as_float32_with_the_partner_count():
    t = Trainer({"discriminator": {"packing": 2}, "view": {"field": 7}})
    t.train(3)
    p = compute_picture(t, PictureCache())
    m = decode(frame_message(p, {}, {}, []))
    assert m.arrays["g_field"].shape == (7, 7, 2) and m.arrays["g_field"].dtype == np.float32
    np.testing.assert_array_equal(m.arrays["g_field"], p.g_field)
    assert m.header["partners"] == p.partners > 1
    off = Trainer({"view": {"field": 0}})
    m = decode(frame_message(compute_picture(off, PictureCache()), {}, {}, []))
    assert "g_field" not in m.arrays and m.header["partners"] == 1
