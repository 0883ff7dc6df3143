"""`make wheelhouse`: a fresh venv installs from the wheelhouse alone, with no network, and runs
the welcome notebook.

The wheelhouse is $SEQCOURSE_WHEELHOUSE, else build/wheelhouse (which `make test` fills before
going offline), else wheelhouse/. pip sees nothing but that folder: no index, no pip config,
no PIP_* settings from the environment. The install runs scripts/install.sh (what `make lab`
runs) under scripts/offline.sh (unshare -n where available).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _wheelhouse() -> Path | None:
    for cand in (os.environ.get("SEQCOURSE_WHEELHOUSE"), ROOT / "build" / "wheelhouse", ROOT / "wheelhouse"):
        if cand and any(Path(cand).glob("*.whl")):
            return Path(cand)
    return None


@pytest.fixture(scope="module")
def wheelhouse() -> Path:
    wh = _wheelhouse()
    if wh is None:
        msg = "no wheelhouse: run `make wheelhouse` (or `make test`, which builds build/wheelhouse first)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return wh


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def test_every_pin_has_a_wheel(wheelhouse):
    wheels = {_norm(w.name.split("-")[0]): w.name for w in wheelhouse.glob("*.whl")}
    for req in ("requirements.txt", "requirements-book.txt"):
        for line in (ROOT / req).read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", line.split("#")[0].strip())
            if m:
                name, version = m.groups()
                wheel = wheels.get(_norm(name))
                assert wheel, f"{name}=={version} has no wheel in {wheelhouse}"
                assert wheel.split("-")[1].split("+")[0] == version, f"{wheel} is not {name}=={version}"
    assert any(wheelhouse.glob("setuptools-*.whl")), "setuptools (builds the course package offline) is missing"
    assert len(list((wheelhouse / "npm").glob("*.tgz"))) == 2, "reveal.js and MathJax tarballs are missing"


def test_fresh_venv_installs_offline_and_runs_welcome(wheelhouse, tmp_path):
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    # no .pyc compilation at install time (the slowest part for torch; Python compiles on import),
    # and no numba compile of chapter 09's code (a minute of CPU that uses no network and no wheel:
    # make's own setup runs it, and the welcome notebook below does not need it)
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INPUT="1", PIP_NO_COMPILE="1", NUMBA_WARM="0",
               VENV=str(venv), WHEELHOUSE=str(wheelhouse.resolve()),
               PYTHON=getattr(sys, "_base_executable", sys.executable))
    offline = ["bash", str(ROOT / "scripts" / "offline.sh")]
    t0 = time.perf_counter()
    done = subprocess.run(offline + ["bash", str(ROOT / "scripts" / "install.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1200)
    t1 = time.perf_counter()
    assert done.returncode == 0, f"offline install failed:\n{done.stderr[-4000:]}"
    assert "from " in done.stderr and "only (no network)" in done.stderr, done.stderr[-2000:]
    run = subprocess.run(offline + [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                    "--nbval-lax", "--nbval-current-env", "--nbval-single-run",
                                    "notebooks/00_welcome.ipynb"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    print(f"offline install {t1 - t0:.0f} s, welcome notebook {time.perf_counter() - t1:.0f} s")
    assert run.returncode == 0, f"00_welcome failed in the wheelhouse venv:\n{run.stdout[-4000:]}"
