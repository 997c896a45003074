"""Mutants and alternatives for notebook 03 (sample_batch, ReplayBuffer, the training loop)."""

import random
from itertools import islice

import numpy as np

from autograder.mutants import alternative, mutant, patched

A = "03_experience_replay"


# ---------------------------------------------------------------- sample_batch


@mutant(A, "sample_batch", "sample_batch_returns_five_arrays")
def sample_batch_returning_lists(replay_buffer, n_samples):
    """Returns the columns as lists (forgets np.array)."""
    indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    batch = [replay_buffer[i] for i in indices]
    return tuple(list(column) for column in zip(*batch))


@mutant(A, "sample_batch", "sample_batch_returns_five_arrays")
def sample_batch_transposed_states(replay_buffer, n_samples):
    """Stacks states and next_states along axis 1: shape (obs_dim, n) instead of (n, obs_dim)."""
    indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    states, actions, rewards, next_states, terminateds = zip(*[replay_buffer[i] for i in indices])
    return (
        np.stack(states, axis=1),
        np.array(actions),
        np.array(rewards),
        np.stack(next_states, axis=1),
        np.array(terminateds),
    )


@mutant(A, "sample_batch", "sample_batch_returns_five_arrays")
def sample_batch_swapping_rewards_and_next_states(replay_buffer, n_samples):
    """Returns the columns in the order (s, a, s', r, terminated)."""
    indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    states, actions, rewards, next_states, terminateds = zip(*[replay_buffer[i] for i in indices])
    return np.array(states), np.array(actions), np.array(next_states), np.array(rewards), np.array(terminateds)


@mutant(A, "sample_batch", "sample_batch_rows_are_whole_transitions")
def sample_batch_mixing_rows(replay_buffer, n_samples):
    """Draws separate indices for states and for the other fields: rows mix transitions."""
    state_indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    states = np.array([replay_buffer[i][0] for i in state_indices])
    actions = np.array([replay_buffer[i][1] for i in indices])
    rewards = np.array([replay_buffer[i][2] for i in indices])
    next_states = np.array([replay_buffer[i][3] for i in indices])
    terminateds = np.array([replay_buffer[i][4] for i in indices])
    return states, actions, rewards, next_states, terminateds


@mutant(A, "sample_batch", "sample_batch_is_uniform", "sample_batch_reaches_oldest_and_newest")
def sample_batch_without_newest(replay_buffer, n_samples):
    """np.random.randint(0, len - 1): the upper bound is already exclusive, so the newest is never drawn."""
    indices = np.random.randint(0, len(replay_buffer) - 1, size=n_samples)
    states, actions, rewards, next_states, terminateds = zip(*[replay_buffer[i] for i in indices])
    return np.array(states), np.array(actions), np.array(rewards), np.array(next_states), np.array(terminateds)


@mutant(A, "sample_batch", "sample_batch_is_uniform")
def sample_batch_most_recent(replay_buffer, n_samples):
    """Returns the n_samples newest transitions instead of a random batch."""
    batch = list(islice(reversed(replay_buffer), n_samples))
    states, actions, rewards, next_states, terminateds = zip(*batch)
    return np.array(states), np.array(actions), np.array(rewards), np.array(next_states), np.array(terminateds)


@mutant(A, "sample_batch", "sample_batch_works_with_n_equal_to_len", "sample_batch_reaches_oldest_and_newest")
def sample_batch_skipping_oldest(replay_buffer, n_samples):
    """random.sample(range(1, len), n): skips the oldest and fails when n_samples == len."""
    indices = random.sample(range(1, len(replay_buffer)), n_samples)
    states, actions, rewards, next_states, terminateds = zip(*[replay_buffer[i] for i in indices])
    return np.array(states), np.array(actions), np.array(rewards), np.array(next_states), np.array(terminateds)


SAMPLE_BATCH_CHECKS = (
    "sample_batch_returns_five_arrays",
    "sample_batch_rows_are_whole_transitions",
    "sample_batch_is_uniform",
    "sample_batch_reaches_oldest_and_newest",
    "sample_batch_works_with_n_equal_to_len",
)


@mutant(A, "sample_batch", *SAMPLE_BATCH_CHECKS)
def sample_batch_numpy1_copy_false(replay_buffer, n_samples):
    """np.array(column, copy=False), numpy 1 style: numpy 2 raises a ValueError that is not about the indices."""
    indices = np.random.randint(0, len(replay_buffer), size=n_samples)
    columns = zip(*[replay_buffer[i] for i in indices])
    return tuple(np.array(column, copy=False) for column in columns)


@alternative(A, "sample_batch")
def sample_batch_random_sample(replay_buffer, n_samples):
    """Without replacement, with random.sample on the deque and one list comprehension per field."""
    batch = random.sample(replay_buffer, n_samples)
    states = np.array([item[0] for item in batch])
    actions = np.array([item[1] for item in batch])
    rewards = np.array([item[2] for item in batch])
    next_states = np.array([item[3] for item in batch])
    terminateds = np.array([item[4] for item in batch])
    return states, actions, rewards, next_states, terminateds


@alternative(A, "sample_batch")
def sample_batch_choice_with_replacement(replay_buffer, n_samples):
    """np.random.choice with replacement and map(np.array, zip(*batch))."""
    indices = np.random.choice(len(replay_buffer), size=n_samples, replace=True)
    return tuple(map(np.array, zip(*[replay_buffer[i] for i in indices])))


@alternative(A, "sample_batch")
def sample_batch_random_choices(replay_buffer, n_samples):
    """random.choices (with replacement) and explicit dtypes."""
    batch = random.choices(replay_buffer, k=n_samples)
    states, actions, rewards, next_states, terminateds = zip(*batch)
    return (
        np.array(states, dtype=np.float32),
        np.array(actions, dtype=np.int64),
        np.array(rewards, dtype=np.float32),
        np.array(next_states, dtype=np.float32),
        np.array(terminateds, dtype=bool),
    )


# ---------------------------------------------------------------- ReplayBuffer


class _Reference:
    """A correct ring buffer the ReplayBuffer mutants below each change in one place (not registered)."""

    def __init__(self, capacity, obs_dim, seed=None):
        self.capacity = capacity
        self.states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_states = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.terminateds = np.zeros(capacity, dtype=bool)
        self.rng = np.random.default_rng(seed)
        self.next_index = 0
        self.size = 0

    def _write(self, row, state, action, reward, next_state, terminated):
        self.states[row] = state
        self.actions[row] = action
        self.rewards[row] = reward
        self.next_states[row] = next_state
        self.terminateds[row] = terminated

    def add(self, state, action, reward, next_state, terminated):
        self._write(self.next_index, state, action, reward, next_state, terminated)
        self.next_index = (self.next_index + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def _gather(self, indices):
        return (
            self.states[indices],
            self.actions[indices],
            self.rewards[indices],
            self.next_states[indices],
            self.terminateds[indices],
        )

    def sample(self, batch_size):
        return self._gather(self.rng.integers(0, self.size, size=batch_size))

    def __len__(self):
        return self.size


@mutant(A, "ReplayBuffer", "buffer_len_grows_then_caps", "buffer_overwrites_the_oldest")
class BufferNeverWrapping(_Reference):
    """The write position is never wrapped: add raises IndexError once the buffer is full."""

    def add(self, state, action, reward, next_state, terminated):
        self._write(self.next_index, state, action, reward, next_state, terminated)
        self.next_index += 1
        self.size = min(self.size + 1, self.capacity)


@mutant(A, "ReplayBuffer", "buffer_overwrites_the_oldest")
class BufferStoppingWhenFull(_Reference):
    """Ignores new transitions once full (keeps the oldest ones forever)."""

    def add(self, state, action, reward, next_state, terminated):
        if self.size < self.capacity:
            super().add(state, action, reward, next_state, terminated)


@mutant(A, "ReplayBuffer", "buffer_overwrites_the_oldest")
class BufferOverwritingNewest(_Reference):
    """Clamps the write position at the last row: once full, it overwrites the newest transition."""

    def add(self, state, action, reward, next_state, terminated):
        self._write(self.next_index, state, action, reward, next_state, terminated)
        self.next_index = min(self.next_index + 1, self.capacity - 1)
        self.size = min(self.size + 1, self.capacity)


@mutant(A, "ReplayBuffer", "buffer_never_samples_unfilled_slots")
class BufferSamplingWholeCapacity(_Reference):
    """Samples over range(capacity): returns unfilled all-zero rows before the buffer is full."""

    def sample(self, batch_size):
        return self._gather(self.rng.integers(0, self.capacity, size=batch_size))


@mutant(A, "ReplayBuffer", "buffer_sample_is_uniform")
class BufferWithoutNewest(_Reference):
    """rng.integers(0, len - 1): the upper bound is already exclusive, one filled row is never drawn."""

    def sample(self, batch_size):
        return self._gather(self.rng.integers(0, self.size - 1, size=batch_size))


@mutant(A, "ReplayBuffer", "buffer_rows_are_whole_transitions", "replay_dqn_gate")
class BufferMixingRows(_Reference):
    """Draws separate indices for the states and for the other fields (the gate scores it 26.9: random play)."""

    def sample(self, batch_size):
        state_indices = self.rng.integers(0, self.size, size=batch_size)
        states, actions, rewards, next_states, terminateds = self._gather(
            self.rng.integers(0, self.size, size=batch_size)
        )
        return self.states[state_indices], actions, rewards, next_states, terminateds


@mutant(A, "ReplayBuffer", "buffer_rows_are_whole_transitions", "train_replay_dqn_bootstraps_through_truncation")
class BufferStoringRewardAsTerminated(_Reference):
    """A copy-paste slip in add: the reward is written into terminateds."""

    def add(self, state, action, reward, next_state, terminated):
        super().add(state, action, reward, next_state, reward)


@mutant(A, "ReplayBuffer", "buffer_sample_dtypes_and_shapes")
class BufferWithDefaultDtypes(_Reference):
    """Allocates with np.zeros defaults: float64 states and float64 actions."""

    def __init__(self, capacity, obs_dim, seed=None):
        super().__init__(capacity, obs_dim, seed)
        self.states = np.zeros((capacity, obs_dim))
        self.actions = np.zeros(capacity)
        self.next_states = np.zeros((capacity, obs_dim))


@mutant(A, "ReplayBuffer", "buffer_len_grows_then_caps")
class BufferLenIsCapacity(_Reference):
    """__len__ returns the capacity instead of the number of stored transitions."""

    def __len__(self):
        return self.capacity


@mutant(A, "ReplayBuffer", "buffer_seed_makes_sampling_repeatable")
class BufferUsingGlobalRandom(_Reference):
    """Samples with np.random.randint: the seed is ignored."""

    def sample(self, batch_size):
        return self._gather(np.random.randint(0, self.size, size=batch_size))


@mutant(A, "ReplayBuffer", "buffer_seed_makes_sampling_repeatable")
class BufferReseedingEachSample(_Reference):
    """Creates np.random.default_rng(seed) inside sample: every call returns the same batch."""

    def __init__(self, capacity, obs_dim, seed=None):
        super().__init__(capacity, obs_dim, seed)
        self.seed = seed

    def sample(self, batch_size):
        rng = np.random.default_rng(self.seed)
        return self._gather(rng.integers(0, self.size, size=batch_size))


@mutant(A, "ReplayBuffer", "buffer_sample_is_uniform")
class BufferSamplingNewest(_Reference):
    """Returns the batch_size newest transitions, not a random batch (the gate alone would pass it: 500.0)."""

    def sample(self, batch_size):
        return self._gather((self.next_index - 1 - np.arange(batch_size)) % self.size)


@alternative(A, "ReplayBuffer")
class BufferWithIfReset(_Reference):
    """Pointer reset with an if, a `full` flag instead of a size counter, rng.choice for the indices."""

    def __init__(self, capacity, obs_dim, seed=None):
        super().__init__(capacity, obs_dim, seed)
        self.full = False

    def add(self, state, action, reward, next_state, terminated):
        row = self.next_index
        self.states[row], self.actions[row], self.rewards[row] = state, action, reward
        self.next_states[row], self.terminateds[row] = next_state, terminated
        self.next_index += 1
        if self.next_index == self.capacity:
            self.next_index = 0
            self.full = True

    def sample(self, batch_size):
        indices = self.rng.choice(len(self), size=batch_size)
        return (
            self.states[indices],
            self.actions[indices],
            self.rewards[indices],
            self.next_states[indices],
            self.terminateds[indices],
        )

    def __len__(self):
        return self.capacity if self.full else self.next_index


@alternative(A, "ReplayBuffer")
class BufferWithoutReplacement(_Reference):
    """Samples distinct rows in each batch (rng.choice with replace=False)."""

    def sample(self, batch_size):
        return self._gather(self.rng.choice(self.size, size=batch_size, replace=False))


@alternative(A, "ReplayBuffer")
class BufferWithStructuredArray(_Reference):
    """Keeps one numpy structured array and counts adds; casts on the way out."""

    def __init__(self, capacity, obs_dim, seed=None):
        self.capacity = capacity
        self.memory = np.zeros(
            capacity,
            dtype=[
                ("state", np.float64, obs_dim),
                ("action", np.int32),
                ("reward", np.float64),
                ("next_state", np.float64, obs_dim),
                ("terminated", bool),
            ],
        )
        self.rng = np.random.default_rng(seed)
        self.adds = 0

    def add(self, state, action, reward, next_state, terminated):
        self.memory[self.adds % self.capacity] = (state, action, reward, next_state, terminated)
        self.adds += 1

    def sample(self, batch_size):
        rows = self.memory[self.rng.integers(len(self), size=batch_size)]
        return (
            rows["state"].astype(np.float32),
            rows["action"].astype(np.int64),
            rows["reward"].astype(np.float32),
            rows["next_state"].astype(np.float32),
            rows["terminated"].copy(),
        )

    def __len__(self):
        return min(self.adds, self.capacity)


# ---------------------------------------------------------------- the training loop and the gate

patched(
    A,
    "train_replay_dqn",
    "next_state, terminated)",
    "next_state, terminated or truncated)",
    "train_replay_dqn_bootstraps_through_truncation",
    name="truncation_stored_as_terminal",
    description="Stores `terminated or truncated` in the buffer: a time limit cuts the bootstrap.",
)
