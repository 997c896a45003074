"""Grade a whole class: one sandboxed job per (student, assignment), on the local cores or a Dask
cluster, and the class gradebook written here, by this process alone.

    python -m autograder.grade COURSE_DIR [ASSIGNMENT ...] [--students ID ...] [--workers N]
                               [--scheduler tcp://HOST:PORT] [--force] [--unsafe-no-sandbox]

COURSE_DIR is an nbgrader course folder: its nbgrader_config.py, the source and release folders
(`nbgrader generate_assignment` already run there) and `submitted/<student>/<assignment>/`.
Without ASSIGNMENT, every assignment that has submissions is graded.

Each job runs in a bubblewrap sandbox (autograder/sandbox.py) that sees the course's code
read-only and a scratch folder holding only that submission and a gradebook built from the
released notebook (no solutions, no other student, no class gradebook):
1. `nbgrader autograde` on the submission: the autograded notebook and the feedback come from it;
2. a fresh `python -m autograder.verdict` over the submission's definitions: each test cell's
   score comes from it. Where nbgrader's score differs, the verdict counts and the job is flagged.
Jobs also get flagged for code that alters the autograder (autograder/verdict.py), for cells that
reach for the autograder, the gradebook or the file system by name, and for a nbgrader run cut
short by a limit. A job that fails is retried once, then reported as NOT GRADED; the others are
graded all the same. A second run skips the jobs whose submission has not changed, unless --force.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from autograder import sandbox

LEDGER = Path(".autograder") / "graded.json"  # in COURSE_DIR: submission hashes already graded
SUMMARY = "grading_summary.csv"
# Student code that names these is flagged for the instructor to read (the verdict is unaffected).
SUSPICIOUS = re.compile(
    r"\b(autograder|gradebook|nbgrader|subprocess|Popen|os\.system|os\.fork|ctypes|"
    r"__file__|_exit|solutions)\b"
)


@dataclass
class Job:
    """Everything one worker needs, as plain data (a Dask worker may be another machine)."""

    student: str
    assignment: str
    notebook: str  # the notebook's name without .ipynb
    submission: bytes
    template: dict[str, bytes]  # relative path -> content: nbgrader_config.py, gradebook.db, the source
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    unsafe: bool = False
    env: dict[str, str] = field(default_factory=dict)


class JobFailed(RuntimeError):
    """The verdict could not be had (the job crashed, or hit a limit)."""


_STAGED: dict[str, Path] = {}


def _course_site() -> Path:
    """This worker's read-only copy of the course packages (made once per worker process)."""
    if "site" not in _STAGED:
        _STAGED["site"] = sandbox.stage_course(Path(tempfile.mkdtemp(prefix="autograder-course-")))
    return _STAGED["site"]


def run_job(job: Job) -> dict:
    """Grade one submission in the sandbox; return the autograded notebook and the verdict."""
    site = _course_site()
    started = time.perf_counter()
    name = f"{job.notebook}.ipynb"
    with tempfile.TemporaryDirectory(prefix=f"grade-{job.student}-") as scratch:
        course = Path(scratch, "nbgrader")
        for relative, content in job.template.items():
            (course / relative).parent.mkdir(parents=True, exist_ok=True)
            (course / relative).write_bytes(content)
        submitted = course / "submitted" / job.student / job.assignment / name
        submitted.parent.mkdir(parents=True)
        submitted.write_bytes(job.submission)
        run = sandbox.run_sandboxed(
            [
                sys.executable,
                "-m",
                "nbgrader",
                "autograde",
                job.assignment,
                "--student",
                job.student,
                "--force",
                "--log-level=ERROR",
            ],
            workdir=course,
            course_site=site,
            env=job.env,
            limits=job.limits,
            unsafe_no_sandbox=job.unsafe,
        )
        autograded_path = course / "autograded" / job.student / job.assignment / name
        autograded = None
        if (
            autograded_path.is_file()
            and not autograded_path.is_symlink()
            and autograded_path.stat().st_size < 20_000_000
        ):
            autograded = autograded_path.read_bytes()
        nbgrader_problem = run.killed_reason or (None if run.returncode == 0 else f"exit code {run.returncode}")

        fresh = Path(scratch, "verdict")
        fresh.mkdir()
        (fresh / name).write_bytes(job.submission)
        decided = sandbox.run_sandboxed(
            [sys.executable, "-m", "autograder.verdict", name, job.assignment, "verdict.json"],
            workdir=fresh,
            course_site=site,
            env=job.env,
            limits=job.limits,
            unsafe_no_sandbox=job.unsafe,
        )
        answer = fresh / "verdict.json"
        if decided.killed_reason or not answer.is_file() or answer.is_symlink() or answer.stat().st_size > 5_000_000:
            raise JobFailed(
                f"the verdict process did not finish ({decided.killed_reason or decided.returncode}): "
                f"{decided.stderr[-500:]}"
            )
        verdict = json.loads(answer.read_text())
    return {
        "autograded": autograded,
        "verdict": verdict,
        "nbgrader_problem": nbgrader_problem,
        "nbgrader_log": run.stderr[-2000:],
        "seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------- the instructor's side


@dataclass
class Course:
    root: Path
    source: str
    release: str
    submitted: str
    autograded: str
    db_url: str


def read_course(root: Path) -> Course:
    """The folders nbgrader_config.py names (nbgrader's defaults where it names none)."""
    from traitlets.config.loader import PyFileConfigLoader

    config = (
        PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        if (root / "nbgrader_config.py").exists()
        else {}
    )
    directory = config.get("CourseDirectory", {})
    return Course(
        root,
        directory.get("source_directory", "source"),
        directory.get("release_directory", "release"),
        directory.get("submitted_directory", "submitted"),
        directory.get("autograded_directory", "autograded"),
        directory.get("db_url", f"sqlite:///{root / 'gradebook.db'}"),
    )


def build_template(course: Course, assignment: str, into: Path) -> dict[str, bytes]:
    """A course with this assignment's gradebook built from its RELEASED notebooks (no solutions)."""
    into.mkdir(parents=True)
    shutil.copy(course.root / "nbgrader_config.py", into)
    shutil.copytree(course.root / course.release / assignment, into / course.source / assignment)
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", "--log-level=ERROR"],
        cwd=into,
        check=True,
        capture_output=True,
        env=environment,
    )
    files = {
        "nbgrader_config.py": (into / "nbgrader_config.py").read_bytes(),
        "gradebook.db": (into / "gradebook.db").read_bytes(),
    }
    for path in (into / course.source / assignment).rglob("*"):
        if path.is_file():
            files[str(path.relative_to(into))] = path.read_bytes()
    return files


def suspicious_lines(submission: bytes, locked: set[str]) -> list[str]:
    """Lines of the student's own cells that name the autograder, the gradebook or processes."""
    import nbformat

    found = []
    notebook = nbformat.reads(submission.decode(errors="replace"), as_version=4)
    for number, cell in enumerate(notebook.cells, start=1):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code" or grade_id in locked:
            continue
        for line in cell.source.splitlines():
            if SUSPICIOUS.search(line) and not line.lstrip().startswith("#"):
                found.append(f"cell {number}: {line.strip()[:80]}")
    return found


def nbgrader_scores(autograded: bytes | None) -> dict[str, float]:
    """grade_id -> the score nbgrader's own execution gives each graded cell."""
    import nbformat
    from nbgrader import utils

    if autograded is None:
        return {}
    notebook = nbformat.reads(autograded.decode(errors="replace"), as_version=4)
    scores = {}
    for cell in notebook.cells:
        if utils.is_grade(cell) and cell.cell_type == "code":
            scores[cell.metadata.nbgrader["grade_id"]] = utils.determine_grade(cell)[0]
    return scores


def record(
    course: Course,
    student: str,
    assignment: str,
    notebook: str,
    result: dict,
    points: dict,
    submission: bytes,
    flags: list[str],
) -> float:
    """Write one job's grades into the class gradebook and its autograded notebook into the course."""
    from nbgrader.api import Gradebook

    cells = result["verdict"]["cells"]
    flags += result["verdict"]["flags"]
    if result["nbgrader_problem"]:
        flags.append(f"nbgrader's run did not finish: {result['nbgrader_problem']}")
    theirs = nbgrader_scores(result["autograded"])
    score = 0.0
    with warnings.catch_warnings(), Gradebook(course.db_url) as gradebook:
        warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings, not the instructor's concern
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(assignment, student)
        for name, (max_score, is_code) in points.items():
            grade = gradebook.find_grade(name, notebook, assignment, student)
            if not is_code:  # a written answer: the instructor grades it
                grade.needs_manual_grade = True
                continue
            earned = max_score if cells.get(name, {}).get("passed") else 0.0
            if name in theirs and theirs[name] != earned:
                flags.append(f"{name}: nbgrader's run gave {theirs[name]:g}, the verdict {earned:g}")
            grade.auto_score, grade.needs_manual_grade = earned, False
            score += earned
        gradebook.db.commit()
    target = course.root / course.autograded / student / assignment / f"{notebook}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.chmod(0o644)
    target.write_bytes(result["autograded"] or submission)
    return score


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.grade", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("course", type=Path, help="the nbgrader course folder")
    parser.add_argument("assignments", nargs="*", help="default: every assignment with submissions")
    parser.add_argument("--students", nargs="+", help="default: every student with a submission")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count(), help="local worker processes (default: the cores)"
    )
    parser.add_argument(
        "--scheduler", help="a Dask scheduler address (tcp://HOST:PORT); its workers need the course installed"
    )
    parser.add_argument("--force", action="store_true", help="grade again what was graded already")
    parser.add_argument("--job-seconds", type=float, default=1800, help="wall-clock limit of one job (default 1800)")
    parser.add_argument("--unsafe-no-sandbox", action="store_true", help="run student code WITHOUT isolation")
    arguments = parser.parse_args(argv)
    course = read_course(arguments.course.resolve())

    if not arguments.unsafe_no_sandbox:
        try:
            sandbox.find_bwrap()
        except sandbox.SandboxUnavailable as error:
            print(f"Refusing to grade: {error}", file=sys.stderr)
            return 2

    submitted = course.root / course.submitted
    pairs = sorted((p.parent.name, p.name) for p in submitted.glob("*/*") if p.is_dir())
    assignments = arguments.assignments or sorted({a for _, a in pairs})
    pairs = [(s, a) for s, a in pairs if a in assignments and (not arguments.students or s in arguments.students)]
    ledger_path = course.root / LEDGER
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}

    from nbgrader.api import Gradebook

    jobs, skipped, info = [], [], {}
    with tempfile.TemporaryDirectory(prefix="grade-templates-") as scratch:
        templates = {}
        for assignment in assignments:
            templates[assignment] = build_template(course, assignment, Path(scratch, assignment))
            with Gradebook(course.db_url) as gradebook:
                (notebook,) = gradebook.find_assignment(assignment).notebooks
                info[assignment] = (
                    notebook.name,
                    {c.name: (c.max_score, c.cell_type == "code") for c in notebook.grade_cells},
                    {c.name for c in notebook.source_cells if c.locked},
                )
        limits = sandbox.Limits(wall_seconds=arguments.job_seconds)
        env = {k: os.environ[k] for k in ("AUTOGRADER_QUICK_SECONDS", "AUTOGRADER_SLOW_SECONDS") if k in os.environ}
        for student, assignment in pairs:
            path = submitted / student / assignment / f"{info[assignment][0]}.ipynb"
            if not path.is_file():
                continue
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            if not arguments.force and ledger.get(f"{student}/{assignment}") == digest:
                skipped.append((student, assignment))
                continue
            jobs.append(
                Job(
                    student,
                    assignment,
                    info[assignment][0],
                    content,
                    templates[assignment],
                    limits,
                    arguments.unsafe_no_sandbox,
                    env,
                )
            )
    print(f"{len(jobs)} jobs to grade, {len(skipped)} already graded (unchanged; --force grades them again)")
    rows = run_all(jobs, course, info, ledger, ledger_path, arguments)
    write_summary(course, rows)
    return 0 if all(row["score"] != "" for row in rows) else 1


def run_all(jobs: list[Job], course: Course, info: dict, ledger: dict, ledger_path: Path, arguments) -> list[dict]:
    """Submit every job to Dask (a LocalCluster, or the given scheduler), record results as they come."""
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    if not jobs:
        return []
    if arguments.scheduler:
        client, cluster = Client(arguments.scheduler), None
    else:
        cluster = LocalCluster(
            n_workers=max(1, arguments.workers),
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
        )
        client = Client(cluster)
    rows = []
    try:
        futures = {client.submit(run_job, job, retries=1, pure=False): job for job in jobs}
        for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="job"):
            job = futures[future]
            name, points, locked = info[job.assignment]
            flags = [f"names the autograder or processes: {line}" for line in suspicious_lines(job.submission, locked)]
            try:
                result = future.result()
            except Exception as error:  # noqa: BLE001 (report, never lose the others)
                rows.append(
                    _row(
                        job,
                        "",
                        sum(p for p, code in points.values() if code),
                        [f"NOT GRADED (failed twice): {error}"],
                        "",
                    )
                )
                continue
            score = record(course, job.student, job.assignment, name, result, points, job.submission, flags)
            ledger[f"{job.student}/{job.assignment}"] = hashlib.sha256(job.submission).hexdigest()
            ledger_path.parent.mkdir(exist_ok=True)
            ledger_path.write_text(json.dumps(ledger, indent=1))
            rows.append(_row(job, score, sum(p for p, code in points.values() if code), flags, result["seconds"]))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return rows


def _row(job: Job, score, max_score, flags: list[str], seconds) -> dict:
    return {
        "student": job.student,
        "assignment": job.assignment,
        "score": score,
        "max": max_score,
        "flags": " | ".join(flags),
        "seconds": f"{seconds:.1f}" if seconds != "" else "",
    }


def write_summary(course: Course, rows: list[dict]) -> None:
    """Print the table and write it as COURSE_DIR/grading_summary.csv (kept as it was if nothing was graded)."""
    if not rows:
        return
    rows = sorted(rows, key=lambda r: (r["assignment"], r["student"]))
    with open(course.root / SUMMARY, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["student", "assignment", "score", "max", "flags", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{'student':<16}{'assignment':<24}{'score':>7}{'max':>6}{'s':>7}  flags")
    for row in rows:
        score = f"{row['score']:g}" if row["score"] != "" else "-"
        print(
            f"{row['student']:<16}{row['assignment']:<24}{score:>7}{row['max']:>6g}{row['seconds']:>7}  "
            f"{row['flags'][:200]}"
        )
    print(f"summary written to {course.root / SUMMARY}")


if __name__ == "__main__":
    sys.exit(main())
