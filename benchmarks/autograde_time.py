"""Wall time of `nbgrader autograde` for one student, for each student of the demo class.

    python benchmarks/autograde_time.py
"""
import tempfile
import time
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from demo_course import ASSIGNMENT, STUDENTS, build_demo_course, nbgrader  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as scratch:
        course = build_demo_course(Path(scratch) / "course")
        print(f"nbgrader autograde {ASSIGNMENT} --student <id>, wall seconds")
        for student in STUDENTS:
            start = time.perf_counter()
            nbgrader(course, "autograde", ASSIGNMENT, "--student", student)
            print(f"{student:>8}: {time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
