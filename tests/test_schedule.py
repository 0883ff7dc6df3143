"""tests/schedule.py: the longest test files go out first; a file's items keep their order."""
from types import SimpleNamespace

import schedule


def test_heaviest_files_first_and_each_file_in_order():
    ids = ["tests/test_a.py::x", "tests/test_a.py::y", "notebooks/08_language_models.ipynb::Cell 0",
           "tests/test_hub.py::test_one", "tests/test_b.py::z", "notebooks/08_language_models.ipynb::Cell 1",
           "tests/test_hub.py::test_classroom_load_test"]
    items = [SimpleNamespace(nodeid=i) for i in ids]
    schedule.heaviest_first(items)
    assert [it.nodeid for it in items] == [
        "tests/test_hub.py::test_one", "tests/test_hub.py::test_classroom_load_test",
        "notebooks/08_language_models.ipynb::Cell 0", "notebooks/08_language_models.ipynb::Cell 1",
        "tests/test_a.py::x", "tests/test_a.py::y", "tests/test_b.py::z"]


def test_every_listed_file_exists():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    assert [f for f in schedule.HEAVIEST_FIRST if not (root / f).exists()] == []
