"""Mutants and alternatives for notebook 04 (prioritized replay)."""

import operator
from collections import deque

import numpy as np

from autograder.mutants import alternative, mutant, patched

A = "04_prioritized_replay"


# ---------------------------------------------------------------- symlog / softmax


@mutant(A, "symlog", "symlog_values", "symlog_is_odd_and_increasing")
def symlog_without_abs(x):
    """np.log(x + 1) with the sign: nan below -1, wrong for every negative."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.sign(x) * np.log(x + 1)


@mutant(A, "symlog", "symlog_values", "symlog_is_odd_and_increasing")
def symlog_without_sign(x):
    """Forgets the sign: log(|x| + 1) is even, so negative TD errors look like positive ones."""
    return np.log(np.abs(np.asarray(x, dtype=np.float64)) + 1)


@mutant(A, "symlog", "symlog_values")
def symlog_plus_one_outside(x):
    """Puts the + 1 outside the log: log(|x|) + 1 is -inf at 0."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.sign(x) * (np.log(np.abs(x)) + 1)


@mutant(A, "symlog", "symlog_is_odd_and_increasing")
def symlog_through_symexp_pair(x):
    """Computes log(exp(|x|) + 1) (softplus): overflows for huge inputs and is not symlog."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.sign(x) * np.log(np.exp(np.abs(x)) + 1)


@alternative(A, "symlog")
def symlog_with_where(x):
    """np.where on the sign instead of multiplying by np.sign."""
    x = np.asarray(x, dtype=np.float64)
    magnitude = np.log1p(np.abs(x))
    return np.where(x < 0, -magnitude, magnitude)


@mutant(A, "softmax", "softmax_is_stable")
def softmax_without_max_shift(xs, temp=1.0):
    """Exponentiates the raw inputs: np.exp(1e4) overflows to inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        exponentials = np.exp(np.asarray(xs, dtype=np.float64) / temp)
        return exponentials / exponentials.sum()


@mutant(A, "softmax", "softmax_temperature")
def softmax_multiplying_by_temperature(xs, temp=1.0):
    """Multiplies by the temperature instead of dividing."""
    scaled = np.asarray(xs, dtype=np.float64) * temp
    exponentials = np.exp(scaled - scaled.max())
    return exponentials / exponentials.sum()


@mutant(A, "softmax", "softmax_values", "softmax_is_stable")
def softmax_normalised_by_max(xs, temp=1.0):
    """Divides by the largest exponential instead of the sum: does not sum to 1."""
    scaled = np.asarray(xs, dtype=np.float64) / temp
    exponentials = np.exp(scaled - scaled.max())
    return exponentials / exponentials.max()


@alternative(A, "softmax")
def softmax_via_logsumexp(xs, temp=1.0):
    """Subtracts the log-sum-exp: exp(x - logsumexp(x))."""
    scaled = np.asarray(xs, dtype=np.float64) / temp
    top = scaled.max()
    return np.exp(scaled - (top + np.log(np.exp(scaled - top).sum())))


# ---------------------------------------------------------------- sample_prioritized_batch


def _sampler(probabilities_of):
    """A full sample_prioritized_batch drawing positions with probabilities_of(priorities)."""

    def sample_prioritized_batch(replay_buffer, n_samples):
        priorities = np.array([entry[0] for entry in replay_buffer], dtype=np.float64)
        indices = np.random.choice(len(replay_buffer), n_samples, p=probabilities_of(priorities))
        entries = [replay_buffer[i] for i in indices]
        _, states, actions, rewards, next_states, terminateds = (np.array(column) for column in zip(*entries))
        return (states, actions, rewards, next_states, terminateds), indices

    return sample_prioritized_batch


@mutant(A, "sample_prioritized_batch", "prioritized_frequencies", build=_sampler)
def sampling_by_raw_priorities(priorities):
    """p / sum(p): a transition with priority 0 is never replayed again."""
    return priorities / priorities.sum()


@mutant(A, "sample_prioritized_batch", "prioritized_frequencies", build=_sampler)
def sampling_by_softmax_of_raw_priorities(priorities):
    """softmax(p) without symlog: the largest priority takes almost every draw."""
    exponentials = np.exp(priorities - priorities.max())
    return exponentials / exponentials.sum()


@mutant(A, "sample_prioritized_batch", "prioritized_frequencies", build=_sampler)
def sampling_uniformly(priorities):
    """Ignores the priorities: plain uniform replay."""
    return np.full(len(priorities), 1 / len(priorities))


@mutant(A, "sample_prioritized_batch", "prioritized_frequencies", "per_dqn_gate", build=_sampler)
def sampling_by_softmax_of_minus_symlog(priorities):
    """softmax(-symlog(p)), a sign slip: replays the best-predicted transitions most, new ones least."""
    logits = -np.sign(priorities) * np.log1p(np.abs(priorities))
    exponentials = np.exp(logits - logits.max())
    return exponentials / exponentials.sum()


@alternative(A, "sample_prioritized_batch", build=_sampler)
def sampling_by_softmax_of_symlog(priorities):
    """np.random.choice with softmax(symlog(p)) written out, as the seminar suggests."""
    logits = np.sign(priorities) * np.log1p(np.abs(priorities))
    exponentials = np.exp(logits - logits.max())
    return exponentials / exponentials.sum()


@mutant(A, "sample_prioritized_batch", "prioritized_rows_match_indices")
def indices_of_the_wrong_items(replay_buffer, n_samples):
    """Returns the drawn positions sorted, but the rows in drawing order."""
    priorities = np.array([entry[0] for entry in replay_buffer], dtype=np.float64)
    indices = np.random.choice(len(replay_buffer), n_samples, p=(1 + priorities) / (1 + priorities).sum())
    entries = [replay_buffer[i] for i in indices]
    _, states, actions, rewards, next_states, terminateds = (np.array(column) for column in zip(*entries))
    return (states, actions, rewards, next_states, terminateds), np.sort(indices)


@mutant(A, "sample_prioritized_batch", "prioritized_batch_shapes")
def batch_with_priorities_as_states(replay_buffer, n_samples):
    """Unpacks the entry one field off: the priority lands in `states`."""
    priorities = np.array([entry[0] for entry in replay_buffer], dtype=np.float64)
    indices = np.random.choice(len(replay_buffer), n_samples, p=(1 + priorities) / (1 + priorities).sum())
    states, actions, rewards, next_states, terminateds, _ = (
        np.array(column) for column in zip(*[replay_buffer[i] for i in indices])
    )
    return (states, actions, rewards, next_states, terminateds), indices


# ---------------------------------------------------------------- update_batch / sort_replay_buffer


def _writer(position_of):
    """A full update_batch that writes row k at position_of(indices, k)."""

    def update_batch(replay_buffer, indices, batch, new_priority):
        states, actions, rewards, next_states, terminateds = batch
        for row in range(len(indices)):
            replay_buffer[position_of(indices, row)] = (
                float(new_priority[row]),
                states[row],
                actions[row],
                rewards[row],
                next_states[row],
                terminateds[row],
            )

    return update_batch


@mutant(A, "update_batch", "update_writes_exactly_those_entries", build=_writer)
def update_at_the_row_number(indices, row):
    """Writes row k at position k instead of indices[k]."""
    return row


@mutant(A, "update_batch", "update_writes_exactly_those_entries", build=_writer)
def update_one_place_off(indices, row):
    """Off by one: writes at indices[k] + 1."""
    return int(indices[row]) + 1


@mutant(A, "update_batch", "update_writes_exactly_those_entries")
def update_by_appending(replay_buffer, indices, batch, new_priority):
    """Appends the updated transitions instead of replacing them: duplicates pile up."""
    states, actions, rewards, next_states, terminateds = batch
    for row in range(len(indices)):
        replay_buffer.append(
            (float(new_priority[row]), states[row], actions[row], rewards[row], next_states[row], terminateds[row])
        )


@mutant(A, "update_batch", "update_writes_exactly_those_entries")
def update_with_fields_shifted(replay_buffer, indices, batch, new_priority):
    """Rebuilds the entry without the action: every field after it moves one place."""
    states, actions, rewards, next_states, terminateds = batch
    for row, position in enumerate(indices):
        replay_buffer[position] = (
            float(new_priority[row]),
            states[row],
            rewards[row],
            next_states[row],
            terminateds[row],
            terminateds[row],
        )


@alternative(A, "update_batch")
def update_by_tuple_replacement(replay_buffer, indices, batch, new_priority):
    """Keeps the stored entry and swaps only its priority."""
    for position, priority in zip(np.asarray(indices).tolist(), np.asarray(new_priority).tolist()):
        replay_buffer[position] = (priority, *replay_buffer[position][1:])


@mutant(A, "sort_replay_buffer", "sort_orders_by_priority")
def sort_descending(replay_buffer):
    """Sorts highest priority first: the most useful transitions are evicted first."""
    return deque(sorted(replay_buffer, key=lambda entry: entry[0], reverse=True), maxlen=replay_buffer.maxlen)


@mutant(A, "sort_replay_buffer", "sort_orders_by_priority")
def sort_losing_maxlen(replay_buffer):
    """Builds the new deque without maxlen: the memory grows without bound."""
    return deque(sorted(replay_buffer, key=lambda entry: entry[0]))


@mutant(A, "sort_replay_buffer", "sort_handles_equal_priorities")
def sort_whole_tuples(replay_buffer):
    """sorted() on whole tuples: on a tie it compares numpy states and raises."""
    return deque(sorted(replay_buffer), maxlen=replay_buffer.maxlen)


@alternative(A, "sort_replay_buffer")
def sort_with_itemgetter(replay_buffer):
    """operator.itemgetter(0) as the key, via a list sort."""
    entries = list(replay_buffer)
    entries.sort(key=operator.itemgetter(0))
    return deque(entries, maxlen=replay_buffer.maxlen)


# ---------------------------------------------------------------- importance_weights


@mutant(A, "importance_weights", "importance_weights_hand_example", "importance_weights_at_most_one")
def weights_not_normalized(probabilities, buffer_size, beta):
    """(N * P) ** -beta without dividing by the max: a rare transition can get a weight of tens."""
    return (buffer_size * np.asarray(probabilities, dtype=np.float64)) ** -beta


@mutant(A, "importance_weights", "importance_weights_hand_example", "importance_weights_at_most_one")
def weights_with_beta_sign_flipped(probabilities, buffer_size, beta):
    """(N * P) ** beta: likely transitions get the LARGEST weights, which doubles the bias."""
    weights = (buffer_size * np.asarray(probabilities, dtype=np.float64)) ** beta
    return weights / weights.max()


@mutant(A, "importance_weights", "importance_weights_hand_example")
def weights_from_probabilities_treated_as_priorities(probabilities, buffer_size, beta):
    """Treats its input as priorities and turns them into probabilities again with softmax(symlog(.))."""
    values = np.asarray(probabilities, dtype=np.float64)
    logits = np.sign(values) * np.log1p(np.abs(values))
    exponentials = np.exp(logits - logits.max())
    weights = (buffer_size * exponentials / exponentials.sum()) ** -beta
    return weights / weights.max()


@mutant(A, "importance_weights", "importance_weights_hand_example", "importance_weights_beta_zero_are_ones")
def weights_ignoring_beta(probabilities, buffer_size, beta):
    """1 / (N * P), the full correction whatever beta says: no annealing."""
    weights = 1.0 / (buffer_size * np.asarray(probabilities, dtype=np.float64))
    return weights / weights.max()


@mutant(
    A,
    "importance_weights",
    "importance_weights_hand_example",
    "importance_weights_at_most_one",
    "importance_weights_uniform_are_ones",
    "importance_weights_beta_zero_are_ones",
)
def weights_normalized_by_sum(probabilities, buffer_size, beta):
    """Divides by the sum, as for probabilities: the weights shrink with the batch size."""
    weights = (buffer_size * np.asarray(probabilities, dtype=np.float64)) ** -beta
    return weights / weights.sum()


@mutant(A, "importance_weights", "importance_weights_hand_example", "importance_weights_at_most_one")
def weights_normalized_by_min(probabilities, buffer_size, beta):
    """Divides by the smallest weight: every weight >= 1, so steps are scaled up."""
    weights = (buffer_size * np.asarray(probabilities, dtype=np.float64)) ** -beta
    return weights / weights.min()


@mutant(A, "importance_weights", "importance_weights_hand_example")
def weights_clipped_at_one(probabilities, buffer_size, beta):
    """Clips (N * P) ** -beta at 1 instead of dividing by the max: the rare transitions' weights are cut."""
    return np.minimum((buffer_size * np.asarray(probabilities, dtype=np.float64)) ** -beta, 1.0)


@mutant(A, "importance_weights", "importance_weights_uniform_are_ones")
def weights_forgetting_n(probabilities, buffer_size, beta):
    """P ** -beta, forgetting N and the normalization: uniform sampling gets weights N ** beta."""
    return np.asarray(probabilities, dtype=np.float64) ** -beta


@alternative(A, "importance_weights")
def weights_in_log_space(probabilities, buffer_size, beta):
    """-beta * log(N * P), minus its max, exponentiated: no overflow for tiny probabilities."""
    log_weights = -beta * np.log(buffer_size * np.asarray(probabilities, dtype=np.float64))
    return np.exp(log_weights - log_weights.max())


@alternative(A, "importance_weights")
def weights_from_smallest_probability(probabilities, buffer_size, beta):
    """(P(i) / min_j P(j)) ** -beta: with the batch maximum, N cancels out."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    return (probabilities / probabilities.min()) ** -beta


# ---------------------------------------------------------------- the training loop and the gate

patched(
    A,
    "train_per_dqn",
    "next_state, terminated))",
    "next_state, terminated or truncated))",
    "loop_bootstraps_through_truncation",
    name="truncation_stored_as_terminal",
    description="Stores `terminated or truncated`: a time limit cuts the bootstrap.",
)
