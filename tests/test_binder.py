"""Binder (repo2docker) config: the same pins as requirements.txt, CPU torch, Chinese JupyterLab."""
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)\s*$")


def _pins(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        m = PIN.match(line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_binder_environment_has_the_course_pins():
    req = _pins((ROOT / "requirements.txt").read_text())
    env = (ROOT / "binder" / "environment.yml").read_text()
    assert _pins(env) == req, set(_pins(env).items()) ^ set(req.items())
    assert re.search(r"^\s*- python=3\.11\s*$", env, re.M)
    assert "https://download.pytorch.org/whl/cpu" in env
    # repo2docker installs environment.yml before copying the repository: `-e .` would fail there
    assert not re.search(r"^\s*- -e ", env, re.M)


def test_postbuild_installs_helpers_and_chinese_default():
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert "pip install --no-deps -e ." in text
    assert "scripts/lab_locale.py zh_CN" in text
