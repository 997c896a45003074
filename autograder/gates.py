"""Reward gates: train an agent with the student's functions under a fixed seed and step budget,
then score its greedy policy on 100 fixed CartPole-v1 evaluation episodes.

The training loop is the notebook's own (a provided, locked cell), so the gate trains exactly
the agent the student sees. Each gate's threshold, budget and calibration (the reference's pass
rate over 50 training seeds, and what an untrained network and a random policy score) live in
one data file per gate, `autograder/calibration/<assignment>.json`, written by
`python benchmarks/calibrate_gates.py --assignment NAME --seeds 50 --write`: the settings it was
measured with, one row per training seed, and notes on earlier settings. `Gate.calibration` reads
it; tests/test_autograder.py fails when the file's settings are not the gate's.
"""

import json
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.framework import CheckFailure
from autograder.guards import single_thread
from helpers.evaluation import evaluate_policy_vectorized

CALIBRATION_DIR = Path(__file__).resolve().parent / "calibration"
GATE_EVAL_SEED = 20_000  # differs from the seed of the evaluations that pick the best weights (10 000)
N_EVAL_EPISODES = 100


@dataclass(frozen=True)
class Gate:
    """One reward gate's numbers: the ONE place they are written. The notebook's Config defaults
    (total_steps, stop_return), the gate check's docstring and the gate test cell's docstring must
    agree with them; tests/test_autograder.py proves it."""

    assignment: str
    train: str  # the notebook's training function: train(seed=...) -> (network, history)
    threshold: float  # the mean greedy return over the 100 evaluation episodes must reach this
    total_steps: int  # the training budget in environment steps (the notebook's Config.total_steps)
    stop_return: float | None  # the notebook's Config.stop_return: training stops once an evaluation reaches it
    train_seed: int = 0

    @property
    def settings(self) -> dict:
        """What a calibration depends on: a data file measured with other settings is stale."""
        return {
            "assignment": self.assignment,
            "train": self.train,
            "threshold": self.threshold,
            "total_steps": self.total_steps,
            "stop_return": self.stop_return,
            "eval_seed": GATE_EVAL_SEED,
            "n_eval_episodes": N_EVAL_EPISODES,
        }

    def calibration_data(self) -> dict:
        """The gate's data file (autograder/calibration/<assignment>.json), or {} if there is none."""
        path = CALIBRATION_DIR / f"{self.assignment}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @property
    def calibration(self) -> str:
        """'50 of 50 training seeds pass (min 160.6, median 289.7)', from the gate's data file."""
        passed, seeds, low, median = self.pass_rate()
        if not seeds:
            return "not calibrated yet"
        return f"{passed} of {seeds} training seeds pass (min {low:.1f}, median {median:.1f})"

    def pass_rate(self) -> tuple[int, int, float, float]:
        """(seeds passed, seeds run, min score, median score) from the data file: its per-seed runs, or,
        for a calibration recorded before per-seed rows were kept, its "summary" (same settings)."""
        data = self.calibration_data()
        runs = data.get("runs", [])
        if len(runs) < data.get("summary", {}).get("seeds", 0):
            summary = data["summary"]
            return summary["passed"], summary["seeds"], summary["min"], summary["median"]
        if not runs:
            return 0, 0, float("nan"), float("nan")
        scores = [run["score"] for run in runs]
        return (sum(score >= self.threshold for score in scores), len(scores), min(scores), statistics.median(scores))

    @property
    def budget(self) -> str:
        """What one training run costs, for messages: 'at most 20 000 environment steps, ...'."""
        steps = f"{self.total_steps:,}".replace(",", " ")
        stop = f", stopping once an evaluation reaches {self.stop_return:g}" if self.stop_return else ""
        return f"at most {steps} environment steps{stop}"

    @property
    def summary(self) -> str:
        """The words every docstring of this gate contains: 'seed 0, at most 20 000 steps'."""
        steps = f"{self.total_steps:,}".replace(",", " ")
        return f"seed {self.train_seed}, at most {steps} steps"


GATES = {
    # Every loop stops early once a greedy evaluation (20 episodes, seed 10 000; 05: two evaluations in a
    # row of 100 episodes) reaches Config.stop_return (05: Config.solved_return), and returns the best
    # evaluated weights. Pass rates, per-seed scores and earlier settings: autograder/calibration/.
    "02_online_dqn": Gate("02_online_dqn", "train_online_dqn", 100.0, 20_000, 200.0),
    "03_experience_replay": Gate("03_experience_replay", "train_replay_dqn", 150.0, 10_000, 300.0),
    "04_prioritized_replay": Gate("04_prioritized_replay", "train_per_dqn", 150.0, 10_000, 300.0),
    "05_target_network": Gate("05_target_network", "train_full_agent", 475.0, 30_000, None, train_seed=10),
    "06_sarsa": Gate("06_sarsa", "train_deep_sarsa", 100.0, 20_000, 200.0),
}


def gate_returns(network) -> np.ndarray:
    """Returns of the greedy policy on the gate's 100 evaluation episodes."""
    network.eval()
    return evaluate_policy_vectorized("CartPole-v1", network, N_EVAL_EPISODES, seed=GATE_EVAL_SEED)


def train_and_score(gate: Gate, train, seed: int | None = None) -> float:
    """Train with the notebook's `train` function (one thread: faster at these sizes) and return the gate score."""
    with single_thread():
        network, _ = train(seed=gate.train_seed if seed is None else seed)
    return float(gate_returns(network).mean())


def assert_passes_gate(gate: Gate, train) -> None:
    """Fail with a teaching message unless the agent trained by `train` reaches the gate's threshold."""
    score = train_and_score(gate, train)
    if score < gate.threshold:
        raise CheckFailure(
            f"The agent trained with your functions ({gate.budget}, training seed {gate.train_seed}) "
            f"does not balance the pole well enough.",
            expected=f"a mean greedy return >= {gate.threshold:g} over {N_EVAL_EPISODES} CartPole-v1 episodes",
            got=f"{score:.1f}",
            hint="every unit check above passes? Then look at what the loop feeds your functions, and at "
            "anything they do differently from the docstrings (a random policy scores about 23)",
        )
    sys.stdout.write(f"gate score {score:.1f} >= {gate.threshold:g}\n")  # one write: no lone newline
