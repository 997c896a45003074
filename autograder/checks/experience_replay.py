"""Checks of notebook 03: sample_batch (from a deque), ReplayBuffer (a numpy ring buffer), and the
notebook's training loop with that buffer (the truncation check and the reward gate).

Every test transition is a function of an integer id k >= 1, so any returned row tells which
stored transition it came from, and whether its five fields belong together:
  state       [k, k + 0.5, -k]          (float32, obs_dim 3)
  action      k % 5
  reward      0.25 * k                  (exact in float32 for the small k used here)
  next_state  state + 100
  terminated  k % 3 == 0
Id 0 never appears, so an all-zero row is an unfilled slot of a preallocated buffer.

Uniformity is tested with Pearson's chi-square over how often each stored id comes back.
Critical values are chi2.ppf(1 - 1e-3, df) (scipy): df 19 -> 43.82, df 9 -> 27.88, so a correct
uniform sampler fails one test with probability 1e-3 for a random seed (less when sampling without
replacement inside a batch, which only lowers the spread). The seeds are fixed, so a given
implementation passes or fails the same way every run.
"""

import random
import textwrap
import traceback
from collections import deque

import numpy as np
import torch

from autograder.checks.core import CellChecks, CheckFailure, check
from autograder.executor import describe_code_file
from autograder.gates import GATES, assert_passes_gate
from autograder.probes import assert_bootstraps_through_truncation

ASSIGNMENT = "03_experience_replay"
OBS_DIM = 3
FALSE_ALARM_RATE = 1e-3  # per chi-square test
CHI2_CRITICAL = {19: 43.82, 9: 27.88}  # chi2.ppf(1 - FALSE_ALARM_RATE, df)
SEED = 0
TRUNCATION_STEPS = 500  # environment steps of the truncation check's training run


# ---------------------------------------------------------------- test data


def transition(k):
    """The test transition with id k: (state, action, reward, next_state, terminated)."""
    state = np.array([k, k + 0.5, -k], dtype=np.float32)
    return state, k % 5, 0.25 * k, state + 100, k % 3 == 0


def _describe(row):
    state, action, reward, next_state, terminated = row
    return (
        f"(s={np.round(np.asarray(state, dtype=float), 2).tolist()}, a={action}, r={reward}, "
        f"s'={np.round(np.asarray(next_state, dtype=float), 2).tolist()}, terminated={terminated})"
    )


def _deque_of(ids, maxlen=None):
    replay_buffer = deque(maxlen=maxlen)
    for k in ids:
        replay_buffer.append(transition(k))
    return replay_buffer


def _seed_global_generators(seed):
    """Students may draw from numpy's global RNG, Python's random, or torch: seed all three."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _ids_of(batch):
    """The id k of each returned row, read from the first coordinate of its state."""
    states = np.asarray(batch[0], dtype=float)
    return np.rint(states.reshape(len(states), -1)[:, 0]).astype(int)


def _check_rows(batch, stored_ids, who, hint):
    """Fail unless every row of `batch` is one whole stored transition."""
    columns = [np.asarray(column) for column in batch]
    ids = _ids_of(columns)
    stored = set(stored_ids)
    for i, k in enumerate(ids):
        got = tuple(column[i] for column in columns)
        if k not in stored:
            raise CheckFailure(
                f"{who} returned a row whose state was never added (row {i}).",
                expected=f"states of stored transitions only, ids {min(stored)}..{max(stored)}",
                got=_describe(got),
                hint=hint,
            )
        expected = transition(k)
        same = (
            np.allclose(np.asarray(got[0], dtype=float), expected[0])
            and got[1] == expected[1]
            and np.isclose(float(got[2]), expected[2])
            and np.allclose(np.asarray(got[3], dtype=float), expected[3])
            and bool(got[4]) == expected[4]
        )
        if not same:
            raise CheckFailure(
                f"Row {i} of the batch is not one stored transition: its fields come from different "
                "transitions (or were stored in the wrong place).",
                expected=_describe(expected),
                got=_describe(got),
                hint=hint,
            )


def _chi_square(ids, stored_ids, who, hint):
    """Pearson's chi-square of the counts of each stored id; fail above the 1e-3 critical value."""
    stored_ids = list(stored_ids)
    counts = np.array([np.sum(ids == k) for k in stored_ids])
    expected_count = len(ids) / len(stored_ids)
    statistic = float(np.sum((counts - expected_count) ** 2 / expected_count))
    critical = CHI2_CRITICAL[len(stored_ids) - 1]
    if statistic > critical:
        raise CheckFailure(
            f"{who} is not uniform over the stored transitions: over {len(ids)} draws the counts "
            f"are far from equal (chi-square {statistic:.1f} > {critical}, false-alarm rate "
            f"{FALSE_ALARM_RATE:g} for a uniform sampler).",
            expected=f"about {expected_count:.0f} draws of each of the ids {stored_ids[0]}..{stored_ids[-1]}",
            got=f"counts {dict(zip(stored_ids, counts.tolist()))}",
            hint=hint,
        )


# ---------------------------------------------------------------- sample_batch


# What an index range off by one raises (the evidence that the sampled indices are at fault): indexing
# the deque, a list or an array past its end, random.sample or np.random.choice(replace=False) with a
# population smaller than n_samples, and an empty range in randint / randrange / integers.
INDEX_RANGE_ERRORS = (
    "index out of range",
    "out of bounds",
    "larger than population",
    "larger sample than population",
    "low >= high",
    "high <= 0",
    "empty range",
    "must be greater than 0",
)


def _where_raised(error):
    """' (cell 6, line 17)': where in the student's notebook `error` was raised, or '' if unknown."""
    for frame, line in reversed(list(traceback.walk_tb(error.__traceback__))):
        where = describe_code_file(frame.f_code.co_filename)
        if where is not None:
            return f" ({where}, line {line})"
    return ""


def _call_sample_batch(sample_batch, replay_buffer, n_samples):
    """Call sample_batch; a ValueError or IndexError becomes a failure that shows the error's own
    message, and blames the index range only when the message says an index or a range was wrong."""
    try:
        return sample_batch(replay_buffer, n_samples)
    except (ValueError, IndexError) as error:
        message = str(error).strip()
        problem = (
            f"sample_batch(replay_buffer, {n_samples}) with {len(replay_buffer)} stored transitions "
            f"raised {type(error).__name__}{_where_raised(error)}:\n{textwrap.indent(message, '    ')}"
        )
        # numpy names the axis: an index past the end of axis 1 is a column, not a sampled row.
        about_rows = "for axis" not in message or "axis 0" in message
        if about_rows and any(text in message.lower() for text in INDEX_RANGE_ERRORS):
            raise CheckFailure(
                problem,
                expected=f"a batch of {n_samples} transitions, all indices in range(len(replay_buffer)) = "
                f"0..{len(replay_buffer) - 1}",
                got=f"{type(error).__name__}: an index or a range of indices outside the stored transitions",
                hint="draw indices in range(len(replay_buffer)): np.random.randint(0, len(replay_buffer), n) "
                "(the upper end is exclusive) or random.sample(range(len(replay_buffer)), n)",
            ) from None
        if "copy" in message.lower():
            hint = (
                "numpy 2 refuses np.array(x, copy=False) when it must copy (building an array from a list "
                "or tuple always copies): write np.array(x) or np.asarray(x)"
            )
        else:
            hint = (
                "this error is not about which indices you drew: read its message above, and call "
                "sample_batch on a small deque in a cell of your own to see the full traceback"
            )
        raise CheckFailure(
            problem,
            expected=f"a batch of {n_samples} transitions",
            got=f"{type(error).__name__} (its message is above)",
            hint=hint,
        ) from None


@check(ASSIGNMENT, cell="test_sample_batch")
def sample_batch_returns_five_arrays(sample_batch):
    """sample_batch returns 5 numpy arrays: states (n, obs_dim), actions (n,), rewards (n,), next_states (n, obs_dim), terminateds (n,) bool"""  # noqa: E501 (a check's description is one line)
    _seed_global_generators(SEED)
    n_samples = 4
    batch = _call_sample_batch(sample_batch, _deque_of(range(1, 11)), n_samples)
    if not isinstance(batch, (tuple, list)) or len(batch) != 5:
        raise CheckFailure(
            "sample_batch must return a tuple of 5 arrays.",
            expected="(states, actions, rewards, next_states, terminateds)",
            got=f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}",
            hint="return the five columns, e.g. `return states, actions, rewards, next_states, terminateds`",
        )
    names = ["states", "actions", "rewards", "next_states", "terminateds"]
    not_arrays = [
        f"{name}: {type(value).__name__}" for name, value in zip(names, batch) if not isinstance(value, np.ndarray)
    ]
    if not_arrays:
        raise CheckFailure(
            "Every returned column must be a numpy array.",
            expected="numpy.ndarray for all five",
            got=", ".join(not_arrays),
            hint="zip(*batch) gives tuples; wrap each column in np.array(...)",
        )
    shapes = {
        "states": ((n_samples, OBS_DIM), "floating"),
        "actions": ((n_samples,), "integer"),
        "rewards": ((n_samples,), "floating"),
        "next_states": ((n_samples, OBS_DIM), "floating"),
        "terminateds": ((n_samples,), "bool"),
    }
    for name, value in zip(names, batch):
        shape, kind = shapes[name]
        kind_ok = value.dtype == bool if kind == "bool" else np.issubdtype(value.dtype, getattr(np, kind))
        if value.shape != shape or not kind_ok:
            raise CheckFailure(
                f"{name} has the wrong shape or dtype (n_samples={n_samples}, obs_dim={OBS_DIM}).",
                expected=f"shape {shape}, {kind} dtype",
                got=f"shape {value.shape}, dtype {value.dtype}",
                hint="one row per sampled transition: build each column with np.array([...]) over the "
                "sampled tuples (or zip(*batch)), in the order states, actions, rewards, next_states, "
                "terminateds; do not transpose or stack along axis 1",
            )


@check(ASSIGNMENT, cell="test_sample_batch")
def sample_batch_rows_are_whole_transitions(sample_batch):
    """every row (s, a, r, s', terminated) of the batch is one stored transition"""
    _seed_global_generators(SEED)
    ids = range(1, 31)
    replay_buffer = _deque_of(ids)
    for _ in range(20):
        batch = _call_sample_batch(sample_batch, replay_buffer, 8)
        _check_rows(
            batch,
            ids,
            "sample_batch",
            hint="draw one set of indices and take all five fields from the same sampled tuples; "
            "sampling each column separately mixes transitions",
        )


@check(ASSIGNMENT, cell="test_sample_batch")
def sample_batch_is_uniform(sample_batch):
    """sample_batch draws every stored transition equally often (chi-square, false-alarm rate 1e-3)"""
    _seed_global_generators(SEED)
    stored_ids = range(1, 21)
    replay_buffer = _deque_of(stored_ids)
    ids = np.concatenate([_ids_of(_call_sample_batch(sample_batch, replay_buffer, 10)) for _ in range(500)])
    # 500 calls x 10 = 5000 draws, 250 expected per id; df = 19, critical value 43.82.
    _chi_square(
        ids,
        stored_ids,
        "sample_batch",
        hint="draw indices uniformly over all of range(len(replay_buffer)), e.g. "
        "np.random.randint(0, len(replay_buffer), n_samples); do not take the first or last n",
    )


@check(ASSIGNMENT, cell="test_sample_batch")
def sample_batch_reaches_oldest_and_newest(sample_batch):
    """the oldest and the newest stored transitions can both be sampled"""
    _seed_global_generators(SEED)
    replay_buffer = _deque_of(range(1, 7), maxlen=4)  # the deque dropped 1, 2: it holds 3, 4, 5, 6
    ids = set(np.concatenate([_ids_of(_call_sample_batch(sample_batch, replay_buffer, 2)) for _ in range(50)]).tolist())
    # 100 uniform draws over 4 items miss a given one with probability (3/4)^100 < 1e-12.
    missing = sorted({3, 4, 5, 6} - ids)
    if missing:
        hint = (
            (
                "np.random.randint(0, len(replay_buffer) - 1) never returns the last index: numpy's upper "
                "bound is already exclusive, use len(replay_buffer)"
            )
            if 6 in missing
            else ("the indices must start at 0 (the oldest transition)")
        )
        raise CheckFailure(
            "Some stored transitions never came back in 50 batches of 2 from a buffer of 4.",
            expected="ids {3, 4, 5, 6} (6 is the newest, 3 the oldest)",
            got=f"only {sorted(ids)}; never {missing}",
            hint=hint,
        )


@check(ASSIGNMENT, cell="test_sample_batch")
def sample_batch_works_with_n_equal_to_len(sample_batch):
    """sample_batch works when n_samples == len(replay_buffer)"""
    _seed_global_generators(SEED)
    ids = range(1, 6)
    batch = _call_sample_batch(sample_batch, _deque_of(ids), 5)
    got = len(np.asarray(batch[0]))
    if got != 5:
        raise CheckFailure(
            "sample_batch(replay_buffer, 5) on a buffer of 5 returned the wrong number of rows.",
            expected="5 rows",
            got=f"{got} rows",
            hint="return exactly n_samples transitions",
        )
    _check_rows(batch, ids, "sample_batch", hint="index the deque with the sampled indices, all in range(len)")


check_sample_batch = CellChecks(ASSIGNMENT, "test_sample_batch", "sample_batch")


# ---------------------------------------------------------------- ReplayBuffer


def _add_all(buffer, ids):
    """Add the transitions `ids` in order; an IndexError means the write position never wraps."""
    for k in ids:
        try:
            buffer.add(*transition(k))
        except IndexError as error:
            raise CheckFailure(
                f"add raised IndexError once the buffer was full (capacity {_capacity(buffer)}): {error}",
                expected="add keeps working forever, overwriting the oldest transition once full",
                got="IndexError",
                hint="wrap the write position back to 0 after the last slot: "
                "self.next_index = (self.next_index + 1) % self.capacity",
            ) from None
    return buffer


def _capacity(buffer):
    return getattr(buffer, "capacity", "?")


def _filled(ReplayBuffer, capacity, ids, seed=SEED):
    """A ReplayBuffer(capacity, OBS_DIM, seed) with the transitions `ids` added in order."""
    return _add_all(ReplayBuffer(capacity, OBS_DIM, seed=seed), ids)


def _draw_ids(buffer, calls, batch_size):
    return np.concatenate([_ids_of(buffer.sample(batch_size)) for _ in range(calls)])


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_len_grows_then_caps(ReplayBuffer):
    """len(buffer) counts the adds, then stays at capacity"""
    capacity = 5
    buffer = _filled(ReplayBuffer, capacity, [])
    lengths = [len(buffer)]
    for k in range(1, 9):
        _add_all(buffer, [k])
        lengths.append(len(buffer))
    expected = [min(k, capacity) for k in range(0, 9)]
    if lengths != expected:
        raise CheckFailure(
            f"len(buffer) after 0, 1, ..., 8 adds into a buffer of capacity {capacity} is wrong.",
            expected=expected,
            got=lengths,
            hint="__len__ returns the number of filled slots (self.size), not the capacity; "
            "add increases it by one until it reaches capacity: min(self.size + 1, self.capacity)",
        )


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_overwrites_the_oldest(ReplayBuffer):
    """once full, each add overwrites the oldest transition"""
    capacity = 5
    buffer = _filled(ReplayBuffer, capacity, range(1, 9))  # 8 adds: 1, 2, 3 must be gone
    ids = set(_draw_ids(buffer, 200, capacity).tolist())
    # 1000 uniform draws over 5 items miss a given one with probability 0.8^1000 < 1e-90.
    if ids != {4, 5, 6, 7, 8}:
        raise CheckFailure(
            f"After 8 adds into a buffer of capacity {capacity}, sampling returns the wrong transitions.",
            expected="exactly ids {4, 5, 6, 7, 8}: the three oldest (1, 2, 3) were overwritten",
            got=f"ids {sorted(ids)}",
            hint="write at self.next_index, then advance it with wrap-around, "
            "(self.next_index + 1) % self.capacity, so the next write lands on the oldest slot; "
            "do not stop adding once full and do not keep rewriting the last slot",
        )


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_sample_dtypes_and_shapes(ReplayBuffer):
    """sample returns states float32 (B, obs_dim), actions int64 (B,), rewards float32 (B,), next_states float32 (B, obs_dim), terminateds bool (B,)"""  # noqa: E501 (a check's description is one line)
    buffer = _filled(ReplayBuffer, 20, range(1, 11))
    batch_size = 7
    batch = buffer.sample(batch_size)
    names = ["states", "actions", "rewards", "next_states", "terminateds"]
    if not isinstance(batch, (tuple, list)) or len(batch) != 5:
        raise CheckFailure(
            "sample must return a tuple of 5 arrays.",
            expected="(states, actions, rewards, next_states, terminateds)",
            got=f"{type(batch).__name__}",
            hint="return self.states[indices], self.actions[indices], ... in that order",
        )
    contract = {
        "states": ((batch_size, OBS_DIM), np.float32),
        "actions": ((batch_size,), np.int64),
        "rewards": ((batch_size,), np.float32),
        "next_states": ((batch_size, OBS_DIM), np.float32),
        "terminateds": ((batch_size,), np.bool_),
    }
    for name, value in zip(names, batch):
        shape, dtype = contract[name]
        if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
            raise CheckFailure(
                f"{name} from sample({batch_size}) has the wrong type, shape or dtype.",
                expected=f"numpy array, shape {shape}, dtype {np.dtype(dtype)}",
                got=(
                    f"numpy array, shape {value.shape}, dtype {value.dtype}"
                    if isinstance(value, np.ndarray)
                    else type(value).__name__
                ),
                hint="allocate each array once in __init__ with its dtype (np.zeros defaults to float64: "
                "torch would then get doubles), and return fancy-indexed slices self.<array>[indices]",
            )


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_never_samples_unfilled_slots(ReplayBuffer):
    """before the buffer is full, sample never returns an unfilled (all-zero) slot"""
    buffer = _filled(ReplayBuffer, 100, [1, 2, 3])
    ids = _draw_ids(buffer, 100, 3)
    unfilled = int(np.sum(~np.isin(ids, [1, 2, 3])))
    if unfilled:
        raise CheckFailure(
            f"After 3 adds into a buffer of capacity 100, {unfilled} of {len(ids)} sampled rows "
            "were not among the added transitions (all-zero, unfilled slots).",
            expected="only ids 1, 2, 3",
            got=f"ids {sorted(set(ids.tolist()))[:10]} (0 = an empty slot)",
            hint="draw indices over the filled part only, range(len(self)), not range(self.capacity)",
        )


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_sample_is_uniform(ReplayBuffer):
    """sample draws every stored transition equally often, before and after wrap-around (chi-square, false-alarm rate 1e-3 each)"""  # noqa: E501 (a check's description is one line)
    hint = (
        "draw indices uniformly over all filled slots: self.rng.integers(0, len(self), batch_size) "
        "(the upper bound is exclusive; len(self) - 1 leaves out a slot)"
    )
    # Part full: 20 of 50 slots, 500 calls x 10 = 5000 draws, 250 per id, df 19, critical 43.82.
    buffer = _filled(ReplayBuffer, 50, range(1, 21))
    ids = _draw_ids(buffer, 500, 10)
    stored = np.isin(ids, range(1, 21))
    if not stored.all():
        raise CheckFailure(
            "sample returned rows that were never added (unfilled slots).",
            expected="only ids 1..20",
            got=f"{int(np.sum(~stored))} other rows",
            hint="draw indices over range(len(self)), not range(self.capacity)",
        )
    _chi_square(ids, range(1, 21), "sample (buffer 20 / 50 full)", hint)
    # Wrapped: capacity 10 after 25 adds holds 16..25; 5000 draws, 500 per id, df 9, critical 27.88.
    buffer = _filled(ReplayBuffer, 10, range(1, 26))
    ids = _draw_ids(buffer, 500, 10)
    _chi_square(ids, range(16, 26), "sample (full buffer after wrap-around)", hint)


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_seed_makes_sampling_repeatable(ReplayBuffer):
    """the same seed gives the same batches; another seed, or the next call, gives different ones"""

    def three_batches(seed):
        buffer = _filled(ReplayBuffer, 10, range(1, 11), seed=seed)
        return [_ids_of(buffer.sample(8)).tolist() for _ in range(3)]

    first, again, other_seed = three_batches(123), three_batches(123), three_batches(124)
    # Identical draws by chance: 10^-24 per comparison of 3 batches of 8 (10^-8 for one batch).
    if first != again:
        raise CheckFailure(
            "Two buffers built with seed=123 and filled alike gave different batches.",
            expected=f"the same ids twice, e.g. {first[0]}",
            got=f"{first[0]} and then {again[0]}",
            hint="draw from the buffer's own generator self.rng = np.random.default_rng(seed) "
            "(self.rng.integers), not from np.random or random, which ignore the seed",
        )
    if first == other_seed:
        raise CheckFailure(
            "Buffers with seed=123 and seed=124 gave the same batches.",
            expected="different ids for different seeds",
            got=f"{first[0]} for both",
            hint="pass the seed to np.random.default_rng(seed); do not use a fixed seed",
        )
    if first[0] == first[1]:
        raise CheckFailure(
            "Two successive sample(8) calls on one buffer returned the same batch.",
            expected="a fresh random batch on each call",
            got=f"{first[0]} twice",
            hint="create the generator once, in __init__; a new default_rng(seed) inside sample "
            "restarts the same sequence on every call",
        )


@check(ASSIGNMENT, cell="test_ReplayBuffer")
def buffer_rows_are_whole_transitions(ReplayBuffer):
    """every sampled row (s, a, r, s', terminated) is one stored transition, also after wrap-around"""
    buffer = _filled(ReplayBuffer, 8, range(1, 14))  # holds 6..13
    for _ in range(50):
        _check_rows(
            buffer.sample(8),
            range(6, 14),
            "sample",
            hint="use ONE array of indices for all five arrays, and check that add writes "
            "each argument into its own array (terminated into self.terminateds, ...)",
        )


check_ReplayBuffer = CellChecks(ASSIGNMENT, "test_ReplayBuffer", "ReplayBuffer")


# ---------------------------------------------------------------- the training loop and the gate


@check(ASSIGNMENT, cell="test_train_replay_dqn_bootstraps_through_truncation")
def train_replay_dqn_bootstraps_through_truncation(train_replay_dqn, Config, ReplayBuffer):
    """the training loop stores `terminated` in your buffer and bootstraps through a time-limit truncation"""
    # EndlessProbe: reward +1 forever, cut by a time limit after every step. With gamma 0.9 the true
    # Q is 1 / (1 - 0.9) = 10 (the reference reaches 10.00 in 500 steps, training seeds 0-2, 0.5 s);
    # a loop or buffer that stores every truncation as terminal learns Q = 1 instead.
    assert_bootstraps_through_truncation(
        train_replay_dqn,
        Config,
        TRUNCATION_STEPS,
        regularizer=0.0,
        buffer_size=1000,
        batch_size=32,
        learning_starts=32,
        hint="the loop must add `terminated`, never `terminated or truncated`; add must "
        "store that flag as it comes in self.terminateds, and sample return self.terminateds as its fifth array: "
        "a truncated episode did not end, so its last transition must still bootstrap",
    )


# The reward gate. Threshold, budget and calibration: autograder/gates.py (GATES["03_experience_replay"]).
@check(ASSIGNMENT, cell="test_replay_dqn_gate", slow=True)
def replay_dqn_gate(train_replay_dqn):
    """trained with your ReplayBuffer (seed 0, at most 10 000 steps), the greedy policy averages >= 150 over 100 episodes"""  # noqa: E501 (a check's description is one line)
    assert_passes_gate(GATES[ASSIGNMENT], train_replay_dqn)


check_train_replay_dqn_bootstraps_through_truncation = CellChecks(
    ASSIGNMENT, "test_train_replay_dqn_bootstraps_through_truncation", "train_replay_dqn", "Config", "ReplayBuffer"
)
check_replay_dqn_gate = CellChecks(ASSIGNMENT, "test_replay_dqn_gate", "train_replay_dqn", "ReplayBuffer")
