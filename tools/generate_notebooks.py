"""Regenerate the student notebooks in notebooks/ from the single source in solutions/.

    python tools/generate_notebooks.py            # all assignments, written into notebooks/
    python tools/generate_notebooks.py 02_online_dqn
    python tools/generate_notebooks.py --into DIR # a scratch course (used by the drift test)

It runs `nbgrader generate_assignment` with the course's nbgrader_config.py, in a scratch course
directory, so no gradebook or log is left in the repository.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def assignments() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())


def generate(names: list[str], into: Path) -> None:
    """Write notebooks/<name>/<name>.ipynb under `into` for each assignment name."""
    with tempfile.TemporaryDirectory() as scratch:
        course = Path(scratch)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        for name in names:
            shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force", "--log-level=WARN"],
                cwd=course,
                check=True,
            )
            target = into / "notebooks" / name
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(course / "notebooks" / name / f"{name}.ipynb", target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="assignments (default: every folder of solutions/)")
    parser.add_argument("--into", type=Path, default=ROOT, help="course root to write notebooks/ into")
    arguments = parser.parse_args()
    generate(arguments.names or assignments(), arguments.into)


if __name__ == "__main__":
    main()
