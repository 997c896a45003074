"""Class grading throughput: plain `nbgrader autograde` (serial) against `python -m autograder.grade`
with 1 and 2 workers (`--workers`), on a class of the demo course's students, and what the sandbox
adds per job.

    python benchmarks/class_grading.py                                    # 8 students x 6 assignments
    python benchmarks/class_grading.py --students 1 --assignments 01_pytorch_regression --workers 1  # smoke run

Prints jobs per minute for each mode, the speed-up of 2 workers over 1, the seconds one job costs
(nbgrader's run plus the verdict), and from that what a class of 500 costs on a 32-core machine
and on a Dask cluster of 4 such machines (jobs are independent: the time divides by the workers).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.demo_course import ASSIGNMENTS, STUDENTS, build_demo_course, nbgrader

BENCH_STUDENTS = [s for s in STUDENTS if s not in ("tampered", "dies", "stalls")] + ["perfect2"]


def course_with(folder: Path, assignments: list[str], students: list[str]) -> Path:
    """The demo class; `perfect2` is a second copy of the solution (so 8 students by default)."""
    built = build_demo_course(folder, assignments, [s for s in students if s != "perfect2"])
    if "perfect2" in students:
        for assignment in assignments:
            shutil.copytree(built / "submitted" / "perfect" / assignment, built / "submitted" / "perfect2" / assignment)
    return built


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=len(BENCH_STUDENTS))
    parser.add_argument("--assignments", nargs="+", default=ASSIGNMENTS)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2],
        help="worker counts of autograder.grade to time (1 always: it gives the cost of one job)",
    )
    arguments = parser.parse_args()
    worker_counts = sorted({1, *arguments.workers})
    students = BENCH_STUDENTS[: arguments.students]
    jobs = len(students) * len(arguments.assignments)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        plain = course_with(Path(scratch, "plain"), arguments.assignments, students)
        results["nbgrader autograde, serial"] = timed(
            lambda: [nbgrader(plain, "autograde", a, "--student", s) for a in arguments.assignments for s in students]
        )
        for workers in worker_counts:
            course = course_with(Path(scratch, f"workers{workers}"), arguments.assignments, students)
            command = [sys.executable, "-m", "autograder.grade", str(course), "--workers", str(workers)]
            results[f"autograder.grade --workers {workers}"] = timed(
                lambda command=command: subprocess.run(command, check=True, capture_output=True, env=os.environ.copy())
            )
    print(f"{jobs} jobs ({len(students)} students x {len(arguments.assignments)} assignments), {os.cpu_count()} cores")
    for mode, seconds in results.items():
        print(f"  {mode:<32} {seconds:8.1f} s   {jobs / seconds * 60:6.2f} jobs/min")
    one = results["autograder.grade --workers 1"]
    per_job = one / jobs
    for workers in worker_counts[1:]:
        print(f"  speed-up of {workers} workers over 1: {one / results[f'autograder.grade --workers {workers}']:.2f}x")
    print(
        f"  one job: {per_job:.1f} s with the sandbox and the verdict; plain nbgrader "
        f"{results['nbgrader autograde, serial'] / jobs:.1f} s (the sandbox and the verdict add "
        f"{per_job - results['nbgrader autograde, serial'] / jobs:.1f} s)"
    )
    class_jobs = 500 * len(arguments.assignments)
    print(
        f"  500 students x {len(arguments.assignments)} assignments = {class_jobs} jobs: "
        f"{class_jobs * per_job / 32 / 3600:.1f} h on 32 cores, {class_jobs * per_job / 128 / 3600:.2f} h "
        "on a Dask cluster of 4 such machines (if the per-job cost holds at that width)"
    )


if __name__ == "__main__":
    main()
