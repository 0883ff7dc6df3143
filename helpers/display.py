"""Show in a notebook the code that actually runs (no second copy that can drift)."""
from __future__ import annotations

import inspect


def show_source(obj, lines: tuple[int, int] | None = None):
    """Syntax-highlighted source of a helper function or class; ``lines`` = (first, last), 1-based."""
    from IPython.display import Code

    src = inspect.getsource(obj)
    if lines is not None:
        first, last = lines
        src = "\n".join(src.splitlines()[first - 1:last])
    return Code(src, language="python")
