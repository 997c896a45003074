"""Probe environments (the ARENA pattern): tiny tasks whose true Q-values are known, so a bug in
learning shows up in a second instead of after a long CartPole run.

Each probe lists the observations to query and the Q-values a correct learner reaches there
(gamma = GAMMA). `learn_probe` fits a network on random-action transitions of a probe with a
given loss; a check then compares the network's Q-values with the known ones.
"""

from collections.abc import Callable
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

from autograder.framework import CheckFailure
from autograder.guards import single_thread

GAMMA = 0.5  # a small discount keeps bootstrapped values far from the one-step ones


class _Probe(gym.Env):
    """One-dimensional observation, fixed episode structure; subclasses define the dynamics."""

    n_actions = 1

    def __init__(self):
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(self.n_actions)

    def _obs(self, value):
        return np.array([value], dtype=np.float32)


class ConstantRewardProbe(_Probe):
    """One step, one action, reward +1: Q = 1."""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._obs(1.0), {}

    def step(self, action):
        return self._obs(1.0), 1.0, True, False, {}


class ObservationRewardProbe(_Probe):
    """One step, observation +-1 at random, reward = observation: Q(s) = s."""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.sign = float(self.np_random.choice([-1.0, 1.0]))
        return self._obs(self.sign), {}

    def step(self, action):
        return self._obs(self.sign), self.sign, True, False, {}


class TwoStepProbe(_Probe):
    """Observation 0, then 1; reward +1 only at the end: Q(0) = GAMMA, Q(1) = 1."""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0.0
        return self._obs(0.0), {}

    def step(self, action):
        if self.position == 0.0:
            self.position = 1.0
            return self._obs(1.0), 0.0, False, False, {}
        return self._obs(1.0), 1.0, True, False, {}


class ActionRewardProbe(_Probe):
    """One step, two actions, reward -1 for action 0 and +1 for action 1: Q = [-1, 1]."""

    n_actions = 2

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._obs(1.0), {}

    def step(self, action):
        return self._obs(1.0), 1.0 if action == 1 else -1.0, True, False, {}


class EndlessProbe(_Probe):
    """Reward +1 every step and never terminates; only a time limit ends it: Q = 1 / (1 - gamma)."""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self._obs(1.0), {}

    def step(self, action):
        return self._obs(1.0), 1.0, False, False, {}


ENDLESS_PROBE_ID = "EndlessProbe-v0"
if ENDLESS_PROBE_ID not in gym.registry:
    gym.register(ENDLESS_PROBE_ID, entry_point=EndlessProbe, max_episode_steps=1)


@dataclass(frozen=True)
class ProbeCase:
    probe: type
    observations: list  # where to query Q
    expected_q: list  # the true Q-values there, shape (len(observations), n_actions)
    suspect: str  # what a failure here usually means

    @property
    def description(self) -> str:
        return f"{self.probe.__name__} ({self.probe.__doc__.strip()})"


PROBE_CASES = [
    ProbeCase(
        ConstantRewardProbe,
        [[1.0]],
        [[1.0]],
        "the loss or its sign, or the terminal mask (without it Q grows to 1 / (1 - gamma))",
    ),
    ProbeCase(
        ObservationRewardProbe,
        [[-1.0], [1.0]],
        [[-1.0], [1.0]],
        "the network ignores its input, or states are mixed up within the batch",
    ),
    ProbeCase(
        TwoStepProbe,
        [[0.0], [1.0]],
        [[GAMMA], [1.0]],
        "the bootstrap: the target must be r + gamma * Q(s', .) for non-terminal transitions",
    ),
    ProbeCase(
        ActionRewardProbe,
        [[1.0]],
        [[-1.0, 1.0]],
        "picking Q(s, a): the loss must use the Q-value of the action actually taken",
    ),
]
PROBE_TOLERANCE = 0.1  # the reference reaches every true value to within 0.005 in 150 updates


def collect_transitions(probe: gym.Env, n_transitions: int = 256, seed: int = 0):
    """Random-action transitions: states (N, 1) float32, actions (N,) int64, rewards (N,) float32,
    next_states (N, 1) float32, terminated (N,) bool, next_actions (N,) int64 (the action taken next;
    random too, and only used where not terminated)."""
    probe.action_space.seed(seed)
    rows = []
    state, _ = probe.reset(seed=seed)
    while len(rows) < n_transitions:
        action = probe.action_space.sample()
        next_state, reward, terminated, truncated, _ = probe.step(action)
        rows.append((state, action, reward, next_state, terminated))
        state = probe.reset()[0] if terminated or truncated else next_state
    states, actions, rewards, next_states, terminated = (np.array(column) for column in zip(*rows))
    next_actions = np.random.default_rng(seed).integers(probe.action_space.n, size=len(rows))
    return (
        states.astype(np.float32),
        actions.astype(np.int64),
        rewards.astype(np.float32),
        next_states.astype(np.float32),
        terminated.astype(bool),
        next_actions.astype(np.int64),
    )


def learn_probe(
    case: ProbeCase,
    network: torch.nn.Module,
    loss_on_batch: Callable,
    n_updates: int = 150,
    batch_size: int = 64,
    seed: int = 0,
) -> np.ndarray:
    """Fit `network` on the probe's transitions with Adam; return Q at case.observations.

    loss_on_batch(network, states, actions, rewards, next_states, terminated, next_actions) -> scalar loss
    """
    transitions = collect_transitions(case.probe(), seed=seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-2)
    rng = np.random.default_rng(seed)
    for _ in range(n_updates):
        rows = rng.integers(len(transitions[0]), size=batch_size)
        loss = loss_on_batch(network, *(column[rows] for column in transitions))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return network(torch.tensor(case.observations, dtype=torch.float32)).numpy()


def assert_bootstraps_through_truncation(train, config_class, total_steps: int, hint: str, **settings) -> None:
    """Fail unless the notebook's loop `train(config, seed=0)`, run on the endless probe, learns Q near
    1 / (1 - 0.9) = 10.

    config is the notebook's `config_class` with the probe's settings (the endless probe, a 16-unit
    network, learning rate 1e-2, gamma 0.9, no exploration, no evaluations, `total_steps` steps) and
    the loop's own extra `settings` (buffer, batch and target-update sizes). Every transition there
    ends in a time-limit truncation; a loop that treats truncation as termination learns Q = 1.
    Every reference loop reaches 10.00 within its check's step budget.
    """
    config = config_class(
        env_id=ENDLESS_PROBE_ID,
        total_steps=total_steps,
        hidden_dims=(16,),
        learning_rate=1e-2,
        gamma=0.9,
        eps_start=0.0,
        eps_end=0.0,
        eval_every=10**9,
        **settings,
    )
    with single_thread():  # at these sizes a second thread only adds overhead
        network, _ = train(config, seed=0)
    with torch.no_grad():
        q_value = network(torch.ones(1)).item()
    if q_value < 3.0:
        raise CheckFailure(
            "On an endless task cut by a time limit after every step (reward +1 per step, gamma 0.9), the "
            "training loop learned the value of a task that really ends.",
            expected=f"Q growing towards 1 / (1 - 0.9) = 10 (above 3 after {config.total_steps} steps)",
            got=f"Q = {q_value:.2f}",
            hint=hint,
        )
