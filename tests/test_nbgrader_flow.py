"""nbgrader end to end on all six assignments, as an instructor runs it: generate_assignment,
autograde (one student at a time, timed), export, generate_feedback, on the class of
tools/demo_course.py, whose every grade is known in advance.

The class runs as two courses of three assignments each (two gradebooks), one per pytest-xdist worker.
The checks' time limits are lowered for the whole class (AUTOGRADER_QUICK_SECONDS=10,
AUTOGRADER_SLOW_SECONDS=120) so that `stalls` costs seconds, not minutes; every other student's
checks finish far inside them.
"""

import csv

import nbformat
import pytest

from tools.demo_course import STALLED_CELLS, build_demo_course, expected_score, nbgrader, points, students_of

GROUPS = [
    ["01_pytorch_regression", "02_online_dqn", "03_experience_replay"],  # about equal grading time
    ["04_prioritized_replay", "05_target_network", "06_sarsa"],
]
LIMITS = {"AUTOGRADER_QUICK_SECONDS": "10", "AUTOGRADER_SLOW_SECONDS": "120"}
MARGIN_SECONDS = 20  # per stalled cell, on top of its limit: kernel start-up, the checks after it
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]  # the fixture grades a class: minutes


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(group, id="+".join(a[:2] for a in group), marks=pytest.mark.xdist_group(f"nbgrader_class_{i}"))
        for i, group in enumerate(GROUPS)
    ],
)
def graded(request, tmp_path_factory):
    import time

    group = request.param
    course = build_demo_course(tmp_path_factory.mktemp("class") / "course", group)
    seconds = {}
    for assignment in group:
        for student in students_of(assignment):
            start = time.perf_counter()
            nbgrader(course, "autograde", assignment, "--student", student, env=LIMITS)
            seconds[student, assignment] = time.perf_counter() - start
    nbgrader(course, "export")
    for assignment in group:
        nbgrader(course, "generate_feedback", assignment)
    with open(course / "grades.csv") as file:
        grades = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(file)}
    return course, group, grades, seconds


def solution(assignment):
    from tools.demo_course import ROOT

    return nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def autograded(course, student, assignment):
    return nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)


def grade_cells(notebook):
    """The autograded test cells (not the written answers, which are markdown)."""
    return [
        c for c in notebook.cells if c.cell_type == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]


def test_every_student_gets_exactly_the_expected_score(graded):
    course, group, grades, _ = graded
    wrong = {}
    for assignment in group:
        for student in students_of(assignment):
            expected = expected_score(student, assignment, solution(assignment))
            if grades.get((student, assignment)) != expected:
                wrong[student, assignment] = (grades.get((student, assignment)), expected)
    assert not wrong, f"(student, assignment): (got, expected): {wrong}"


def test_a_stalled_function_costs_its_cells_limit_not_nbgraders_timeout(graded):
    _, group, _, seconds = graded
    for assignment in group:
        stalled = STALLED_CELLS[assignment]
        limits = sum(
            int(LIMITS["AUTOGRADER_SLOW_SECONDS" if "cliffwalking" in c else "AUTOGRADER_QUICK_SECONDS"])
            + MARGIN_SECONDS
            for c in stalled
        )
        assert seconds["stalls", assignment] <= seconds["perfect", assignment] + limits, (
            f"{assignment}: stalls took {seconds['stalls', assignment]:.0f} s, perfect "
            f"{seconds['perfect', assignment]:.0f} s"
        )


def test_no_test_cell_of_a_passing_student_writes_stderr_and_floods_stay_small(graded):
    course, group, _, _ = graded
    for assignment in group:
        for student in [s for s in ["perfect", "warns", "floods", "pasted"] if s in students_of(assignment)]:
            for cell in grade_cells(autograded(course, student, assignment)):
                stderr = [o for o in cell.outputs if o.get("name") == "stderr" or o.output_type == "error"]
                assert not stderr, f"{student} {assignment} {cell.metadata.nbgrader['grade_id']}: {stderr}"
        if "floods" not in students_of(assignment):
            continue
        size = (course / "autograded" / "floods" / assignment / f"{assignment}.ipynb").stat().st_size
        assert size < 1_000_000, f"{assignment}: the flooding student's autograded notebook is {size:,} bytes"


def test_a_failing_cell_shows_the_teaching_message_and_no_autograder_traceback(graded):
    course, group, _, _ = graded
    for assignment in group:
        for cell in grade_cells(autograded(course, "blank", assignment)):
            (error,) = [o for o in cell.outputs if o.output_type == "error"]
            text = "\n".join(error.traceback)
            assert error.ename == "ChecksFailed" and "Not implemented yet" in text, text
            assert "autograder/" not in text and "Traceback" not in text, text


def test_feedback_is_written_for_every_submission(graded):
    course, group, _, _ = graded
    for assignment in group:
        for student in students_of(assignment):
            assert (course / "feedback" / student / assignment / f"{assignment}.html").exists()
        assert sum(points(solution(assignment)).values()) > 0


def test_feedback_shows_the_model_answer_under_each_written_answer(graded):
    course, group, _, _ = graded
    for assignment in group:
        answers = [
            c
            for c in solution(assignment).cells
            if c.cell_type == "markdown" and c.get("metadata", {}).get("nbgrader", {}).get("solution")
        ]
        feedback = (course / "feedback" / "blank" / assignment / f"{assignment}.html").read_text()
        assert feedback.count("<strong>Model answer</strong>") == len(answers), assignment
