"""nbgrader end to end on notebook 01, as an instructor runs it: generate, autograde, export, feedback.

Four students: a copy of the solution (full marks), the untouched release (zero), one with a
known bug (partial), and one who replaced a locked test cell with `pass` (still gets the real test).
"""
import csv
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_pytorch_regression"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
POINTS = {"test_make_train_step": 3, "test_make_val_step": 2, "test_training_recovers_line": 1}
MAX_SCORE = sum(POINTS.values())
# A missing optimizer.zero_grad(): the mutant bank's train_step_without_zero_grad.
BUGGY_LINE = ("        optimizer.zero_grad()\n", "")


def nbgrader(course, *arguments):
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *arguments, "--log-level=WARN"],
        cwd=course, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(arguments)} failed:\n{result.stderr[-3000:]}"


def submit(course, student, notebook):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / NOTEBOOK)


def edit_cell(notebook, grade_id, edit):
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = edit(cell.source)
    return notebook


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")

    solution = nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4)
    release = nbformat.read(course / "notebooks" / ASSIGNMENT / NOTEBOOK, as_version=4)
    buggy = edit_cell(nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4),
                      "make_train_step", lambda source: source.replace(*BUGGY_LINE))
    cheater = edit_cell(nbformat.read(ROOT / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4),
                        "make_train_step", lambda source: source.replace(*BUGGY_LINE))
    cheater = edit_cell(cheater, "test_make_train_step", lambda source: "pass")
    for student, notebook in [("perfect", solution), ("blank", release), ("buggy", buggy), ("cheater", cheater)]:
        submit(course, student, notebook)

    nbgrader(course, "autograde", ASSIGNMENT)
    nbgrader(course, "export")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    with open(course / "grades.csv") as file:
        grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}
    return course, grades


def test_grades_are_exported_for_every_student(graded_course):
    _, grades = graded_course
    assert sorted(grades) == ["blank", "buggy", "cheater", "perfect"]


def test_solution_gets_full_marks(graded_course):
    assert graded_course[1]["perfect"] == MAX_SCORE


def test_untouched_release_gets_zero(graded_course):
    assert graded_course[1]["blank"] == 0


def test_known_bug_gets_partial_marks(graded_course):
    # make_train_step fails its check; make_val_step still earns its points.
    score = graded_course[1]["buggy"]
    assert POINTS["test_make_val_step"] <= score < MAX_SCORE


def test_replaced_test_cell_is_restored(graded_course):
    course, grades = graded_course
    assert grades["cheater"] == grades["buggy"] < MAX_SCORE
    autograded = nbformat.read(course / "autograded" / "cheater" / ASSIGNMENT / NOTEBOOK, as_version=4)
    restored = [c.source for c in autograded.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_make_train_step"]
    assert restored and "check_make_train_step(make_train_step)" in restored[0]


def test_feedback_is_written(graded_course):
    course, _ = graded_course
    for student in ["perfect", "blank", "buggy", "cheater"]:
        assert (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
