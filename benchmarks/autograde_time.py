"""Wall time of `nbgrader autograde --student <id>` per assignment, for the solution (`perfect`) and
the untouched release (`blank`), and for the whole course. The kernel gets one core
(OMP_NUM_THREADS=1; the training loops use one torch thread anyway).

    python benchmarks/autograde_time.py                      # all six assignments
    python benchmarks/autograde_time.py 01_pytorch_regression
"""

import argparse
import tempfile
import time
from pathlib import Path

from tools.demo_course import ASSIGNMENTS, build_demo_course, nbgrader

STUDENTS = ["perfect", "blank"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", default=ASSIGNMENTS)
    assignments = parser.parse_args().assignments
    with tempfile.TemporaryDirectory() as scratch:
        course = build_demo_course(Path(scratch) / "course", assignments, STUDENTS)
        totals = dict.fromkeys(STUDENTS, 0.0)
        print(f"{'assignment':<24}" + "".join(f"{s:>10}" for s in STUDENTS) + "   (nbgrader autograde, wall s)")
        for assignment in assignments:
            row = []
            for student in STUDENTS:
                start = time.perf_counter()
                nbgrader(course, "autograde", assignment, "--student", student, env={"OMP_NUM_THREADS": "1"})
                row.append(time.perf_counter() - start)
                totals[student] += row[-1]
            print(f"{assignment:<24}" + "".join(f"{s:>10.1f}" for s in row))
        print(f"{'whole course':<24}" + "".join(f"{totals[s]:>10.1f}" for s in STUDENTS))


if __name__ == "__main__":
    main()
