"""Mutants and alternatives for notebook 05 (target network, Huber, Double DQN, conv net)."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.mutants import alternative, mutant, patched

A = "05_target_network"


# ---------------------------------------------------------------- compute_td_loss_with_target


def _loss_with(target_and_losses):
    """A full compute_td_loss_with_target around target_and_losses(network, target_network, predicted,
    rewards, next_states, is_done, gamma, loss_type) -> losses."""

    def compute_td_loss_with_target(
        network, target_network, states, actions, rewards, next_states, is_done, gamma=0.99, loss_type="mse"
    ):
        states = torch.as_tensor(np.asarray(states), dtype=torch.float32)
        actions = torch.as_tensor(np.asarray(actions), dtype=torch.long)
        rewards = torch.as_tensor(np.asarray(rewards), dtype=torch.float32)
        next_states = torch.as_tensor(np.asarray(next_states), dtype=torch.float32)
        is_done = torch.as_tensor(np.asarray(is_done), dtype=torch.bool)
        predicted = network(states)[torch.arange(len(actions)), actions]
        losses = target_and_losses(network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type)
        return losses.mean(), losses

    return compute_td_loss_with_target


def _per_sample(predicted, target, loss_type):
    if loss_type == "huber":
        return F.smooth_l1_loss(predicted, target, reduction="none")
    return (predicted - target) ** 2


@mutant(A, "compute_td_loss_with_target", "target_loss_uses_target_network", build=_loss_with)
def bootstrapping_from_online_network(
    network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type
):
    """Bootstraps from the online network: the target network is never used."""
    with torch.no_grad():
        target = torch.where(is_done, rewards, rewards + gamma * network(next_states).max(dim=1).values)
    return _per_sample(predicted, target, loss_type)


@mutant(A, "compute_td_loss_with_target", "target_loss_gradients", build=_loss_with)
def target_network_receives_gradient(
    network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type
):
    """Forgets no_grad around the target network: the optimizer of another setup could move it."""
    target = torch.where(is_done, rewards, rewards + gamma * target_network(next_states).max(dim=1).values)
    return _per_sample(predicted, target, loss_type)


@mutant(A, "compute_td_loss_with_target", "target_loss_huber", build=_loss_with)
def huber_reduced_to_a_scalar(network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type):
    """Calls smooth_l1_loss with its default reduction='mean', so every sample gets the batch mean."""
    with torch.no_grad():
        target = torch.where(is_done, rewards, rewards + gamma * target_network(next_states).max(dim=1).values)
    if loss_type == "huber":
        return F.smooth_l1_loss(predicted, target).expand(len(predicted))
    return (predicted - target) ** 2


@mutant(A, "compute_td_loss_with_target", "target_loss_huber", build=_loss_with)
def huber_ignored(network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type):
    """Always uses the squared error, whatever loss_type says."""
    with torch.no_grad():
        target = torch.where(is_done, rewards, rewards + gamma * target_network(next_states).max(dim=1).values)
    return (predicted - target) ** 2


@mutant(A, "compute_td_loss_with_target", "target_loss_uses_target_network", build=_loss_with)
def target_without_terminal_mask(network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type):
    """Bootstraps from terminal states too."""
    with torch.no_grad():
        target = rewards + gamma * target_network(next_states).max(dim=1).values
    return _per_sample(predicted, target, loss_type)


@alternative(A, "compute_td_loss_with_target", build=_loss_with)
def huber_by_hand(network, target_network, predicted, rewards, next_states, is_done, gamma, loss_type):
    """.detach() instead of no_grad, and the Huber formula written out."""
    next_values = target_network(next_states).max(dim=1).values.detach()
    target = rewards + gamma * next_values * (1 - is_done.float())
    error = predicted - target
    if loss_type == "huber":
        return torch.where(error.abs() < 1, 0.5 * error**2, error.abs() - 0.5)
    return error**2


# ---------------------------------------------------------------- hard_update / soft_update


@mutant(A, "hard_update", "hard_update_copies_everything")
def hard_update_parameters_only(target_network, network):
    """Copies the parameters but not the buffers (BatchNorm's running statistics)."""
    with torch.no_grad():
        for target_param, param in zip(target_network.parameters(), network.parameters()):
            target_param.copy_(param)


@mutant(A, "hard_update", "hard_update_copies_everything")
def hard_update_rebinding(target_network, network):
    """Rebinds the local name: `target_network = network` changes nothing outside the function."""
    target_network = network  # noqa: F841 (the bug)


@mutant(A, "hard_update", "hard_update_makes_an_independent_copy")
def hard_update_sharing_storage(target_network, network):
    """Points the target's tensors at the online network's: they move together from then on."""
    for target_tensor, tensor in zip(
        target_network.state_dict(keep_vars=True).values(), network.state_dict(keep_vars=True).values()
    ):
        target_tensor.data = tensor.data


@alternative(A, "hard_update")
def hard_update_by_copy(target_network, network):
    """Copies every state_dict entry with copy_ under no_grad."""
    with torch.no_grad():
        for target_tensor, tensor in zip(target_network.state_dict().values(), network.state_dict().values()):
            target_tensor.copy_(tensor)


def _polyak(update_pair):
    """A full soft_update that applies update_pair(target_param, param, tau) to every pair."""

    def soft_update(target_network, network, tau):
        for target_param, param in zip(target_network.parameters(), network.parameters()):
            update_pair(target_param, param, tau)

    return soft_update


# Under the gate (30 000 steps) this agent scores 9.3 (training seeds 0, 1, 2: 9.34, 9.36, 9.36):
# the target network becomes a copy of the online network after every step, and nothing is learnt.
@mutant(A, "soft_update", "soft_update_is_polyak", "soft_update_with_tau_one_copies", "full_agent_gate", build=_polyak)
def tau_the_wrong_way_round(target_param, param, tau):
    """Keeps tau of the target and takes 1 - tau of the online network."""
    with torch.no_grad():
        target_param.mul_(tau).add_((1 - tau) * param)


@mutant(A, "soft_update", "soft_update_is_polyak", "soft_update_with_tau_one_copies", build=_polyak)
def polyak_without_no_grad(target_param, param, tau):
    """Writes into a parameter that requires grad outside torch.no_grad() (PyTorch refuses)."""
    target_param.mul_(1 - tau).add_(tau * param)


@mutant(A, "soft_update", "soft_update_is_polyak", build=_polyak)
def polyak_into_a_local_name(target_param, param, tau):
    """Computes the mix into a new tensor bound to a local name; the target never changes."""
    with torch.no_grad():
        target_param = tau * param + (1 - tau) * target_param  # noqa: F841 (the bug)


@mutant(A, "soft_update", "soft_update_is_polyak")
def polyak_replacing_parameters(target_network, network, tau):
    """Replaces each target Parameter object with a new one instead of updating it in place."""
    for module in target_network.modules():
        for name, target_param in list(module.named_parameters(recurse=False)):
            online_param = dict(network.named_parameters())[
                next(n for n, p in target_network.named_parameters() if p is target_param)
            ]
            setattr(module, name, nn.Parameter((tau * online_param + (1 - tau) * target_param).detach()))


@mutant(A, "soft_update", "soft_update_with_tau_one_copies", build=_polyak)
def polyak_sharing_at_tau_one(target_param, param, tau):
    """Special-cases tau == 1 by sharing the tensor instead of copying it."""
    with torch.no_grad():
        if tau == 1.0:
            target_param.data = param.data
        else:
            target_param.mul_(1 - tau).add_(tau * param)


@alternative(A, "soft_update", build=_polyak)
def polyak_with_lerp(target_param, param, tau):
    """torch.lerp_ does the same interpolation."""
    with torch.no_grad():
        target_param.lerp_(param, tau)


# ---------------------------------------------------------------- compute_double_dqn_targets


def _double_with(next_values_of):
    """A full compute_double_dqn_targets around next_values_of(network, target_network, next_states)."""

    def compute_double_dqn_targets(network, target_network, rewards, next_states, is_done, gamma=0.99):
        rewards = torch.as_tensor(np.asarray(rewards), dtype=torch.float32)
        next_states = torch.as_tensor(np.asarray(next_states), dtype=torch.float32)
        is_done = torch.as_tensor(np.asarray(is_done), dtype=torch.bool)
        return torch.where(is_done, rewards, rewards + gamma * next_values_of(network, target_network, next_states))

    return compute_double_dqn_targets


@mutant(A, "compute_double_dqn_targets", "double_dqn_targets_exact", build=_double_with)
def target_network_picks_and_evaluates(network, target_network, next_states):
    """Vanilla DQN: the target network both picks and evaluates."""
    with torch.no_grad():
        return target_network(next_states).max(dim=1).values


@mutant(A, "compute_double_dqn_targets", "double_dqn_targets_exact", build=_double_with)
def roles_swapped(network, target_network, next_states):
    """The target network picks and the online network evaluates."""
    with torch.no_grad():
        next_actions = target_network(next_states).argmax(dim=1)
        return network(next_states).gather(1, next_actions[:, None]).squeeze(1)


@mutant(A, "compute_double_dqn_targets", "double_dqn_targets_carry_no_gradient", build=_double_with)
def double_targets_with_gradient(network, target_network, next_states):
    """Forgets no_grad: the targets carry gradient into the target network."""
    next_actions = network(next_states).argmax(dim=1)
    return target_network(next_states).gather(1, next_actions[:, None]).squeeze(1)


@alternative(A, "compute_double_dqn_targets", build=_double_with)
def double_targets_by_indexing(network, target_network, next_states):
    """Indexing instead of gather, and .detach() instead of no_grad."""
    next_actions = network(next_states).argmax(dim=1)
    return target_network(next_states)[torch.arange(len(next_actions)), next_actions].detach()


# ---------------------------------------------------------------- conv_output_size / ConvQNetwork


@mutant(A, "conv_output_size", "conv_output_size_values")
def conv_size_without_plus_one(size, kernel_size=5, stride=2):
    """Forgets the + 1."""
    return (size - kernel_size) // stride


@mutant(A, "conv_output_size", "conv_output_size_values")
def conv_size_as_float(size, kernel_size=5, stride=2):
    """Uses true division: a float, and a wrong size when stride does not divide evenly."""
    return (size - kernel_size) / stride + 1


class _ConvBody(nn.Module):
    """Seed 001's three conv layers; subclasses decide the head."""

    def __init__(self, in_channels):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, 16, 5, 2),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 5, 2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 32, 5, 2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
        )


def _side(size):
    for _ in range(3):
        size = (size - 5) // 2 + 1
    return size


@mutant(A, "ConvQNetwork", "conv_network_shapes")
class ConvNetworkSquareOnly(_ConvBody):
    """Computes the head's size from the width twice (fine for square images only)."""

    def __init__(self, in_channels, height, width, n_actions):
        super().__init__(in_channels)
        self.head = nn.Linear(_side(width) * _side(width) * 32, n_actions)

    def forward(self, x):
        return self.head(self.body(x).flatten(1))


@mutant(A, "ConvQNetwork", "conv_network_shapes")
class ConvNetworkFlatteningTheBatch(_ConvBody):
    """Flattens everything, batch included, with x.view(-1)."""

    def __init__(self, in_channels, height, width, n_actions):
        super().__init__(in_channels)
        self.head = nn.Linear(_side(width) * _side(height) * 32, n_actions)

    def forward(self, x):
        return self.head(self.body(x).view(-1))


@alternative(A, "ConvQNetwork")
class ConvNetworkLazyHead(_ConvBody):
    """Measures the flattened size with a dummy forward pass instead of the formula."""

    def __init__(self, in_channels, height, width, n_actions):
        super().__init__(in_channels)
        with torch.no_grad():
            flat = self.body(torch.zeros(2, in_channels, height, width)).flatten(1).shape[1]
        self.head = nn.Linear(flat, n_actions)

    def forward(self, x):
        return self.head(self.body(x).flatten(1))


# ---------------------------------------------------------------- the assembled agent

patched(
    A,
    "train_full_agent",
    "next_state, terminated)",
    "next_state, terminated or truncated)",
    "full_agent_bootstraps_through_truncation",
    name="truncation_stored_as_terminal",
    description="Stores `terminated or truncated` in the buffer: a time limit cuts the bootstrap.",
)
