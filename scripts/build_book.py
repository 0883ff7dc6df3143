"""`make book`: the offline HTML book of every chapter (Sphinx + MyST-NB), in build/book/html.

1. Every notebooks/NN_*.ipynb is executed once into build/executed/ (scripts/execute_notebooks.py,
   shared with the slides; re-run only when a notebook or the helpers change).
2. build/book/src is assembled: book/conf.py, book/index.md, the executed notebooks,
   media/ (the notebooks' ../media figures), MathJax 3 (npm, pinned, scripts/npm_assets.py) and a
   search dictionary of the course's terms for jieba.
3. Each course term (GLOSSARY below: 遗忘门 / Forget Gate, ...) gets an index entry in the chapter
   that uses it most, at the cell where that chapter first writes it: the book's 索引 page lists
   them and the search ranks that chapter first for the term.
4. sphinx-build writes build/book/html; open build/book/html/index.html (or serve the folder).

    python scripts/build_book.py [--keep-going] [--reuse-executed]   (make book runs it offline)
"""
from __future__ import annotations

import json
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
# The course's terms (Chinese, English): each gets an index entry in the chapter that uses it most,
# and the search dictionary keeps it one word.
GLOSSARY = {
    "遗忘门": "Forget Gate", "输入门": "Input Gate", "输出门": "Output Gate", "更新门": "Update Gate",
    "重置门": "Reset Gate", "细胞状态": "Cell State", "隐藏状态": "Hidden State", "候选状态": "Candidate State",
    "梯度消失": "Vanishing Gradient", "梯度爆炸": "Exploding Gradient", "梯度裁剪": "Gradient Clipping",
    "随时间反向传播": "Backpropagation Through Time", "截断": "Truncated BPTT", "雅可比矩阵": "Jacobian Matrix",
    "谱半径": "Spectral Radius", "奇异值": "Singular Value", "饱和": "Saturation", "加法问题": "Adding Problem",
    "词嵌入": "Word Embedding", "词向量": "Word Vector", "分词": "Word Segmentation", "词表": "Vocabulary",
    "负采样": "Negative Sampling", "循环神经网络": "Recurrent Neural Network", "双向": "Bidirectional RNN",
    "深层": "Deep RNN", "长短期记忆网络": "Long Short-Term Memory", "门控循环单元": "Gated Recurrent Unit",
    "编码器": "Encoder", "解码器": "Decoder", "教师强制": "Teacher Forcing", "注意力": "Attention",
    "自注意力": "Self-Attention", "多头注意力": "Multi-Head Attention", "位置编码": "Positional Encoding",
    "缩放点积注意力": "Scaled Dot-Product Attention", "掩码": "Mask", "语言模型": "Language Model",
    "情感分类": "Sentiment Classification", "词性标注": "Part-of-Speech Tagging", "单步预测": "One-Step Prediction",
    "多步预测": "Multi-Step Prediction", "递归预测": "Recursive Forecasting", "直接预测": "Direct Forecasting",
    "滑动窗口": "Sliding Window", "基线": "Baseline",
}


def markdown_cells(nb: dict):
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            yield i, "".join(cell["source"])


def add_index_entries(notebooks: dict[str, dict], terms: dict[str, str]) -> int:
    """One index entry per term, in the chapter that writes it most (ties: the earlier chapter)."""
    added = 0
    for zh, en in sorted(terms.items()):
        counts = Counter({name: sum(t.count(zh) for _, t in markdown_cells(nb)) for name, nb in notebooks.items()})
        name, n = max(sorted(counts.items()), key=lambda kv: kv[1])
        if n == 0:
            continue
        nb = notebooks[name]
        i = next(i for i, t in markdown_cells(nb) if zh in t)
        cell = nb["cells"][i]
        entries = f"{zh}, {en}"
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
    n = add_index_entries(notebooks, GLOSSARY)
    for name, nb in notebooks.items():
        (SRC / "notebooks" / name).write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    words = sorted(GLOSSARY)
    (SRC / "_search_dict.txt").write_text("".join(f"{w} 100000\n" for w in words), encoding="utf-8")
    print(f"book: {len(notebooks)} chapters, {len(words)} search terms, {n} index entries", file=sys.stderr)


def main() -> int:
    keep_going = "--keep-going" in sys.argv[1:]
    t0 = time.perf_counter()
    if "--reuse-executed" in sys.argv[1:]:
        pass                                  # the book from build/executed as it is (no re-run)
    elif execute_notebooks.main([]) and not keep_going:
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
