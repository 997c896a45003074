"""Mutants and alternatives for notebook 02 (online DQN)."""

import math
import random

import numpy as np
import torch
from torch import nn

from autograder.mutants import alternative, mutant, patched

A = "02_online_dqn"


# ---------------------------------------------------------------- create_network


@mutant(A, "create_network", "network_head_has_no_activation")
def network_with_relu_head(input_dim, hidden_dims, output_dim):
    """Puts a ReLU after the output layer too, so no Q-value can be negative."""
    layers, size = [], input_dim
    for hidden in [*hidden_dims, output_dim]:
        layers += [nn.Linear(size, hidden), nn.ReLU()]
        size = hidden
    return nn.Sequential(*layers)


@mutant(A, "create_network", "network_layers_follow_hidden_dims")
def network_with_fixed_sizes(input_dim, hidden_dims, output_dim):
    """Ignores hidden_dims and hard-codes two layers of 128 (the seed notebooks' sizes)."""
    return nn.Sequential(
        nn.Linear(input_dim, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, output_dim)
    )


@mutant(A, "create_network", "network_is_not_linear")
def network_without_activations(input_dim, hidden_dims, output_dim):
    """Stacks Linear layers with no ReLU between them: the whole network is one linear map."""
    sizes = [input_dim, *hidden_dims, output_dim]
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])


@alternative(A, "create_network")
class NetworkAsModule(nn.Module):
    """A hand-written nn.Module with a ModuleList instead of nn.Sequential."""

    def __init__(self, input_dim, hidden_dims, output_dim):
        super().__init__()
        sizes = [input_dim, *hidden_dims]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.activation = nn.ReLU()
        self.head = nn.Linear(sizes[-1], output_dim)

    def forward(self, x):
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.head(x)


# ---------------------------------------------------------------- epsilon schedules


@mutant(A, "linear_epsilon", "linear_epsilon_values")
def linear_epsilon_without_floor(step, eps_start, eps_end, decay_steps):
    """Keeps decaying after decay_steps, below eps_end and eventually negative."""
    return float(eps_start + (eps_end - eps_start) * step / decay_steps)


@mutant(A, "linear_epsilon", "linear_epsilon_values")
def linear_epsilon_to_zero(step, eps_start, eps_end, decay_steps):
    """Decays towards 0 and clips at eps_end, instead of interpolating towards eps_end."""
    return float(max(eps_start * (1 - step / decay_steps), eps_end))


@alternative(A, "linear_epsilon")
def linear_epsilon_with_numpy(step, eps_start, eps_end, decay_steps):
    """np.interp does the interpolation and the clamping."""
    return float(np.interp(step, [0, decay_steps], [eps_start, eps_end]))


@mutant(A, "exponential_epsilon", "exponential_epsilon_values")
def exponential_epsilon_to_zero(step, eps_start, eps_end, decay):
    """Forgets eps_end: decays towards 0, so exploration stops entirely."""
    return float(eps_start * math.exp(-step / decay))


@mutant(A, "exponential_epsilon", "exponential_epsilon_values")
def exponential_epsilon_multiplicative(step, eps_start, eps_end, decay):
    """Reads decay as a per-step factor (eps_start * decay ** step), as in seed 001's agent."""
    return float(max(eps_end, eps_start * decay**step))


# ---------------------------------------------------------------- select_action_eps_greedy


def _greedy_then(choose):
    """A selection function that computes Q under no_grad, then lets `choose(q_values, epsilon)` pick."""

    def select_action_eps_greedy(network, state, epsilon):
        with torch.no_grad():
            q_values = network(torch.as_tensor(np.asarray(state), dtype=torch.float32))
        return choose(q_values, epsilon)

    return select_action_eps_greedy


@mutant(A, "select_action_eps_greedy", "action_is_python_int", build=_greedy_then)
def action_as_tensor(q_values, epsilon):
    """Returns argmax's tensor instead of a Python int."""
    if random.random() < epsilon:
        return random.randrange(q_values.shape[-1])
    return q_values.argmax()


@mutant(A, "select_action_eps_greedy", "greedy_at_epsilon_zero", "mixture_at_epsilon_between", build=_greedy_then)
def epsilon_compared_the_wrong_way(q_values, epsilon):
    """Explores when random() > epsilon: random at epsilon 0, greedy at epsilon 1."""
    if random.random() > epsilon:
        return random.randrange(q_values.shape[-1])
    return int(q_values.argmax())


@mutant(A, "select_action_eps_greedy", "mixture_at_epsilon_between", "uniform_at_epsilon_one", build=_greedy_then)
def exploring_only_other_actions(q_values, epsilon):
    """Explores only among the non-greedy actions."""
    greedy = int(q_values.argmax())
    if random.random() < epsilon:
        return random.choice([a for a in range(q_values.shape[-1]) if a != greedy])
    return greedy


@mutant(A, "select_action_eps_greedy", "greedy_at_epsilon_zero", build=_greedy_then)
def acting_on_the_lowest_value(q_values, epsilon):
    """Takes argmin instead of argmax."""
    if random.random() < epsilon:
        return random.randrange(q_values.shape[-1])
    return int(q_values.argmin())


@mutant(A, "select_action_eps_greedy", "uniform_at_epsilon_one", build=_greedy_then)
def binary_exploration(q_values, epsilon):
    """Explores with random.randint(0, 1): right for CartPole, wrong for any other action count."""
    if random.random() < epsilon:
        return random.randint(0, 1)
    return int(q_values.argmax())


@alternative(A, "select_action_eps_greedy", build=_greedy_then)
def numpy_exploration(q_values, epsilon):
    """numpy's RNG, and argmax through numpy."""
    if np.random.rand() < epsilon:
        return int(np.random.randint(q_values.shape[-1]))
    return int(np.argmax(q_values.numpy()))


@mutant(A, "select_action_eps_greedy", "acting_builds_no_graph")
def acting_with_detach(network, state, epsilon):
    """Builds the graph, then detaches (the seminar's skeleton): correct actions, wasted graph."""
    q_values = network(torch.as_tensor(np.asarray(state), dtype=torch.float32)).detach()
    if random.random() < epsilon:
        return random.randrange(q_values.shape[-1])
    return int(q_values.argmax())


@mutant(A, "select_action_eps_greedy", "acting_builds_no_graph")
def acting_like_cleanrl(network, state, epsilon):
    """CleanRL's acting code: right actions, but the forward pass builds an autograd graph at every step
    (the docstring now says that acting builds none, and the check's hint points there)."""
    q_values = network(torch.Tensor(np.asarray(state)))
    if random.random() < epsilon:
        return random.randrange(q_values.shape[-1])
    return int(torch.argmax(q_values).item())


# ---------------------------------------------------------------- compute_td_loss


def _td_loss_with(
    target_of, pick=lambda q, actions: q[torch.arange(len(actions)), actions], convert=np.array, regularized=True
):
    """A full compute_td_loss whose target is target_of(network, rewards, next_states, is_done, gamma)."""

    def compute_td_loss(
        network, states, actions, rewards, next_states, is_done, gamma=0.99, check_shapes=False, regularizer=0.1
    ):
        states = torch.as_tensor(convert(states), dtype=torch.float32)
        actions = torch.as_tensor(convert(actions), dtype=torch.long)
        rewards = torch.as_tensor(convert(rewards), dtype=torch.float32)
        next_states = torch.as_tensor(convert(next_states), dtype=torch.float32)
        is_done = torch.as_tensor(convert(is_done), dtype=torch.bool)
        predicted = pick(network(states), actions)
        losses = (predicted - target_of(network, rewards, next_states, is_done, gamma)) ** 2
        penalty = regularizer * predicted.abs().mean() if regularized else 0.0
        return losses.mean() + penalty, losses

    return compute_td_loss


def _correct_target(network, rewards, next_states, is_done, gamma):
    with torch.no_grad():
        return torch.where(is_done, rewards, rewards + gamma * network(next_states).max(dim=1).values)


@mutant(A, "compute_td_loss", "td_gradient_reaches_only_the_prediction", build=_td_loss_with)
def target_without_stop_gradient(network, rewards, next_states, is_done, gamma):
    """Forgets the stop-gradient: the target carries gradient into Q(s')."""
    return torch.where(is_done, rewards, rewards + gamma * network(next_states).max(dim=1).values)


@mutant(A, "compute_td_loss", "td_target_is_masked_at_terminal", "td_learning_finds_probe_values", build=_td_loss_with)
def target_without_terminal_mask(network, rewards, next_states, is_done, gamma):
    """Bootstraps from terminal states too."""
    with torch.no_grad():
        return rewards + gamma * network(next_states).max(dim=1).values


@mutant(A, "compute_td_loss", "td_target_is_masked_at_terminal", build=_td_loss_with)
def target_with_inverted_mask(network, rewards, next_states, is_done, gamma):
    """Swaps the branches of torch.where: bootstraps only from terminal states."""
    with torch.no_grad():
        return torch.where(is_done, rewards + gamma * network(next_states).max(dim=1).values, rewards)


@mutant(A, "compute_td_loss", "td_losses_exact", build=_td_loss_with)
def target_max_over_batch(network, rewards, next_states, is_done, gamma):
    """Takes the max over the batch axis (dim=0) instead of the action axis."""
    with torch.no_grad():
        next_values = network(next_states).max(dim=0).values
        return torch.where(is_done, rewards, rewards + gamma * next_values.max())


@mutant(A, "compute_td_loss", "td_losses_exact", "td_learning_finds_probe_values", build=_td_loss_with)
def target_max_over_batch_axis(network, rewards, next_states, is_done, gamma):
    """max(dim=0): one value per action, [n_actions], which cannot meet [batch] (a RuntimeError in PyTorch).
    The probe check used to let that RuntimeError through raw; it now names the shapes."""
    with torch.no_grad():
        return torch.where(is_done, rewards, rewards + gamma * network(next_states).max(dim=0).values)


@mutant(A, "compute_td_loss", "td_losses_exact", build=_td_loss_with)
def target_without_discount(network, rewards, next_states, is_done, gamma):
    """Forgets gamma."""
    with torch.no_grad():
        return torch.where(is_done, rewards, rewards + network(next_states).max(dim=1).values)


@mutant(A, "compute_td_loss", "td_losses_exact", build=_td_loss_with)
def target_with_column_vector(network, rewards, next_states, is_done, gamma):
    """keepdim=True makes the target [batch, 1]; minus a [batch] prediction it broadcasts to [batch, batch]."""
    with torch.no_grad():
        next_values = network(next_states).max(dim=1, keepdim=True).values
        return torch.where(is_done[:, None], rewards[:, None], rewards[:, None] + gamma * next_values)


@mutant(
    A,
    "compute_td_loss",
    "td_losses_exact",
    "td_learning_finds_probe_values",
    build=lambda target: _td_loss_with(target, pick=lambda q, actions: q[:, actions]),
)
def prediction_with_wrong_gather(network, rewards, next_states, is_done, gamma):
    """Picks Q(s, a) with q[:, actions], a [batch, batch] table instead of one value per row."""
    return _correct_target(network, rewards, next_states, is_done, gamma)


@mutant(A, "compute_td_loss", "td_loss_adds_regularizer", build=lambda target: _td_loss_with(target, regularized=False))
def loss_without_regularizer(network, rewards, next_states, is_done, gamma):
    """Drops the regularizer term that the exercise asks for."""
    return _correct_target(network, rewards, next_states, is_done, gamma)


@mutant(
    A,
    "compute_td_loss",
    "td_loss_accepts_lists_arrays_and_tensors",
    build=lambda target: _td_loss_with(target, convert=lambda x: torch.from_numpy(x).numpy()),
)
def inputs_through_from_numpy(network, rewards, next_states, is_done, gamma):
    """Converts inputs with torch.from_numpy, which accepts numpy arrays only."""
    return _correct_target(network, rewards, next_states, is_done, gamma)


@alternative(
    A,
    "compute_td_loss",
    build=lambda target: _td_loss_with(target, pick=lambda q, actions: q.gather(1, actions[:, None]).squeeze(1)),
)
def target_detached(network, rewards, next_states, is_done, gamma):
    """.detach() instead of no_grad, a multiplicative mask, and gather instead of indexing."""
    next_values = network(next_states).max(dim=1).values.detach()
    return rewards + gamma * next_values * (~is_done).float()


# ---------------------------------------------------------------- the training loop and the gate

patched(
    A,
    "train_online_dqn",
    "[terminated],",
    "[terminated or truncated],",
    "loop_bootstraps_through_truncation",
    name="truncation_treated_as_terminal",
    description="Passes `terminated or truncated` as is_done: a time limit cuts the bootstrap.",
)


@mutant(A, "select_action_eps_greedy", "online_dqn_gate", build=_greedy_then)
def greedy_on_the_worst_action(q_values, epsilon):
    """Exploits with argmin: every unit check of compute_td_loss passes, the agent cannot learn to act."""
    if random.random() < epsilon:
        return random.randrange(q_values.shape[-1])
    return int(q_values.argmin())
