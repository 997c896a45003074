"""Calibrate a CartPole reward gate: the reference's pass rate over many training seeds, what an
untrained network and a random policy score, and (optionally) the mutant bank's scores.

    python benchmarks/calibrate_gates.py --assignment 02_online_dqn --seeds 50 --baselines
    python benchmarks/calibrate_gates.py --assignment 05_target_network --seeds 5 --mutants
    python benchmarks/calibrate_gates.py --assignment 02_online_dqn --seeds 25 --write
    python benchmarks/calibrate_gates.py --assignment 02_online_dqn --seeds 25 --first-seed 25 --write

The gate's settings come from autograder/gates.py and the training loop from the notebook
(--notebooks solutions by default), exactly as the autograder runs them. --write records each
seed's score (and the baselines) in the gate's data file, autograder/calibration/<assignment>.json,
which the gate's messages and the repository's tests read: rows of other seeds are kept if the
file was measured with the same settings (so two processes can share the seeds), and the file
starts afresh if the settings changed.
"""

import argparse
import datetime
import fcntl
import json
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from autograder.gates import CALIBRATION_DIR, GATES, N_EVAL_EPISODES, gate_returns, train_and_score
from autograder.loader import load_notebook
from autograder.mutants import load_bank
from autograder.runner import replaced


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", required=True, choices=sorted(GATES))
    parser.add_argument("--notebooks", default="solutions", help="folder of <assignment>/<assignment>.ipynb")
    parser.add_argument("--seeds", type=int, default=50, help="training seeds 0..N-1")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--baselines", action="store_true", help="score 20 untrained networks and a random policy")
    parser.add_argument("--mutants", action="store_true", help="score every mutant of the assignment (seed 0)")
    parser.add_argument("--write", action="store_true", help="record the results in the gate's data file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    gate = GATES[args.assignment]
    notebook = load_notebook(Path(args.notebooks) / args.assignment / f"{args.assignment}.ipynb")
    train = notebook.get(gate.train)
    print(f"gate {args.assignment}: {gate.train}, threshold {gate.threshold:g}, budget {gate.budget}")

    scores, walls = [], []
    print(f"{'seed':>5} {'score':>7} {'wall s':>7}")
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        start = time.perf_counter()
        scores.append(train_and_score(gate, train, seed=seed))
        walls.append(time.perf_counter() - start)
        print(f"{seed:>5} {scores[-1]:>7.1f} {walls[-1]:>7.1f}", flush=True)
        if args.write:  # after every seed, so an interrupted run keeps what it measured
            record(gate, runs=[{"seed": seed, "score": round(scores[-1], 2), "wall_s": round(walls[-1], 1)}])
    passed = sum(score >= gate.threshold for score in scores)
    if scores:  # --seeds 0: baselines or mutants only
        print(
            f"pass rate {passed}/{len(scores)} = {passed / len(scores):.0%}; score min {min(scores):.1f}, "
            f"median {statistics.median(scores):.1f}; "
            f"wall median {statistics.median(walls):.1f} s, max {max(walls):.1f} s"
        )

    if args.baselines:
        create_network = notebook.get("create_network")
        hidden_dims = list(notebook.get("CONFIG").hidden_dims)
        untrained = []
        for seed in range(20):
            torch.manual_seed(seed)
            untrained.append(float(gate_returns(create_network(4, hidden_dims, 2)).mean()))
        env = gym.make("CartPole-v1")
        env.action_space.seed(0)
        random_returns = []
        for episode in range(N_EVAL_EPISODES):
            env.reset(seed=episode)
            total, done = 0.0, False
            while not done:
                _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
                total, done = total + reward, terminated or truncated
            random_returns.append(total)
        print(
            f"untrained networks (20 seeds): {min(untrained):.1f} to {max(untrained):.1f}; "
            f"random policy: {np.mean(random_returns):.1f}"
        )
        if args.write:
            record(
                gate,
                baselines={
                    "untrained_networks_min": round(min(untrained), 1),
                    "untrained_networks_max": round(max(untrained), 1),
                    "random_policy": round(float(np.mean(random_returns)), 1),
                },
            )

    if args.mutants:
        for variant in [v for v in load_bank() if v.assignment == args.assignment and v.is_mutant]:
            with replaced(notebook, {variant.target: variant.implementation_for(notebook)}):
                try:
                    score = f"{train_and_score(gate, notebook.get(gate.train)):.1f}"
                except Exception as error:  # a mutant may crash the loop: that fails the gate too
                    score = f"crash ({type(error).__name__})"
            print(f"mutant {variant.target}/{variant.name}: {score}", flush=True)


def record(gate, runs=(), baselines=None) -> None:
    """Merge `runs` (one dict per training seed) and `baselines` into the gate's data file."""
    path = CALIBRATION_DIR / f"{gate.assignment}.json"
    path.parent.mkdir(exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:  # two processes may share the seeds
        fcntl.flock(lock, fcntl.LOCK_EX)
        _merge(gate, path, runs, baselines)


def _merge(gate, path, runs, baselines) -> None:
    data = gate.calibration_data()
    if data.get("settings") != gate.settings:  # measured with other settings: start afresh, keep the notes
        data = {"settings": gate.settings, "notes": data.get("notes", []), "runs": []}
    by_seed = {run["seed"]: run for run in data["runs"]}
    by_seed.update({run["seed"]: run for run in runs})
    data["runs"] = [by_seed[seed] for seed in sorted(by_seed)]
    if baselines is not None:
        data["baselines"] = baselines
    data["measured"] = {
        "date": datetime.date.today().isoformat(),
        "command": "python benchmarks/calibrate_gates.py " + " ".join(sys.argv[1:]),
        "wall_note": "wall_s: one training run, sharing the machine with whatever else ran",
    }
    path.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
