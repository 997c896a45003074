"""A progress bar for long loops that never writes to stderr.

In a notebook's kernel (Jupyter, Colab, VS Code, nbgrader) the bar is ONE output, redrawn in
place through an IPython display handle: an HTML ``<progress>`` element for JupyterLab and
Colab, and a text line (tqdm's format) for anything that shows only text, such as a notebook
executed by ``jupyter nbconvert --execute`` or nbgrader's feedback. Outside a kernel (pytest,
benchmarks, the grading verdict) it shows nothing.

Why not tqdm: ``tqdm.auto`` falls back to a text bar on stderr when ipywidgets is missing (a red
block in Jupyter, and nbgrader scores a test cell 0 when it writes to stderr), its widget's text
form is frozen at 0% in an executed notebook, and a widget closed before its total turns red,
although a training loop that stops early has usually succeeded (it solved the task).

    progress = ProgressBar(config.total_steps, "online DQN")
    for step in range(1, config.total_steps + 1):
        progress.update(step)
        ...
        if solved:
            break
    progress.close()  # green; "stopped early at step N" when N < total

Or ``with ProgressBar(total, "seeds") as progress:``, which also closes the bar (red) when the
loop raises.
"""

from __future__ import annotations

import html
import time

from tqdm import tqdm

from helpers.notebook import in_notebook

COLORS = {"running": "#1976d2", "success": "#2e7d32", "error": "#c62828"}


class ProgressBar:
    """A bar counting from 0 to `total`, drawn in place in a notebook and silent elsewhere.

    total: int > 0, the count at which the loop is complete (e.g. environment steps).
    desc: short label shown before the bar.
    unit: what is counted, shown in the text ("steps", "seeds", "episodes").
    delay: seconds before the bar first appears, so quick runs (a check's short probe) show nothing.
    min_interval: seconds between two redraws (each redraw is one message to the front end).
    """

    def __init__(self, total: int, desc: str = "", unit: str = "steps", delay: float = 1.0, min_interval: float = 0.5):
        self.total, self.desc, self.unit = int(total), desc, unit
        self.delay, self.min_interval = delay, min_interval
        self.n = 0
        self.state = "running"
        self.note = ""
        self.start = time.monotonic()
        self._last_draw = float("-inf")
        self._handle = None  # the display handle, once the bar is shown
        self._enabled = in_notebook()

    def update(self, n: int) -> None:
        """Set the count to `n` (not an increment): cheap enough to call at every step."""
        self.n = n
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self.start >= self.delay and now - self._last_draw >= self.min_interval:
            self._draw(now)

    def close(self, note: str | None = None) -> None:
        """End the bar in its success state. If the count stopped short of the total, the text says
        so ("stopped early at step N of M"); `note` replaces that text (e.g. "solved")."""
        self._finish("success", note)

    def fail(self, note: str = "stopped by an error") -> None:
        """End the bar in its error state (red)."""
        self._finish("error", note)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.fail(f"stopped by {exc_type.__name__}")

    def _finish(self, state: str, note: str | None) -> None:
        if self.state != "running":
            return
        self.state = state
        if note is not None:
            self.note = note
        elif self.n < self.total:
            self.note = f"stopped early at {self.n:,} of {self.total:,} {self.unit}".replace(",", " ")
        if self._enabled and (self._handle is not None or time.monotonic() - self.start >= self.delay):
            self._draw(time.monotonic())

    def text(self, now: float | None = None) -> str:
        """The bar as one line of text, in tqdm's format, then the note (if any)."""
        elapsed = (time.monotonic() if now is None else now) - self.start
        if self.state == "running":
            return tqdm.format_meter(self.n, self.total, elapsed, ncols=80, prefix=self.desc, unit=f" {self.unit}")
        # Finished: no time-remaining estimate (a loop that stopped early has nothing left to do).
        line = f"{self.desc}: {self.n:,}/{self.total:,} {self.unit} in {tqdm.format_interval(elapsed)}".replace(
            ",", " "
        )
        return f"{line}, {self.note}" if self.note else line

    def _html(self, text: str) -> str:
        color = COLORS[self.state]
        return (
            f'<div class="course-progress" data-state="{self.state}" style="font-family: monospace">'
            f'<progress value="{min(self.n, self.total)}" max="{self.total}" '
            f'style="width: 24em; vertical-align: middle; accent-color: {color}"></progress> '
            f'<span style="color: {color}">{html.escape(text)}</span></div>'
        )

    def _draw(self, now: float) -> None:
        from IPython.display import display

        self._last_draw = now
        text = self.text(now)
        output = {"text/plain": text, "text/html": self._html(text)}
        if self._handle is None:
            self._handle = display(output, raw=True, display_id=True)
        else:
            self._handle.update(output, raw=True)
