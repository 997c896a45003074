"""Checks of notebook 06: compute_sarsa_loss and compute_expected_sarsa_loss.

The hand example: TableQNetwork (autograder/fakes.py) over 4 one-hot states and 3 actions,
  Q(s0) = [1, 2, 0]   Q(s1) = [4, -2, 1]   Q(s2) = [0.5, 3, -1]   Q(s3) = [2, 2.5, -3]
gamma = 0.5, epsilon = 0.3 (each action gets 0.3 / 3 = 0.1, the greedy one 0.1 + 0.7 = 0.8):
  i  s  a  r   s'  a'  done  Q(s,a)  SARSA: r + g Q(s',a')  Q-learning: r + g max   expected SARSA: r + g E
  0  0  1  1   1   2   no    2       1 + 0.5 * 1 = 1.5       1 + 0.5 * 4 = 3         E = 0.1*(4-2+1) + 0.7*4 = 3.1 -> 2.55
  1  2  0  -2  3   0   no    0.5     -2 + 0.5 * 2 = -1       -2 + 0.5 * 2.5 = -0.75  E = 0.1*1.5 + 0.7*2.5 = 1.9 -> -1.05
  2  1  1  2   2   1   yes   -2      2                       2                       2
Squared errors: SARSA [0.25, 2.25, 16]; Q-learning [1, 1.5625, 16]; expected SARSA [0.3025, 2.4025, 16].
"""
import numpy as np
import torch

from autograder.checks.core import CheckFailure, assert_close, check, suite
from autograder.fakes import TableQNetwork, one_hot

ASSIGNMENT = "06_sarsa"
TOLERANCE = 1e-5  # float32 arithmetic on numbers of order 1

TABLE = [[1.0, 2.0, 0.0], [4.0, -2.0, 1.0], [0.5, 3.0, -1.0], [2.0, 2.5, -3.0]]
STATES, ACTIONS, REWARDS = [0, 2, 1], [1, 0, 1], [1.0, -2.0, 2.0]
NEXT_STATES, NEXT_ACTIONS, DONE = [1, 3, 2], [2, 0, 1], [False, False, True]
GAMMA, EPSILON = 0.5, 0.3
SARSA_LOSSES = [0.25, 2.25, 16.0]
Q_LEARNING_LOSSES = [1.0, 1.5625, 16.0]
EXPECTED_SARSA_LOSSES = [0.3025, 2.4025, 16.0]
SHAPE_HINT = ("pick Q(s, a) and Q(s', a') with [range(batch), actions] or .gather(1, actions[:, None]).squeeze(1), "
              "so that both are [batch]")


def _batch():
    return (one_hot(STATES, 4), np.array(ACTIONS), np.array(REWARDS, dtype=np.float32), one_hot(NEXT_STATES, 4),
            np.array(NEXT_ACTIONS), np.array(DONE))


def _checked(name, result):
    loss, losses = result
    if tuple(losses.shape) != (3,) or loss.dim() != 0:
        raise CheckFailure(f"{name} returns (loss, losses) with the wrong shapes.",
                           expected="losses (3,) for a batch of 3 and a scalar loss",
                           got=f"losses {tuple(losses.shape)}, loss {tuple(loss.shape)}", hint=SHAPE_HINT)
    assert_close(loss.item(), losses.mean().item(), what=f"{name}: loss", tolerance=TOLERANCE,
                 hint="loss = losses.mean()")
    return losses


def _sarsa(compute_sarsa_loss, network, done=DONE):
    states, actions, rewards, next_states, next_actions, _ = _batch()
    try:
        result = compute_sarsa_loss(network, states, actions, rewards, next_states, next_actions, np.array(done),
                                    gamma=GAMMA)
    except RuntimeError as error:
        raise CheckFailure("compute_sarsa_loss raised an error on a batch of 3.", got=f"RuntimeError: {error}",
                           hint=SHAPE_HINT) from None
    return _checked("compute_sarsa_loss", result)


def _expected_sarsa(compute_expected_sarsa_loss, network, epsilon):
    states, actions, rewards, next_states, _, done = _batch()
    try:
        result = compute_expected_sarsa_loss(network, states, actions, rewards, next_states, done, epsilon, gamma=GAMMA)
    except RuntimeError as error:
        raise CheckFailure("compute_expected_sarsa_loss raised an error on a batch of 3.", got=f"RuntimeError: {error}",
                           hint=SHAPE_HINT) from None
    return _checked("compute_expected_sarsa_loss", result)


def _assert_prediction_only_gradient(network, losses, targets_hint):
    """Gradient of losses.mean() must reach only the predicted entries Q(s_i, a_i)."""
    losses.mean().backward()
    grad = network.table.grad
    predicted = {(s, a) for s, a in zip(STATES, ACTIONS)}
    leaked = [(s, a) for s in range(4) for a in range(3)
              if (s, a) not in predicted and grad is not None and abs(grad[s, a].item()) > TOLERANCE]
    if grad is None or leaked:
        raise CheckFailure(
            "The gradient reached Q-values of the next states: the target was not treated as a constant."
            if leaked else "No gradient reached Q(s, a).",
            expected="gradient only on the entries Q(s_i, a_i) of the batch",
            got=f"gradient on {leaked}" if leaked else "no gradient at all", hint=targets_hint,
        )


# ---------------------------------------------------------------- compute_sarsa_loss


@check(ASSIGNMENT)
def sarsa_losses_exact(compute_sarsa_loss):
    """SARSA bootstraps from Q(s', a') for the action actually taken next"""
    losses = _sarsa(compute_sarsa_loss, TableQNetwork(TABLE)).detach()
    if np.allclose(losses.numpy(), Q_LEARNING_LOSSES, atol=1e-4):
        raise CheckFailure("These are Q-learning losses: the target used max_a' Q(s', a').",
                           expected=SARSA_LOSSES, got=losses.tolist(),
                           hint="SARSA's target is r + gamma * Q(s', a') with a' = next_actions, the action the "
                           "policy actually took; that is the whole difference from Q-learning")
    assert_close(losses, SARSA_LOSSES, what="SARSA losses on the hand example", tolerance=TOLERANCE,
                 hint="target = r + gamma * Q(s', next_actions), just r where is_done; losses = (Q(s, a) - target) ** 2")


@check(ASSIGNMENT)
def sarsa_masks_terminal(compute_sarsa_loss):
    """is_done cuts the bootstrap: every target is just r when all transitions are terminal"""
    losses = _sarsa(compute_sarsa_loss, TableQNetwork(TABLE), done=[True, True, True]).detach()
    assert_close(losses, [1.0, 6.25, 16.0], what="SARSA losses when every transition is terminal", tolerance=TOLERANCE,
                 hint="where is_done the target is the reward alone: torch.where(is_done, rewards, bootstrapped)")


@check(ASSIGNMENT)
def sarsa_target_carries_no_gradient(compute_sarsa_loss):
    """no gradient flows through the SARSA target"""
    network = TableQNetwork(TABLE)
    _assert_prediction_only_gradient(network, _sarsa(compute_sarsa_loss, network),
                                     "compute Q(s', a') under torch.no_grad() or .detach() it")


# ---------------------------------------------------------------- compute_expected_sarsa_loss


@check(ASSIGNMENT)
def expected_sarsa_losses_exact(compute_expected_sarsa_loss):
    """expected SARSA averages Q(s', .) over the epsilon-greedy policy (epsilon 0.3)"""
    losses = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), EPSILON).detach()
    assert_close(losses, EXPECTED_SARSA_LOSSES, what="expected SARSA losses (epsilon 0.3) on the hand example",
                 tolerance=TOLERANCE, hint="the policy gives epsilon / n_actions to every action and 1 - epsilon "
                 "MORE to the greedy one, so the greedy action's weight is 1 - epsilon + epsilon / n_actions; "
                 "target = r + gamma * sum_a pi(a | s') Q(s', a)")


@check(ASSIGNMENT)
def expected_sarsa_limits(compute_expected_sarsa_loss):
    """epsilon 0 gives Q-learning's target; epsilon 1 the mean over actions"""
    greedy = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), 0.0).detach()
    assert_close(greedy, Q_LEARNING_LOSSES, what="expected SARSA losses at epsilon 0 (must equal Q-learning's)",
                 tolerance=TOLERANCE, hint="with epsilon 0 the policy is greedy, so the expectation is the max")
    uniform = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), 1.0).detach()
    # epsilon 1: E = mean Q(s'): s1 -> 1, s3 -> 0.5; targets 1.5 and -1.75; errors 0.5, 2.25
    assert_close(uniform, [0.25, 5.0625, 16.0], what="expected SARSA losses at epsilon 1 (uniform policy)",
                 tolerance=TOLERANCE, hint="with epsilon 1 every action has probability 1 / n_actions")


@check(ASSIGNMENT)
def expected_sarsa_target_carries_no_gradient(compute_expected_sarsa_loss):
    """no gradient flows through the expected SARSA target"""
    network = TableQNetwork(TABLE)
    _assert_prediction_only_gradient(network, _expected_sarsa(compute_expected_sarsa_loss, network, EPSILON),
                                     "compute the expectation under torch.no_grad()")


check_compute_sarsa_loss = suite(ASSIGNMENT, "compute_sarsa_loss")
check_compute_expected_sarsa_loss = suite(ASSIGNMENT, "compute_expected_sarsa_loss")
