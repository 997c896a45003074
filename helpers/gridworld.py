"""CliffWalking-v1 (notebook 06): the greedy path of a Q-network, and drawings of paths.

    greedy_path(network, max_steps=48) -> list of states
    plot_cliffwalking_path(path_states, title="Greedy path", ax=None, path=None) -> Figure
    plot_cliffwalking_paths({"SARSA": path1, "Q-learning": path2}, path=None) -> Figure

A state is a cell number, ``row * 12 + col``; the network maps one-hot states (48,) to 4 Q-values
(actions 0 up, 1 right, 2 down, 3 left). ``path``: when given, the figure is also saved there as PNG.

Figures are matplotlib ``Figure`` objects shown like those of helpers.plotting (inline in a
notebook, a PNG file when headless), never through pyplot. matplotlib is imported only when a
figure is drawn: the autograder imports ``greedy_path`` and needs no plotting.
"""

from __future__ import annotations

import gymnasium as gym
import torch

N_ROWS, N_COLS = 4, 12
START, GOAL = 36, 47
CLIFF = tuple(range(37, 47))  # stepping in costs -100 and sends the agent back to START


@torch.no_grad()
def greedy_path(network, max_steps: int = N_ROWS * N_COLS) -> list[int]:
    """The states the greedy policy of ``network`` visits from START, START included.

    Stops at GOAL (included), on a fall into the cliff (the path then ends with START again, drawn
    as a dashed red arrow), on a state already visited (the greedy policy loops), or after
    ``max_steps`` steps.
    """
    q_values = network(torch.eye(N_ROWS * N_COLS))  # (48, 4): one row per state
    env = gym.make("CliffWalking-v1")
    state, _ = env.reset(seed=0)  # the start and the dynamics are deterministic
    path, seen = [state], {state}
    for _ in range(max_steps):
        state, _, terminated, _, _ = env.step(int(q_values[state].argmax()))
        path.append(state)
        if terminated or state in seen:
            break
        seen.add(state)
    env.close()
    return path


_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:red")


def _cell(state):
    row, col = divmod(int(state), N_COLS)
    return col, row  # x, y (y grows downwards: the axis is inverted)


def _draw_grid(ax):
    from matplotlib.patches import Rectangle

    for s in range(N_ROWS * N_COLS):
        x, y = _cell(s)
        if s in CLIFF:
            face = "#d9534f"
        elif s == START:
            face = "#cfe8ff"
        elif s == GOAL:
            face = "#c8f0c8"
        else:
            face = "white"
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, facecolor=face, edgecolor="0.6", linewidth=0.8))
    for state, label, color in ((START, "S", "#1f4e79"), (GOAL, "G", "#1e6b1e")):
        x, y = _cell(state)
        ax.text(x - 0.42, y + 0.42, label, ha="left", va="bottom", fontsize=12, fontweight="bold", color=color)
    ax.text(
        (1 + 10) / 2,
        3,
        "The Cliff  (-100, back to S)",
        ha="center",
        va="center",
        color="white",
        fontsize=10,
        fontweight="bold",
    )
    ax.set_xlim(-0.5, N_COLS - 0.5)
    ax.set_ylim(N_ROWS - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(N_COLS))
    ax.set_yticks(range(N_ROWS))
    ax.tick_params(length=0, labelsize=8)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _draw_path(ax, path_states, color):
    """Arrows from each state to the next; a jump back to S (a fall) is drawn dashed in red."""
    from matplotlib.patches import FancyArrowPatch

    pts = [_cell(s) for s in path_states]
    for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
        fell = (x1, y1) == _cell(START) and abs(x1 - x0) + abs(y1 - y0) > 1
        ax.add_patch(
            FancyArrowPatch(
                (x0, y0),
                (x1, y1),
                arrowstyle="-|>",
                mutation_scale=14,
                linewidth=2.2,
                color="red" if fell else color,
                linestyle="--" if fell else "-",
                shrinkA=4,
                shrinkB=4,
                zorder=3,
            )
        )
    if len(pts) > 0:
        ax.plot(*pts[0], "o", color=color, markersize=6, zorder=4)


def _describe(path_states):
    n = len(path_states) - 1
    if len(path_states) > 1 and path_states[-1] == GOAL:
        return f"{n} steps to G"
    return f"does not reach G ({n} steps shown)"


def plot_cliffwalking_path(path_states, title="Greedy path", ax=None, path=None, color="tab:blue"):
    """Draw the 4x12 grid (cliff in red, S and G) and the path as arrows; returns the Figure.

    With ``ax`` the drawing goes into that Axes (of a figure the caller shows); without, a new
    Figure is made and shown (inline in a notebook, written to ``path`` or a default PNG headless).
    """
    if ax is None:
        from matplotlib.figure import Figure

        from helpers.plotting import DPI, _publish

        figure = Figure(figsize=(8, 3.2), dpi=DPI, layout="constrained")
        _draw_panel(figure.subplots(), path_states, title, color)
        _publish(figure, path, default_path="outputs/cliffwalking_path.png")
        return figure
    _draw_panel(ax, path_states, title, color)
    if path is not None:
        ax.figure.savefig(path, dpi=120)
    return ax.figure


def plot_cliffwalking_paths(paths: dict, path=None, vertical=True):
    """One panel per entry of ``{"SARSA": states, "Q-learning": states}``; returns the Figure.
    ``vertical=True`` (default) stacks the panels, which keeps the wide 4x12 grids readable in a
    notebook; ``vertical=False`` puts them side by side in one row."""
    from matplotlib.figure import Figure

    from helpers.plotting import DPI, _publish

    n = len(paths)
    if vertical:
        figure = Figure(figsize=(8, 3.0 * n), dpi=DPI, layout="constrained")
        axes = figure.subplots(n, 1, squeeze=False)[:, 0]
    else:
        figure = Figure(figsize=(7 * n, 2.9), dpi=DPI, layout="constrained")
        axes = figure.subplots(1, n, squeeze=False)[0]
    for i, (ax, (name, states)) in enumerate(zip(axes, paths.items())):
        _draw_panel(ax, states, name, _COLORS[i % len(_COLORS)])
    _publish(figure, path, default_path="outputs/cliffwalking_paths.png")
    return figure


def _draw_panel(ax, path_states, title, color):
    path_states = list(path_states)
    _draw_grid(ax)
    _draw_path(ax, path_states, color)
    ax.set_title(f"{title}: {_describe(path_states)}" if title else _describe(path_states))
