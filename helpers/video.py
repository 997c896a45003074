"""Record an episode to mp4 and show it inline, with no display or Xvfb needed.

Environments render off-screen (``render_mode="rgb_array"``), the frames are
encoded to H.264 by moviepy, and ``show_video`` embeds the file in the notebook as
an HTML5 ``<video>`` element, which works in Jupyter and Colab alike.

Works with moviepy 2.x and moviepy 1.0.3 (still found on older Colab images).
"""

from __future__ import annotations

import base64
import os
import pathlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

# pygame (CartPole's renderer) needs a video driver even to draw off-screen; the
# dummy one needs no display. setdefault keeps a driver the user chose.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
# Nor does it need sound: without this, pygame's audio start-up prints "ALSA lib ... cannot find card"
# lines to stderr (a red block in Jupyter) on machines with no sound card (Colab, servers).
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

DEFAULT_FPS = 30


def rollout_frames(
    env: gym.Env,
    policy: Callable[[Any], int],
    seed: int = 0,
    max_steps: int = 1000,
) -> list[np.ndarray]:
    """Play one episode and collect what ``env.render()`` shows at each step.

    Args:
        env: environment created with ``render_mode="rgb_array"``.
        policy: function from one observation to an action.
        seed: seed of the episode's reset.
        max_steps: cap on the steps played, for envs without a time limit.

    Returns:
        frames: list of uint8 arrays of shape (height, width, 3): the frame after
            the reset, then one after each step, so ``n_steps + 1`` frames.
    """
    if env.render_mode != "rgb_array":
        raise ValueError(f'record needs an env made with render_mode="rgb_array", got {env.render_mode!r}')
    obs, _ = env.reset(seed=seed)
    frames = [env.render()]
    for _ in range(max_steps):
        obs, _, terminated, truncated, _ = env.step(policy(obs))
        frames.append(env.render())
        if terminated or truncated:
            break
    return frames


def write_mp4(frames: list[np.ndarray], path: str | os.PathLike, fps: float) -> pathlib.Path:
    """Encode frames to an H.264 mp4 file, one video frame per input frame.

    Args:
        frames: non-empty list of uint8 arrays of shape (height, width, 3), all the
            same shape.
        path: output file; its parent folders are created.
        fps: frames per second of the video.

    Returns:
        The path of the written file.
    """
    # The class's own module exists in moviepy 1.x and 2.x alike. moviepy 1.x's usual
    # ``moviepy.editor`` import would also start pygame's audio (ALSA errors on a
    # machine without sound) and import pyplot.
    from moviepy.video.io.ImageSequenceClip import ImageSequenceClip

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clip = ImageSequenceClip([_even_sized(frame) for frame in frames], fps=fps)
    # moviepy sums len(frames) durations of 1/fps, and the rounding error makes it
    # write one frame too few or too many for many lengths. A duration half a frame
    # past (moviepy 2 floors duration * fps) or short of (moviepy 1 counts
    # arange(0, duration, 1 / fps)) the true one gives exactly len(frames).
    if hasattr(clip, "with_duration"):
        clip = clip.with_duration((len(frames) + 0.5) / fps)
    else:
        clip = clip.set_duration((len(frames) - 0.5) / fps)
    # fps is passed again because moviepy 1.0.3's "use the clip's fps" default is
    # lost when the decorator package is 5.x. logger=None silences the progress bar.
    clip.write_videofile(str(path), fps=fps, codec="libx264", audio=False, logger=None)
    clip.close()
    return path


def record_episode(
    env_or_id: gym.Env | str,
    policy: Callable[[Any], int],
    path: str | os.PathLike = "videos/episode.mp4",
    seed: int = 0,
    max_steps: int = 1000,
    fps: float | None = None,
) -> pathlib.Path:
    """Play one episode with ``policy`` and save it as an mp4 video.

    The video has ``n_steps + 1`` frames: the start, then one per step. The episode
    stops when the env reports ``terminated or truncated`` or after ``max_steps``.

    Args:
        env_or_id: an env made with ``render_mode="rgb_array"``, or a registered
            env id such as "CartPole-v1" (the env is then made, and closed, here).
        policy: function from one observation to an action, e.g. ``greedy_policy(q)``.
        path: output mp4 file; its parent folders are created.
        seed: seed of the episode's reset.
        max_steps: cap on the steps played.
        fps: frames per second; None uses the env's ``metadata["render_fps"]``
            (real-time speed), or 30 if it has none.

    Returns:
        The path of the written mp4, for ``show_video(path)``.
    """
    made_here = isinstance(env_or_id, str)
    env = gym.make(env_or_id, render_mode="rgb_array") if made_here else env_or_id
    try:
        frames = rollout_frames(env, policy, seed=seed, max_steps=max_steps)
        if fps is None:
            fps = env.metadata.get("render_fps") or DEFAULT_FPS
    finally:
        if made_here:
            env.close()
    return write_mp4(frames, path, fps)


def show_video(path: str | os.PathLike, width: int = 480):
    """Embed an mp4 file in the notebook as a looping HTML5 video.

    The file's bytes go into the page (base64), so the video still plays when the
    file is gone or the notebook runs on a remote machine such as Colab.

    Args:
        path: an mp4 file, e.g. the one ``record_episode`` returned.
        width: display width in pixels; the height follows the aspect ratio.

    Returns:
        An ``IPython.display.HTML`` object; as a cell's last value it shows the video.
    """
    from IPython.display import HTML

    encoded = base64.b64encode(pathlib.Path(path).read_bytes()).decode("ascii")
    # Browsers only autoplay muted videos; the video has no sound anyway.
    return HTML(
        f'<video width="{width}" controls autoplay loop muted playsinline>'
        f'<source src="data:video/mp4;base64,{encoded}" type="video/mp4">'
        "</video>"
    )


def _even_sized(frame: np.ndarray) -> np.ndarray:
    """Pad a frame of shape (height, width, 3) to even height and width.

    H.264 in the yuv420p pixel format every player supports stores colour at half
    resolution, so ffmpeg refuses odd sizes; edge pixels are repeated.
    """
    pad_rows = frame.shape[0] % 2
    pad_cols = frame.shape[1] % 2
    if pad_rows or pad_cols:
        frame = np.pad(frame, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")
    return frame
