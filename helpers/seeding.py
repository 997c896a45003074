"""Make runs repeatable with one call."""

from __future__ import annotations

import random
from typing import Any

import gymnasium as gym
import numpy as np
import torch


def seed_everything(seed: int, env: gym.Env | None = None) -> tuple[Any, dict] | None:
    """Seed every random number generator a DQN run draws from.

    Seeds Python's ``random``, numpy's global RNG (``np.random``) and torch's
    default generator (``torch.manual_seed``). If ``env`` is given, also seeds its
    action space (so ``env.action_space.sample()`` repeats, e.g. for epsilon-greedy
    exploration) and resets it with ``seed`` (so its own RNG repeats).

    Seeding makes a run repeatable on the same machine and library versions; it does
    not make results identical across CPU and GPU or across torch versions.

    Args:
        seed: non-negative integer.
        env: optional gymnasium environment to seed as well.

    Returns:
        ``(obs, info)`` from ``env.reset(seed=seed)`` if ``env`` is given, so the
        first observation needs no second reset; otherwise None.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if env is None:
        return None
    env.action_space.seed(seed)
    return env.reset(seed=seed)
