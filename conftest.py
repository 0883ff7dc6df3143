"""pytest's root configuration. nbval runs each chapter twice in one kernel and hands its first run
to the book (tests/nbval_passes.py); the tests' own fixtures are in tests/conftest.py."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))
from nbval_passes import (pytest_addoption, pytest_collection_modifyitems, pytest_configure,  # noqa: E402,F401
                          pytest_runtest_call)
