"""CliffWalking-v1 harness for notebook 06 (deep SARSA vs deep Q-learning).

Sutton & Barto, Example 6.6: on a 4x12 grid with a cliff along the bottom row, under a FIXED
epsilon-greedy behaviour policy, SARSA (on-policy) learns the safe path away from the cliff and
earns more reward per training episode, while Q-learning (off-policy) learns the optimal path along
the cliff edge and falls in more often while exploring.

Geometry (state = row * 12 + col, actions 0 up, 1 right, 2 down, 3 left)::

    row 0   0  1  2 ...  11
    row 1  12 13 14 ...  23
    row 2  24 25 26 ...  35      <- cliff edge: a "down" from 25..34 falls
    row 3  S=36 [cliff 37..46] G=47

Optimal path: 36 -> 24 -> 25 ... 35 -> 47, 13 steps (return -13).  Safe paths go along row 1
(15 steps) or row 0 (17 steps).

Everything is deterministic given ``seed`` (torch init, exploration RNG; the env is deterministic).
The loop does one online update per environment step (batch of one transition), choosing the next
action a' BEFORE the update so that SARSA learns from the action actually taken next.

API::

    train_cliffwalking(loss_fn, algo="sarsa"|"expected_sarsa"|"q_learning", seed=0, ...) -> TrainResult
    greedy_path(network, max_steps=48) -> list[int]
    classify_path(path) -> PathInfo(kind="optimal"|"safe"|"other"|"fails", reaches_goal, n_steps, edge_cells)
    compare_sarsa_q_learning(sarsa_loss_fn, q_loss_fn=q_learning_loss, seed=0, ...) -> dict
    q_learning_loss(network, states, actions, rewards, next_states, is_done, gamma=0.99) -> (loss, losses)
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch
from torch import nn

SHAPE = (4, 12)
N_STATES = 48
N_ACTIONS = 4
START_STATE = 36
GOAL_STATE = 47
CLIFF_STATES = tuple(range(37, 47))
EDGE_STATES = tuple(range(25, 35))  # row 2, cols 1..10: one "down" away from the cliff
OPTIMAL_STEPS = 13
ALGOS = ("sarsa", "expected_sarsa", "q_learning")

# Calibrated defaults (benchmarks/calibrate_cliffwalking.py, see the authoring report).
DEFAULTS = dict(
    n_episodes=300,
    epsilon=0.1,
    gamma=0.99,
    lr=0.25,
    hidden=None,
    lr_final=0.1,
    optimizer="sgd",
    max_steps=500,
)


def one_hot(states) -> torch.Tensor:
    """float32 one-hot encoding, shape [..., 48]."""
    return nn.functional.one_hot(torch.as_tensor(states, dtype=torch.long), N_STATES).float()


def make_env():
    return gym.make("CliffWalking-v1")


def make_q_network(hidden: int | None = None, seed: int = 0) -> nn.Module:
    """``hidden=None``: ``Linear(48, 4, bias=False)``, i.e. a Q-table stored as weights
    (Q(s, a) = W[a, s]). Otherwise a one-hidden-layer ReLU MLP."""
    torch.manual_seed(seed)
    if hidden is None:
        return nn.Linear(N_STATES, N_ACTIONS, bias=False)
    return nn.Sequential(nn.Linear(N_STATES, hidden), nn.ReLU(), nn.Linear(hidden, N_ACTIONS))


def q_learning_loss(network, states, actions, rewards, next_states, is_done, gamma=0.99):
    """Q-learning TD loss: target r + gamma * max_a' Q(s', a') (r alone where is_done), no gradient
    through the target. Returns (mean loss, per-sample squared errors [batch])."""
    q = network(states).gather(1, actions.long().unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        next_v = network(next_states).max(dim=1).values
        target = rewards + gamma * next_v * (1.0 - is_done.float())
    losses = (q - target) ** 2
    return losses.mean(), losses


@dataclass
class TrainResult:
    network: nn.Module
    algo: str
    episode_rewards: list = field(default_factory=list)  # undiscounted return of each training episode
    episode_lengths: list = field(default_factory=list)
    falls: int = 0  # steps into the cliff during training
    truncated: int = 0  # episodes cut by max_steps
    n_steps: int = 0
    seconds: float = 0.0

    def mean_reward(self, last: int | None = None) -> float:
        r = self.episode_rewards if last is None else self.episode_rewards[-last:]
        return float(np.mean(r))


def _epsilon_greedy(q_row: torch.Tensor, epsilon: float, rng: np.random.Generator) -> int:
    if rng.random() < epsilon:
        return int(rng.integers(N_ACTIONS))
    return int(torch.argmax(q_row))


class _PlainSGD:
    """p -= lr * grad. Same maths as torch.optim.SGD without momentum, at a fraction of its
    per-call overhead (which matters at one update per environment step)."""

    def __init__(self, params, lr):
        self.params = [p for p in params if p.requires_grad]
        self.param_groups = [{"lr": lr}]

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        lr = self.param_groups[0]["lr"]
        for p in self.params:
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)


def _make_optimizer(name, params, lr):
    if name == "sgd":
        return _PlainSGD(params, lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    raise ValueError(f"optimizer must be 'sgd' or 'adam', not {name!r}")


def train_cliffwalking(
    loss_fn,
    algo: str = "sarsa",
    seed: int = 0,
    network: nn.Module | None = None,
    n_episodes: int = DEFAULTS["n_episodes"],
    epsilon: float = DEFAULTS["epsilon"],
    gamma: float = DEFAULTS["gamma"],
    lr: float = DEFAULTS["lr"],
    lr_final: float = DEFAULTS["lr_final"],
    hidden: int | None = DEFAULTS["hidden"],
    optimizer: str = DEFAULTS["optimizer"],
    max_steps: int = DEFAULTS["max_steps"],
    time_limit: float | None = None,
) -> TrainResult:
    """On-policy training on CliffWalking-v1 with a fixed epsilon-greedy policy.

    ``loss_fn`` is called on batches of one transition (tensors: states/next_states float32
    [1, 48], actions/next_actions int64 [1], rewards/is_done float32 [1]) as
      * algo="sarsa":          loss_fn(network, s, a, r, s2, a2, done, gamma=gamma)
      * algo="expected_sarsa": loss_fn(network, s, a, r, s2, done, epsilon, gamma=gamma)
      * algo="q_learning":     loss_fn(network, s, a, r, s2, done, gamma=gamma)
    and must return ``(loss, losses)``. Each step: take a, observe r, s2; choose a2 epsilon-greedily
    from Q(s2) (with the network BEFORE the update); update on the transition; move on with a2.
    ``max_steps`` caps an episode (CliffWalking has no time limit); a capped episode's last
    transition is still bootstrapped (truncation is not termination).
    """
    if algo not in ALGOS:
        raise ValueError(f"algo must be one of {ALGOS}, not {algo!r}")
    if network is None:
        network = make_q_network(hidden, seed)
    opt = _make_optimizer(optimizer, network.parameters(), lr)
    rng = np.random.default_rng(seed)
    env = make_env()
    eye = torch.eye(N_STATES)
    result = TrainResult(network=network, algo=algo)
    t0 = time.perf_counter()
    for episode in range(n_episodes):
        # epsilon stays fixed; the learning rate decays linearly from lr to lr * lr_final
        frac = episode / max(n_episodes - 1, 1)
        for group in opt.param_groups:
            group["lr"] = lr * (1.0 - frac * (1.0 - lr_final))
        s, _ = env.reset(seed=seed if episode == 0 else None)
        with torch.no_grad():
            a = _epsilon_greedy(network(eye[s]), epsilon, rng)
        total, steps = 0.0, 0
        while True:
            s2, r, terminated, _, _ = env.step(a)
            steps += 1
            total += r
            if r <= -100:
                result.falls += 1
            with torch.no_grad():
                a2 = _epsilon_greedy(network(eye[s2]), epsilon, rng)
            states, next_states = eye[s].unsqueeze(0), eye[s2].unsqueeze(0)
            actions = torch.tensor([a])
            rewards = torch.tensor([float(r)])
            dones = torch.tensor([1.0 if terminated else 0.0])
            if algo == "sarsa":
                loss, _ = loss_fn(network, states, actions, rewards, next_states, torch.tensor([a2]), dones, gamma=gamma)
            elif algo == "expected_sarsa":
                loss, _ = loss_fn(network, states, actions, rewards, next_states, dones, epsilon, gamma=gamma)
            else:
                loss, _ = loss_fn(network, states, actions, rewards, next_states, dones, gamma=gamma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            s, a = s2, a2
            if terminated:
                break
            if steps >= max_steps:
                result.truncated += 1
                break
        result.episode_rewards.append(total)
        result.episode_lengths.append(steps)
        result.n_steps += steps
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            break
    env.close()
    result.seconds = time.perf_counter() - t0
    return result


def _transition(state: int, action: int) -> tuple[int, bool]:
    """Deterministic CliffWalking dynamics (same as gymnasium's): returns (next_state, terminated)."""
    row, col = divmod(state, SHAPE[1])
    dr, dc = ((-1, 0), (0, 1), (1, 0), (0, -1))[action]
    row = min(max(row + dr, 0), SHAPE[0] - 1)
    col = min(max(col + dc, 0), SHAPE[1] - 1)
    nxt = row * SHAPE[1] + col
    if nxt in CLIFF_STATES:
        return START_STATE, False
    return nxt, nxt == GOAL_STATE


@torch.no_grad()
def greedy_path(network: nn.Module, max_steps: int = N_STATES) -> list[int]:
    """States visited by the greedy policy from the start, start included, goal included if reached.
    Stops at the goal, on a fall into the cliff (the path then ends with START_STATE again), on a
    revisited state (a loop), or after ``max_steps``."""
    q = network(torch.eye(N_STATES))
    path, seen, s = [START_STATE], {START_STATE}, START_STATE
    for _ in range(max_steps):
        s, terminated = _transition(s, int(torch.argmax(q[s])))
        path.append(s)
        if terminated or s in seen:
            break
        seen.add(s)
    return path


@dataclass
class PathInfo:
    kind: str  # "optimal" | "safe" | "other" | "fails"
    reaches_goal: bool
    n_steps: int
    edge_cells: int  # visits to row-2 cells above the cliff (cols 1..10)


def classify_path(path: list[int]) -> PathInfo:
    """optimal: reaches the goal in 13 steps (row 2 along the cliff edge);
    safe: reaches the goal without visiting any cliff-edge cell (rows 0-1 over the cliff);
    other: reaches the goal otherwise (longer path that still touches the edge);
    fails: does not reach the goal (loop, fall or too long)."""
    reaches = len(path) > 1 and path[-1] == GOAL_STATE
    n_steps = len(path) - 1
    edge = sum(s in EDGE_STATES for s in path)
    if not reaches:
        kind = "fails"
    elif n_steps == OPTIMAL_STEPS:
        kind = "optimal"
    elif edge == 0:
        kind = "safe"
    else:
        kind = "other"
    return PathInfo(kind, reaches, n_steps, edge)


def compare_sarsa_q_learning(sarsa_loss_fn, q_loss_fn=q_learning_loss, seed: int = 0, sarsa_algo="sarsa", **kwargs) -> dict:
    """Train SARSA (or expected SARSA with ``sarsa_algo="expected_sarsa"``) and Q-learning with the
    same seed and settings; return their paths, path kinds and mean training-episode rewards."""
    out = {}
    for name, fn, algo in (("SARSA", sarsa_loss_fn, sarsa_algo), ("Q-learning", q_loss_fn, "q_learning")):
        res = train_cliffwalking(fn, algo=algo, seed=seed, **kwargs)
        path = greedy_path(res.network)
        out[name] = dict(result=res, path=path, info=classify_path(path), mean_reward=res.mean_reward())
    return out
