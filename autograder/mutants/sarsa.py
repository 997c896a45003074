"""Mutants and alternatives for notebook 06 (SARSA and expected SARSA)."""

import numpy as np
import torch

from autograder.mutants import alternative, mutant, patched

A = "06_sarsa"


def _tensors(*arrays_and_dtypes):
    return [torch.as_tensor(np.asarray(x), dtype=dtype) for x, dtype in arrays_and_dtypes]


def _sarsa_with(next_values_of):
    """A full compute_sarsa_loss around next_values_of(network, next_states, next_actions) -> (batch,)."""

    def compute_sarsa_loss(network, states, actions, rewards, next_states, next_actions, is_done, gamma=0.99):
        states, actions, rewards, next_states, next_actions, is_done = _tensors(
            (states, torch.float32),
            (actions, torch.long),
            (rewards, torch.float32),
            (next_states, torch.float32),
            (next_actions, torch.long),
            (is_done, torch.bool),
        )
        predicted = network(states)[torch.arange(len(actions)), actions]
        target = torch.where(is_done, rewards, rewards + gamma * next_values_of(network, next_states, next_actions))
        losses = (predicted - target) ** 2
        return losses.mean(), losses

    return compute_sarsa_loss


@mutant(A, "compute_sarsa_loss", "sarsa_losses_exact", "sarsa_takes_the_safe_path", build=_sarsa_with)
def sarsa_using_max(network, next_states, next_actions):
    """Bootstraps from max_a' Q(s', a'): that is Q-learning."""
    with torch.no_grad():
        return network(next_states).max(dim=1).values


@mutant(A, "compute_sarsa_loss", "sarsa_losses_exact", "sarsa_takes_the_safe_path", build=_sarsa_with)
def sarsa_with_a_fixed_next_action(network, next_states, next_actions):
    """Evaluates Q(s', 0) for every transition, ignoring next_actions."""
    with torch.no_grad():
        return network(next_states)[:, 0]


@mutant(A, "compute_sarsa_loss", "sarsa_target_carries_no_gradient", build=_sarsa_with)
def sarsa_target_with_gradient(network, next_states, next_actions):
    """Forgets the stop-gradient on Q(s', a')."""
    return network(next_states)[torch.arange(len(next_actions)), next_actions]


@mutant(A, "compute_sarsa_loss", "sarsa_masks_terminal", "deep_sarsa_gate")
def sarsa_without_terminal_mask(network, states, actions, rewards, next_states, next_actions, is_done, gamma=0.99):
    """Bootstraps from terminal states too: on CartPole a fall then costs nothing, and the agent does not learn."""
    states, actions, rewards, next_states, next_actions = _tensors(
        (states, torch.float32),
        (actions, torch.long),
        (rewards, torch.float32),
        (next_states, torch.float32),
        (next_actions, torch.long),
    )
    predicted = network(states)[torch.arange(len(actions)), actions]
    with torch.no_grad():
        target = rewards + gamma * network(next_states)[torch.arange(len(next_actions)), next_actions]
    losses = (predicted - target) ** 2
    return losses.mean(), losses


@alternative(A, "compute_sarsa_loss", build=_sarsa_with)
def sarsa_with_gather(network, next_states, next_actions):
    """gather and .detach() instead of indexing under no_grad."""
    return network(next_states).gather(1, next_actions[:, None]).squeeze(1).detach()


def _expected_with(policy_of):
    """A full compute_expected_sarsa_loss whose policy weights are policy_of(next_qvalues, epsilon)."""

    def compute_expected_sarsa_loss(network, states, actions, rewards, next_states, is_done, epsilon, gamma=0.99):
        states, actions, rewards, next_states, is_done = _tensors(
            (states, torch.float32),
            (actions, torch.long),
            (rewards, torch.float32),
            (next_states, torch.float32),
            (is_done, torch.bool),
        )
        predicted = network(states)[torch.arange(len(actions)), actions]
        with torch.no_grad():
            next_qvalues = network(next_states)
            next_values = (policy_of(next_qvalues, epsilon) * next_qvalues).sum(dim=1)
            target = torch.where(is_done, rewards, rewards + gamma * next_values)
        losses = (predicted - target) ** 2
        return losses.mean(), losses

    return compute_expected_sarsa_loss


def _one_hot_greedy(next_qvalues):
    return torch.nn.functional.one_hot(next_qvalues.argmax(dim=1), next_qvalues.shape[1]).float()


@mutant(A, "compute_expected_sarsa_loss", "expected_sarsa_losses_exact", build=_expected_with)
def greedy_weight_without_its_share(next_qvalues, epsilon):
    """Gives the greedy action 1 - epsilon and forgets its epsilon / n share: weights sum to 1 - epsilon / n."""
    greedy = _one_hot_greedy(next_qvalues)
    return greedy * (1 - epsilon) + (1 - greedy) * epsilon / next_qvalues.shape[1]


@mutant(A, "compute_expected_sarsa_loss", "expected_sarsa_losses_exact", "expected_sarsa_limits", build=_expected_with)
def exploration_spread_over_others(next_qvalues, epsilon):
    """Spreads epsilon over the non-greedy actions only."""
    greedy = _one_hot_greedy(next_qvalues)
    return greedy * (1 - epsilon) + (1 - greedy) * epsilon / (next_qvalues.shape[1] - 1)


@mutant(
    A,
    "compute_expected_sarsa_loss",
    "expected_sarsa_losses_exact",
    "expected_sarsa_limits",
    "expected_sarsa_takes_the_safe_path",
    build=_expected_with,
)
def expectation_over_the_greedy_policy(next_qvalues, epsilon):
    """Ignores epsilon and weighs only the greedy action: the max, i.e. Q-learning."""
    return _one_hot_greedy(next_qvalues)


@mutant(A, "compute_expected_sarsa_loss", "expected_sarsa_limits", build=_expected_with)
def epsilon_and_greedy_swapped(next_qvalues, epsilon):
    """Swaps the roles: the greedy action gets epsilon more, the rest share 1 - epsilon."""
    return (
        torch.full_like(next_qvalues, (1 - epsilon) / next_qvalues.shape[1]) + _one_hot_greedy(next_qvalues) * epsilon
    )


@mutant(A, "compute_expected_sarsa_loss", "expected_sarsa_target_carries_no_gradient")
def expected_target_with_gradient(network, states, actions, rewards, next_states, is_done, epsilon, gamma=0.99):
    """Computes the expectation with gradient tracking on."""
    states, actions, rewards, next_states, is_done = _tensors(
        (states, torch.float32),
        (actions, torch.long),
        (rewards, torch.float32),
        (next_states, torch.float32),
        (is_done, torch.bool),
    )
    predicted = network(states)[torch.arange(len(actions)), actions]
    next_qvalues = network(next_states)
    policy = torch.full_like(next_qvalues, epsilon / next_qvalues.shape[1]) + (1 - epsilon) * _one_hot_greedy(
        next_qvalues
    )
    target = torch.where(is_done, rewards, rewards + gamma * (policy * next_qvalues).sum(dim=1))
    losses = (predicted - target) ** 2
    return losses.mean(), losses


@alternative(A, "compute_expected_sarsa_loss", build=_expected_with)
def expected_value_as_mix(next_qvalues, epsilon):
    """epsilon * uniform + (1 - epsilon) * greedy, written as a mixture of two policies."""
    uniform = torch.full_like(next_qvalues, 1 / next_qvalues.shape[1])
    return epsilon * uniform + (1 - epsilon) * _one_hot_greedy(next_qvalues)


# ---------------------------------------------------------------- deep SARSA on CartPole: the loop

patched(
    A,
    "train_deep_sarsa",
    "[terminated], gamma",
    "[terminated or truncated], gamma",
    "deep_sarsa_loop_bootstraps_through_truncation",
    name="deep_sarsa_truncation_treated_as_terminal",
    description="Passes `terminated or truncated` as is_done: a time limit cuts the bootstrap.",
)
