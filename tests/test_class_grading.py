"""`python -m autograder.grade` on a class with attackers, as an instructor runs it.

Every attacker starts from the released notebook (no solution code), adds one cell, and would earn
full marks under plain `nbgrader autograde`; here each earns exactly what its honest work earns
(0) and is flagged, and the students graded after it get their real scores. Jobs that hang, kill
their kernel or fill their disk do not stop the run. The class is graded with --workers 2; one
worker, and an external Dask scheduler (a LocalCluster of 2 workers), give exactly the same grades.
Without bubblewrap the command refuses.
"""

import csv
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from tools.demo_course import build_demo_course, expected_score, points

ROOT = Path(__file__).resolve().parents[1]
A1, A2 = "01_pytorch_regression", "02_online_dqn"
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("class_grading"), pytest.mark.timeout(3000)]

PATCH_EXECUTOR = """
import autograder.executor as executor
executor.run_cell = lambda checks, objects, **options: [executor.Outcome(c, "passed") for c in checks]
"""
ATTACKS = {
    # replaces the check machinery in the kernel
    "kernel_patch": PATCH_EXECUTOR,
    # the same patch in a class body, which the definitions loader runs
    "class_patch": "class Patch:\n" + textwrap.indent(PATCH_EXECUTOR, "    "),
    # rewrites the installed autograder so that every check passes, for everyone graded after
    "file_rewrite": """
import pathlib, autograder.executor
path = pathlib.Path(autograder.executor.__file__)
text = path.read_text().replace('    status, message, error_type = PASSED, "", ""',
                                '    return Outcome(check, PASSED)')
try:
    path.write_text(text)
    for cached in path.parent.glob("__pycache__/executor*"):
        cached.unlink()
except OSError as error:
    print("could not rewrite the autograder:", error)
""",
    # finds the instructor's solutions on disk and runs them
    "solution_reader": """
import json, pathlib, autograder
places = [pathlib.Path(autograder.__file__).resolve().parents[1], *pathlib.Path.cwd().resolve().parents]
for place in places:
    for found in [*place.glob("solutions/*/*.ipynb"), *place.glob("source/*/*.ipynb")]:
        for cell in json.loads(found.read_text())["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                exec("".join(cell["source"]), globals())
""",
    # leaves a process behind that gives itself full marks in the gradebook once grading is over
    "gradebook_writer": """
import subprocess, sys
LATER = '''
import pathlib, sqlite3, time
time.sleep(3)
for place in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents, pathlib.Path("%s")]:
    if (place / "gradebook.db").exists():
        db = sqlite3.connect(place / "gradebook.db")
        db.execute("update grade set manual_score = 100")
        db.commit()
'''
subprocess.Popen([sys.executable, "-c", LATER], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
""",
}
BROKEN_JOBS = {
    # ignores nbgrader's interrupt: only the job's time limit ends it
    "hangs": "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass",
    "kills_kernel": "import os\nos._exit(0)",
    "fills_disk": "import itertools\nfor i in itertools.count():\n    with open(f'big{i}.bin', 'wb') as file:\n"
    "        file.write(b'x' * 10_000_000)",
}
JOB_SECONDS = "150"  # what `hangs` costs; every honest job here takes far less


def _with_cell(notebook, source, after_cell):
    notebook = nbformat.from_dict(notebook)
    notebook.cells.insert(after_cell, nbformat.v4.new_code_cell(source))
    return notebook


def build_class(course: Path) -> Path:
    build_demo_course(course, [A1, A2], ["perfect", "blank"])
    for assignment in (A1, A2):
        name = f"{assignment}.ipynb"
        release = nbformat.read(course / "notebooks" / assignment / name, as_version=4)
        solution = nbformat.read(ROOT / "solutions" / assignment / name, as_version=4)
        students = {s: _with_cell(release, source.replace("%s", str(course)), 3) for s, source in ATTACKS.items()}
        if assignment == A1:  # after the attackers in the order of grading: must get their real scores
            students.update(
                {s: _with_cell(solution, source, len(solution.cells) - 1) for s, source in BROKEN_JOBS.items()}
            )
            students["zz_after"] = solution
        for student, notebook in students.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / name)
    return course


def grade(course: Path, *options: str, path: str | None = None) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PATH": path or os.environ["PATH"],
        "AUTOGRADER_QUICK_SECONDS": "10",
        "AUTOGRADER_SLOW_SECONDS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "autograder.grade", str(course), *options],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=3000,
        env=environment,
    )


def summary(course: Path) -> dict:
    with open(course / "grading_summary.csv") as file:
        return {(row["student"], row["assignment"]): row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = build_class(tmp_path_factory.mktemp("class") / "course")
    result = grade(course, "--workers", "2", "--job-seconds", JOB_SECONDS)
    assert "jobs to grade" in result.stdout, result.stderr[-3000:]
    return course, summary(course), result


def solution_points(assignment):
    return points(nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4))


def test_honest_students_get_their_grades(graded):
    course, rows, result = graded
    for assignment in (A1, A2):
        solution = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
        for student in ("perfect", "blank"):
            assert float(rows[student, assignment]["score"]) == expected_score(student, assignment, solution)
    assert float(rows["zz_after", A1]["score"]) == sum(solution_points(A1).values()), result.stdout[-3000:]


@pytest.mark.parametrize("attacker", sorted(ATTACKS))
def test_each_attack_earns_nothing_and_is_flagged(graded, attacker):
    _, rows, _ = graded
    for assignment in (A1, A2):
        row = rows[attacker, assignment]
        assert row["score"] == "0" or float(row["score"]) == 0, row
        assert row["flags"], f"{attacker} on {assignment} was not flagged: {row}"


def test_the_class_gradebook_and_the_course_code_are_untouched(graded):
    from nbgrader.api import Gradebook

    course, _, _ = graded
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for assignment in (A1, A2):
            for submission in gradebook.find_assignment(assignment).submissions:
                for notebook in submission.notebooks:
                    assert all(grade.manual_score is None for grade in notebook.grades), submission.student.id
    assert 'status, message, error_type = PASSED, "", ""' in (ROOT / "autograder" / "executor.py").read_text()
    leftover = subprocess.run(["pgrep", "-f", "update grade set manual_score"], capture_output=True, text=True)
    assert leftover.stdout == "", "a process started by a student outlived its job"


def test_broken_jobs_do_not_stop_the_run_and_keep_their_honest_score(graded):
    _, rows, _ = graded
    total = sum(solution_points(A1).values())
    for student in BROKEN_JOBS:
        row = rows[student, A1]
        assert float(row["score"]) == total and row["flags"], row


def test_export_and_feedback_work_on_the_written_gradebook(graded):
    course, rows, _ = graded
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for command in (["export"], ["generate_feedback", A1, "--force"]):
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", *command, "--log-level=ERROR"],
            cwd=course,
            capture_output=True,
            text=True,
            env=environment,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    with open(course / "grades.csv") as file:
        exported = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(file)}
    assert exported["perfect", A1] == float(rows["perfect", A1]["score"])
    assert (course / "feedback" / "perfect" / A1 / f"{A1}.html").exists()


def test_a_second_run_skips_what_is_graded(graded):
    course, _, _ = graded
    again = grade(course, A1, "--students", "perfect", "blank")
    assert "0 jobs to grade, 2 already graded" in again.stdout, again.stdout[-2000:]


def test_one_worker_and_a_dask_scheduler_give_the_grades_of_two_workers(graded, tmp_path):
    from dask.distributed import LocalCluster

    course, rows, _ = graded
    students = ["perfect", "blank", "kernel_patch", "class_patch"]
    for label in ("one worker", "scheduler"):
        copy = tmp_path / label.replace(" ", "_")
        shutil.copytree(course, copy, symlinks=True)
        if label == "one worker":
            grade(copy, A1, "--students", *students, "--workers", "1", "--force")
        else:
            with LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, memory_limit=0, dashboard_address=None
            ) as cluster:
                grade(copy, A1, "--students", *students, "--scheduler", cluster.scheduler_address, "--force")
        again = summary(copy)
        assert {s: again[s, A1]["score"] for s in students} == {s: rows[s, A1]["score"] for s in students}, label


def test_without_bubblewrap_the_command_refuses(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    result = grade(tmp_path, path=str(bin_dir))
    assert result.returncode == 2
    assert "apt-get install bubblewrap" in result.stderr and "--unsafe-no-sandbox" in result.stderr
