"""Checks of notebook 06: compute_sarsa_loss and compute_expected_sarsa_loss, on a hand example, on
CliffWalking (Sutton & Barto's Example 6.6) with the notebook's training loop, and deep SARSA on
CartPole (the notebook's train_deep_sarsa: a truncation check and the reward gate).

The hand example: TableQNetwork (autograder/fakes.py) over 4 one-hot states and 3 actions,
  Q(s0) = [1, 2, 0]   Q(s1) = [4, -2, 1]   Q(s2) = [0.5, 3, -1]   Q(s3) = [2, 2.5, -3]
gamma = 0.5, epsilon = 0.3 (each action gets 0.3 / 3 = 0.1, the greedy one 0.1 + 0.7 = 0.8):
  i  s  a  r   s'  a'  done  Q(s,a)  SARSA: r + g Q(s',a')  Q-learning: r + g max   expected SARSA: r + g E
  0  0  1  1   1   2   no    2  1 + 0.5 * 1 = 1.5  1 + 0.5 * 4 = 3    E = 0.1*(4-2+1) + 0.7*4 = 3.1 -> 2.55
  1  2  0  -2  3   0   no    0.5     -2 + 0.5 * 2 = -1  -2 + 0.5 * 2.5 = -0.75  E = 0.1*1.5 + 0.7*2.5 = 1.9 -> -1.05
  2  1  1  2   2   1   yes   -2      2                       2                       2
Squared errors: SARSA [0.25, 2.25, 16]; Q-learning [1, 1.5625, 16]; expected SARSA [0.3025, 2.4025, 16].
"""

from typing import NamedTuple

import numpy as np

from autograder.checks.core import CellChecks, CheckFailure, assert_close, check, runtime_errors_fail
from autograder.fakes import TableQNetwork, one_hot
from autograder.gates import GATES, assert_passes_gate
from autograder.probes import assert_bootstraps_through_truncation
from helpers.gridworld import GOAL, N_COLS, greedy_path  # greedy_path only: no matplotlib is imported

ASSIGNMENT = "06_sarsa"
TOLERANCE = 1e-5  # float32 arithmetic on numbers of order 1

TABLE = [[1.0, 2.0, 0.0], [4.0, -2.0, 1.0], [0.5, 3.0, -1.0], [2.0, 2.5, -3.0]]
STATES, ACTIONS, REWARDS = [0, 2, 1], [1, 0, 1], [1.0, -2.0, 2.0]
NEXT_STATES, NEXT_ACTIONS, DONE = [1, 3, 2], [2, 0, 1], [False, False, True]
GAMMA, EPSILON = 0.5, 0.3
SARSA_LOSSES = [0.25, 2.25, 16.0]
Q_LEARNING_LOSSES = [1.0, 1.5625, 16.0]
EXPECTED_SARSA_LOSSES = [0.3025, 2.4025, 16.0]
SHAPE_HINT = (
    "pick Q(s, a) and Q(s', a') with [range(batch), actions] or .gather(1, actions[:, None]).squeeze(1), "
    "so that both are [batch]"
)


def _batch():
    return (
        one_hot(STATES, 4),
        np.array(ACTIONS),
        np.array(REWARDS, dtype=np.float32),
        one_hot(NEXT_STATES, 4),
        np.array(NEXT_ACTIONS),
        np.array(DONE),
    )


def _checked(name, result):
    loss, losses = result
    if tuple(losses.shape) != (3,) or loss.dim() != 0:
        raise CheckFailure(
            f"{name} returns (loss, losses) with the wrong shapes.",
            expected="losses (3,) for a batch of 3 and a scalar loss",
            got=f"losses {tuple(losses.shape)}, loss {tuple(loss.shape)}",
            hint=SHAPE_HINT,
        )
    assert_close(
        loss.item(), losses.mean().item(), what=f"{name}: loss", tolerance=TOLERANCE, hint="loss = losses.mean()"
    )
    return losses


def _sarsa(compute_sarsa_loss, network, done=DONE):
    states, actions, rewards, next_states, next_actions, _ = _batch()
    with runtime_errors_fail("compute_sarsa_loss raised an error on a batch of 3.", SHAPE_HINT):
        result = compute_sarsa_loss(
            network, states, actions, rewards, next_states, next_actions, np.array(done), gamma=GAMMA
        )
    return _checked("compute_sarsa_loss", result)


def _expected_sarsa(compute_expected_sarsa_loss, network, epsilon):
    states, actions, rewards, next_states, _, done = _batch()
    with runtime_errors_fail("compute_expected_sarsa_loss raised an error on a batch of 3.", SHAPE_HINT):
        result = compute_expected_sarsa_loss(network, states, actions, rewards, next_states, done, epsilon, gamma=GAMMA)
    return _checked("compute_expected_sarsa_loss", result)


def _assert_prediction_only_gradient(network, losses, targets_hint):
    """Gradient of losses.mean() must reach only the predicted entries Q(s_i, a_i)."""
    losses.mean().backward()
    grad = network.table.grad
    predicted = {(s, a) for s, a in zip(STATES, ACTIONS)}
    leaked = [
        (s, a)
        for s in range(4)
        for a in range(3)
        if (s, a) not in predicted and grad is not None and abs(grad[s, a].item()) > TOLERANCE
    ]
    if grad is None or leaked:
        raise CheckFailure(
            "The gradient reached Q-values of the next states: the target was not treated as a constant."
            if leaked
            else "No gradient reached Q(s, a).",
            expected="gradient only on the entries Q(s_i, a_i) of the batch",
            got=f"gradient on {leaked}" if leaked else "no gradient at all",
            hint=targets_hint,
        )


# ---------------------------------------------------------------- compute_sarsa_loss


@check(ASSIGNMENT, cell="test_compute_sarsa_loss")
def sarsa_losses_exact(compute_sarsa_loss):
    """SARSA bootstraps from Q(s', a') for the action actually taken next"""
    losses = _sarsa(compute_sarsa_loss, TableQNetwork(TABLE)).detach()
    if np.allclose(losses.numpy(), Q_LEARNING_LOSSES, atol=1e-4):
        raise CheckFailure(
            "These are Q-learning losses: the target used max_a' Q(s', a').",
            expected=SARSA_LOSSES,
            got=losses.tolist(),
            hint="SARSA's target is r + gamma * Q(s', a') with a' = next_actions, the action the "
            "policy actually took; that is the whole difference from Q-learning",
        )
    assert_close(
        losses,
        SARSA_LOSSES,
        what="SARSA losses on the hand example",
        tolerance=TOLERANCE,
        hint="target = r + gamma * Q(s', next_actions), just r where is_done; losses = (Q(s, a) - target) ** 2",
    )


@check(ASSIGNMENT, cell="test_compute_sarsa_loss")
def sarsa_masks_terminal(compute_sarsa_loss):
    """is_done cuts the bootstrap: every target is just r when all transitions are terminal"""
    losses = _sarsa(compute_sarsa_loss, TableQNetwork(TABLE), done=[True, True, True]).detach()
    assert_close(
        losses,
        [1.0, 6.25, 16.0],
        what="SARSA losses when every transition is terminal",
        tolerance=TOLERANCE,
        hint="where is_done the target is the reward alone: torch.where(is_done, rewards, bootstrapped)",
    )


@check(ASSIGNMENT, cell="test_compute_sarsa_loss")
def sarsa_target_carries_no_gradient(compute_sarsa_loss):
    """no gradient flows through the SARSA target"""
    network = TableQNetwork(TABLE)
    _assert_prediction_only_gradient(
        network, _sarsa(compute_sarsa_loss, network), "compute Q(s', a') under torch.no_grad() or .detach() it"
    )


# ---------------------------------------------------------------- compute_expected_sarsa_loss


@check(ASSIGNMENT, cell="test_compute_expected_sarsa_loss")
def expected_sarsa_losses_exact(compute_expected_sarsa_loss):
    """expected SARSA averages Q(s', .) over the epsilon-greedy policy (epsilon 0.3)"""
    losses = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), EPSILON).detach()
    assert_close(
        losses,
        EXPECTED_SARSA_LOSSES,
        what="expected SARSA losses (epsilon 0.3) on the hand example",
        tolerance=TOLERANCE,
        hint="the policy gives epsilon / n_actions to every action and 1 - epsilon "
        "MORE to the greedy one, so the greedy action's weight is 1 - epsilon + epsilon / n_actions; "
        "target = r + gamma * sum_a pi(a | s') Q(s', a)",
    )


@check(ASSIGNMENT, cell="test_compute_expected_sarsa_loss")
def expected_sarsa_limits(compute_expected_sarsa_loss):
    """epsilon 0 gives Q-learning's target; epsilon 1 the mean over actions"""
    greedy = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), 0.0).detach()
    assert_close(
        greedy,
        Q_LEARNING_LOSSES,
        what="expected SARSA losses at epsilon 0 (must equal Q-learning's)",
        tolerance=TOLERANCE,
        hint="with epsilon 0 the policy is greedy, so the expectation is the max",
    )
    uniform = _expected_sarsa(compute_expected_sarsa_loss, TableQNetwork(TABLE), 1.0).detach()
    # epsilon 1: E = mean Q(s'): s1 -> 1, s3 -> 0.5; targets 1.5 and -1.75; errors 0.5, 2.25
    assert_close(
        uniform,
        [0.25, 5.0625, 16.0],
        what="expected SARSA losses at epsilon 1 (uniform policy)",
        tolerance=TOLERANCE,
        hint="with epsilon 1 every action has probability 1 / n_actions",
    )


@check(ASSIGNMENT, cell="test_compute_expected_sarsa_loss")
def expected_sarsa_target_carries_no_gradient(compute_expected_sarsa_loss):
    """no gradient flows through the expected SARSA target"""
    network = TableQNetwork(TABLE)
    _assert_prediction_only_gradient(
        network,
        _expected_sarsa(compute_expected_sarsa_loss, network, EPSILON),
        "compute the expectation under torch.no_grad()",
    )


# ---------------------------------------------------------------- CliffWalking: the behaviour


OPTIMAL_STEPS = 13  # up, 11 x right, down: along the cliff edge
EDGE_STATES = tuple(range(25, 35))  # row 2, columns 1..10: one "down" away from the cliff


class PathInfo(NamedTuple):
    kind: str  # "optimal" | "safe" | "edge" | "fails"
    n_steps: int
    edge_cells: int  # visits to EDGE_STATES


def classify_path(path: list[int]) -> PathInfo:
    """Classify a greedy path from helpers.gridworld.greedy_path.

    optimal: reaches the goal in 13 steps (along the cliff edge). safe: reaches it in more steps,
    visiting at most ONE edge cell; the allowance is for the 17-step top-row path that comes down at
    column 10 and steps right over (2, 10): exactly as long as coming down at column 11, and worth
    the same up to one step's exploration risk, so SARSA learns either. edge: reaches the goal in
    more than 13 steps but along the edge. fails: does not reach the goal (a loop or a fall).
    """
    n_steps, edge_cells = len(path) - 1, sum(state in EDGE_STATES for state in path)
    if path[-1] != GOAL:
        kind = "fails"
    elif n_steps == OPTIMAL_STEPS:
        kind = "optimal"
    elif edge_cells <= 1:
        kind = "safe"
    else:
        kind = "edge"
    return PathInfo(kind, n_steps, edge_cells)


def _cells(path):
    """The path as (row,col) cells."""
    return "(row,col) " + " -> ".join(f"({state // N_COLS},{state % N_COLS})" for state in path)


_Q_LEARNING_MEANS = {}  # (train_cliffwalking, repr(config)) -> Q-learning's mean reward per training episode


def _q_learning_mean_reward(train_cliffwalking, config):
    """Q-learning's mean reward per training episode with the notebook's provided loss (seed 0).

    Both behavioural checks compare against this same deterministic run, so it is trained once per
    notebook and config (it is a third of the checks' time)."""
    key = (train_cliffwalking, repr(config))
    if key not in _Q_LEARNING_MEANS:
        if len(_Q_LEARNING_MEANS) >= 8:  # a grading run loads many notebooks: keep the cache small
            _Q_LEARNING_MEANS.clear()
        _, rewards = train_cliffwalking("q_learning", config, seed=0)
        _Q_LEARNING_MEANS[key] = float(np.mean(rewards))
    return _Q_LEARNING_MEANS[key]


def _assert_on_policy_behaviour(train_cliffwalking, CliffWalkingConfig, algorithm, name, target_hint):
    """Train `algorithm` and Q-learning with CliffWalkingConfig() and seed 0; the greedy path must be safe
    and the mean reward per training episode higher than Q-learning's."""
    config = CliffWalkingConfig()
    network, rewards = train_cliffwalking(algorithm, config, seed=0)
    path = greedy_path(network)
    info = classify_path(path)
    safe = "a safe path: G in more than 13 steps, visiting at most one of the cells (2,1)..(2,10) above the cliff"
    if info.kind == "optimal":
        raise CheckFailure(
            f"Trained with your loss ({config.n_episodes} episodes, epsilon {config.epsilon}, seed 0), {name} "
            "learned the 13-step path along the cliff edge: that is Q-learning's answer.",
            expected=safe,
            got=f"{_cells(path)} (13 steps)",
            hint=f"the target ignores the exploration the agent really does: {target_hint}",
        )
    if info.kind != "safe":
        got = (
            f"a path that does not reach G: {_cells(path)}"
            if info.kind == "fails"
            else f"{info.n_steps} steps with {info.edge_cells} cells on the edge: {_cells(path)}"
        )
        raise CheckFailure(
            f"Trained with your loss ({config.n_episodes} episodes, epsilon {config.epsilon}, seed 0), {name}'s "
            "greedy policy does not take a safe path from S to G.",
            expected=safe,
            got=got,
            hint=f"if the checks of the loss above pass, look at its target once more: {target_hint}",
        )
    q_learning_mean = _q_learning_mean_reward(train_cliffwalking, config)
    if np.mean(rewards) <= q_learning_mean:
        raise CheckFailure(
            f"{name} took the safe path but did not earn more reward per training episode than Q-learning "
            "(same settings and seed).",
            expected=f"a mean reward per training episode above Q-learning's {q_learning_mean:.1f}",
            got=f"{np.mean(rewards):.1f}",
            hint=target_hint,
        )


# The two behavioural checks. Each trains the student's method with the notebook's train_cliffwalking and
# CliffWalkingConfig() (300 episodes, seed 0) and compares it with Q-learning under the same settings, using the
# notebook's provided compute_q_learning_loss (trained once per notebook: both checks share that run).
# The loss parameter is not called here: it names the target for the test cell and the mutant bank, and
# train_cliffwalking calls it by its global name.
# Budget: 12-15 s wall per check measured under load 6-8 on 2 shared cores, hence slow=True (a loss
# that makes the agent wander can take minutes: every episode then runs to the 500-step limit).
@check(ASSIGNMENT, cell="test_sarsa_on_cliffwalking", slow=True)
def sarsa_takes_the_safe_path(train_cliffwalking, CliffWalkingConfig, compute_sarsa_loss):
    """on CliffWalking, SARSA learns a safe path and out-earns Q-learning per training episode (seed 0)"""
    # Reference pass rate 48/50 over seeds 0..49 (benchmarks/calibrate_cliffwalking.py --seeds 50). The greedy
    # path is safe in 48 (usually the 17-step top row; seed 28 came down at column 9 and walked two edge cells,
    # seed 40 loops). Mean reward per training episode -40.1 vs Q-learning's -60.8, higher in 50/50 (smallest
    # margin 5.6). Seed 0 passes, and the bank's alternative (gather + detach) reproduces its run bit for bit.
    _assert_on_policy_behaviour(
        train_cliffwalking,
        CliffWalkingConfig,
        "sarsa",
        "SARSA",
        "SARSA's target is r + gamma * Q(s', next_actions), the action actually taken next "
        "(exploration included), not max_a' Q(s', a')",
    )


@check(ASSIGNMENT, cell="test_expected_sarsa_on_cliffwalking", slow=True)
def expected_sarsa_takes_the_safe_path(train_cliffwalking, CliffWalkingConfig, compute_expected_sarsa_loss):
    """on CliffWalking, expected SARSA learns a safe path and out-earns Q-learning per training episode (seed 0)"""
    # Reference pass rate 50/50 over seeds 0..49 (same command). The greedy path is safe in every seed (usually
    # the 15-step road along row 1). Mean reward per training episode -33.4 vs Q-learning's -60.8, higher in
    # 50/50 (smallest margin 16.8). Correct variants (the bank's policy-as-a-mixture; eps * mean + (1 - eps) * max
    # with a (1 - done) mask) reproduce the seed-0 run bit for bit.
    _assert_on_policy_behaviour(
        train_cliffwalking,
        CliffWalkingConfig,
        "expected_sarsa",
        "expected SARSA",
        "expected SARSA's target averages Q(s', .) over the epsilon-greedy policy with the "
        "epsilon it is given; a greedy average (the max) is Q-learning's target",
    )


# ---------------------------------------------------------------- deep SARSA on CartPole: the loop and the gate


@check(ASSIGNMENT, cell="test_train_deep_sarsa_bootstraps_through_truncation")
def deep_sarsa_loop_bootstraps_through_truncation(train_deep_sarsa, Config, compute_sarsa_loss):
    """the deep SARSA loop, with your compute_sarsa_loss, bootstraps through a time-limit truncation"""
    # EndlessProbe: reward +1 forever, cut by a time limit after every step. With gamma 0.9 the true
    # Q is 1 / (1 - 0.9) = 10 (the reference reaches 10.00 in 300 steps); a loss that cuts the
    # bootstrap where it should not, or a loop that treats truncation as terminal, learns Q = 1.
    assert_bootstraps_through_truncation(
        train_deep_sarsa,
        Config,
        300,
        hint="the loop passes is_done = terminated, never `terminated or truncated`, and "
        "compute_sarsa_loss must bootstrap from Q(s', a') wherever is_done is False: a truncated episode did not "
        "end, so its last transition still bootstraps",
    )


# The reward gate. Threshold, budget and calibration: autograder/gates.py (GATES["06_sarsa"]) and
# autograder/calibration/06_sarsa.json (`python benchmarks/calibrate_gates.py --assignment 06_sarsa --seeds 50
# --baselines --write`). Threshold 100 at most 20 000 steps, stopping at 200: 50 of 50
# training seeds pass (min 135.1, median 256.3); untrained networks score 9.3-83.9, a random policy 23.7.
# The bank's sarsa_without_terminal_mask scores 9.3 (seed 0). compute_sarsa_loss is not called here: it names
# the student's function for the test cell and the mutant bank; train_deep_sarsa calls it by its global name.
@check(ASSIGNMENT, cell="test_deep_sarsa_gate", slow=True)
def deep_sarsa_gate(train_deep_sarsa, compute_sarsa_loss):
    """trained with your compute_sarsa_loss (seed 0, at most 20 000 steps), the greedy policy averages >= 100 over 100 episodes"""  # noqa: E501 (a check's description is one line)
    assert_passes_gate(GATES[ASSIGNMENT], train_deep_sarsa)


check_compute_sarsa_loss = CellChecks(ASSIGNMENT, "test_compute_sarsa_loss", "compute_sarsa_loss")
check_compute_expected_sarsa_loss = CellChecks(
    ASSIGNMENT, "test_compute_expected_sarsa_loss", "compute_expected_sarsa_loss"
)
check_sarsa_on_cliffwalking = CellChecks(
    ASSIGNMENT, "test_sarsa_on_cliffwalking", "train_cliffwalking", "CliffWalkingConfig", "compute_sarsa_loss"
)
check_expected_sarsa_on_cliffwalking = CellChecks(
    ASSIGNMENT,
    "test_expected_sarsa_on_cliffwalking",
    "train_cliffwalking",
    "CliffWalkingConfig",
    "compute_expected_sarsa_loss",
)
check_train_deep_sarsa_bootstraps_through_truncation = CellChecks(
    ASSIGNMENT,
    "test_train_deep_sarsa_bootstraps_through_truncation",
    "train_deep_sarsa",
    "Config",
    "compute_sarsa_loss",
)
check_deep_sarsa_gate = CellChecks(ASSIGNMENT, "test_deep_sarsa_gate", "train_deep_sarsa", "compute_sarsa_loss")
