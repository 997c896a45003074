"""Calibrate notebook 06's CliffWalking checks (sarsa_takes_the_safe_path, expected_sarsa_takes_the_safe_path).

For each seed, trains SARSA, expected SARSA and Q-learning with the notebook's train_cliffwalking
and CliffWalkingConfig (the solution notebook by default, exactly as the autograder runs them) and
classifies each greedy path (autograder.checks.sarsa.classify_path). A check passes on a seed when its
method's path is "safe" and its mean reward per training episode beats Q-learning's.

    python benchmarks/calibrate_cliffwalking.py --seeds 100
    python benchmarks/calibrate_cliffwalking.py --seeds 50 --episodes 200 --verbose
    python benchmarks/calibrate_cliffwalking.py --seeds 1 --mutants      # the mutant bank, seed 0
"""

import argparse
import collections
import dataclasses
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from autograder.checks.sarsa import classify_path
from autograder.loader import load_notebook
from autograder.mutants import load_bank
from autograder.runner import replaced
from helpers.gridworld import greedy_path

ALGORITHMS = {"SARSA": "sarsa", "expected SARSA": "expected_sarsa", "Q-learning": "q_learning"}


def train_and_classify(train, config, algorithm, seed):
    start = time.perf_counter()
    network, rewards = train(algorithm, config, seed=seed)
    return classify_path(greedy_path(network)), float(np.mean(rewards)), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebooks", default="solutions", help="folder of 06_sarsa/06_sarsa.ipynb")
    parser.add_argument("--seeds", type=int, default=50, help="training seeds first..first+N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--episodes", type=int, default=None, help="override CliffWalkingConfig.n_episodes")
    parser.add_argument("--verbose", action="store_true", help="one line per seed")
    parser.add_argument("--mutants", action="store_true", help="also run every mutant of 06_sarsa on seed 0")
    args = parser.parse_args()
    torch.set_num_threads(1)

    notebook = load_notebook(Path(args.notebooks) / "06_sarsa" / "06_sarsa.ipynb")
    train = notebook.get("train_cliffwalking")
    config = notebook.get("CliffWalkingConfig")()
    if args.episodes is not None:
        config = dataclasses.replace(config, n_episodes=args.episodes)
    print(config)
    train("q_learning", dataclasses.replace(config, n_episodes=3), seed=10**6)  # warm-up: lazy imports

    kinds = {name: collections.Counter() for name in ALGORITHMS}
    lengths = {name: collections.Counter() for name in ALGORITHMS}
    mean_rewards = {name: [] for name in ALGORITHMS}
    seconds = {name: [] for name in ALGORITHMS}
    passes = {"SARSA": 0, "expected SARSA": 0}
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        info = {}
        for name, algorithm in ALGORITHMS.items():
            info[name], reward, wall = train_and_classify(train, config, algorithm, seed)
            kinds[name][info[name].kind] += 1
            lengths[name][info[name].n_steps if info[name].kind != "fails" else -1] += 1
            mean_rewards[name].append(reward)
            seconds[name].append(wall)
        verdicts = []
        for name in passes:
            ok = info[name].kind == "safe" and mean_rewards[name][-1] > mean_rewards["Q-learning"][-1]
            passes[name] += ok
            verdicts.append(f"{name} {info[name].kind} {mean_rewards[name][-1]:.1f} {'PASS' if ok else 'FAIL'}")
        if args.verbose:
            print(
                f"seed {seed:3d}: "
                + "; ".join(verdicts)
                + f"; Q-learning {info['Q-learning'].kind} {mean_rewards['Q-learning'][-1]:.1f}",
                flush=True,
            )

    n = len(seeds)
    print(f"\nseeds {seeds.start}..{seeds.stop - 1} ({n}), {config.n_episodes} episodes")
    print(f"{'':16}{'safe':>6}{'optimal':>8}{'edge':>6}{'fails':>6}{'meanR/ep':>10}{'s/run med':>10}{'s/run max':>10}")
    for name in ALGORITHMS:
        counts = kinds[name]
        print(
            f"{name:16}{counts['safe']:>6}{counts['optimal']:>8}{counts['edge']:>6}{counts['fails']:>6}"
            f"{np.mean(mean_rewards[name]):>10.1f}{statistics.median(seconds[name]):>10.2f}"
            f"{max(seconds[name]):>10.2f}"
        )
    print("greedy path lengths (-1 = does not reach G):", {k: dict(sorted(v.items())) for k, v in lengths.items()})
    for name, passed in passes.items():
        print(f"{name} check passes: {passed}/{n} = {passed / n:.0%}")

    if args.mutants:
        for variant in [v for v in load_bank() if v.assignment == "06_sarsa" and v.is_mutant]:
            algorithm = {"compute_sarsa_loss": "sarsa", "compute_expected_sarsa_loss": "expected_sarsa"}[variant.target]
            with replaced(notebook, {variant.target: variant.implementation_for(notebook)}):
                try:
                    info, reward, _ = train_and_classify(train, config, algorithm, seed=0)
                    result = f"{info.kind} ({info.n_steps} steps), mean reward {reward:.1f}"
                except Exception as error:  # a mutant may crash the loop
                    result = f"crash ({type(error).__name__})"
            print(f"mutant {variant.target}/{variant.name}: {result}", flush=True)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"total wall time {time.perf_counter() - start:.0f} s")
