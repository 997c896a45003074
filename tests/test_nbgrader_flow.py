"""nbgrader end to end on notebook 01, as an instructor runs it: generate, autograde, export, feedback.

The class of tools/demo_course.py: a copy of the solution (full marks), the untouched release
(zero), a known bug (partial), and a student who replaced a locked test cell with `pass` (still
gets the real test).
"""
import csv
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from demo_course import ASSIGNMENT, NOTEBOOK, STUDENTS, build_demo_course, nbgrader  # noqa: E402

# One class, graded once: keep these tests on one worker when the suite runs with pytest -n.
pytestmark = pytest.mark.xdist_group("nbgrader_demo_class")
POINTS = {"test_make_train_step": 3, "test_make_val_step": 2, "test_training_recovers_line": 1}
MAX_SCORE = sum(POINTS.values())


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = build_demo_course(tmp_path_factory.mktemp("demo") / "course")
    nbgrader(course, "autograde", ASSIGNMENT)
    nbgrader(course, "export")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    with open(course / "grades.csv") as file:
        grades = {row["student_id"]: float(row["score"]) for row in csv.DictReader(file)}
    return course, grades


def test_grades_are_exported_for_every_student(graded_course):
    assert sorted(graded_course[1]) == sorted(STUDENTS)


def test_solution_gets_full_marks(graded_course):
    assert graded_course[1]["perfect"] == MAX_SCORE


def test_untouched_release_gets_zero(graded_course):
    assert graded_course[1]["blank"] == 0


def test_known_bug_gets_partial_marks(graded_course):
    # make_train_step fails its check; make_val_step still earns its points.
    assert POINTS["test_make_val_step"] <= graded_course[1]["buggy"] < MAX_SCORE


def test_replaced_test_cell_is_restored(graded_course):
    course, grades = graded_course
    assert grades["cheater"] == grades["buggy"] < MAX_SCORE
    autograded = nbformat.read(course / "autograded" / "cheater" / ASSIGNMENT / NOTEBOOK, as_version=4)
    restored = [c.source for c in autograded.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_make_train_step"]
    assert restored and "check_make_train_step(make_train_step)" in restored[0]


def test_feedback_is_written(graded_course):
    course, _ = graded_course
    for student in STUDENTS:
        assert (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").exists()
