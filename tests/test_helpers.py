"""Tests of the helpers package (seeding, evaluation, video, plotting).

Fast (seconds) and headless: no display, no window, files only under tmp_path.
"""

import os

# Before matplotlib or pygame are imported: no windows, no display needed.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pathlib
import random
import subprocess
import sys
import textwrap

import gymnasium as gym
import imageio.v2 as imageio
import numpy as np
import pytest
import torch
from gymnasium.wrappers import TimeLimit
from matplotlib.figure import Figure

from helpers import plotting
from helpers.evaluation import evaluate_policy, evaluate_policy_vectorized, greedy_policy
from helpers.plotting import (
    TrainingPlot,
    plot_learning_curves,
    plot_regression_fit,
    plot_regression_losses,
    rolling_mean,
)
from helpers.seeding import seed_everything
from helpers.video import record_episode, rollout_frames, show_video

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

torch.set_num_threads(1)  # the test machines are shared; small nets gain nothing from threads


class NeverEndingEnv(gym.Env):
    """Reward 1 per step, never terminates: only a time limit can end an episode.

    ``terminate_after`` makes it terminate after that many steps instead.
    """

    observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, terminate_after=None):
        self.terminate_after = terminate_after
        self.reset_seeds = []
        self.total_steps = 0
        self.steps_this_episode = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.reset_seeds.append(seed)
        self.steps_this_episode = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.total_steps += 1
        self.steps_this_episode += 1
        terminated = self.steps_this_episode == self.terminate_after
        obs = np.array([self.steps_this_episode], dtype=np.float32)
        return obs, 1.0, terminated, False, {}


NEVER_ENDING_ID = "HelpersTest/NeverEnding-v0"
if NEVER_ENDING_ID not in gym.registry:
    gym.register(NEVER_ENDING_ID, entry_point=NeverEndingEnv, max_episode_steps=7)


def make_q_network(seed=0):
    """A 4-128-128-2 MLP with fixed random weights: a deterministic CartPole policy
    whose episodes last from about 10 to a few hundred steps."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(4, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 2),
    )


def always_push_left(obs):
    return 0


# ---------------------------------------------------------------- seeding


def test_seed_everything_repeats_random_numpy_and_torch_draws():
    def draws():
        return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()

    assert seed_everything(123) is None
    first = draws()
    seed_everything(123)
    assert draws() == first
    seed_everything(124)
    assert draws() != first


def test_seed_everything_seeds_and_resets_the_env():
    env = gym.make("CartPole-v1")
    obs, info = seed_everything(5, env)
    actions = [env.action_space.sample() for _ in range(20)]
    obs_again, _ = seed_everything(5, env)
    assert np.array_equal(obs, obs_again)
    assert [env.action_space.sample() for _ in range(20)] == actions
    assert isinstance(info, dict)


# ---------------------------------------------------------------- evaluation


def test_greedy_policy_returns_the_argmax_as_a_python_int():
    network = torch.nn.Linear(3, 4)
    with torch.no_grad():
        network.weight.zero_()
        network.bias.copy_(torch.tensor([0.0, 2.0, 5.0, 1.0]))
    action = greedy_policy(network)(np.ones(3))
    assert action == 2 and type(action) is int


def test_evaluate_policy_stops_on_truncation():
    env = NeverEndingEnv()
    returns = evaluate_policy(TimeLimit(env, max_episode_steps=7), always_push_left, n_episodes=3)
    assert returns.shape == (3,) and returns.dtype == np.float64
    assert returns.tolist() == [7.0, 7.0, 7.0]
    assert env.total_steps == 3 * 7


def test_evaluate_policy_stops_on_termination():
    env = NeverEndingEnv(terminate_after=4)
    returns = evaluate_policy(TimeLimit(env, max_episode_steps=50), always_push_left, n_episodes=2)
    assert returns.tolist() == [4.0, 4.0]
    assert env.total_steps == 2 * 4  # never stepped past a termination


def test_evaluate_policy_max_steps_cuts_an_env_without_time_limit():
    env = NeverEndingEnv()
    returns = evaluate_policy(env, always_push_left, n_episodes=2, max_steps=11)
    assert returns.tolist() == [11.0, 11.0]


def test_evaluate_policy_resets_episode_i_with_seed_plus_i():
    env = NeverEndingEnv(terminate_after=1)
    evaluate_policy(env, always_push_left, n_episodes=4, seed=10)
    assert env.reset_seeds == [10, 11, 12, 13]


def test_evaluate_policy_same_seed_same_returns():
    policy = greedy_policy(make_q_network())
    env = gym.make("CartPole-v1")
    first = evaluate_policy(env, policy, n_episodes=5, seed=3)
    assert np.array_equal(evaluate_policy(env, policy, n_episodes=5, seed=3), first)
    assert len(set(first.tolist())) > 1  # the starts differ, so do the returns


def test_vectorized_sync_matches_evaluate_policy_episode_by_episode():
    """In "sync" mode copy i is reset with seed + i, exactly like evaluate_policy's
    episode i; with autoreset masked out, every return must match."""
    network = make_q_network()
    single = evaluate_policy(gym.make("CartPole-v1"), greedy_policy(network), 20, seed=7)
    vectorized = evaluate_policy_vectorized("CartPole-v1", network, n_episodes=20, seed=7, vectorization_mode="sync")
    assert vectorized.shape == (20,)
    assert np.array_equal(vectorized, single)
    assert single.min() < single.max()  # copies end at different steps: masking matters


def test_vectorized_uses_batched_cartpole_and_repeats(monkeypatch):
    modes = []
    make_vec = gym.make_vec

    def spy_make_vec(*args, **kwargs):
        modes.append(kwargs["vectorization_mode"])
        return make_vec(*args, **kwargs)

    monkeypatch.setattr(gym, "make_vec", spy_make_vec)
    network = make_q_network()
    first = evaluate_policy_vectorized("CartPole-v1", network, n_episodes=30, seed=1)
    again = evaluate_policy_vectorized("CartPole-v1", network, n_episodes=30, seed=1)
    assert modes == ["vector_entry_point", "vector_entry_point"]
    assert np.array_equal(first, again)
    assert first.min() >= 8 and first.max() <= 500  # first episodes only, never two summed
    single = evaluate_policy(gym.make("CartPole-v1"), greedy_policy(network), 30, seed=1)
    assert abs(first.mean() - single.mean()) < 0.5 * single.mean()  # same policy, other starts


def test_batched_cartpole_does_not_seed_copies_like_single_envs():
    """Why the episode-by-episode comparison above uses "sync": CartPoleVectorEnv
    draws all copies' starts from one generator seeded with `seed`, so copy i does
    NOT start where a single env reset with seed + i does (gymnasium 1.4.0)."""
    batched = gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="vector_entry_point")
    batched_starts, _ = batched.reset(seed=0)
    single_starts = [gym.make("CartPole-v1").reset(seed=i)[0] for i in range(3)]
    assert not np.array_equal(batched_starts, np.stack(single_starts))


def test_vectorized_max_steps_and_sync_fallback():
    """The test env registers no batched version, so "sync" is used; its time
    limit (7 steps) or max_steps ends the episodes."""

    def q_function(obs):
        return torch.zeros(obs.shape[0], 2)

    returns = evaluate_policy_vectorized(NEVER_ENDING_ID, q_function, n_episodes=4)
    assert returns.tolist() == [7.0] * 4
    returns = evaluate_policy_vectorized(NEVER_ENDING_ID, q_function, n_episodes=4, max_steps=3)
    assert returns.tolist() == [3.0] * 4


# ---------------------------------------------------------------- video


def count_frames(path):
    reader = imageio.get_reader(path)
    try:
        return reader.count_frames(), reader.get_meta_data()
    finally:
        reader.close()


def test_record_episode_writes_one_frame_per_step_plus_the_start(tmp_path):
    # CartPole gives reward 1 per step, so the return is the episode's length.
    n_steps = int(evaluate_policy(gym.make("CartPole-v1"), always_push_left, 1, seed=4)[0])
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    frames = rollout_frames(env, always_push_left, seed=4)
    assert len(frames) == n_steps + 1
    assert frames[0].shape == (400, 600, 3) and frames[0].dtype == np.uint8

    path = record_episode("CartPole-v1", always_push_left, tmp_path / "new" / "ep.mp4", seed=4)
    assert path == tmp_path / "new" / "ep.mp4" and path.stat().st_size > 0
    n_frames, meta = count_frames(path)
    assert n_frames == n_steps + 1
    assert meta["fps"] == 50  # CartPole's metadata["render_fps"]
    assert meta["size"] == (600, 400)


def test_record_episode_max_steps_and_given_env(tmp_path):
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    path = record_episode(env, always_push_left, tmp_path / "short.mp4", max_steps=3, fps=10)
    n_frames, meta = count_frames(path)
    assert n_frames == 4 and meta["fps"] == 10


def test_record_episode_rejects_an_env_that_cannot_render_frames(tmp_path):
    with pytest.raises(ValueError, match="rgb_array"):
        record_episode(gym.make("CartPole-v1"), always_push_left, tmp_path / "x.mp4")


def test_show_video_embeds_the_file(tmp_path):
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"not really a video")
    html = show_video(path, width=320).data
    assert '<video width="320" controls autoplay loop' in html
    assert "data:video/mp4;base64,bm90IHJlYWxseSBhIHZpZGVv" in html


MOVIEPY1_REQUIREMENTS = ["moviepy==1.0.3", "proglog==0.1.12", "decorator>=4.0.2,<5"]


def moviepy1_target() -> pathlib.Path:
    """A folder holding moviepy 1.0.3 (Colab's version) and its old decorator, installed once.

    $MOVIEPY1_TARGET if set, else .cache/moviepy-1.0.3 in the repository (git-ignored).
    """
    target = pathlib.Path(
        os.environ.get("MOVIEPY1_TARGET") or pathlib.Path(__file__).resolve().parents[1] / ".cache" / "moviepy-1.0.3"
    )
    if not (target / "moviepy" / "__init__.py").exists():
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--target",
                str(target),
                *MOVIEPY1_REQUIREMENTS,
            ],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"could not install moviepy 1.0.3 to test against:\n{result.stderr[-2000:]}"
    return target


def test_record_episode_moviepy_1_0_3(tmp_path):
    """record_episode with moviepy 1.0.3 (Colab's version) in a subprocess."""
    target = str(moviepy1_target())
    script = textwrap.dedent(
        f"""
        import moviepy, imageio.v2 as imageio
        from helpers.video import record_episode
        assert moviepy.__version__ == "1.0.3", moviepy.__version__
        path = record_episode("CartPole-v1", lambda obs: 0, {str(tmp_path / "v1.mp4")!r}, max_steps=5)
        reader = imageio.get_reader(path)
        print(reader.count_frames())
        """
    )
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([target, str(REPO_ROOT)]))
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "6"
    assert result.stderr == ""  # silent: no progress bar


# ---------------------------------------------------------------- plotting


def assert_png(path):
    assert pathlib.Path(path).read_bytes()[:8] == PNG_SIGNATURE


def test_importing_helpers_imports_neither_matplotlib_nor_moviepy():
    code = "import sys, helpers; print('matplotlib' in sys.modules, 'moviepy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_rolling_mean_averages_the_last_window_values():
    assert rolling_mean([1, 2, 3, 4], window=2).tolist() == [1.0, 1.5, 2.5, 3.5]
    assert rolling_mean([], window=3).shape == (0,)


def test_training_plot_writes_png_headless_and_throttles(tmp_path):
    assert not plotting.in_notebook()
    path = tmp_path / "out" / "training.png"
    plot = TrainingPlot(window=10, redraw_every=60.0, path=path)
    for episode in range(30):
        plot.add_episode(episode)
        plot.add_epsilon(1.0 - episode / 30)
        for step in range(5):
            plot.add_loss(torch.tensor(1.0 / (1 + episode + step)))
    assert plot.draw() is True
    assert_png(path)
    assert plot.draw() is False  # within redraw_every of the last redraw
    path.unlink()
    plot.close()
    assert_png(path)
    assert isinstance(plot.figure, Figure)
    assert plot.figure.axes[1].get_yscale() == "log"


def test_training_plot_waits_nine_times_a_slow_redraw(monkeypatch, tmp_path):
    """Drawing takes at most a tenth of the training time: after a redraw of d seconds the next
    one waits at least 9 d, even with redraw_every 0."""
    clock = iter([0.0, 0.0, 0.5, 0.6, 4.9, 5.0, 5.0, 5.01])  # each draw: its check, then start and end if it draws
    monkeypatch.setattr(plotting.time, "monotonic", lambda: next(clock))
    plot = TrainingPlot(redraw_every=0.0, path=tmp_path / "training.png")
    assert plot.draw() is True  # took 0.5 s: the next redraw waits 4.5 s
    assert plot.draw() is False  # 0.1 s later
    assert plot.draw() is False  # 4.4 s later
    assert plot.draw() is True  # 4.5 s later


def test_training_plot_updates_in_place_in_a_notebook(monkeypatch, tmp_path):
    import IPython.display

    shown = []

    class FakeHandle:
        def update(self, obj):
            shown.append(("update", obj))

    def fake_display(obj, display_id=False):
        shown.append(("display", obj))
        return FakeHandle()

    monkeypatch.setattr(plotting, "in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", fake_display)
    plot = TrainingPlot(path=tmp_path / "unused.png")
    plot.add_episode(1.0)
    plot.draw(force=True)
    plot.close()
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert shown[-1][1].data[:8] == PNG_SIGNATURE
    assert not (tmp_path / "unused.png").exists()


def test_plot_functions_save_png(tmp_path, monkeypatch):
    figure = plot_regression_losses([1.0, 0.5, 0.1], [1.2, 0.7, 0.3], path=tmp_path / "a" / "l.png")
    assert isinstance(figure, Figure) and figure.axes[0].get_yscale() == "log"
    assert_png(tmp_path / "a" / "l.png")

    x = torch.linspace(-1, 1, 20, requires_grad=True).reshape(-1, 1)
    figure = plot_regression_fit(x, 2 * x, x, 2 * x, 1.9 * x, path=tmp_path / "fit.png")
    assert isinstance(figure, Figure)
    assert_png(tmp_path / "fit.png")

    # Headless without a path: a default file under outputs/ in the working directory.
    monkeypatch.chdir(tmp_path)
    plot_regression_losses([1.0, 0.5])
    assert_png(tmp_path / "outputs" / "regression_losses.png")


def test_plot_learning_curves_cuts_runs_to_the_shortest(tmp_path):
    rng = np.random.default_rng(0)
    curves = {
        "uniform": [rng.normal(size=50), rng.normal(size=40)],
        "prioritized": [rng.normal(size=30) + 1, rng.normal(size=35) + 1, rng.normal(size=60) + 1],
    }
    figure = plot_learning_curves(curves, window=5, path=tmp_path / "curves.png")
    assert_png(tmp_path / "curves.png")
    mean_lines = figure.axes[0].get_lines()
    assert [len(line.get_xdata()) for line in mean_lines] == [40, 30]
    expected = np.mean([rolling_mean(run, 5)[:30] for run in curves["prioritized"]], axis=0)
    assert np.allclose(mean_lines[1].get_ydata(), expected)


def test_plot_learning_curves_ylim(tmp_path):
    figure = plot_learning_curves({"a": [np.linspace(-1000, 0, 50)]}, path=tmp_path / "c.png", ylim=(-100, 0))
    assert figure.axes[0].get_ylim() == (-100, 0)


def test_package_docstring_lists_every_module():
    import helpers

    folder = pathlib.Path(helpers.__file__).parent
    modules = sorted(path.stem for path in folder.glob("*.py") if path.stem != "__init__")
    listed = {line.split()[0] for line in helpers.__doc__.split("Submodules:")[1].splitlines() if "--" in line}
    assert sorted(listed) == modules, f"helpers/__init__.py's docstring should list exactly {modules}"


def test_learning_curves_name_seeds_only_when_there_are_several(tmp_path):
    """One run per curve: no "(1 seeds)", no min-max band, and a title that does not speak of seeds."""
    from helpers.plotting import plot_learning_curves

    figure = plot_learning_curves({"DQN": [[1.0, 2.0, 3.0]]}, window=1, path=tmp_path / "one.png")
    axes = figure.axes[0]
    assert axes.get_title() == "One run per curve" and not axes.collections
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["DQN"]
    figure = plot_learning_curves({"DQN": [[1.0, 2.0], [2.0, 3.0]]}, window=2, path=tmp_path / "two.png")
    assert figure.axes[0].get_title() == "Mean and min-max over seeds (2-point rolling mean)"
    assert [text.get_text() for text in figure.axes[0].get_legend().get_texts()] == ["DQN (2 seeds)"]
