"""How long Run All takes on each solution notebook: what a student waits for (the aim: under 3 minutes
on one free laptop core). Each notebook runs headless in a scratch folder, as tests/test_notebooks.py
runs it; per notebook the wall time, the kernel's CPU time and the slowest cells.

    python benchmarks/notebook_time.py                          # all six
    python benchmarks/notebook_time.py 05_target_network 06_sarsa --slowest 5

Run it on an otherwise idle machine: the wall times are what a student sees, the CPU times what the
notebook costs whatever else the machine does.
"""

import argparse
import os
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.demo_course import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
AIM_SECONDS = 180


def children_cpu_seconds() -> float:
    """User + system CPU time of the finished child processes (the kernels) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cell_seconds(cell) -> float:
    """A cell's execution time, from the timestamps nbclient records in its metadata."""
    timing = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return 0.0
    start, end = (datetime.fromisoformat(timing[key]) for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", default=ASSIGNMENTS)
    parser.add_argument("--notebooks", default="solutions", help="folder of <assignment>/<assignment>.ipynb")
    parser.add_argument("--slowest", type=int, default=3, help="how many of the slowest cells to list")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(ROOT)  # the kernel imports helpers and autograder from this clone

    print(f"{'notebook':<24} {'wall s':>7} {'cpu s':>6}   slowest cells (s)")
    results = {}
    for assignment in args.assignments:
        notebook = nbformat.read(ROOT / args.notebooks / assignment / f"{assignment}.ipynb", as_version=4)
        with tempfile.TemporaryDirectory() as scratch:
            client = NotebookClient(
                notebook, timeout=1800, kernel_name="python3", resources={"metadata": {"path": scratch}}
            )
            cpu_start, start = children_cpu_seconds(), time.perf_counter()
            client.execute()
            wall, cpu = time.perf_counter() - start, children_cpu_seconds() - cpu_start
        cells = sorted(
            ((cell_seconds(cell), number) for number, cell in enumerate(notebook.cells, start=1)), reverse=True
        )
        slowest = ", ".join(f"cell {number}: {seconds:.1f}" for seconds, number in cells[: args.slowest])
        results[assignment] = wall
        print(f"{assignment:<24} {wall:>7.1f} {cpu:>6.1f}   {slowest}", flush=True)
    over = [name for name, wall in results.items() if wall > AIM_SECONDS]
    print(f"over {AIM_SECONDS} s of wall time: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    main()
