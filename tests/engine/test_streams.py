import torch

from ganlab.engine.streams import Stream, noise_sampler


def _stream(seed=0, chunk=100):
    return Stream(noise_sampler("gaussian", 2), torch.Generator().manual_seed(seed),
                  torch.device("cpu"), chunk=chunk)  # fmt: skip


def test_batches_are_consecutive_slices_and_refill():
    s = _stream(chunk=10)
    a, b = s.take(4), s.take(4)
    assert not torch.equal(a, b)
    c = s.take(4)  # needs a refill
    assert c.shape == (4, 2)
    big = s.take(25)  # larger than a chunk
    assert big.shape == (25, 2)


def test_same_seed_same_samples():
    assert torch.equal(_stream(3).take(50), _stream(3).take(50))
    assert not torch.equal(_stream(3).take(50), _stream(4).take(50))


def test_state_restores_exact_position():
    s = _stream(chunk=16)
    s.take(5)
    state = {k: v.clone() for k, v in s.state().items()}
    expected = [s.take(5) for _ in range(6)]
    t = _stream(seed=99, chunk=16)
    t.load(state)
    for e in expected:
        assert torch.equal(t.take(5), e)


def test_uniform_noise_range():
    x = noise_sampler("uniform", 3)(1000, torch.Generator().manual_seed(0))
    assert x.shape == (1000, 3)
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert abs(float(x.mean())) < 0.1
