"""pytest's root configuration. nbval runs each chapter twice in one kernel and hands its first run
to the book (tests/nbval_passes.py); the longest test files go out first (tests/schedule.py); the
tests' own fixtures are in tests/conftest.py."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
import nbval_passes  # noqa: E402
import schedule  # noqa: E402
from nbval_passes import pytest_addoption, pytest_configure, pytest_runtest_call  # noqa: E402,F401


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    nbval_passes.add_second_runs(config, items)
    schedule.heaviest_first(items)
