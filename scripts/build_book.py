"""`make book`: the offline HTML book of every chapter (Sphinx + MyST-NB), in build/book/html.

1. Every notebooks/NN_*.ipynb is executed once into build/executed/ (scripts/execute_notebooks.py,
   shared with the slides; re-run only when a notebook or the helpers change).
2. build/book/src is assembled: book/conf.py, book/index.md, the executed notebooks,
   media/ (the notebooks' ../media figures), MathJax 3 (npm, pinned, scripts/npm_assets.py) and a
   search dictionary of the course's terms for jieba.
3. Each course term (a Chinese term glossed in English at first use, 遗忘门（Forget Gate）) gets
   an index entry in the chapter that uses it most, at the cell where that chapter first writes
   it: the book's 索引 page lists them and the search ranks that chapter first for the term.
4. sphinx-build writes build/book/html; open build/book/html/index.html (or serve the folder).

    python scripts/build_book.py [--keep-going]   (make book runs it offline)
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import execute_notebooks  # noqa: E402
import npm_assets  # noqa: E402

BUILD = ROOT / "build" / "book"
SRC = BUILD / "src"
HTML = BUILD / "html"
CJK = "\u4e00-\u9fff"
GLOSS = re.compile(rf"(?<![{CJK}])([{CJK}]{{2,8}})（([A-Za-z][A-Za-z0-9 ,/\-]{{1,40}})）")
# terms the search must keep whole even where no chapter glosses them in English
EXTRA_TERMS = ["遗忘门", "输入门", "输出门", "更新门", "重置门", "候选状态", "细胞状态", "隐藏状态", "梯度消失",
               "梯度爆炸", "梯度裁剪", "词嵌入", "词向量", "注意力", "自注意力", "多头注意力", "位置编码",
               "随时间反向传播", "循环神经网络", "双向", "分词", "词性标注", "情感分类", "编码器", "解码器",
               "加法问题", "谱半径", "奇异值", "雅可比矩阵", "语言模型", "教师强制"]


def markdown_cells(nb: dict):
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "".join(cell["source"])


def glossary(notebooks: dict[str, dict]) -> dict[str, set[str]]:
    """{Chinese term: {English glosses}} from every 中文（English） pair in the notebooks' prose."""
    terms: dict[str, set[str]] = {}
    for nb in notebooks.values():
        for _, text in markdown_cells(nb):
            for zh, en in GLOSS.findall(text):
                terms.setdefault(zh, set()).add(en.strip())
    return terms


def add_index_entries(notebooks: dict[str, dict], terms: dict[str, set[str]]) -> int:
    """One index entry per term, in the chapter that writes it most (ties: the earlier chapter)."""
    added = 0
    for zh, ens in sorted(terms.items()):
        counts = Counter({name: sum(t.count(zh) for _, t in markdown_cells(nb)) for name, nb in notebooks.items()})
        name, n = max(sorted(counts.items()), key=lambda kv: kv[1])
        if n == 0:
            continue
        nb = notebooks[name]
        i = next(i for i, t in markdown_cells(nb) if zh in t)
        cell = nb["cells"][i]
        entries = ", ".join([zh] + sorted(e for e in ens if "," not in e))
        text = "".join(cell["source"])
        directive = f"```{{index}} {entries}\n```\n"
        # after the heading line if the cell starts with one (the entry then points at the section)
        if text.startswith("#"):
            head, _, rest = text.partition("\n")
            text = head + "\n\n" + directive + rest
        else:
            text = directive + text
        cell["source"] = text
        added += 1
    return added


def assemble() -> None:
    if SRC.exists():
        shutil.rmtree(SRC)
    (SRC / "notebooks").mkdir(parents=True)
    for name in ("conf.py", "index.md"):
        shutil.copy2(ROOT / "book" / name, SRC / name)
    shutil.copytree(ROOT / "book" / "static", SRC / "_static")
    shutil.copytree(ROOT / "media", SRC / "media")
    npm_assets.install_mathjax(SRC / "_static" / "mathjax")
    notebooks = {p.name: json.loads(p.read_text(encoding="utf-8"))
                 for p in sorted(execute_notebooks.OUT.glob("*.ipynb"))}
    terms = glossary(notebooks)
    n = add_index_entries(notebooks, terms)
    for name, nb in notebooks.items():
        (SRC / "notebooks" / name).write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    words = sorted(set(terms) | set(EXTRA_TERMS))
    (SRC / "_search_dict.txt").write_text("".join(f"{w} 100000\n" for w in words), encoding="utf-8")
    print(f"book: {len(notebooks)} chapters, {len(words)} search terms, {n} index entries", file=sys.stderr)


def main() -> int:
    keep_going = "--keep-going" in sys.argv[1:]
    t0 = time.perf_counter()
    if execute_notebooks.main([]) and not keep_going:
        raise SystemExit("book: a chapter failed to execute (see above); --keep-going builds the book "
                         "from the chapters that did")
    t1 = time.perf_counter()
    assemble()
    if HTML.exists():
        shutil.rmtree(HTML)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "auto", "-d", str(BUILD / "doctrees"),
           str(SRC), str(HTML)]
    subprocess.run(cmd, check=True)
    print(f"book: executed in {t1 - t0:.1f} s, built in {time.perf_counter() - t1:.1f} s -> "
          f"{HTML.relative_to(ROOT)}/index.html", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
