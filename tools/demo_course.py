"""Build an nbgrader class to try the grading flow on: every assignment, and students whose grade
is known in advance.

    python tools/demo_course.py /tmp/demo && cd /tmp/demo && nbgrader autograde 02_online_dqn

The students (each built from the solution or the release, never by hand; `warns`, `floods`,
`pasted`, `tampered` and `dies` submit 01 and 02 only, the others every assignment):
- `perfect`: the solution. Full marks.
- `blank`: the untouched release. 0.
- `partial`: some graded functions from the solution, the rest blank (PARTIAL): the points of the
  test cells whose checks only touch the right ones (PARTIAL_POINTS).
- `warns`: the solution, with one correct function that warns twice (a UserWarning from torch and
  its own warning) every time it runs. Full marks.
- `stalls`: the solution, with one function (QUIET) that never returns. Loses exactly the cells
  that call it (STALLED_CELLS).
- `floods`: the solution, with one function (QUIET) printing 50 MB the first time it runs. Full marks.
- `pasted`: the solution, with one test cell copy-pasted (metadata included) above its function.
  Full marks.
- `tampered`: the solution, with one test cell replaced by `pass`, one deleted, and one
  given another grade_id. Full marks: the real cells are put back.
- `dies`: the solution, with `os._exit(0)` in a cell before the last test cell: keeps
  every point but those of the last test cell.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").exists())
STUDENTS = ["perfect", "blank", "partial", "warns", "stalls", "floods", "pasted", "tampered", "dies"]
# Students whose case does not depend on the assignment (the executor's guards, the nbgrader repairs)
# submit only 01 and 02, to keep the class quick to grade; the others submit every assignment.
EXTRA_STUDENT_ASSIGNMENTS = {
    student: ["01_pytorch_regression", "02_online_dqn"] for student in ("warns", "floods", "pasted", "tampered", "dies")
}

# The graded functions `partial` gets right (the others are left blank), and the points that earns.
PARTIAL = {
    "01_pytorch_regression": ["make_val_step"],
    "02_online_dqn": ["create_network", "linear_epsilon"],
    "03_experience_replay": ["sample_batch"],
    "04_prioritized_replay": ["symlog", "softmax"],
    "05_target_network": ["hard_update", "soft_update", "conv_output_size"],
    "06_sarsa": ["compute_sarsa_loss"],
}
PARTIAL_POINTS = {
    "01_pytorch_regression": 2,
    "02_online_dqn": 2,
    "03_experience_replay": 2,
    "04_prioritized_replay": 2,
    "05_target_network": 3,
    "06_sarsa": 7,
}
# A function that no training loop calls: `warns`, `stalls` and `floods` change it; the test cells
# that call it (STALLED_CELLS) are the only ones `stalls` loses.
QUIET = {
    "01_pytorch_regression": "make_val_step",
    "02_online_dqn": "exponential_epsilon",
    "03_experience_replay": "sample_batch",
    "04_prioritized_replay": "symlog",
    "05_target_network": "ConvQNetwork",
    "06_sarsa": "compute_expected_sarsa_loss",
}
STALLED_CELLS = {
    "01_pytorch_regression": ["test_make_val_step"],
    "02_online_dqn": ["test_exponential_epsilon"],
    "03_experience_replay": ["test_sample_batch"],
    "04_prioritized_replay": ["test_symlog"],
    "05_target_network": ["test_ConvQNetwork"],
    "06_sarsa": ["test_compute_expected_sarsa_loss", "test_expected_sarsa_on_cliffwalking"],
}
# What `tampered` does: (replaced by `pass`, deleted, renamed) test cells.
TAMPERED = {
    "01_pytorch_regression": ("test_make_train_step", "test_training_recovers_line", "test_make_val_step"),
    "02_online_dqn": (
        "test_compute_td_loss",
        "test_train_online_dqn_bootstraps_through_truncation",
        "test_linear_epsilon",
    ),
}


def nbgrader(course: Path, *arguments: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run one nbgrader command in `course`; raise with its log if it fails."""
    bin_dir = str(Path(sys.executable).parent)  # nbgrader looks up alembic on PATH
    environment = {**os.environ, **(env or {})}
    environment["PATH"] = bin_dir + ":" + environment.get("PATH", "")
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments, "--log-level=WARN"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=3600,
        env=environment,
    )
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def points(notebook) -> dict[str, float]:
    """grade_id -> points of every autograded test cell (written answers, markdown cells graded by the
    instructor, are not autograded: they earn nothing until graded by hand)."""
    return {
        grade_id(c): c.metadata.nbgrader["points"]
        for c in notebook.cells
        if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")
    }


def _cell(notebook, name):
    return next(c for c in notebook.cells if grade_id(c) == name)


def inserted_after_begin(source: str, lines: list[str]) -> str:
    """Insert `lines` right after the `### BEGIN SOLUTION` line, at its indentation."""
    match = re.search(r"^( *)### BEGIN SOLUTION\n", source, re.MULTILINE)
    indent = match.group(1)
    return source[: match.end()] + "".join(f"{indent}{line}\n" for line in lines) + source[match.end() :]


def student_notebook(student: str, assignment: str, solution, release):
    """The notebook `student` submits for `assignment`."""
    notebook = copy.deepcopy(solution)
    if student == "perfect":
        return notebook
    if student == "blank":
        return copy.deepcopy(release)
    if student == "partial":
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and grade_id(cell) not in PARTIAL[assignment]:
                cell.source = _cell(release, grade_id(cell)).source
        return notebook
    quiet = _cell(notebook, QUIET[assignment])
    if student == "warns":
        quiet.source = "import warnings\n" + inserted_after_begin(
            quiet.source,
            [
                "torch.tensor(torch.ones(1))  # UserWarning: use tensor.clone().detach()",
                'warnings.warn("a student\'s own warning")',
            ],
        )
    elif student == "stalls":
        quiet.source = inserted_after_begin(quiet.source, ["while True:", "    pass"])
    elif student == "floods":
        quiet.source = inserted_after_begin(
            quiet.source,
            [
                "import sys",
                "if not hasattr(sys, 'flooded'):  # 60 MB of debugging prints, the first time only",
                "    sys.flooded = True",
                "    print('debug ' * 10_000_000)",
            ],
        )
    elif student == "pasted":
        has_test = any(grade_id(c) == f"test_{QUIET[assignment]}" for c in notebook.cells)
        test = _cell(notebook, f"test_{QUIET[assignment]}" if has_test else STALLED_CELLS[assignment][0])
        position = notebook.cells.index(quiet)
        pasted = copy.deepcopy(test)  # same grade_id; a cell id of its own, as Jupyter gives a pasted cell
        pasted["id"] = f"{test.get('id', 'cell')}-pasted"[:64]
        notebook.cells.insert(position, pasted)  # above the function it checks
    elif student == "tampered":
        replaced, deleted, renamed = TAMPERED[assignment]
        _cell(notebook, replaced).source = "pass"
        notebook.cells.remove(_cell(notebook, deleted))
        _cell(notebook, renamed).metadata.nbgrader["grade_id"] = "my_own_cell"
    elif student == "dies":
        last_test = [c for c in notebook.cells if grade_id(c) in points(notebook)][-1]
        notebook.cells.insert(notebook.cells.index(last_test), nbformat.v4.new_code_cell("import os\nos._exit(0)"))
    return notebook


def expected_score(student: str, assignment: str, solution) -> float:
    """The score that `student` must get on `assignment`."""
    cell_points = points(solution)
    total = sum(cell_points.values())
    if student == "blank":
        return 0.0
    if student == "partial":
        return float(PARTIAL_POINTS[assignment])
    if student == "stalls":
        return total - sum(cell_points[c] for c in STALLED_CELLS[assignment])
    if student == "dies":
        return total - list(cell_points.values())[-1]
    return float(total)


def students_of(assignment: str) -> list[str]:
    return [s for s in STUDENTS if assignment in EXTRA_STUDENT_ASSIGNMENTS.get(s, [assignment])]


def build_demo_course(course: Path, assignments: list[str] = ASSIGNMENTS, students: list[str] = STUDENTS) -> Path:
    """Create the course folder: config, source, generated release, and the submissions."""
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
        nbgrader(course, "generate_assignment", assignment, "--force")
        name = f"{assignment}.ipynb"
        solution = nbformat.read(ROOT / "solutions" / assignment / name, as_version=4)
        release = nbformat.read(course / "notebooks" / assignment / name, as_version=4)
        for student in students:
            if student not in students_of(assignment):
                continue
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(student_notebook(student, assignment, solution, release), folder / name)
    return course


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="where to create the course (must not exist)")
    parser.add_argument("assignments", nargs="*", default=ASSIGNMENTS)
    arguments = parser.parse_args()
    build_demo_course(arguments.folder, arguments.assignments)
