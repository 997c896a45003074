"""Measure how good a policy is, without exploration and without training.

Two evaluators:

* ``evaluate_policy`` plays episodes one after another in a single env. It works
  with any policy (a function from one observation to an action).
* ``evaluate_policy_vectorized`` plays many episodes at once in a vectorized env
  and acts greedily with a batched Q-function. It is the fast one: 100 CartPole
  episodes take a fraction of a second, which is what a reward gate needs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

Policy = Callable[[Any], int]


def greedy_policy(network: Callable[[torch.Tensor], torch.Tensor]) -> Policy:
    """Turn a Q-network into a policy that always takes the highest-valued action.

    Args:
        network: maps a float32 tensor of shape (obs_dim,) to Q-values of shape
            (n_actions,), e.g. a ``torch.nn.Module``. Its train/eval mode is left
            as it is.

    Returns:
        policy: function from obs, an array of shape (obs_dim,), to the action
            ``argmax_a Q(obs, a)`` as a Python int.
    """

    def policy(obs: Any) -> int:
        # no_grad: acting must not build an autograd graph (slow, and it would keep
        # every evaluation step's activations alive).
        with torch.no_grad():
            q_values = network(torch.as_tensor(obs, dtype=torch.float32))
        return int(torch.argmax(q_values).item())

    return policy


def evaluate_policy(
    env: gym.Env,
    policy: Policy,
    n_episodes: int = 10,
    seed: int = 0,
    max_steps: int | None = None,
) -> np.ndarray:
    """Play ``n_episodes`` episodes with ``policy`` and return their returns.

    Episode ``i`` starts from ``env.reset(seed=seed + i)``, so the same ``seed``
    (and a deterministic policy) gives the same returns. An episode ends when the
    env reports ``terminated or truncated``, or after ``max_steps`` steps.

    Args:
        env: a gymnasium environment (single, not vectorized).
        policy: function from one observation to an action, e.g. ``greedy_policy(q)``.
        n_episodes: number of episodes to play.
        seed: seed of the first episode's reset.
        max_steps: optional cap on the steps of each episode, counted as a
            truncation. Needed for an env without a time limit whose policy may
            never terminate it; None trusts the env to end episodes itself.

    Returns:
        returns: float array of shape (n_episodes,), the undiscounted sum of
            rewards of each episode.
    """
    returns = np.zeros(n_episodes, dtype=np.float64)
    for episode in range(n_episodes):
        obs, _ = env.reset(seed=seed + episode)
        episode_return = 0.0
        n_steps = 0
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            episode_return += float(reward)
            n_steps += 1
            hit_step_cap = max_steps is not None and n_steps >= max_steps
            done = terminated or truncated or hit_step_cap
        returns[episode] = episode_return
    return returns


def evaluate_policy_vectorized(
    env_id: str,
    q_function: Callable[[torch.Tensor], torch.Tensor],
    n_episodes: int = 100,
    seed: int = 0,
    max_steps: int | None = None,
    *,
    vectorization_mode: str | None = None,
) -> np.ndarray:
    """Play ``n_episodes`` greedy episodes in parallel and return their returns.

    Runs ``n_episodes`` copies of the env side by side and, at each step, picks
    every copy's action with one batched call ``argmax_a q_function(obs)[:, a]``.
    Only each copy's first episode counts: a vectorized env starts a new episode
    in a copy once its episode ends (autoreset), so copies are masked out from the
    step their episode ends on.

    Which starts are played: ``reset(seed=seed)`` of the vectorized env.
    * In "sync" mode gymnasium resets copy ``i`` with ``seed + i``: the same starts
      as ``evaluate_policy(env, greedy_policy(q), n_episodes, seed)``, hence the
      same per-episode returns.
    * In "vector_entry_point" mode (an env's own batched implementation, e.g.
      CartPole's) all copies draw their starts from one generator seeded with
      ``seed``: repeatable, but not the starts ``evaluate_policy`` plays, so
      the returns match only in distribution.

    Args:
        env_id: id of a registered gymnasium env, e.g. "CartPole-v1".
        q_function: maps a float32 tensor of shape (n_episodes, obs_dim) to Q-values
            of shape (n_episodes, n_actions), e.g. a ``torch.nn.Module``.
        n_episodes: number of episodes, one per copy of the env.
        seed: seed of the vectorized env's reset.
        max_steps: optional cap on the steps of each episode, counted as a
            truncation; None trusts the env to end episodes itself.
        vectorization_mode: "vector_entry_point", "sync", or None to use
            "vector_entry_point" when the env registers one (fast: no Python loop
            over copies) and "sync" otherwise.

    Returns:
        returns: float array of shape (n_episodes,), the undiscounted return of
            each copy's first episode.
    """
    if vectorization_mode is None:
        has_batched_env = gym.spec(env_id).vector_entry_point is not None
        vectorization_mode = "vector_entry_point" if has_batched_env else "sync"
    envs = gym.make_vec(env_id, num_envs=n_episodes, vectorization_mode=vectorization_mode)
    try:
        returns = np.zeros(n_episodes, dtype=np.float64)
        running = np.ones(n_episodes, dtype=bool)
        obs, _ = envs.reset(seed=seed)
        n_steps = 0
        while running.any() and (max_steps is None or n_steps < max_steps):
            with torch.no_grad():
                q_values = q_function(torch.as_tensor(obs, dtype=torch.float32))
            actions = torch.argmax(q_values, dim=1).numpy()
            obs, rewards, terminated, truncated, _ = envs.step(actions)
            # A finished copy keeps stepping (the batch moves together) and its env
            # autoresets: its later rewards belong to episodes we do not count.
            returns += np.where(running, rewards, 0.0)
            running &= ~(terminated | truncated)
            n_steps += 1
    finally:
        envs.close()
    return returns


class BestNetworkKeeper:
    """Evaluate a network greedily now and then during training, and keep the best weights seen.

    DQN's greedy return swings up and down during training (on CartPole it often collapses
    right after solving), so the network at the last step is a poor summary. Each call plays
    `n_episodes` greedy episodes with evaluate_policy_vectorized (seed fixed, so calls compare
    like with like) and keeps a copy of the weights if their mean is the best so far (ties go to
    the later network). `steps` and `means` record every evaluation, for plotting.
    """

    def __init__(self, env_id: str = "CartPole-v1", n_episodes: int = 20, seed: int = 10_000):
        self.env_id, self.n_episodes, self.seed = env_id, n_episodes, seed
        self.best_mean, self.best_step = -np.inf, 0
        self.best_state = None
        self.steps: list[int] = []
        self.means: list[float] = []

    def __call__(self, network, step: int) -> float:
        """Evaluate `network` after `step` training steps; return the mean greedy return."""
        was_training = network.training
        network.eval()
        try:
            mean = float(evaluate_policy_vectorized(self.env_id, network, self.n_episodes, seed=self.seed).mean())
        finally:
            network.train(was_training)
        self.steps.append(step)
        self.means.append(mean)
        if mean >= self.best_mean:
            self.best_mean, self.best_step = mean, step
            self.best_state = copy.deepcopy(network.state_dict())
        return mean

    def restore_best(self, network):
        """Load the best weights seen into `network` (if anything was evaluated) and return it."""
        if self.best_state is not None:
            network.load_state_dict(self.best_state)
        return network
