"""Reward gates: train an agent with the student's functions under a fixed seed and step budget,
then score its greedy policy on 100 fixed CartPole-v1 evaluation episodes.

The training loop is the notebook's own (a provided, locked cell), so the gate trains exactly
the agent the student sees. Each gate's threshold, budget and calibration (the reference's pass
rate over 50 training seeds, and what an untrained network and a random policy score) are
written below; `python benchmarks/calibrate_gates.py --assignment NAME` reproduces them.
"""
from dataclasses import dataclass

import numpy as np

from autograder.framework import CheckFailure
from autograder.guards import single_thread
from helpers.evaluation import evaluate_policy_vectorized

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
    calibration: str = ""  # the reference's pass rate over 50 training seeds (benchmarks/calibrate_gates.py)

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
    # All loops use fused Adam (faster on CPU) and stop early once a greedy evaluation (20 episodes, seed
    # 10 000) reaches the notebook's Config.stop_return, returning the best evaluated weights; a run that
    # never gets there trains the whole budget. Calibrated with both (50 seeds each, 2026-11-21; wall
    # times with two runs sharing 2 cores). The stop at about twice the threshold cut the gates' time
    # roughly in half; the lowest scores are those of seeds that never reached it (unchanged from the
    # full-budget calibration).
    # Online DQN, at most 20 000 env steps, stop at 200. Threshold 100: 50 of 50 training seeds pass
    # (min 160.6, median 289.7; wall median 7.6 s, max 14.0 s); an untrained network scores 9-84 (20
    # initialisations), a random policy 24. With 15 000 steps and no stop, 49 of 50 passed (seed 35
    # scored 69; before fused Adam).
    "02_online_dqn": Gate("02_online_dqn", "train_online_dqn", 100.0, 20_000, 200.0,
                          calibration="50 of 50 training seeds pass (min 160.6, median 289.7)"),
    # Replay DQN without a target network, at most 10 000 env steps, stop at 300. Threshold 150: 50 of
    # 50 training seeds pass (min 208.2, median 316.8; wall median 4.2 s, max 9.7 s); an untrained
    # network scores 9-84, a random policy 24.
    "03_experience_replay": Gate("03_experience_replay", "train_replay_dqn", 150.0, 10_000, 300.0,
                                 calibration="50 of 50 training seeds pass (min 208.2, median 316.8)"),
    # Prioritized replay DQN, at most 10 000 env steps, stop at 300. Threshold 150 (as notebook 03): 50
    # of 50 training seeds pass (min 233.6 at seed 11, then 260.8, median 323.6; wall median 6.2 s, max
    # 12.5 s); an untrained network scores 9-84 (20 initialisations), a random policy 24.
    "04_prioritized_replay": Gate("04_prioritized_replay", "train_per_dqn", 150.0, 10_000, 300.0,
                                  calibration="50 of 50 training seeds pass (min 233.6, median 323.6)"),
    # The full agent (128 x 128, one gradient step every 2 env steps), at most 30 000 env steps: it
    # stops once two greedy evaluations in a row reach 475 (100 episodes each, seed 10 000), returns
    # the best evaluated weights, and is scored on 100 other episodes (seed 20 000). Threshold 475,
    # CartPole-v1's own. 50 of 50 training seeds pass (min 482.1 at seeds 40 and 46, median 500; wall
    # median 25 s, max 53 s, with four runs sharing 2 cores). An untrained network scores 9-91 (20
    # initialisations), a random policy 24. With a gradient step every env step (before): 50 of 50, min
    # 497.5. With 64 x 64 and a stop at the first evaluation >= 475: 44 of 50.
    # Its loop stops after two evaluations in a row reach Config.solved_return (475), not at stop_return.
    "05_target_network": Gate("05_target_network", "train_full_agent", 475.0, 30_000, None,
                              calibration="50 of 50 training seeds pass (min 482.1, median 500)"),
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
    print(f"gate score {score:.1f} >= {gate.threshold:g}")
