"""Seed 004's reward shaping against CartPole's own reward, for notebook 02's online DQN.

    python benchmarks/reward_shaping.py --seeds 10      # the figures quoted in notebook 02
    python benchmarks/reward_shaping.py --seeds 3 --total-steps 5000

Each training seed trains the notebook's own `train_online_dqn` twice with the gate's `Config`
(stop once a greedy evaluation averages Config.stop_return, 200, within Config.total_steps):
once with CartPole's +1 per step, once with `shaped_reward=True` (0 per step, -1 at a fall, +1 at
the time limit; the evaluations always score CartPole's own return). Per seed and reward: the
steps to the first greedy evaluation >= 200 ("-" if never), the CPU seconds of the run, and the
gate's score of the returned network (the gate's 100 evaluation episodes, autograder.gates).
"""

import argparse
import statistics
import time
from pathlib import Path

import torch

from autograder.gates import gate_returns
from autograder.loader import load_notebook

ASSIGNMENT = "02_online_dqn"
REWARDS = {False: "plain", True: "shaped"}
INF = float("inf")  # the steps of a run that never reached the bar


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", default="solutions", help="folder of <assignment>/<assignment>.ipynb")
    parser.add_argument("--seeds", type=int, default=10, help="training seeds first-seed .. first-seed + N - 1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--total-steps", type=int, default=None, help="budget (default: Config's)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    notebook = load_notebook(Path(args.notebooks) / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    train, config_class = notebook.get("train_online_dqn"), notebook.get("Config")
    budget = {} if args.total_steps is None else {"total_steps": args.total_steps}
    configs = {shaped: config_class(shaped_reward=shaped, **budget) for shaped in REWARDS}
    bar = configs[False].stop_return
    print(f"{ASSIGNMENT} train_online_dqn; budget {configs[False].total_steps} steps, stop at {bar:g}")

    print(f"{'seed':>5}" + "".join(f"{f'{name}: steps, cpu s, gate':>30}" for name in REWARDS.values()))
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        row = {}
        for shaped, config in configs.items():
            cpu_start = time.process_time()
            network, keeper = train(config, seed=seed)
            cpu = time.process_time() - cpu_start
            reached = next((step for step, mean in zip(keeper.steps, keeper.means) if mean >= bar), INF)
            row[shaped] = dict(steps=reached, cpu=cpu, gate=float(gate_returns(network).mean()))
        rows.append(row)
        cells = [
            f"{'-' if r['steps'] == INF else r['steps']:>12} {r['cpu']:>7.1f} {r['gate']:>8.1f}" for r in row.values()
        ]
        print(f"{seed:>5}" + "".join(f"{cell:>30}" for cell in cells), flush=True)

    n = len(rows)
    for shaped, name in REWARDS.items():
        steps = [r[shaped]["steps"] for r in rows]
        gates = [r[shaped]["gate"] for r in rows]
        print(
            f"{name}: reached {bar:g} on {sum(s != INF for s in steps)}/{n} seeds, "
            f"median steps {statistics.median(steps):g} (never counts as inf); "
            f"gate score median {statistics.median(gates):.1f}, min {min(gates):.1f}"
        )
    sooner = sum(r[True]["steps"] < r[False]["steps"] for r in rows)
    later = sum(r[True]["steps"] > r[False]["steps"] for r in rows)
    print(f"shaped reached {bar:g} sooner on {sooner}/{n} seeds, later on {later}/{n}")


if __name__ == "__main__":
    main()
