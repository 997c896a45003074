"""Benchmark uniform replay sampling: a deque of tuples against the ring buffer of notebook 03.

The seed notebooks' way: a ``collections.deque(maxlen=N)`` of ``(state, action, reward,
next_state, terminated)`` tuples, ``random.sample`` for the batch, then ``np.array`` per field.
The course's way: ``ReplayBuffer.sample`` from the solution notebook (preallocated numpy arrays,
one ``rng.integers`` draw, five fancy-indexing gathers).

Prints the median time per sample call for each buffer fill and the speed-up (goal: >= 10x).

    python benchmarks/replay_sampling.py                          # fills 10k and 100k, batch 128
    python benchmarks/replay_sampling.py --sizes 1000 10000 100000 --repeats 1000
"""

from __future__ import annotations

import argparse
import random
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.loader import load_notebook

# The seed notebooks' sampling (random.sample on the deque, then one np.array per field); the mutant
# bank keeps it as an alternative that the sample_batch checks must accept.
from autograder.mutants.experience_replay import sample_batch_random_sample as sample_like_the_seeds
from benchmarks.timing import median_seconds

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "03_experience_replay" / "03_experience_replay.ipynb"


@dataclass
class Args:
    sizes: list[int]  # buffer fills to time (the buffer is exactly full)
    batch_size: int = 128  # transitions per sample call
    obs_dim: int = 4  # state size (CartPole: 4)
    repeats: int = 300  # timed calls per implementation and size
    seed: int = 0


def parse_args() -> Args:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="buffer fills to time")
    parser.add_argument("--batch-size", type=int, default=128, help="transitions per sample call")
    parser.add_argument("--obs-dim", type=int, default=4, help="state size (CartPole: 4)")
    parser.add_argument("--repeats", type=int, default=300, help="timed calls per implementation and size")
    parser.add_argument("--seed", type=int, default=0)
    return Args(**vars(parser.parse_args()))


def main():
    args = parse_args()
    random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    ReplayBuffer = load_notebook(SOLUTION).get("ReplayBuffer")

    print(f"batch {args.batch_size}, obs_dim {args.obs_dim}, median of {args.repeats} calls (µs per sample call)")
    header = f"{'buffer fill':>12} {'deque + random.sample':>22} {'ReplayBuffer.sample':>20} {'speed-up':>9}"
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        # The same transitions in both memories, as an agent would store them (gymnasium gives float32 states).
        states = rng.standard_normal((size, args.obs_dim)).astype(np.float32)
        next_states = rng.standard_normal((size, args.obs_dim)).astype(np.float32)
        actions = rng.integers(0, 2, size).tolist()
        terminateds = (rng.random(size) < 0.05).tolist()
        replay_deque = deque(maxlen=size)
        replay_buffer = ReplayBuffer(size, args.obs_dim, seed=args.seed)
        for i in range(size):
            transition = (states[i], actions[i], 1.0, next_states[i], terminateds[i])
            replay_deque.append(transition)
            replay_buffer.add(*transition)

        def sample_deque(replay_deque=replay_deque):
            return sample_like_the_seeds(replay_deque, args.batch_size)

        def sample_ring(replay_buffer=replay_buffer):
            return replay_buffer.sample(args.batch_size)

        deque_time = 1e6 * median_seconds(sample_deque, args.repeats, warmup=10)
        ring_time = 1e6 * median_seconds(sample_ring, args.repeats, warmup=10)
        print(f"{size:>12,} {deque_time:>22.1f} {ring_time:>20.1f} {deque_time / ring_time:>8.1f}x")


if __name__ == "__main__":
    main()
