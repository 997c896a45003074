"""Benchmark prioritized-replay sampling from a deque of tuples (notebook 04).

Buffer: ``collections.deque(maxlen=N)`` of ``(priority, state, action, reward, next_state,
terminated)``; sampling distribution ``softmax(symlog(priorities))``, which for priorities >= 0
equals ``(1 + p) / sum(1 + p)`` (proportional PER, alpha = 1, +1 offset).

Compares a naive seminar-style implementation (list comprehension, exp-softmax,
``np.random.choice(p=...)``) with the solution notebook's vectorized one (priorities read with
``np.fromiter``, cumulative sum + ``np.searchsorted``, only the sampled items gathered) and with the
notebook's provided ``SumTreeMemory`` (the same distribution from a sum tree over numpy arrays:
O(log N) per draw instead of reading all N priorities), and times the building blocks so the
choice can be re-checked on another machine.

    python benchmarks/per_sampling.py                      # sizes 10k and 100k, batch 128
    python benchmarks/per_sampling.py --sizes 100000 --repeats 200 --components
"""

from __future__ import annotations

import argparse
import operator
from collections import deque
from itertools import accumulate
from pathlib import Path

import numpy as np

from autograder.loader import load_notebook
from benchmarks.timing import median_seconds

_PRIORITY = operator.itemgetter(0)


# ----------------------------------------------------------------------------- the baseline
def naive_sampler(symlog, softmax):
    """What a seminar student typically writes first: exp-softmax over a Python list, np.random.choice."""

    def sample_naive(replay_buffer, n_samples):
        probabilities = softmax(symlog(np.array([entry[0] for entry in replay_buffer])))
        indices = np.random.choice(len(replay_buffer), n_samples, p=probabilities)
        columns = zip(*[replay_buffer[i][1:] for i in indices])
        return tuple(np.array(column) for column in columns), indices

    return sample_naive


# ----------------------------------------------------------------------------- harness
def make_buffer(size, obs_dim, rng, numpy_priorities=False):
    buf = deque(maxlen=size)
    pri = rng.exponential(1.0, size)
    states = rng.standard_normal((size, obs_dim)).astype(np.float32)
    nxt = rng.standard_normal((size, obs_dim)).astype(np.float32)
    for i in range(size):
        p = np.float32(pri[i]) if numpy_priorities else float(pri[i])
        buf.append((p, states[i], int(i % 2), 1.0, nxt[i], bool(i % 50 == 0)))
    return buf


def sum_tree_from(memory_class, buf, obs_dim, seed):
    """The same transitions and priorities in the notebook's SumTreeMemory."""
    memory = memory_class(len(buf), obs_dim, seed=seed)
    for entry in buf:
        memory.add(*entry)
    return memory


def median_ms(fn, repeats):
    return 1e3 * median_seconds(fn, repeats, warmup=3)


def components(buf, batch, repeats):
    n = len(buf)
    p = np.fromiter(map(_PRIORITY, buf), dtype=np.float64, count=n)
    idx = np.random.randint(0, n, batch).tolist()
    rows = {
        "priorities: np.array([t[0] for t in buf])": lambda: np.array([t[0] for t in buf]),
        "priorities: np.fromiter(genexpr)": lambda: np.fromiter((t[0] for t in buf), np.float64, count=n),
        "priorities: np.fromiter(map(itemgetter(0)))": lambda: np.fromiter(map(_PRIORITY, buf), np.float64, count=n),
        "priorities: list(map(itemgetter(0))) only": lambda: list(map(_PRIORITY, buf)),
        "list(buf) only": lambda: list(buf),
        "draw: np.random.choice(p=probs)": lambda: np.random.choice(n, batch, p=(1 + p) / np.sum(1 + p)),
        "draw: cumsum + searchsorted": lambda: np.searchsorted(
            np.cumsum(1 + p), np.random.random(batch) * (n + p.sum())
        ),
        f"gather {batch}: deque indexing": lambda: [buf[i] for i in idx],
        "priorities: list(accumulate(map(itemgetter(0))))": lambda: list(accumulate(map(_PRIORITY, buf))),
        f"gather {batch}: list(buf) then index": lambda: (lambda L: [L[i] for i in idx])(list(buf)),
    }
    return {k: median_ms(f, repeats) for k, f in rows.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--obs-dim", type=int, default=4, help="state size (CartPole: 4)")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--components", action="store_true", help="also time the building blocks")
    ap.add_argument(
        "--numpy-priorities",
        action="store_true",
        help="store priorities as np.float32 scalars instead of Python floats (slower)",
    )
    ap.add_argument(
        "--notebooks", default="solutions", help="folder of 04_prioritized_replay/04_prioritized_replay.ipynb"
    )
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    np.random.seed(args.seed)
    notebook = load_notebook(Path(args.notebooks) / "04_prioritized_replay" / "04_prioritized_replay.ipynb")
    impls = {
        "naive (seminar)": naive_sampler(notebook.get("symlog"), notebook.get("softmax")),
        "vectorized (the notebook's solution)": notebook.get("sample_prioritized_batch"),
    }

    print(
        f"batch={args.batch} obs_dim={args.obs_dim} repeats={args.repeats} "
        f"priorities={'np.float32' if args.numpy_priorities else 'float'}  (median ms per call)"
    )
    header = f"{'implementation':<40}" + "".join(f"{f'N={n}':>12}" for n in args.sizes)
    print(header)
    print("-" * len(header))
    bufs = {n: make_buffer(n, args.obs_dim, rng, args.numpy_priorities) for n in args.sizes}
    results = {
        name: [median_ms(lambda f=f, n=n: f(bufs[n], args.batch), args.repeats) for n in args.sizes]
        for name, f in impls.items()
    }
    trees = {n: sum_tree_from(notebook.get("SumTreeMemory"), bufs[n], args.obs_dim, args.seed) for n in args.sizes}
    results["sum tree (SumTreeMemory.sample)"] = [
        median_ms(lambda n=n: trees[n].sample(args.batch), args.repeats) for n in args.sizes
    ]
    for name, vals in results.items():
        print(f"{name:<40}" + "".join(f"{v:>12.3f}" for v in vals))
    base = results["naive (seminar)"]
    for name in ("vectorized (the notebook's solution)", "sum tree (SumTreeMemory.sample)"):
        print(
            f"{'speed-up ' + name.split(' (')[0] + ' vs naive':<40}"
            + "".join(f"{b / v:>11.1f}x" for b, v in zip(base, results[name]))
        )

    if args.components:
        print()
        comps = {n: components(bufs[n], args.batch, args.repeats) for n in args.sizes}
        print(f"{'building block':<48}" + "".join(f"{f'N={n}':>12}" for n in args.sizes))
        for k in comps[args.sizes[0]]:
            print(f"{k:<48}" + "".join(f"{comps[n][k]:>12.3f}" for n in args.sizes))


if __name__ == "__main__":
    main()
