import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny networks on a small machine: extra threads only contend (and slow tests 100x)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="session")
def _state_directory(tmp_path_factory):
    """Servers the tests start (in this process or as children) checkpoint their sessions
    into a directory of the test run, never the user's own state directory."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        yield
