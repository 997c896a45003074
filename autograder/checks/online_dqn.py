"""Checks of notebook 02: create_network, the epsilon schedules, select_action_eps_greedy,
compute_td_loss, and the notebook's training loop.

The TD-loss hand example: TableQNetwork (autograder/fakes.py) over 4 one-hot states, 2 actions,
  Q(s0) = [1, 2]   Q(s1) = [3, -1]   Q(s2) = [0.5, 4]   Q(s3) = [-2, 0]
a batch of three transitions and gamma = 0.5:
  i  s  a  r    s'  done   Q(s,a)  target                      TD error   squared
  0  0  1  1    1   no     2       1 + 0.5 * max(3, -1) = 2.5  -0.5       0.25
  1  2  0  -1   3   no     0.5     -1 + 0.5 * max(-2, 0) = -1  1.5        2.25
  2  1  1  2    2   yes    -1      2 (no bootstrap)            -3         9
  mean squared error 11.5 / 3; regularizer term mean |Q(s,a)| = 3.5 / 3.
With regularizer 0 the gradient reaches only the three predicted entries:
  dL/dQ(s,a) = 2 * TD error / 3  ->  table.grad[0, 1] = -1/3, [2, 0] = 1, [1, 1] = -2, all else 0.
"""

import math

import numpy as np
import torch
from scipy.stats import chisquare
from torch import nn

from autograder.checks.core import CellChecks, CheckFailure, assert_close, check, runtime_errors_fail
from autograder.fakes import TableQNetwork, one_hot
from autograder.gates import GATES, assert_passes_gate
from autograder.probes import GAMMA as PROBE_GAMMA
from autograder.probes import (
    PROBE_CASES,
    PROBE_TOLERANCE,
    assert_bootstraps_through_truncation,
    learn_probe,
)

ASSIGNMENT = "02_online_dqn"
TOLERANCE = 1e-5  # float32 arithmetic on numbers of order 1
FALSE_ALARM_RATE = 1e-3  # a correct sampler fails a chi-square check this often over random seeds

TABLE = [[1.0, 2.0], [3.0, -1.0], [0.5, 4.0], [-2.0, 0.0]]
STATES, ACTIONS, REWARDS, NEXT_STATES, DONE = [0, 2, 1], [1, 0, 1], [1.0, -1.0, 2.0], [1, 3, 2], [False, False, True]
HAND_GAMMA = 0.5
HAND_LOSSES = [0.25, 2.25, 9.0]
HAND_MEAN_ABS_Q = 3.5 / 3  # what the regularizer multiplies
HAND_GRADIENT = [[0.0, -1 / 3], [0.0, -2.0], [1.0, 0.0], [0.0, 0.0]]  # regularizer 0

SHAPE_HINT = (
    "Q(s, a) and the target must both have shape [batch]. Take the max over the action axis only, "
    "network(next_states).max(dim=1).values (dim=0 gives one value per action, [n_actions]); a [batch, 1] "
    "tensor minus a [batch] one silently broadcasts to [batch, batch]. compute_td_loss(..., check_shapes=True) "
    "asserts these shapes"
)


def _hand_batch(convert=np.array):
    return (
        convert(one_hot(STATES, 4)),
        convert(ACTIONS),
        convert(REWARDS),
        convert(one_hot(NEXT_STATES, 4)),
        convert(DONE),
    )


def _td_loss(compute_td_loss, network, batch, **options):
    """Call the student's function; turn its predictable shape errors into a teaching failure."""
    with runtime_errors_fail("compute_td_loss raised a shape error on a batch of 3 transitions.", SHAPE_HINT):
        loss, losses = compute_td_loss(network, *batch, **options)
    if tuple(losses.shape) != (3,):
        raise CheckFailure(
            "losses must hold one squared TD error per transition.",
            expected="a tensor of shape (3,) for a batch of 3",
            got=f"shape {tuple(losses.shape)}",
            hint=SHAPE_HINT,
        )
    if loss.dim() != 0:
        raise CheckFailure(
            "loss must be a scalar tensor.",
            expected="shape ()",
            got=f"shape {tuple(loss.shape)}",
            hint="loss = losses.mean() + regularizer * |Q(s, a)|.mean()",
        )
    return loss, losses


# ---------------------------------------------------------------- create_network


def _linear_layers(network):
    return [m for m in network.modules() if isinstance(m, nn.Linear)]


@check(ASSIGNMENT, cell="test_create_network")
def network_layers_follow_hidden_dims(create_network):
    """one Linear + ReLU per hidden size, then a Linear head"""
    for input_dim, hidden_dims, output_dim in [(5, [7, 3], 2), (4, [16], 3), (8, [6, 6, 6], 4)]:
        network = create_network(input_dim, hidden_dims, output_dim)
        sizes = [input_dim, *hidden_dims, output_dim]
        expected = list(zip(sizes[:-1], sizes[1:]))
        got = [(m.in_features, m.out_features) for m in _linear_layers(network)]
        if got != expected:
            raise CheckFailure(
                f"create_network({input_dim}, {hidden_dims}, {output_dim}) has the wrong layers.",
                expected=f"Linear (in, out) sizes {expected}",
                got=f"Linear sizes {got}",
                hint="loop over hidden_dims: Linear(previous size, size) then ReLU(); finish with "
                "Linear(last size, output_dim); do not hard-code sizes",
            )
        out = network(torch.zeros(3, input_dim))
        if tuple(out.shape) != (3, output_dim):
            raise CheckFailure(
                "The network's output has the wrong shape.",
                expected=f"(3, {output_dim}) for a batch of 3",
                got=tuple(out.shape),
                hint="the layers must be chained in an nn.Sequential",
            )


@check(ASSIGNMENT, cell="test_create_network")
def network_is_not_linear(create_network):
    """ReLUs between the layers: the network is not just one linear map"""
    torch.manual_seed(0)
    network = create_network(4, [32, 32], 2)
    a, b = torch.randn(16, 4), torch.randn(16, 4)
    with torch.no_grad():
        # An affine map f satisfies f(a + b) + f(0) = f(a) + f(b) for all a, b; a ReLU network does not.
        gap = (network(a + b) + network(torch.zeros_like(a)) - network(a) - network(b)).abs().max().item()
    if gap < 1e-4:
        raise CheckFailure(
            "The network is affine: stacked Linear layers with nothing between them equal a single Linear layer.",
            expected="f(a + b) + f(0) - f(a) - f(b) far from 0",
            got=f"{gap:.2g}",
            hint="put an nn.ReLU() after each hidden Linear layer",
        )


@check(ASSIGNMENT, cell="test_create_network")
def network_head_has_no_activation(create_network):
    """Q-values can be negative: no activation after the last Linear"""
    network = create_network(4, [8], 2)
    head = _linear_layers(network)[-1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.fill_(-5.0)
        out = network(torch.ones(1, 4))
    if not torch.allclose(out, torch.full_like(out, -5.0)):
        raise CheckFailure(
            "With the head's bias set to -5 the network should output -5.",
            expected=[[-5.0, -5.0]],
            got=out.tolist(),
            hint="remove the activation after the last Linear: Q-values are returns, which may be "
            "negative or large, and a ReLU or softmax head cannot express them",
        )


# ---------------------------------------------------------------- epsilon schedules


@check(ASSIGNMENT, cell="test_linear_epsilon")
def linear_epsilon_values(linear_epsilon):
    """linear schedule: start, midpoint, end, then stays at the end"""
    steps = [0, 500, 1000, 5000]
    got = [linear_epsilon(step, 1.0, 0.1, 1000) for step in steps]
    if not all(isinstance(value, float) for value in got):
        raise CheckFailure(
            "linear_epsilon must return a Python float.", got=[type(v).__name__ for v in got], hint="return float(...)"
        )
    assert_close(
        got,
        [1.0, 0.55, 0.1, 0.1],
        what=f"linear_epsilon(step, 1.0, 0.1, 1000) at steps {steps}",
        tolerance=TOLERANCE,
        hint="eps_start + (eps_end - eps_start) * min(step / decay_steps, 1): "
        "interpolate, then stay at eps_end (do not go below it)",
    )


@check(ASSIGNMENT, cell="test_exponential_epsilon")
def exponential_epsilon_values(exponential_epsilon):
    """exponential schedule: eps_end + (eps_start - eps_end) * exp(-step / decay)"""
    steps = [0, 1000, 3000, 100000]
    try:
        got = [exponential_epsilon(step, 0.9, 0.05, 1000) for step in steps]
    except (OverflowError, ZeroDivisionError, ValueError) as error:
        raise CheckFailure(
            "exponential_epsilon(step, 0.9, 0.05, 1000) crashed.",
            got=f"{type(error).__name__}: {error}",
            hint="eps_end + (eps_start - eps_end) * math.exp(-step / decay); decay is a number "
            "of steps, not a per-step factor",
        ) from None
    if not all(isinstance(value, float) for value in got):
        raise CheckFailure(
            "exponential_epsilon must return a Python float.",
            got=[type(v).__name__ for v in got],
            hint="return float(...)",
        )
    expected = [0.05 + 0.85 * math.exp(-step / 1000) for step in steps]  # 0.9, 0.3627, 0.0923, 0.05
    assert_close(
        got,
        expected,
        what=f"exponential_epsilon(step, 0.9, 0.05, 1000) at steps {steps}",
        tolerance=TOLERANCE,
        hint="eps_end + (eps_start - eps_end) * math.exp(-step / decay): it "
        "starts at eps_start and approaches eps_end, never 0",
    )


# ---------------------------------------------------------------- select_action_eps_greedy


class PeakedQNetwork(nn.Module):
    """Q(s)[a] = -(a - s[0])^2 over 4 actions: the greedy action is s[0]. Records grad mode per call."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.grad_enabled = []

    def forward(self, states):
        self.grad_enabled.append(torch.is_grad_enabled())
        actions = torch.arange(4, dtype=torch.float32)
        return -self.scale * (actions - states[..., :1]) ** 2


def _action_counts(select_action_eps_greedy, epsilon, greedy_action, n_draws=4000, seed=0):
    """Seed every RNG a student may use, act n_draws times, count the actions."""
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    network = PeakedQNetwork()
    state = np.array([greedy_action, 0.0, 0.0], dtype=np.float32)
    counts = np.zeros(4, dtype=int)
    for _ in range(n_draws):
        counts[select_action_eps_greedy(network, state, epsilon)] += 1
    return counts


def _assert_frequencies(counts, probabilities, epsilon):
    expected = np.asarray(probabilities) * counts.sum()
    p_value = chisquare(counts, expected).pvalue
    if p_value < FALSE_ALARM_RATE:
        raise CheckFailure(
            f"Action frequencies at epsilon={epsilon} do not match epsilon-greedy "
            f"(chi-square p = {p_value:.2g} < {FALSE_ALARM_RATE}; 4000 draws, greedy action 2).",
            expected=np.round(expected).astype(int).tolist(),
            got=counts.tolist(),
            hint="with probability epsilon pick uniformly among ALL actions (the greedy one included), "
            "otherwise the argmax: `if random.random() < epsilon:`",
        )


@check(ASSIGNMENT, cell="test_select_action_eps_greedy")
def action_is_python_int(select_action_eps_greedy):
    """returns a Python int, for a numpy or list state"""
    network = PeakedQNetwork()
    for state in [np.array([2.0, 0.0, 0.0], dtype=np.float32), [2.0, 0.0, 0.0]]:
        action = select_action_eps_greedy(network, state, 0.0)
        if type(action) is not int:
            raise CheckFailure(
                "select_action_eps_greedy must return a Python int.",
                expected="int, e.g. 2",
                got=f"{type(action).__name__}: {action!r}",
                hint="env.step wants a plain int: return int(action) (argmax gives a tensor or np.int64)",
            )


@check(ASSIGNMENT, cell="test_select_action_eps_greedy")
def greedy_at_epsilon_zero(select_action_eps_greedy):
    """at epsilon 0 it always takes the argmax over actions"""
    network = PeakedQNetwork()
    for greedy_action in range(4):
        state = np.array([greedy_action, 0.0, 0.0], dtype=np.float32)
        got = {select_action_eps_greedy(network, state, 0.0) for _ in range(50)}
        if got != {greedy_action}:
            raise CheckFailure(
                f"At epsilon 0 the action must always be the argmax of Q (here action {greedy_action}).",
                expected={greedy_action},
                got=got,
                hint="random when random() < epsilon, else greedy (is the comparison the wrong way round?); "
                "argmax over the action axis",
            )


@check(ASSIGNMENT, cell="test_select_action_eps_greedy")
def uniform_at_epsilon_one(select_action_eps_greedy):
    """at epsilon 1 all actions are equally likely"""
    _assert_frequencies(_action_counts(select_action_eps_greedy, 1.0, 2), [0.25] * 4, 1.0)


@check(ASSIGNMENT, cell="test_select_action_eps_greedy")
def mixture_at_epsilon_between(select_action_eps_greedy):
    """at epsilon 0.4 the greedy action has probability 0.6 + 0.4 / 4"""
    _assert_frequencies(_action_counts(select_action_eps_greedy, 0.4, 2), [0.1, 0.1, 0.7, 0.1], 0.4)


@check(ASSIGNMENT, cell="test_select_action_eps_greedy")
def acting_builds_no_graph(select_action_eps_greedy):
    """acting runs the network under torch.no_grad()"""
    network = PeakedQNetwork()
    select_action_eps_greedy(network, np.array([1.0, 0.0, 0.0], dtype=np.float32), 0.0)
    if any(network.grad_enabled):
        raise CheckFailure(
            "The network ran with gradient tracking while choosing an action.",
            expected="torch.is_grad_enabled() == False during the forward pass",
            got="True",
            hint="acting never needs gradients, and the docstring asks for no autograd graph: run the network "
            "under `with torch.no_grad():` (as the provided lines do; a forward pass outside it, as in CleanRL's "
            "acting code, builds a graph at every step that is only thrown away)",
        )


# ---------------------------------------------------------------- compute_td_loss


@check(ASSIGNMENT, cell="test_compute_td_loss")
def td_losses_exact(compute_td_loss):
    """exact per-sample squared TD errors on the hand example"""
    _, losses = _td_loss(compute_td_loss, TableQNetwork(TABLE), _hand_batch(), gamma=HAND_GAMMA, regularizer=0.0)
    assert_close(
        losses.detach(),
        HAND_LOSSES,
        what="losses on the hand example (gamma 0.5)",
        tolerance=TOLERANCE,
        hint="target = r + gamma * max_a' Q(s', a'), just r where is_done; losses = (Q(s, a) - target) ** 2",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss")
def td_loss_adds_regularizer(compute_td_loss):
    """loss = mean squared TD error + regularizer * mean |Q(s, a)|"""
    loss, _ = _td_loss(compute_td_loss, TableQNetwork(TABLE), _hand_batch(), gamma=HAND_GAMMA, regularizer=0.1)
    expected = sum(HAND_LOSSES) / 3 + 0.1 * HAND_MEAN_ABS_Q
    assert_close(
        loss.item(),
        expected,
        what="loss on the hand example (gamma 0.5, regularizer 0.1)",
        tolerance=TOLERANCE,
        hint="loss = losses.mean() + regularizer * predicted Q(s, a).abs().mean()",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss")
def td_target_is_masked_at_terminal(compute_td_loss):
    """is_done cuts the bootstrap: the target is just r"""
    batch = list(_hand_batch())
    _, losses = _td_loss(compute_td_loss, TableQNetwork(TABLE), batch, gamma=HAND_GAMMA, regularizer=0.0)
    if abs(losses[2].item() - 25.0) < 1e-3:  # target 2 + 0.5 * max(0.5, 4) = 4 instead of 2
        raise CheckFailure(
            "The terminal transition (is_done) was bootstrapped.",
            expected=f"squared error {HAND_LOSSES[2]} (target r = 2)",
            got=f"{losses[2].item()} (target 2 + 0.5 * 4)",
            hint="after a terminal state there is no future: target = torch.where(is_done, rewards, bootstrapped)",
        )
    batch[4] = np.array([True, True, True])
    _, losses = _td_loss(compute_td_loss, TableQNetwork(TABLE), batch, gamma=HAND_GAMMA, regularizer=0.0)
    assert_close(
        losses.detach(),
        [1.0, 2.25, 9.0],
        what="losses when every transition is terminal",
        tolerance=TOLERANCE,
        hint="where is_done, the target is the reward alone",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss")
def td_gradient_reaches_only_the_prediction(compute_td_loss):
    """no gradient flows through the target: the gradient is that of the prediction term only"""
    network = TableQNetwork(TABLE)
    loss, _ = _td_loss(compute_td_loss, network, _hand_batch(), gamma=HAND_GAMMA, regularizer=0.0)
    loss.backward()
    got = network.table.grad
    if got is None:
        raise CheckFailure(
            "No gradient reached the network.",
            expected=HAND_GRADIENT,
            got=None,
            hint="the prediction Q(s, a) must keep its graph: do not detach it or compute it under no_grad",
        )
    if abs(got[1, 0].item()) > TOLERANCE or abs(got[3, 1].item()) > TOLERANCE:
        raise CheckFailure(
            "The target received gradients: training would also move Q(s') towards Q(s, a).",
            expected="0 on the next-state entries table.grad[1, 0] and [3, 1]",
            got=f"{got[1, 0].item():.4f} and {got[3, 1].item():.4f}",
            hint="compute the target under torch.no_grad() or .detach() it (the stop-gradient of the seminar)",
        )
    assert_close(
        got,
        HAND_GRADIENT,
        what="the gradient of the loss on the table of Q-values",
        tolerance=TOLERANCE,
        hint="loss = mean of squared errors over the batch; only Q(s, a) carries gradient",
    )


@check(ASSIGNMENT, cell="test_compute_td_loss")
def td_loss_accepts_lists_arrays_and_tensors(compute_td_loss):
    """same result for lists, numpy arrays and tensors"""
    results = {}
    for name, convert in [
        ("lists", lambda x: np.asarray(x).tolist()),
        ("numpy arrays", np.array),
        ("tensors", lambda x: torch.as_tensor(np.asarray(x))),
    ]:
        try:
            _, losses = _td_loss(
                compute_td_loss, TableQNetwork(TABLE), _hand_batch(convert), gamma=HAND_GAMMA, regularizer=0.0
            )
        except (TypeError, AttributeError, ValueError) as error:
            raise CheckFailure(
                f"compute_td_loss fails when its inputs are {name}.",
                expected="the same losses for every input type",
                got=f"{type(error).__name__}: {error}",
                hint="convert every input with torch.as_tensor(np.asarray(x), dtype=...) first",
            ) from None
        results[name] = losses.detach().tolist()
    assert_close(
        list(results.values()),
        [HAND_LOSSES] * 3,
        what=f"losses for inputs given as {list(results)}",
        tolerance=TOLERANCE,
        hint="convert every input with torch.as_tensor(np.asarray(x), dtype=...) first; "
        "actions as torch.long, is_done as torch.bool",
    )


@check(ASSIGNMENT, cell="test_learning_on_probes")
def td_learning_finds_probe_values(create_network, compute_td_loss):
    """on probe tasks with known Q-values, the network and loss learn them"""
    for case in PROBE_CASES:
        torch.manual_seed(0)
        network = create_network(1, [16], len(case.expected_q[0]))

        def loss_on_batch(network, states, actions, rewards, next_states, terminated, next_actions):
            return compute_td_loss(
                network, states, actions, rewards, next_states, terminated, gamma=PROBE_GAMMA, regularizer=0.0
            )[0]

        with runtime_errors_fail(
            f"compute_td_loss raised a shape error on a batch of transitions of the probe "
            f"{case.probe.__name__} ({len(case.expected_q[0])} actions).",
            SHAPE_HINT,
        ):
            learned = learn_probe(case, network, loss_on_batch)
        assert_close(
            learned,
            case.expected_q,
            what=f"Q-values learned on the probe {case.description}, gamma {PROBE_GAMMA}, "
            f"at observations {case.observations}",
            tolerance=PROBE_TOLERANCE,
            hint=case.suspect,
        )


# ---------------------------------------------------------------- the training loop and the gate


@check(ASSIGNMENT, cell="test_train_online_dqn_bootstraps_through_truncation")
def loop_bootstraps_through_truncation(
    train_online_dqn, Config, create_network, linear_epsilon, select_action_eps_greedy, compute_td_loss
):
    """the training loop cuts the bootstrap on termination only, not on a time-limit truncation"""
    # EndlessProbe: reward +1 forever, cut by a time limit after every step. With gamma 0.9 the true
    # Q is 1 / (1 - 0.9) = 10 (the reference reaches 9.99); a loop that treats truncation as
    # terminal learns Q = 1 instead.
    assert_bootstraps_through_truncation(
        train_online_dqn,
        Config,
        1500,
        regularizer=0.0,
        hint="pass is_done = terminated, never `terminated or truncated`: a truncated "
        "episode did not end, so its last transition must still bootstrap",
    )


# The reward gate. Threshold, budget and calibration: autograder/gates.py (GATES["02_online_dqn"]).
@check(ASSIGNMENT, cell="test_online_dqn_gate", slow=True)
def online_dqn_gate(train_online_dqn):
    """trained with your functions (seed 0, at most 20 000 steps), the greedy policy averages >= 100 on 100 episodes"""
    assert_passes_gate(GATES[ASSIGNMENT], train_online_dqn)


check_create_network = CellChecks(ASSIGNMENT, "test_create_network", "create_network")
check_linear_epsilon = CellChecks(ASSIGNMENT, "test_linear_epsilon", "linear_epsilon")
check_exponential_epsilon = CellChecks(ASSIGNMENT, "test_exponential_epsilon", "exponential_epsilon")
check_select_action_eps_greedy = CellChecks(ASSIGNMENT, "test_select_action_eps_greedy", "select_action_eps_greedy")
check_compute_td_loss = CellChecks(ASSIGNMENT, "test_compute_td_loss", "compute_td_loss")
check_learning_on_probes = CellChecks(ASSIGNMENT, "test_learning_on_probes", "create_network", "compute_td_loss")
check_train_online_dqn_bootstraps_through_truncation = CellChecks(
    ASSIGNMENT,
    "test_train_online_dqn_bootstraps_through_truncation",
    "train_online_dqn",
    "Config",
    "create_network",
    "linear_epsilon",
    "select_action_eps_greedy",
    "compute_td_loss",
)
check_online_dqn_gate = CellChecks(
    ASSIGNMENT,
    "test_online_dqn_gate",
    "train_online_dqn",
    "create_network",
    "linear_epsilon",
    "select_action_eps_greedy",
    "compute_td_loss",
)
