"""Smoke runs of the benchmarks: every script in benchmarks/ runs with its smallest settings, as a
maintainer runs it (`python benchmarks/<name>.py ...` from the repository root), exits 0 and prints
its table. The runs measure nothing (the figures come from full runs); they prove the scripts still
work with the current notebooks, autograder and helpers. Also: the benchmarks import as a package
and use public names only.

class_grading needs bubblewrap: without `bwrap` it skips, except under CI (the CI variable set),
where it fails.
"""

import ast
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
TIMEOUT_SECONDS = 900  # a run takes 10-60 s of CPU; leave room for a shared CI machine

# script -> (its smallest settings, lines its output must contain: the table's header and summary)
SMOKE_RUNS = {
    "autograde_time": (["01_pytorch_regression"], ["(nbgrader autograde, wall s)", "whole course"]),
    "class_grading": (
        ["--students", "1", "--assignments", "01_pytorch_regression", "--workers", "1"],
        ["1 jobs (1 students x 1 assignments)", "autograder.grade --workers 1", "one job:"],
    ),
    "per_sampling": (["--sizes", "1000", "--repeats", "3"], ["implementation", "speed-up vectorized vs naive"]),
    "replay_sampling": (["--sizes", "1000", "--repeats", "3"], ["deque + random.sample", "speed-up", "      1,000 "]),
    # never --write here: it would overwrite the gate's data file in autograder/calibration/
    "calibrate_gates": (["--assignment", "03_experience_replay", "--seeds", "1"], ["seed", "pass rate 1/1"]),
    "calibrate_cliffwalking": (["--seeds", "1", "--episodes", "5"], ["meanR/ep", "check passes:"]),
    "cartpole_speed": (["--seeds", "1", "--total-steps", "2000"], ["solve step", "solved within 2000 steps"]),
    "notebook_time": (["01_pytorch_regression"], ["wall s  cpu s", "over 180 s of wall time:"]),
    "reward_shaping": (["--seeds", "1", "--total-steps", "1000"], ["plain: steps, cpu s, gate", "shaped reached 200"]),
}


def scripts() -> list[str]:
    """The runnable benchmarks: the modules of benchmarks/ with a `__main__` block."""
    return sorted(path.stem for path in BENCHMARKS.glob("*.py") if 'if __name__ == "__main__":' in path.read_text())


def test_every_benchmark_has_a_smoke_run():
    assert scripts() == sorted(SMOKE_RUNS), "add the new benchmark's smallest settings to SMOKE_RUNS"


@pytest.mark.parametrize("name", sorted(path.stem for path in BENCHMARKS.glob("*.py")))
def test_benchmarks_import_as_a_package(name):
    """`python -m benchmarks.<name>` works too: no import relies on benchmarks/ being the script's folder."""
    importlib.import_module(f"benchmarks.{name}" if name != "__init__" else "benchmarks")


@pytest.mark.parametrize("name", sorted(path.stem for path in BENCHMARKS.glob("*.py")))
def test_benchmarks_use_public_names_only(name):
    """No private name of the course's packages, no sys.path edits, no monkey-patching (x.y = ...)."""
    tree = ast.parse((BENCHMARKS / f"{name}.py").read_text())
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("autograder", "helpers", "tools"):
            problems += [
                f"line {node.lineno}: imports {alias.name}" for alias in node.names if alias.name.startswith("_")
            ]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            problems.append(f"line {node.lineno}: uses .{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
            problems.append(f"line {node.lineno}: edits or reads sys.path")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            problems += [
                f"line {node.lineno}: assigns to {ast.unparse(target)}"
                for target in targets
                if isinstance(target, ast.Attribute) and getattr(target.value, "id", None) != "self"
            ]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
            problems.append(f"line {node.lineno}: calls setattr")
    assert not problems, f"benchmarks/{name}.py: " + "; ".join(problems)


@pytest.mark.slow
@pytest.mark.xdist_group("benchmarks")
@pytest.mark.timeout(TIMEOUT_SECONDS + 60)
@pytest.mark.parametrize("name", sorted(SMOKE_RUNS))
def test_benchmark_smoke_run(name):
    arguments, expected_lines = SMOKE_RUNS[name]
    if name == "class_grading" and shutil.which("bwrap") is None:
        if os.environ.get("CI"):
            pytest.fail(
                "CI must run the class-grading benchmark, but bubblewrap (bwrap) is not installed", pytrace=False
            )
        pytest.skip("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    environment = {**os.environ, "MPLBACKEND": "Agg", "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    run = subprocess.run(
        [sys.executable, f"benchmarks/{name}.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    command = f"python benchmarks/{name}.py {' '.join(arguments)}"
    assert run.returncode == 0, f"`{command}` exited with {run.returncode}:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    missing = [line for line in expected_lines if line not in run.stdout]
    assert not missing, f"`{command}` did not print {missing}:\n{run.stdout[-3000:]}"
