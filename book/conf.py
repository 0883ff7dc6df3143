"""Sphinx (MyST-NB) configuration of the offline course book; scripts/build_book.py copies it
into build/book/src next to the executed notebooks. Everything the pages load is in the site:
MathJax is copied into _static/mathjax, no widget JavaScript, no fonts or scripts from a CDN."""
from pathlib import Path

HERE = Path(__file__).resolve().parent

project = "序列预测：RNN · BPTT · LSTM · GRU"
author = "课程作者"
copyright = "课程文字与插图 CC BY-SA 4.0，代码 MIT"
language = "zh_CN"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
master_doc = "index"

# The notebooks were executed once by scripts/execute_notebooks.py; the book only renders them.
nb_execution_mode = "off"
nb_ipywidgets_js = {}                       # no widget state is kept, so no widget scripts (CDN)
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "launch_buttons": {},
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False

# MathJax 3 from npm (scripts/npm_assets.py), served from the site itself.
mathjax_path = "mathjax/es5/tex-mml-chtml.js"

# Chinese full-text search: jieba splits the pages into words; the course's own terms
# (遗忘门, 梯度消失, ...) are added as a user dictionary so they stay whole words.
html_search_language = "zh"
html_search_options = {"dict": str(HERE / "_search_dict.txt")}
# Sphinx 9's zh search data (language_data.js) needs the English stemmer (two files Sphinx copies
# into _static but does not load) and a ChineseStemmer it never defines (zh-stemmer.js, ours).
html_js_files = [("base-stemmer.js", {"priority": 100}), ("english-stemmer.js", {"priority": 101}),
                 ("zh-stemmer.js", {"priority": 102})]
