"""Build a small nbgrader class to try the grading flow on: notebook 01 and four students.

    python tools/demo_course.py /tmp/demo && cd /tmp/demo && nbgrader autograde 01_pytorch_regression

The students: `perfect` (a copy of the solution), `blank` (the untouched release), `buggy`
(make_train_step forgets optimizer.zero_grad()) and `cheater` (the same bug, and the locked test
cell of make_train_step replaced by `pass`). tests/test_nbgrader_flow.py grades this class.
"""
import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_pytorch_regression"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
STUDENTS = ["perfect", "blank", "buggy", "cheater"]
MISSING_ZERO_GRAD = ("        optimizer.zero_grad()\n", "")


def nbgrader(course: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Run one nbgrader command in `course`; raise with its log if it fails."""
    result = subprocess.run([sys.executable, "-m", "nbgrader", *arguments, "--log-level=WARN"],
                            cwd=course, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result


def _edited(grade_id: str, edit, notebook=None):
    notebook = notebook or nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = edit(cell.source)
    return notebook


def build_demo_course(course: Path) -> Path:
    """Create the course folder: config, source, generated release, and the four submissions."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    buggy = _edited("make_train_step", lambda source: source.replace(*MISSING_ZERO_GRAD))
    submissions = {
        "perfect": nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4),
        "blank": nbformat.read(course / "notebooks" / ASSIGNMENT / NOTEBOOK, as_version=4),
        "buggy": buggy,
        "cheater": _edited("test_make_train_step", lambda source: "pass",
                           _edited("make_train_step", lambda source: source.replace(*MISSING_ZERO_GRAD))),
    }
    for student, notebook in submissions.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)
    return course


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where to create the course (must not exist)")
    build_demo_course(parser.parse_args().folder)
