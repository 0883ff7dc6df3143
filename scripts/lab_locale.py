"""Set the default JupyterLab interface language of THIS Python environment (default zh_CN).

Writes {"@jupyterlab/translation-extension:plugin": {"locale": ...}} into
<sys.prefix>/share/jupyter/lab/settings/overrides.json (merged with what is there), which
JupyterLab reads as the default for every user of this environment; a user's own choice
(设置 → 语言 → English, stored in ~/.jupyter) still wins. Used by scripts/install.sh and
binder/postBuild. Usage: python scripts/lab_locale.py [zh_CN|en]
"""
import json
import sys
from pathlib import Path

KEY = "@jupyterlab/translation-extension:plugin"


def main(locale: str = "zh_CN") -> Path:
    path = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.setdefault(KEY, {})["locale"] = locale
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    where = main(*sys.argv[1:2])
    print(f"JupyterLab default language {sys.argv[1] if len(sys.argv) > 1 else 'zh_CN'}: {where}", file=sys.stderr)
