"""How fast and how reliably the full agent of notebook 05 solves CartPole-v1, over many training seeds.

    python benchmarks/cartpole_speed.py --seeds 20                              # speed to the first solve
    python benchmarks/cartpole_speed.py --seeds 20 --no-stop --total-steps 30000  # stability after solving
    python benchmarks/cartpole_speed.py --seeds 10 --set tau=0.01 --set learning_starts=1000

The agent is the notebook's own `train_full_agent` and `Config` (--notebooks solutions by default),
loaded as the autograder loads them. "Solved" means a periodic greedy evaluation (100 episodes) with
a mean >= Config.solved_return (475). Per seed: the environment steps, wall time and CPU time to the
first solve (timed at the evaluation that first solved) and to the stop (Config.solved_streak
evaluations in a row >= 475: where the notebook's training stops), the gate score of the returned
network (100 other greedy episodes, autograder.gates; with --no-stop that network is the best
evaluated one, not the gate's), and with --no-stop the share of the
evaluations after the first solve that still reach 475.
"""

import argparse
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from autograder.gates import gate_returns
from autograder.loader import load_notebook
from helpers.evaluation import BestNetworkKeeper

ASSIGNMENT = "05_target_network"


class TimedKeeper(BestNetworkKeeper):
    """A BestNetworkKeeper that also records the wall and CPU time of each evaluation (since it was
    created, just before training began), so a run that trains on after its first solve still tells
    how long the solve took. train_full_agent takes it as its `keeper` argument."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        self.walls, self.cpus = [], []

    def __call__(self, network, step):
        mean = super().__call__(network, step)
        self.walls.append(time.perf_counter() - self.start)  # this evaluation included
        self.cpus.append(time.process_time() - self.cpu_start)
        return mean


def parse_overrides(config_class, pairs):
    """--set name=value pairs -> dict, each value converted to the Config field's type."""
    types = {field.name: field.type for field in dataclasses.fields(config_class)}
    overrides = {}
    for pair in pairs:
        name, value = pair.split("=", 1)
        kind = types[name] if not isinstance(types[name], str) else eval(types[name])  # noqa: S307 (our own code)
        overrides[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return overrides


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", default="solutions", help="folder of <assignment>/<assignment>.ipynb")
    parser.add_argument("--seeds", type=int, default=20, help="training seeds first-seed .. first-seed + N - 1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--total-steps", type=int, default=None, help="budget (default: Config's)")
    parser.add_argument("--no-stop", action="store_true", help="train on after the first solve (stability)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a Config field")
    args = parser.parse_args()
    torch.set_num_threads(1)

    notebook = load_notebook(Path(args.notebooks) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    train, config_class = notebook.get("train_full_agent"), notebook.get("Config")
    overrides = parse_overrides(config_class, args.set)
    if args.total_steps is not None:
        overrides["total_steps"] = args.total_steps
    if args.no_stop:
        overrides["stop_when_solved"] = False
    config = config_class(**overrides)
    print(f"{ASSIGNMENT} train_full_agent; overrides {overrides or 'none'}; budget {config.total_steps} steps")

    rows = []
    print(
        f"{'seed':>5} {'solve step':>10} {'wall s':>7} {'cpu s':>6} {'stop step':>9} {'cpu s':>6} {'gate':>6} "
        f"{f'post-solve >= {config.solved_return:g}':>18}"
    )
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        keeper = TimedKeeper(config.env_id, n_episodes=config.eval_episodes)
        network, keeper = train(config, seed=seed, keeper=keeper)
        score = float(gate_returns(network).mean())
        means = np.array(keeper.means)
        solved = means >= config.solved_return
        row = dict(
            seed=seed,
            solve_step=None,
            wall=None,
            cpu=None,
            stop_step=None,
            stop_cpu=None,
            stop_wall=None,
            score=score,
            post_solve=None,
        )
        if solved.any():
            first = int(np.argmax(solved))
            row.update(solve_step=keeper.steps[first], wall=keeper.walls[first], cpu=keeper.cpus[first])
            if args.no_stop:
                row.update(post_solve=float(np.mean(solved[first:])), post_min=float(means[first:].min()))
        streaks = np.convolve(solved, np.ones(config.solved_streak), mode="valid") >= config.solved_streak
        if streaks.any():  # the evaluation that completed the first streak: where the notebook stops
            stop = int(np.argmax(streaks)) + config.solved_streak - 1
            row.update(stop_step=keeper.steps[stop], stop_wall=keeper.walls[stop], stop_cpu=keeper.cpus[stop])
        rows.append(row)
        stability = "" if row["post_solve"] is None else f"{row['post_solve']:.0%} (min {row['post_min']:.0f})"
        print(
            f"{seed:>5} {row['solve_step'] or '-':>10} {row['wall'] or float('nan'):>7.1f} "
            f"{row['cpu'] or float('nan'):>6.1f} {row['stop_step'] or '-':>9} {row['stop_cpu'] or float('nan'):>6.1f} "
            f"{score:>6.1f} {stability:>18}",
            flush=True,
        )

    n = len(rows)
    steps = [r["solve_step"] if r["solve_step"] is not None else float("inf") for r in rows]
    solved_rows = [r for r in rows if r["solve_step"] is not None]
    print(f"solved within {config.total_steps} steps: {len(solved_rows)}/{n}")
    print(
        f"steps to solve: median {statistics.median(steps):g} (failures count as inf), "
        f"max among solved {max((r['solve_step'] for r in solved_rows), default=float('nan')):g}; "
        f"<= 10k: {sum(s <= 10_000 for s in steps)}/{n}, <= 20k: {sum(s <= 20_000 for s in steps)}/{n}, "
        f"<= 30k: {sum(s <= 30_000 for s in steps)}/{n}"
    )
    print(
        f"gate score >= {config.solved_return:g}: {sum(r['score'] >= config.solved_return for r in rows)}/{n} "
        f"(min {min(r['score'] for r in rows):.1f})"
    )
    for kind in ("wall", "cpu"):  # CPU time: what a run costs on a core of its own
        times = [r[kind] if r["solve_step"] is not None else float("inf") for r in rows]
        print(
            f"{kind} time to solve: median {statistics.median(times):.1f} s (failures count as inf), "
            f"max among solved {max((r[kind] for r in solved_rows), default=float('nan')):.1f} s"
        )
    for kind, label in (("stop_step", "steps"), ("stop_cpu", "cpu s"), ("stop_wall", "wall s")):
        values = [r[kind] for r in rows if r[kind] is not None]
        if values:
            quantiles = np.percentile(values, [0, 10, 50, 90, 100])
            print(
                f"to the stop ({config.solved_streak} evaluations in a row >= {config.solved_return:g}; "
                f"{len(values)}/{n} seeds), {label}: min {quantiles[0]:.1f}, 10% {quantiles[1]:.1f}, "
                f"median {quantiles[2]:.1f}, 90% {quantiles[3]:.1f}, max {quantiles[4]:.1f}"
            )
    if args.no_stop:
        fractions = [r["post_solve"] for r in solved_rows]
        if fractions:
            print(
                f"post-solve evaluations >= {config.solved_return:g}: {np.mean(fractions):.0%} on average over "
                f"the solved seeds, worst seed {min(fractions):.0%}"
            )


if __name__ == "__main__":
    main()
