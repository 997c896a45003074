"""Test doubles whose Q-values and gradients are known exactly (the Practical_RL pattern).

TableQNetwork(table) computes Q(s) = s @ table. Fed one-hot states, Q(state i, action a) is
exactly table[i, a], and the gradient of a loss lands on exactly the table entries it used, so a
check can derive every expected number by hand.
"""

import numpy as np
import torch
from torch import nn


def one_hot(indices, n_states: int) -> np.ndarray:
    """float32 array of shape (len(indices), n_states) with a 1 at each index."""
    encoded = np.zeros((len(indices), n_states), dtype=np.float32)
    encoded[np.arange(len(indices)), indices] = 1.0
    return encoded


class TableQNetwork(nn.Module):
    """Q-network with a table of Q-values: input (batch, n_states) one-hot -> output (batch, n_actions)."""

    def __init__(self, table):
        super().__init__()
        self.table = nn.Parameter(torch.as_tensor(np.asarray(table, dtype=np.float32)).clone())

    def forward(self, states):
        return states @ self.table
