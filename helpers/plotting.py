"""Plots for the course: live in Jupyter/Colab, saved as PNG files when headless.

Figures are built with matplotlib's object-oriented ``Figure`` and never through
``pyplot``: no backend is chosen, so no window can pop up, nothing is left in
pyplot's global list of open figures, and saving uses the Agg renderer.

* In a notebook (an IPython kernel is running) a figure is displayed inline.
* Otherwise (a script, pytest, CI) it is written to a PNG file.

Each function returns its ``Figure``. In a notebook, end the call with ``;`` or
assign the result, or Jupyter may show the returned figure a second time.
"""

from __future__ import annotations

import io
import os
import pathlib
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from helpers.notebook import in_notebook

DPI = 100


def rolling_mean(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` values at each position.

    The first ``window - 1`` positions average the values seen so far, so the
    output has the same length as the input and starts at the first value.

    Args:
        values: sequence of shape (n,).
        window: number of values averaged, >= 1.

    Returns:
        means: float array of shape (n,).
    """
    values = np.asarray(values, dtype=np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


class TrainingPlot:
    """Live dashboard of a DQN run: returns, TD loss and epsilon.

    Three panels: each episode's return with its ``window``-episode rolling mean;
    the TD loss per gradient step, smoothed by a ``window``-step rolling mean, on a
    log scale; and epsilon, one point per ``add_epsilon`` call.

    Usage::

        plot = TrainingPlot()
        for episode in range(n_episodes):
            ...                           # inside: plot.add_loss(loss.item())
            plot.add_episode(episode_return)
            plot.add_epsilon(epsilon)
            plot.draw()                   # cheap: redraws now and then (see redraw_every)
        plot.close()

    In a notebook the figure updates in place below the cell (printed lines and
    progress bars stay); headless it is rewritten to ``path`` on each redraw.

    Attributes:
        figure: the matplotlib Figure.
        episode_returns, td_losses, epsilons: lists of the values added so far.
    """

    def __init__(
        self,
        title: str = "DQN training",
        window: int = 100,
        redraw_every: float = 2.0,
        path: str | os.PathLike = "outputs/training.png",
    ):
        """
        Args:
            title: figure title.
            window: length of the rolling means of returns (episodes) and of TD
                losses (gradient steps).
            redraw_every: minimum number of seconds between two redraws, so that
                calling ``draw`` every episode costs almost nothing. The wait also grows to
                9 times the last redraw's duration (a redraw takes 0.5-1 s on a laptop CPU),
                so drawing takes at most a tenth of the training time.
            path: PNG file written on each redraw when not in a notebook.
        """
        self.title = title
        self.window = window
        self.redraw_every = redraw_every
        self.path = pathlib.Path(path)
        self.episode_returns: list[float] = []
        self.td_losses: list[float] = []
        self.epsilons: list[float] = []
        self.figure = Figure(figsize=(13, 3.6), dpi=DPI, layout="constrained")
        self._return_axes, self._loss_axes, self._epsilon_axes = self.figure.subplots(1, 3)
        self._last_draw_time = -np.inf
        self._wait = redraw_every  # seconds from the end of one redraw to the next
        self._display_handle = None

    def add_episode(self, episode_return: float) -> None:
        """Record the return (sum of rewards) of a finished episode."""
        self.episode_returns.append(float(episode_return))

    def add_loss(self, td_loss: float) -> None:
        """Record the TD loss of one gradient step (a float or a 0-d tensor)."""
        self.td_losses.append(float(td_loss))

    def add_epsilon(self, epsilon: float) -> None:
        """Record the exploration rate at the end of an episode (plotted against the episode number)."""
        self.epsilons.append(float(epsilon))

    def draw(self, force: bool = False) -> bool:
        """Redraw the figure, unless it was redrawn less than ``redraw_every`` s ago.

        Args:
            force: redraw whatever the time since the last redraw.

        Returns:
            True if the figure was redrawn.
        """
        if not force and time.monotonic() - self._last_draw_time < self._wait:
            return False
        start = time.monotonic()
        self._plot_panels()
        if in_notebook():
            self._update_inline()
        else:
            _save_png(self.figure, self.path)
        # Timed after drawing, and the wait scaled to the draw's cost: drawing takes at most a
        # tenth of the training time, however slow the machine.
        self._last_draw_time = time.monotonic()
        self._wait = max(self.redraw_every, 9 * (self._last_draw_time - start))
        return True

    def close(self) -> None:
        """Draw the final state of the figure, whatever the time since the last redraw."""
        self.draw(force=True)

    def _plot_panels(self) -> None:
        self.figure.suptitle(self.title)

        axes = self._return_axes
        axes.clear()
        if self.episode_returns:
            episodes = np.arange(1, len(self.episode_returns) + 1)
            axes.plot(episodes, self.episode_returns, alpha=0.3, label="return")
            axes.plot(
                episodes,
                rolling_mean(self.episode_returns, self.window),
                label=f"mean of last {self.window}",
            )
            axes.legend(loc="upper left")
        axes.set(title="Episode return", xlabel="episode", ylabel="return")

        axes = self._loss_axes
        axes.clear()
        if self.td_losses:
            steps = np.arange(1, len(self.td_losses) + 1)
            axes.plot(steps, rolling_mean(self.td_losses, self.window))
            # A log scale needs a positive value to set its limits from.
            if max(self.td_losses) > 0:
                axes.set_yscale("log")
        axes.set(title=f"TD loss (mean of last {self.window})", xlabel="gradient step", ylabel="loss")

        axes = self._epsilon_axes
        axes.clear()
        if self.epsilons:
            axes.plot(np.arange(1, len(self.epsilons) + 1), self.epsilons)
        axes.set(title="Exploration", xlabel="episode", ylabel="epsilon", ylim=(0, 1.05))

    def _update_inline(self) -> None:
        from IPython.display import Image, display

        image = Image(data=_png_bytes(self.figure))
        # A display handle replaces only this figure's output, whereas
        # clear_output() would also wipe the cell's printed lines and progress bars.
        if self._display_handle is None:
            self._display_handle = display(image, display_id=True)
        else:
            self._display_handle.update(image)


def plot_regression_losses(
    train_losses: Sequence[float],
    val_losses: Sequence[float] | None = None,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Plot training (and validation) loss per epoch on a log scale.

    Args:
        train_losses: sequence of shape (n_epochs,), one loss per epoch.
        val_losses: optional sequence of shape (n_epochs,).
        path: PNG file to write. None writes "outputs/regression_losses.png" when
            headless and nothing in a notebook.

    Returns:
        The matplotlib Figure.
    """
    figure = Figure(figsize=(6, 4), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    train_losses = _as_array(train_losses)
    axes.plot(np.arange(1, len(train_losses) + 1), train_losses, label="train")
    if val_losses is not None:
        val_losses = _as_array(val_losses)
        axes.plot(np.arange(1, len(val_losses) + 1), val_losses, label="validation")
    axes.set_yscale("log")
    axes.set(title="Loss", xlabel="epoch", ylabel="loss (log scale)")
    axes.legend()
    _publish(figure, path, default_path="outputs/regression_losses.png")
    return figure


def plot_regression_fit(
    x: Any,
    y: Any,
    x_line: Any,
    y_true_line: Any,
    y_pred_line: Any,
    path: str | os.PathLike | None = None,
) -> Figure:
    """Scatter the data and draw the true and the predicted function.

    Inputs may be numpy arrays, lists or torch tensors (also with gradients or a
    trailing feature axis of size 1).

    Args:
        x, y: data points, each of shape (n,) or (n, 1).
        x_line: inputs where the functions are drawn, shape (m,) or (m, 1), sorted.
        y_true_line: the true function at ``x_line``, shape (m,) or (m, 1).
        y_pred_line: the model's prediction at ``x_line``, shape (m,) or (m, 1).
        path: PNG file to write. None writes "outputs/regression_fit.png" when
            headless and nothing in a notebook.

    Returns:
        The matplotlib Figure.
    """
    figure = Figure(figsize=(6, 4), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    axes.scatter(_as_array(x), _as_array(y), s=12, alpha=0.5, label="data")
    axes.plot(_as_array(x_line), _as_array(y_true_line), color="black", label="true function")
    axes.plot(_as_array(x_line), _as_array(y_pred_line), color="tab:red", label="prediction")
    axes.set(title="Fit", xlabel="x", ylabel="y")
    axes.legend()
    _publish(figure, path, default_path="outputs/regression_fit.png")
    return figure


def plot_learning_curves(
    curves: dict[str, list[np.ndarray]],
    window: int = 20,
    xlabel: str = "episode",
    ylabel: str = "return",
    path: str | os.PathLike | None = None,
    ylim: tuple[float, float] | None = None,
) -> Figure:
    """Compare methods over several seeds: mean curve and min-max band per method.

    Each run is smoothed by a ``window``-point rolling mean; a method's runs are
    cut to its shortest run so that every point averages all seeds.

    Args:
        curves: maps a method's label (e.g. "uniform replay") to its runs, one
            sequence of shape (n_points,) per seed; lengths may differ.
        window: length of the rolling mean.
        xlabel, ylabel: axis labels.
        path: PNG file to write. None writes "outputs/learning_curves.png" when
            headless and nothing in a notebook.
        ylim: (bottom, top) of the y axis, e.g. to look past a few very low
            early points; None fits every point.

    Returns:
        The matplotlib Figure.
    """
    figure = Figure(figsize=(7, 4.5), dpi=DPI, layout="constrained")
    axes = figure.subplots()
    several_seeds = any(len(runs) > 1 for runs in curves.values())
    for label, runs in curves.items():
        smoothed = [rolling_mean(run, window) for run in runs]
        n_points = min(len(run) for run in smoothed)
        stacked = np.stack([run[:n_points] for run in smoothed])  # (n_seeds, n_points)
        points = np.arange(1, n_points + 1)
        seeds = f" ({len(runs)} seeds)" if len(runs) > 1 else ""
        (line,) = axes.plot(points, stacked.mean(axis=0), label=f"{label}{seeds}")
        if len(runs) > 1:  # a band needs more than one run
            axes.fill_between(points, stacked.min(axis=0), stacked.max(axis=0), color=line.get_color(), alpha=0.2)
    smoothing = f" ({window}-point rolling mean)" if window > 1 else ""
    axes.set(
        title=("Mean and min-max over seeds" if several_seeds else "One run per curve") + smoothing,
        xlabel=xlabel,
        ylabel=ylabel,
    )
    if ylim is not None:
        axes.set_ylim(*ylim)
    axes.legend()
    _publish(figure, path, default_path="outputs/learning_curves.png")
    return figure


def _as_array(values: Any) -> np.ndarray:
    """Flatten a list, numpy array or torch tensor to a float array of shape (n,)."""
    if hasattr(values, "detach"):  # a torch tensor, possibly on a GPU or requiring grad
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64).ravel()


def _png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _save_png(figure: Figure, path: str | os.PathLike) -> None:
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=DPI)


def _publish(figure: Figure, path: str | os.PathLike | None, default_path: str) -> None:
    """Show the figure inline in a notebook; write it to ``path`` or, headless, to
    ``default_path``."""
    notebook = in_notebook()
    if notebook:
        from IPython.display import Image, display

        display(Image(data=_png_bytes(figure)))
    if path is not None:
        _save_png(figure, path)
    elif not notebook:
        _save_png(figure, default_path)
