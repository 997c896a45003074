"""Support code for the DQN course notebooks (not graded).

Import the submodule you need, e.g. ``from helpers.evaluation import evaluate_policy``.
This package file stays empty on purpose: importing ``helpers`` must not pull in
matplotlib or moviepy, which are slow to import and only some notebooks need.

Submodules:
    seeding     -- seed_everything: one call seeds random, numpy, torch and an env.
    evaluation  -- greedy_policy, evaluate_policy, evaluate_policy_vectorized.
    video       -- record_episode (mp4, no display needed) and show_video (inline HTML5).
    plotting    -- TrainingPlot (live in Jupyter/Colab, PNG when headless) and plot_* helpers.
    progress    -- ProgressBar: one bar per long loop, redrawn in place, never on stderr.
    notebook    -- in_notebook: whether the code runs in a notebook's kernel.
    colab       -- install_missing: pip-installs what a notebook needs and the machine lacks (Colab).
    gridworld   -- CliffWalking (notebook 06): greedy_path and drawings of paths.
"""
