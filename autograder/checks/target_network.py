"""Checks of notebook 05: the TD loss with a target network (MSE and Huber), hard and soft target
updates, Double DQN targets, the convolutional Q-network's shapes, and the assembled agent (its
training loop on a truncation probe, and the reward gate).

The hand example: online network Q and target network Q- (TableQNetwork, 4 one-hot states,
2 actions), gamma = 0.5, four transitions.
  Q(s0) = [1, 2]   Q(s1) = [3, -1]   Q(s2) = [0.5, 4]   Q(s3) = [-2, 0]
  Q-(s0) = [0, 1]  Q-(s1) = [5, 1]   Q-(s2) = [1, 3]    Q-(s3) = [-1, -3]
  i  s  a  r     s'  done  Q(s,a)  DQN target (max of Q-)   TD error   squared   Huber
  0  0  1  1     1   no    2       1 + 0.5 * 5 = 3.5         -1.5       2.25      1.0
  1  2  0  -1    3   no    0.5     -1 + 0.5 * -1 = -1.5      2          4         1.5
  2  1  1  2     2   yes   -1      2                          -3         9         2.5
  3  3  0  -2.9  0   no    -2      -2.9 + 0.5 * 1 = -2.4     0.4        0.16      0.08
  Huber (smooth L1, beta 1): 0.5 d^2 where |d| < 1, else |d| - 0.5.
Double DQN: the online network picks a' = argmax Q(s', .), the target network evaluates it:
  s'=1: a'=0, Q-(1, 0) = 5 -> 3.5;  s'=3: a'=1, Q-(3, 1) = -3 -> -2.5 (vanilla DQN: -1.5);
  done -> 2;  s'=0: a'=1, Q-(0, 1) = 1 -> -2.4.   Targets [3.5, -2.5, 2, -2.4].
"""

import copy

import numpy as np
import torch
from torch import nn

from autograder.checks.core import CellChecks, CheckFailure, assert_close, check, runtime_errors_fail
from autograder.fakes import TableQNetwork, one_hot
from autograder.gates import GATES, assert_passes_gate
from autograder.probes import assert_bootstraps_through_truncation

ASSIGNMENT = "05_target_network"
TOLERANCE = 1e-5  # float32 arithmetic on numbers of order 1

ONLINE_TABLE = [[1.0, 2.0], [3.0, -1.0], [0.5, 4.0], [-2.0, 0.0]]
TARGET_TABLE = [[0.0, 1.0], [5.0, 1.0], [1.0, 3.0], [-1.0, -3.0]]
STATES, ACTIONS, REWARDS = [0, 2, 1, 3], [1, 0, 1, 0], [1.0, -1.0, 2.0, -2.9]
NEXT_STATES, DONE = [1, 3, 2, 0], [False, False, True, False]
GAMMA = 0.5
MSE_LOSSES = [2.25, 4.0, 9.0, 0.16]
HUBER_LOSSES = [1.0, 1.5, 2.5, 0.08]
TD_ERRORS = [-1.5, 2.0, -3.0, 0.4]  # Q(s, a) - target
DOUBLE_DQN_TARGETS = [3.5, -2.5, 2.0, -2.4]
SHAPE_HINT = (
    "Q(s, a) and the target must both be [batch]: a [batch, 1] tensor against a [batch] one "
    "broadcasts to [batch, batch]; take max over dim=1 and squeeze after gather"
)


def _networks():
    return TableQNetwork(ONLINE_TABLE), TableQNetwork(TARGET_TABLE)


def _batch():
    return (
        one_hot(STATES, 4),
        np.array(ACTIONS),
        np.array(REWARDS, dtype=np.float32),
        one_hot(NEXT_STATES, 4),
        np.array(DONE),
    )


def _loss_with_target(compute_td_loss_with_target, network, target_network, loss_type):
    states, actions, rewards, next_states, done = _batch()
    with runtime_errors_fail("compute_td_loss_with_target raised an error on a batch of 4.", SHAPE_HINT):
        loss, losses = compute_td_loss_with_target(
            network, target_network, states, actions, rewards, next_states, done, gamma=GAMMA, loss_type=loss_type
        )
    if tuple(losses.shape) != (4,) or loss.dim() != 0:
        raise CheckFailure(
            "Wrong output shapes.",
            expected="losses (4,) and a scalar loss",
            got=f"losses {tuple(losses.shape)}, loss {tuple(loss.shape)}",
            hint=SHAPE_HINT,
        )
    return loss, losses


# ---------------------------------------------------------------- compute_td_loss_with_target


@check(ASSIGNMENT, cell="test_compute_td_loss_with_target")
def target_loss_uses_target_network(compute_td_loss_with_target):
    """the bootstrap value max_a' Q-(s', a') comes from the target network (exact MSE losses)"""
    loss, losses = _loss_with_target(compute_td_loss_with_target, *_networks(), "mse")
    assert_close(
        losses.detach(),
        MSE_LOSSES,
        what="losses (loss_type='mse') on the hand example",
        tolerance=TOLERANCE,
        hint="target = r + gamma * target_network(next_states).max(dim=1).values, just r where is_done; "
        "the ONLINE network only gives Q(s, a)",
    )
    assert_close(
        loss.item(),
        np.mean(MSE_LOSSES),
        what="loss = losses.mean()",
        tolerance=TOLERANCE,
        hint="loss is the mean of the per-sample losses (no regularizer in this notebook)",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss_with_target")
def target_loss_huber(compute_td_loss_with_target):
    """loss_type='huber' gives per-sample smooth L1 losses"""
    loss, losses = _loss_with_target(compute_td_loss_with_target, *_networks(), "huber")
    assert_close(
        losses.detach(),
        HUBER_LOSSES,
        what="losses (loss_type='huber') on the hand example",
        tolerance=TOLERANCE,
        hint="F.smooth_l1_loss(prediction, target, reduction='none'): "
        "0.5 * d**2 where |d| < 1, else |d| - 0.5; reduction='none' keeps one loss per sample",
    )
    assert_close(
        loss.item(),
        np.mean(HUBER_LOSSES),
        what="Huber loss = losses.mean()",
        tolerance=TOLERANCE,
        hint="loss is the mean of the per-sample losses",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss_with_target")
def target_loss_gradients(compute_td_loss_with_target):
    """gradient reaches only Q(s, a) of the online network; none reaches the target network"""
    network, target_network = _networks()
    loss, _ = _loss_with_target(compute_td_loss_with_target, network, target_network, "mse")
    loss.backward()
    target_grad = target_network.table.grad
    if target_grad is not None and target_grad.abs().max().item() > 0:
        raise CheckFailure(
            "The target network received gradients.",
            expected="target_network.table.grad is None (or zero)",
            got=target_grad.tolist(),
            hint="compute the target under torch.no_grad() (or .detach() it): the target network is only "
            "changed by hard_update / soft_update, never by the optimizer",
        )
    expected = np.zeros((4, 2))
    for state, action, error in zip(STATES, ACTIONS, TD_ERRORS):
        expected[state, action] += 2 * error / len(STATES)
    got = network.table.grad
    assert_close(
        np.zeros((4, 2)) if got is None else got,
        expected,
        what="the online network's gradient",
        tolerance=TOLERANCE,
        hint="only the prediction Q(s, a) = network(states)[range, actions] carries gradient",
    )


# ---------------------------------------------------------------- hard_update / soft_update


def _small_network(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _with_running_stats(network, seed):
    """Give the BatchNorm running statistics values of their own (a forward pass in train mode)."""
    torch.manual_seed(seed)
    network.train()
    with torch.no_grad():
        network(torch.randn(8, 3) * 3 + seed)
    return network


def _update_error(function, *arguments):
    with runtime_errors_fail(
        f"{function.__name__} raised an error.",
        "in-place changes to parameters that require grad must run under torch.no_grad() "
        "(use target_param.copy_(...) or .mul_()/.add_() inside `with torch.no_grad():`)",
    ):
        function(*arguments)


def _assert_independent(target_network, network, name):
    """The two networks share no storage, and the target's tensors are autograd leaves."""
    shared = [
        n
        for (n, t), s in zip(target_network.state_dict().items(), network.state_dict().values())
        if t.data_ptr() == s.data_ptr()
    ]
    if shared:
        raise CheckFailure(
            f"After {name}, the target network shares tensors with the online network.",
            expected="separate tensors (a copy of the values)",
            got=f"shared: {shared}",
            hint="`target_param.data = param.data` makes them the same tensor, so the target moves with every "
            "optimizer step; copy the values instead: target_param.copy_(param) under torch.no_grad()",
        )
    non_leaves = [n for n, p in target_network.named_parameters() if p.grad_fn is not None]
    if non_leaves:
        raise CheckFailure(
            f"After {name}, target parameters are part of an autograd graph.",
            expected="leaf tensors (grad_fn None)",
            got=f"non-leaf: {non_leaves}",
            hint="do the update under torch.no_grad()",
        )


@check(ASSIGNMENT, cell="test_hard_update")
def hard_update_copies_everything(hard_update):
    """hard_update copies all parameters and buffers into the target network"""
    network, target_network = _with_running_stats(_small_network(0), 0), _with_running_stats(_small_network(1), 5)
    _update_error(hard_update, target_network, network)
    differing = [
        n
        for (n, t), s in zip(target_network.state_dict().items(), network.state_dict().values())
        if not torch.equal(t, s)
    ]
    if differing:
        raise CheckFailure(
            "After hard_update the target network differs from the online network.",
            expected="every entry of state_dict() equal",
            got=f"different: {differing}",
            hint="target_network.load_state_dict(network.state_dict()) copies parameters AND buffers (such as "
            "BatchNorm's running mean); a loop over .parameters() misses the buffers, and rebinding a local "
            "name (target_network = network) changes nothing outside the function",
        )


@check(ASSIGNMENT, cell="test_hard_update")
def hard_update_makes_an_independent_copy(hard_update):
    """after hard_update, training the online network leaves the target unchanged"""
    network, target_network = _small_network(0), _small_network(1)
    _update_error(hard_update, target_network, network)
    _assert_independent(target_network, network, "hard_update")
    before = copy.deepcopy(target_network.state_dict())
    with torch.no_grad():
        for parameter in network.parameters():
            parameter.add_(1.0)
    if not all(torch.equal(before[n], t) for n, t in target_network.state_dict().items()):
        raise CheckFailure(
            "Changing the online network changed the target network.",
            expected="the target keeps the copied values",
            got="it moved too",
            hint="copy values (load_state_dict or copy_), do not share tensors",
        )


@check(ASSIGNMENT, cell="test_soft_update")
def soft_update_is_polyak(soft_update):
    """soft_update sets target = tau * online + (1 - tau) * target, in place"""
    network, target_network = _small_network(0), _small_network(1)
    online_before = [p.detach().clone() for p in network.parameters()]
    target_before = [p.detach().clone() for p in target_network.parameters()]
    parameter_objects = [id(p) for p in target_network.parameters()]
    _update_error(soft_update, target_network, network, 0.25)
    if [id(p) for p in target_network.parameters()] != parameter_objects:
        raise CheckFailure(
            "soft_update replaced the target's parameter objects.",
            expected="updated in place",
            got="new Parameter objects",
            hint="an optimizer or other code may hold the old ones: update in place with .copy_() or .mul_().add_()",
        )
    for online, target, after in zip(online_before, target_before, target_network.parameters()):
        expected = 0.25 * online + 0.75 * target
        if not torch.allclose(after.detach(), expected, atol=TOLERANCE):
            swapped = torch.allclose(after.detach(), 0.75 * online + 0.25 * target, atol=TOLERANCE)
            raise CheckFailure(
                "soft_update(target, online, tau=0.25) gave the wrong parameters.",
                expected="0.25 * online + 0.75 * target (a small step of the target towards the online network)",
                got="0.75 * online + 0.25 * target: tau is applied the wrong way round" if swapped else after.tolist(),
                hint="target_param.mul_(1 - tau).add_(tau * online_param) under torch.no_grad()",
            )
    if any(not torch.equal(a, p) for a, p in zip(online_before, network.parameters())):
        raise CheckFailure(
            "soft_update changed the online network.",
            expected="online parameters untouched",
            got="changed",
            hint="only the target network's parameters are written",
        )
    _assert_independent(target_network, network, "soft_update")


@check(ASSIGNMENT, cell="test_soft_update")
def soft_update_with_tau_one_copies(soft_update):
    """tau = 1 copies the online parameters; tau = 0 changes nothing"""
    network, target_network = _small_network(0), _small_network(1)
    target_before = [p.detach().clone() for p in target_network.parameters()]
    _update_error(soft_update, target_network, network, 0.0)
    if not all(torch.allclose(a, p, atol=TOLERANCE) for a, p in zip(target_before, target_network.parameters())):
        raise CheckFailure(
            "soft_update with tau = 0 changed the target network.",
            expected="no change",
            got="changed",
            hint="target = tau * online + (1 - tau) * target",
        )
    _update_error(soft_update, target_network, network, 1.0)
    if not all(torch.allclose(t, p, atol=TOLERANCE) for t, p in zip(target_network.parameters(), network.parameters())):
        raise CheckFailure(
            "soft_update with tau = 1 did not copy the online network.",
            expected="target == online",
            got="different",
            hint="target = tau * online + (1 - tau) * target",
        )
    _assert_independent(target_network, network, "soft_update(tau=1)")


# ---------------------------------------------------------------- compute_double_dqn_targets


@check(ASSIGNMENT, cell="test_compute_double_dqn_targets")
def double_dqn_targets_exact(compute_double_dqn_targets):
    """the online network picks a', the target network evaluates it"""
    network, target_network = _networks()
    _, _, rewards, next_states, done = _batch()
    targets = compute_double_dqn_targets(network, target_network, rewards, next_states, done, gamma=GAMMA)
    if tuple(targets.shape) != (4,):
        raise CheckFailure(
            "The targets must be one number per transition.",
            expected="shape (4,)",
            got=f"shape {tuple(targets.shape)}",
            hint=SHAPE_HINT,
        )
    got = targets.detach()
    if abs(got[1].item() + 1.5) < 1e-4:
        raise CheckFailure(
            "These are vanilla DQN targets: the target network both picked and evaluated a'.",
            expected=DOUBLE_DQN_TARGETS,
            got=got.tolist(),
            hint="a' = network(next_states).argmax(dim=1) (the ONLINE network picks), then "
            "target_network(next_states).gather(1, a'[:, None]).squeeze(1) evaluates it",
        )
    assert_close(
        got,
        DOUBLE_DQN_TARGETS,
        what="Double DQN targets on the hand example",
        tolerance=TOLERANCE,
        hint="r + gamma * Q-(s', argmax_a Q(s', a)), just r where is_done",
    )


@check(ASSIGNMENT, cell="test_compute_double_dqn_targets")
def double_dqn_targets_carry_no_gradient(compute_double_dqn_targets):
    """the targets carry no gradient to either network"""
    network, target_network = _networks()
    _, _, rewards, next_states, done = _batch()
    targets = compute_double_dqn_targets(network, target_network, rewards, next_states, done, gamma=GAMMA)
    if targets.requires_grad:
        raise CheckFailure(
            "The Double DQN targets require grad.",
            expected="targets.requires_grad == False",
            got="True",
            hint="compute them under torch.no_grad(): targets are fixed labels",
        )


# ---------------------------------------------------------------- conv_output_size / ConvQNetwork


@check(ASSIGNMENT, cell="test_conv_output_size")
def conv_output_size_values(conv_output_size):
    """output size of a convolution without padding: (size - kernel_size) // stride + 1"""
    cases = [((84,), 40), ((40,), 18), ((18,), 7), ((64, 3, 1), 62), ((7, 7, 1), 1), ((41,), 19)]
    got = [conv_output_size(*arguments) for arguments, _ in cases]
    expected = [size for _, size in cases]
    if got != expected or not all(isinstance(size, int) for size in got):
        raise CheckFailure(
            "conv_output_size gives wrong sizes for (size[, kernel_size, stride]) = "
            f"{[arguments for arguments, _ in cases]}.",
            expected=expected,
            got=got,
            hint="(size - (kernel_size - 1) - 1) // stride + 1, an int: integer division, and do not forget the + 1",
        )


@check(ASSIGNMENT, cell="test_ConvQNetwork")
def conv_network_shapes(ConvQNetwork):
    """ConvQNetwork maps images (batch, channels, height, width) to Q-values (batch, n_actions)"""
    for channels, height, width, n_actions in [(3, 40, 90, 2), (1, 84, 84, 4), (4, 64, 48, 3)]:
        torch.manual_seed(0)
        with runtime_errors_fail(
            f"ConvQNetwork({channels}, {height}, {width}, {n_actions}) fails on a batch of 5 images.",
            "the Linear head's input size is conv_output_size applied three times to the width, times "
            "three times to the height, times the last conv's channels (32); flatten with x.flatten(1) "
            "(note height != width here)",
        ):
            network = ConvQNetwork(channels, height, width, n_actions)
            q_values = network(torch.rand(5, channels, height, width))
        if tuple(q_values.shape) != (5, n_actions):
            raise CheckFailure(
                "ConvQNetwork's output has the wrong shape.",
                expected=f"(5, {n_actions})",
                got=tuple(q_values.shape),
                hint="end with nn.Linear(linear_input_size, n_actions)",
            )


# ---------------------------------------------------------------- the assembled agent and the gate


@check(ASSIGNMENT, cell="test_train_full_agent_bootstraps_through_truncation")
def full_agent_bootstraps_through_truncation(train_full_agent, Config, compute_double_dqn_targets, soft_update):
    """the full agent's loop cuts the bootstrap on termination only, not on a time-limit truncation"""
    # EndlessProbe: reward +1 forever, cut by a time limit after every step. With gamma 0.9 the true
    # Q is 1 / (1 - 0.9) = 10; the reference reaches 10.00 in 1000 steps (Double DQN and soft update
    # tau 0.1, as below; 10.00 with compute_td_loss_with_target too). A loop that stores
    # `terminated or truncated` learns Q = 1 instead.
    assert_bootstraps_through_truncation(
        train_full_agent,
        Config,
        1000,
        batch_size=32,
        learning_starts=32,
        train_frequency=1,
        tau=0.1,
        stop_when_solved=False,
        hint="store `terminated` in the replay buffer, never `terminated or truncated`: "
        "a truncated episode did not end, so its last transition must still bootstrap",
    )


# The reward gate. Threshold, budget and calibration: autograder/gates.py (GATES["05_target_network"]).
@check(ASSIGNMENT, cell="test_full_agent_gate", slow=True)
def full_agent_gate(train_full_agent):
    """trained with your functions (seed 10, at most 30 000 steps, stopping once solved), the greedy policy averages >= 475 over 100 episodes"""  # noqa: E501 (a check's description is one line)
    assert_passes_gate(GATES[ASSIGNMENT], train_full_agent)


check_train_full_agent_bootstraps_through_truncation = CellChecks(
    ASSIGNMENT,
    "test_train_full_agent_bootstraps_through_truncation",
    "train_full_agent",
    "Config",
    "compute_double_dqn_targets",
    "soft_update",
)
check_full_agent_gate = CellChecks(
    ASSIGNMENT, "test_full_agent_gate", "train_full_agent", "compute_double_dqn_targets", "soft_update"
)
check_compute_td_loss_with_target = CellChecks(
    ASSIGNMENT, "test_compute_td_loss_with_target", "compute_td_loss_with_target"
)
check_hard_update = CellChecks(ASSIGNMENT, "test_hard_update", "hard_update")
check_soft_update = CellChecks(ASSIGNMENT, "test_soft_update", "soft_update")
check_compute_double_dqn_targets = CellChecks(
    ASSIGNMENT, "test_compute_double_dqn_targets", "compute_double_dqn_targets"
)
check_conv_output_size = CellChecks(ASSIGNMENT, "test_conv_output_size", "conv_output_size")
check_ConvQNetwork = CellChecks(ASSIGNMENT, "test_ConvQNetwork", "ConvQNetwork")
