"""The two browser libraries the book and the slides copy into their build: pinned npm packages.

reveal.js (slides) and MathJax 3 (formulas in the book and the slides) come from the npm
registry as release tarballs, checked against the registry's sha512 integrity, cached in
build/cache/npm/ (or found in wheelhouse/npm/, which `make wheelhouse` fills for machines without
network). Fetching uses `npm pack` when npm is installed, otherwise a plain HTTPS download from the
registry ($NPM_CONFIG_REGISTRY, default https://registry.npmjs.org: set it to use a mirror,
e.g. https://registry.npmmirror.com). Nothing is fetched at page-view time.

    python scripts/npm_assets.py            # fetch (once) into build/cache/npm
    python scripts/npm_assets.py DIR        # fetch into DIR (the wheelhouse uses DIR=wheelhouse/npm)
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "cache" / "npm"
SEARCH = [ROOT / "wheelhouse" / "npm", CACHE]

PACKAGES = {   # name: (version, sha512 integrity as published by the registry)
    "reveal.js": ("5.2.1", "sha512-r7//6mIM5p34hFiDMvYfXgyjXqGRta+/psd9YtytsgRlrpRzFv4RbH76TXd2qD+7ZPZEbpBDhdRhJaFgfQ7zNQ=="),
    "mathjax": ("3.2.2", "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="),
}


def _file_name(name: str) -> str:
    return f"{name}-{PACKAGES[name][0]}.tgz"


def _intact(path: Path, name: str) -> bool:
    digest = base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()
    return PACKAGES[name][1] == f"sha512-{digest}"


def _fetch(name: str, dest: Path) -> Path:
    version = PACKAGES[name][0]
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / _file_name(name)
    npm = shutil.which("npm")
    if npm:
        subprocess.run([npm, "pack", f"{name}@{version}", "--pack-destination", str(dest), "--silent"],
                       check=True, timeout=300, stdout=subprocess.DEVNULL)
    else:
        registry = os.environ.get("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org").rstrip("/")
        url = f"{registry}/{name}/-/{_file_name(name)}"
        with urllib.request.urlopen(url, timeout=60) as r:
            target.write_bytes(r.read())
    if not target.exists() or not _intact(target, name):
        target.unlink(missing_ok=True)
        raise RuntimeError(f"{name}@{version}: the downloaded tarball does not match its pinned sha512")
    return target


def tarball(name: str) -> Path:
    """The verified release tarball of ``name`` (fetched once if neither cache has it)."""
    for folder in SEARCH:
        path = folder / _file_name(name)
        if path.exists() and _intact(path, name):
            return path
    try:
        return _fetch(name, CACHE)
    except Exception as err:
        raise SystemExit(f"{name}@{PACKAGES[name][0]} is not in {' or '.join(map(str, SEARCH))} and could not "
                         f"be fetched ({err}). Run `python scripts/npm_assets.py` once with network, or copy a "
                         "wheelhouse made by `make wheelhouse`.") from None


def extract(name: str, dest: Path, keep=lambda rel: True) -> Path:
    """Unpack the package's files (those ``keep(relative_path)`` accepts) into ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    with tarfile.open(tarball(name)) as tar:
        for member in tar.getmembers():
            rel = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not member.isfile() or not rel or ".." in rel.split("/") or not keep(rel):
                continue
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
    return dest


def install_mathjax(dest: Path) -> Path:
    """MathJax 3 (es5 build: tex-mml-chtml.js with its fonts, TeX extensions and menu) in ``dest``."""
    return extract("mathjax", dest, lambda rel: rel.startswith("es5/") and not rel.startswith("es5/sre/")
                   and "/svg" not in rel)


def install_reveal(dest: Path) -> Path:
    """reveal.js (dist/ and the speaker-notes plugin) in ``dest``.

    Some themes (simple, sky, ...) @import web fonts from fonts.googleapis.com; those imports are
    removed so that a deck makes no request outside itself (the text falls back to local fonts).
    """
    extract("reveal.js", dest, lambda rel: rel.startswith("dist/") or rel.startswith("plugin/notes/")
            or rel == "LICENSE")
    remote = re.compile(r"@import\s+url\(\s*['\"]?(?:https?:)?//[^)]*\)\s*;?")
    for css in (dest / "dist" / "theme").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        if remote.search(text):
            css.write_text(remote.sub("/* remote web font removed: offline deck */", text), encoding="utf-8")
    return dest


if __name__ == "__main__":
    folder = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else None
    for pkg in PACKAGES:
        if folder is None:
            print(tarball(pkg))
        else:
            path = folder / _file_name(pkg)
            print(path if path.exists() and _intact(path, pkg) else _fetch(pkg, folder))
