import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks on a small machine: extra threads only contend (and slow tests 100x)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
