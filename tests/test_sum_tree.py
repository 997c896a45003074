"""Notebook 04's provided SumTreeMemory: the same distribution as sample_prioritized_batch, a consistent tree."""

from collections import deque
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency, chisquare

from autograder.loader import load_notebook

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def notebook():
    return load_notebook(ROOT / "solutions" / "04_prioritized_replay" / "04_prioritized_replay.ipynb")


def fill(memory_class, priorities, capacity=None, seed=0):
    memory = memory_class(capacity or len(priorities), obs_dim=2, seed=seed)
    for k, priority in enumerate(priorities):
        memory.add(priority, np.full(2, k, np.float32), k % 2, float(k), np.full(2, k + 1, np.float32), k % 3 == 0)
    return memory


def test_sum_tree_samples_softmax_of_symlog(notebook):
    """Fixed seed; a correct tree passes with probability 1 - 1e-3 over seeds."""
    priorities = np.array([0.0, 0.5, 3.0, 50.0, 2.0, 0.1, 7.0])
    memory = fill(notebook.get("SumTreeMemory"), priorities, seed=1)
    (states, actions, rewards, next_states, terminateds), indices = memory.sample(20_000)
    expected = notebook.get("softmax")(notebook.get("symlog")(priorities)) * indices.size
    assert chisquare(np.bincount(indices, minlength=priorities.size), expected).pvalue > 1e-3
    assert np.array_equal(rewards, indices.astype(np.float32)), "rows must be the transitions at `indices`"
    assert np.array_equal(states[:, 0], indices) and np.array_equal(terminateds, indices % 3 == 0)


def test_sum_tree_sums_stay_consistent_after_updates_and_wrap_around(notebook):
    memory = fill(notebook.get("SumTreeMemory"), np.arange(13.0), capacity=5)  # 13 adds into 5 slots
    assert len(memory) == 5
    assert np.array_equal(memory.rewards, [10.0, 11.0, 12.0, 8.0, 9.0]), "the oldest entries are overwritten"
    memory.update(np.array([1, 1, 4]), np.array([0.25, 0.25, 3.0]))
    leaves = memory.tree[memory.leaves :]
    assert np.allclose(leaves[:5], 1 + np.array([10.0, 0.25, 12.0, 8.0, 3.0])) and not leaves[5:].any()
    nodes = np.arange(1, memory.leaves)
    assert np.allclose(memory.tree[nodes], memory.tree[2 * nodes] + memory.tree[2 * nodes + 1])


def test_sum_tree_never_returns_an_empty_slot(notebook):
    memory = fill(notebook.get("SumTreeMemory"), [0.0, 1.0, 2.0], capacity=100)
    _, indices = memory.sample(5_000)
    assert indices.max() <= 2


def test_sum_tree_and_deque_sampler_agree(notebook):
    """Both samplers draw each position with the same frequency (chi-square of the two histograms)."""
    priorities = np.random.default_rng(0).exponential(2.0, size=50)
    memory = fill(notebook.get("SumTreeMemory"), priorities, seed=2)
    replay_buffer = deque(
        (float(p), np.zeros(2, np.float32), 0, 0.0, np.zeros(2, np.float32), False) for p in priorities
    )
    np.random.seed(3)
    _, deque_indices = notebook.get("sample_prioritized_batch")(replay_buffer, 20_000)
    _, tree_indices = memory.sample(20_000)
    counts = np.stack([np.bincount(deque_indices, minlength=50), np.bincount(tree_indices, minlength=50)])
    assert chi2_contingency(counts).pvalue > 1e-3
