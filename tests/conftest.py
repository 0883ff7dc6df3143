import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (as the notebooks use, helpers.env.set_threads): on a busy
    2-core machine two threads made tiny training loops about 8x slower. Use it with
    `pytestmark = pytest.mark.usefixtures("one_torch_thread")`."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# Every checker of helpers.exercises runs under the hand-back guard in every test (tests/handback.py):
# wrapped here, before any test module imports a checker.
import handback  # noqa: E402

HANDBACK_WRAPPED = handback.install()
