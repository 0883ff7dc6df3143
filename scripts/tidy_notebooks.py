"""Store every notebook the way JupyterLab would leave it, so that opening one does not mark it modified.

    python scripts/tidy_notebooks.py [--check] [notebooks/*.ipynb]

Sets the kernelspec (python3) and the full ``language_info`` that ipykernel reports (JupyterLab
writes it into the notebook as soon as the kernel starts; when the stored one differs, the
notebook shows as modified and closing it asks to save), removes outputs and execution counts,
and writes the JSON as JupyterLab does (indent 1, UTF-8, trailing newline). With --check it
changes nothing and exits 1 when a notebook would change.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def language_info() -> dict:
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


def tidy(nb: dict, info: dict) -> dict:
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    nb["metadata"]["language_info"] = dict(info)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    info, changed = language_info(), []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = dumps(tidy(json.loads(text), info))
        if new != text:
            changed.append(path.name)
            if not check:
                path.write_text(new, encoding="utf-8")
    verb = "would change" if check else "tidied"
    print(f"{verb}: {', '.join(changed) if changed else 'nothing'}")
    return 1 if (check and changed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
