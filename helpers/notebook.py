"""Where the code runs: in a notebook's kernel (Jupyter, Colab, VS Code, nbgrader) or not."""

from __future__ import annotations


def in_notebook() -> bool:
    """Return True when running inside an IPython kernel (Jupyter, Colab, VS Code, nbgrader)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    # Terminal IPython has a shell but no kernel, and cannot show rich output inline.
    return shell is not None and getattr(shell, "kernel", None) is not None
