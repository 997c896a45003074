"""Checks of notebook 04: symlog, softmax, sample_prioritized_batch, update_batch, sort_replay_buffer,
importance_weights, and the notebook's training loop with them (the truncation check and the reward gate).

Test memories are built from ids: entry k holds priority PRIORITIES[k], state [k, k+0.25, k+0.5],
action k % 3, reward -k, next_state [-k, ...] and terminated k % 2 == 1, so any returned row shows
which entry it came from and whether its fields belong together.
"""

import math
import random
from collections import deque

import numpy as np

from autograder.checks.core import CellChecks, CheckFailure, assert_close, check
from autograder.gates import GATES, assert_passes_gate
from autograder.probes import assert_bootstraps_through_truncation

ASSIGNMENT = "04_prioritized_replay"
TOLERANCE = 1e-9  # float64 arithmetic
PRIORITIES = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 9.0, 20.0]
# Chi-square critical value for 7 degrees of freedom (8 priorities) at a false-alarm rate of 1e-3:
# a correct sampler fails this often over random seeds; with the fixed seed below it passes.
CHI_SQUARE_CRITICAL = 24.322
TRUNCATION_STEPS = 500  # environment steps of the truncation check's training run


def _entry(k, priority):
    state = np.array([k, k + 0.25, k + 0.5], dtype=np.float32)
    return (float(priority), state, k % 3, float(-k), -state, k % 2 == 1)


def _memory(priorities=PRIORITIES, maxlen=100):
    return deque((_entry(k, p) for k, p in enumerate(priorities)), maxlen=maxlen)


def _seed(seed):
    random.seed(seed)
    np.random.seed(seed)


# ---------------------------------------------------------------- symlog / softmax


@check(ASSIGNMENT, cell="test_symlog")
def symlog_values(symlog):
    """symlog at 0, +-1, e - 1 and 1e6, elementwise on arrays of any shape"""
    inputs = np.array([[0.0, 1.0, -1.0], [math.e - 1, -(math.e - 1), 1e6]])
    expected = [[0.0, math.log(2), -math.log(2)], [1.0, -1.0, math.log(1e6 + 1)]]
    got = np.asarray(symlog(inputs), dtype=float)
    if got.shape != inputs.shape:
        raise CheckFailure(
            "symlog must work elementwise and keep the shape.",
            expected=inputs.shape,
            got=got.shape,
            hint="use numpy operations on the whole array: np.sign(x) * np.log(np.abs(x) + 1)",
        )
    assert_close(
        got,
        expected,
        what="symlog of [[0, 1, -1], [e - 1, 1 - e, 1e6]]",
        tolerance=TOLERANCE,
        hint="sign(x) * log(|x| + 1): the + 1 goes inside the log, and |x| keeps the log defined for negatives",
    )


@check(ASSIGNMENT, cell="test_symlog")
def symlog_is_odd_and_increasing(symlog):
    """symlog is odd and strictly increasing, and finite for huge inputs"""
    grid = np.linspace(-50, 50, 201)
    values = np.asarray(symlog(grid), dtype=float)
    if not np.all(np.isfinite(values)) or not np.allclose(values, -values[::-1], atol=TOLERANCE):
        raise CheckFailure(
            "symlog(-x) must equal -symlog(x).",
            expected="an odd function",
            got=f"symlog(-50) = {values[0]}, symlog(50) = {values[-1]}",
            hint="multiply by np.sign(x) and take the log of np.abs(x) + 1; np.log(x + 1) is nan below -1",
        )
    if not np.all(np.diff(values) > 0):
        raise CheckFailure(
            "symlog must be strictly increasing.",
            expected="increasing on [-50, 50]",
            got="not increasing",
            hint="sign(x) * log(|x| + 1)",
        )
    huge = np.asarray(symlog(np.array([1e300, -1e300])), dtype=float)
    assert_close(
        huge,
        [math.log(1e300), -math.log(1e300)],
        what="symlog(+-1e300)",
        tolerance=1e-6,
        hint="log(|x| + 1) needs no exponential, so it cannot overflow",
    )


@check(ASSIGNMENT, cell="test_softmax")
def softmax_values(softmax):
    """softmax of [1, 2, 3] is exact and sums to 1"""
    exponentials = np.exp([1.0, 2.0, 3.0])
    assert_close(
        softmax(np.array([1.0, 2.0, 3.0])),
        exponentials / exponentials.sum(),
        what="softmax([1, 2, 3])",
        tolerance=TOLERANCE,
        hint="exp(x - max(x)) / sum(exp(x - max(x)))",
    )


@check(ASSIGNMENT, cell="test_softmax")
def softmax_is_stable(softmax):
    """no overflow: softmax([1e4, 1e4 - 1, 0]) is finite and right"""
    got = np.asarray(softmax(np.array([1e4, 1e4 - 1.0, 0.0])), dtype=float)
    expected = [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1)), 0.0]
    if not np.all(np.isfinite(got)):
        raise CheckFailure(
            "softmax overflowed on large inputs.",
            expected=np.round(expected, 6).tolist(),
            got=got.tolist(),
            hint="np.exp(1e4) is inf: subtract xs.max() before the exponential (it cancels out in the ratio)",
        )
    assert_close(
        got,
        expected,
        what="softmax([1e4, 1e4 - 1, 0])",
        tolerance=TOLERANCE,
        hint="exp(x - max(x)) / sum(exp(x - max(x)))",
    )


@check(ASSIGNMENT, cell="test_softmax")
def softmax_temperature(softmax):
    """softmax(xs, temp) divides xs by temp: temp 2 on [0, 2 log 3] gives [1/4, 3/4]"""
    got = softmax(np.array([0.0, 2 * math.log(3)]), temp=2.0)
    assert_close(
        got,
        [0.25, 0.75],
        what="softmax([0, 2 log 3], temp=2)",
        tolerance=TOLERANCE,
        hint="divide the inputs by temp (a higher temperature flattens the distribution)",
    )


# ---------------------------------------------------------------- sample_prioritized_batch


def _sample(sample_prioritized_batch, memory, n_samples):
    batch, indices = sample_prioritized_batch(memory, n_samples)
    indices = np.asarray(indices)
    if len(batch) != 5 or indices.shape != (n_samples,):
        raise CheckFailure(
            "sample_prioritized_batch returns (batch, indices).",
            expected=f"batch of 5 arrays and indices of shape ({n_samples},)",
            got=f"batch of {len(batch)}, indices of shape {indices.shape}",
            hint="return (states, actions, rewards, next_states, terminateds), indices",
        )
    return [np.asarray(column) for column in batch], indices


@check(ASSIGNMENT, cell="test_sample_prioritized_batch")
def prioritized_batch_shapes(sample_prioritized_batch):
    """the batch holds five numpy arrays of the right shapes"""
    _seed(0)
    batch, indices = sample_prioritized_batch(_memory(), 5)
    got = [getattr(column, "shape", type(column).__name__) for column in batch]
    expected = [(5, 3), (5,), (5,), (5, 3), (5,)]
    if got != expected or not all(isinstance(column, np.ndarray) for column in batch):
        raise CheckFailure(
            "Wrong batch format.",
            expected=f"numpy arrays of shapes {expected}",
            got=got,
            hint="one array per field, each built with np.array([...]) over the sampled entries "
            "(skip the priority, field 0)",
        )


@check(ASSIGNMENT, cell="test_sample_prioritized_batch")
def prioritized_rows_match_indices(sample_prioritized_batch):
    """row k of the batch is the entry at indices[k]"""
    memory = _memory()
    _seed(1)
    (states, actions, rewards, next_states, terminateds), indices = _sample(sample_prioritized_batch, memory, 64)
    for row, position in enumerate(indices.tolist()):
        _, state, action, reward, next_state, terminated = memory[position]
        if not (
            np.array_equal(states[row], state)
            and actions[row] == action
            and rewards[row] == reward
            and np.array_equal(next_states[row], next_state)
            and terminateds[row] == terminated
        ):
            raise CheckFailure(
                f"Row {row} of the batch is not the entry at indices[{row}] = {position}.",
                expected=f"state {state.tolist()}, action {action}, reward {reward}",
                got=f"state {states[row].tolist()}, action {actions[row]}, reward {rewards[row]}",
                hint="build the batch from replay_buffer[i] for i in indices, in the same order, and return those "
                "indices: update_batch will write the new priorities there",
            )


@check(ASSIGNMENT, cell="test_sample_prioritized_batch")
def prioritized_frequencies(sample_prioritized_batch):
    """positions are drawn with probability softmax(symlog(priority))"""
    priorities = np.array(PRIORITIES)
    expected_probability = (1 + priorities) / (1 + priorities).sum()  # = softmax(symlog(p)) for p >= 0
    counts = np.zeros(len(priorities))
    _seed(2)
    memory = _memory()
    for _ in range(100):
        _, indices = _sample(sample_prioritized_batch, memory, 64)
        np.add.at(counts, indices, 1)
    expected = expected_probability * counts.sum()
    statistic = float(((counts - expected) ** 2 / expected).sum())
    if statistic > CHI_SQUARE_CRITICAL:
        uniform = np.full(len(priorities), counts.sum() / len(priorities))
        raw = priorities / priorities.sum() * counts.sum()
        closest = min(
            [("uniform sampling", uniform), ("probabilities proportional to the raw priorities", raw)],
            key=lambda pair: np.abs(pair[1] - counts).sum(),
        )[0]
        raise CheckFailure(
            f"Sampling frequencies over 6400 draws do not follow softmax(symlog(priority)) "
            f"(chi-square {statistic:.0f} > {CHI_SQUARE_CRITICAL}, false-alarm rate 1e-3).",
            expected=np.round(expected).astype(int).tolist(),
            got=counts.astype(int).tolist(),
            hint=f"the counts look closest to {closest}; use probabilities softmax(symlog(p)), "
            "i.e. (1 + p) / sum(1 + p)",
        )


# ---------------------------------------------------------------- update_batch / sort_replay_buffer


@check(ASSIGNMENT, cell="test_update_batch")
def update_writes_exactly_those_entries(update_batch):
    """update_batch changes the priorities at exactly the given positions and keeps the transitions"""
    memory = _memory()
    before = list(memory)
    indices = np.array([6, 1, 3])
    batch = tuple(np.array([before[i][field] for i in indices]) for field in range(1, 6))
    update_batch(memory, indices, batch, np.array([0.25, 7.5, 11.0]))
    expected_priorities = list(PRIORITIES)
    for position, priority in zip(indices, [0.25, 7.5, 11.0]):
        expected_priorities[position] = priority
    got_priorities = [float(entry[0]) for entry in memory]
    if len(memory) != len(before) or got_priorities != expected_priorities:
        raise CheckFailure(
            "update_batch wrote the wrong priorities.",
            expected=expected_priorities,
            got=got_priorities,
            hint="replay_buffer[indices[k]] = (new_priority[k], states[k], actions[k], ...): replace in place at "
            "the sampled positions; do not append",
        )
    for position, (entry, old) in enumerate(zip(memory, before)):
        if not (np.array_equal(entry[1], old[1]) and entry[2] == old[2] and entry[3] == old[3] and entry[5] == old[5]):
            raise CheckFailure(
                f"update_batch changed the transition stored at position {position}.",
                expected=f"state {old[1].tolist()}, action {old[2]}",
                got=f"state {np.asarray(entry[1]).tolist()}, action {entry[2]}",
                hint="keep each entry's state, action, reward, next_state and terminated; change only its priority",
            )


@check(ASSIGNMENT, cell="test_sort_replay_buffer")
def sort_orders_by_priority(sort_replay_buffer):
    """sort_replay_buffer: ascending priorities, the same entries, the same maxlen"""
    shuffled = [PRIORITIES[k] for k in [3, 7, 0, 5, 1, 6, 2, 4]]
    memory = deque((_entry(k, p) for k, p in enumerate(shuffled)), maxlen=20)
    result = sort_replay_buffer(memory)
    if not isinstance(result, deque) or result.maxlen != 20:
        raise CheckFailure(
            "sort_replay_buffer must return a deque with the same maxlen.",
            expected="deque, maxlen 20",
            got=f"{type(result).__name__}, maxlen {getattr(result, 'maxlen', None)}",
            hint="deque(sorted(...), maxlen=replay_buffer.maxlen): without maxlen the memory never forgets",
        )
    got = [float(entry[0]) for entry in result]
    if got != sorted(shuffled):
        raise CheckFailure(
            "Priorities are not in ascending order.",
            expected=sorted(shuffled),
            got=got,
            hint="lowest first, so that a full deque evicts the least useful transitions "
            "(appends push out entries on the left)",
        )
    if sorted(float(entry[3]) for entry in result) != sorted(float(entry[3]) for entry in memory):
        raise CheckFailure(
            "The sorted memory does not hold the same transitions.", hint="sort the entries, do not rebuild them"
        )


@check(ASSIGNMENT, cell="test_sort_replay_buffer")
def sort_handles_equal_priorities(sort_replay_buffer):
    """entries with equal priorities sort without comparing their numpy states"""
    memory = deque((_entry(k, 1.0 if k % 2 else 0.0) for k in range(6)), maxlen=10)
    try:
        result = sort_replay_buffer(memory)
    except ValueError as error:
        raise CheckFailure(
            "Sorting failed on two entries with the same priority.",
            got=f"ValueError: {error}",
            hint="sorted(replay_buffer) compares whole tuples, and on a tie it compares numpy arrays; "
            "sort by the priority only: key=lambda entry: entry[0]",
        ) from None
    assert_close(
        [entry[0] for entry in result],
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        what="priorities after sorting",
        tolerance=TOLERANCE,
        hint="ascending order by priority",
    )


# ---------------------------------------------------------------- importance_weights


def _weights(importance_weights, probabilities, buffer_size, beta):
    got = np.asarray(importance_weights(np.array(probabilities, dtype=np.float64), buffer_size, beta), dtype=float)
    if got.shape != (len(probabilities),):
        raise CheckFailure(
            "importance_weights returns one weight per sampled transition.",
            expected=f"shape ({len(probabilities)},)",
            got=f"shape {got.shape}",
            hint="compute elementwise on the whole array: (buffer_size * probabilities) ** -beta, "
            "then divide by the largest",
        )
    return got


@check(ASSIGNMENT, cell="test_importance_weights")
def importance_weights_hand_example(importance_weights):
    """exact weights on a hand-derived batch: N = 8, beta = 0.5, P = [1/8, 1/2, 1/32, 1/8] -> [1/2, 1/4, 1, 1/2]"""
    # N * P = [1, 4, 1/4, 1] (the first and last are one position drawn twice); (N * P) ** -0.5 = [1, 1/2, 2, 1];
    # the batch's largest weight is 2 (its least likely transition), so w = [1/2, 1/4, 1, 1/2].
    got = _weights(importance_weights, [1 / 8, 1 / 2, 1 / 32, 1 / 8], 8, 0.5)
    expected = [0.5, 0.25, 1.0, 0.5]
    if np.allclose(got, [1.0, 0.5, 2.0, 1.0], atol=1e-6):
        hint = "these are (N * P) ** -beta before normalizing: divide by their maximum, so no weight exceeds 1"
    elif np.allclose(got, [0.5, 1.0, 0.25, 0.5], atol=1e-6):
        hint = "the exponent's sign is flipped: (N * P) ** -beta, so likelier transitions get smaller weights"
    else:
        hint = (
            "w = (buffer_size * probabilities) ** -beta, then w / w.max(); the input is already P(i), so do "
            "not turn it into probabilities again"
        )
    assert_close(
        got,
        expected,
        what="importance_weights([1/8, 1/2, 1/32, 1/8], buffer_size=8, beta=0.5)",
        tolerance=TOLERANCE,
        hint=hint,
    )


@check(ASSIGNMENT, cell="test_importance_weights")
def importance_weights_at_most_one(importance_weights):
    """on a sampled batch of 64: weights in (0, 1], the largest 1, likelier transitions weigh less"""
    rng = np.random.default_rng(3)
    priorities = rng.exponential(2.0, size=1000)
    all_probabilities = (1 + priorities) / (1 + priorities).sum()
    probabilities = all_probabilities[rng.choice(1000, 64, p=all_probabilities)]
    got = _weights(importance_weights, probabilities, 1000, 0.7)
    if not np.all(np.isfinite(got)) or got.min() <= 0 or abs(got.max() - 1) > 1e-12:
        raise CheckFailure(
            "Importance-sampling weights must lie in (0, 1] with the largest exactly 1.",
            expected="min > 0, max 1",
            got=f"min {got.min():.6g}, max {got.max():.6g}",
            hint="divide by the largest weight of the batch (w / w.max()): dividing by the smallest makes them "
            ">= 1, by the sum makes the largest < 1, and without it they can exceed 1",
        )
    order = np.argsort(probabilities, kind="stable")
    if np.any(np.diff(got[order]) > 1e-12):
        raise CheckFailure(
            "A transition drawn with a higher probability must get a lower (or equal) weight.",
            expected="weights decreasing as P(i) grows",
            got="a likelier transition with a larger weight",
            hint="the exponent is -beta: (buffer_size * probabilities) ** -beta; it corrects for drawing "
            "likely transitions too often",
        )


@check(ASSIGNMENT, cell="test_importance_weights")
def importance_weights_uniform_are_ones(importance_weights):
    """uniform sampling (P(i) = 1/N) needs no correction: every weight is 1"""
    for beta in (0.4, 1.0):
        got = _weights(importance_weights, [1 / 50] * 16, 50, beta)
        assert_close(
            got,
            np.ones(16),
            what=f"importance_weights with P(i) = 1/50, buffer_size=50, beta={beta}",
            tolerance=TOLERANCE,
            hint="N * P(i) = 1 under uniform sampling, so (N * P(i)) ** -beta = 1: "
            "multiply the probabilities by buffer_size, and normalize by the max, not by the sum",
        )


@check(ASSIGNMENT, cell="test_importance_weights")
def importance_weights_beta_zero_are_ones(importance_weights):
    """beta = 0 corrects nothing: every weight is 1"""
    got = _weights(importance_weights, [1 / 8, 1 / 2, 1 / 32, 1 / 8], 8, 0.0)
    assert_close(
        got,
        np.ones(4),
        what="importance_weights([1/8, 1/2, 1/32, 1/8], buffer_size=8, beta=0)",
        tolerance=TOLERANCE,
        hint="beta is the exponent: (buffer_size * probabilities) ** -beta, and x ** 0 = 1",
    )


# ---------------------------------------------------------------- the training loop and the gate


@check(ASSIGNMENT, cell="test_train_per_dqn_bootstraps_through_truncation")
def loop_bootstraps_through_truncation(
    train_per_dqn, Config, sample_prioritized_batch, update_batch, sort_replay_buffer, importance_weights
):
    """the training loop, with your functions, bootstraps through a time-limit truncation"""
    # EndlessProbe: reward +1 forever, cut by a time limit after every step. With gamma 0.9 the true
    # Q is 1 / (1 - 0.9) = 10 (the reference reaches 10.00 in 500 steps); a loop or a memory that
    # turns every truncation into a termination learns Q = 1 instead.
    assert_bootstraps_through_truncation(
        train_per_dqn,
        Config,
        TRUNCATION_STEPS,
        buffer_size=1000,
        batch_size=32,
        learning_starts=32,
        sort_every=100,
        hint="the loop stores `terminated`, never `terminated or truncated`; "
        "sample_prioritized_batch must return each entry's own terminated flag as its fifth array, and update_batch "
        "must keep it: a truncated episode did not end, so its last transition must still bootstrap",
    )


# The reward gate. Threshold, budget and calibration: autograder/gates.py (GATES["04_prioritized_replay"]).
@check(ASSIGNMENT, cell="test_per_dqn_gate", slow=True)
def per_dqn_gate(train_per_dqn):
    """trained with your functions (seed 0, at most 10 000 steps), the greedy policy averages >= 150 over 100 episodes"""  # noqa: E501 (a check's description is one line)
    assert_passes_gate(GATES[ASSIGNMENT], train_per_dqn)


check_symlog = CellChecks(ASSIGNMENT, "test_symlog", "symlog")
check_softmax = CellChecks(ASSIGNMENT, "test_softmax", "softmax")
check_sample_prioritized_batch = CellChecks(ASSIGNMENT, "test_sample_prioritized_batch", "sample_prioritized_batch")
check_update_batch = CellChecks(ASSIGNMENT, "test_update_batch", "update_batch")
check_sort_replay_buffer = CellChecks(ASSIGNMENT, "test_sort_replay_buffer", "sort_replay_buffer")
check_importance_weights = CellChecks(ASSIGNMENT, "test_importance_weights", "importance_weights")
check_train_per_dqn_bootstraps_through_truncation = CellChecks(
    ASSIGNMENT,
    "test_train_per_dqn_bootstraps_through_truncation",
    "train_per_dqn",
    "Config",
    "sample_prioritized_batch",
    "update_batch",
    "sort_replay_buffer",
    "importance_weights",
)
check_per_dqn_gate = CellChecks(
    ASSIGNMENT,
    "test_per_dqn_gate",
    "train_per_dqn",
    "sample_prioritized_batch",
    "update_batch",
    "sort_replay_buffer",
    "importance_weights",
)
