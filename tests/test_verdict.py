"""The verdict process (python -m autograder.verdict): the solution passes unflagged; definitions
that alter the autograder, while loading or during a check, earn nothing and are flagged."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.demo_course import inserted_after_begin

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_pytorch_regression"
SOLUTION = ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


def verdict_of(tmp_path, extra_cell=None, edit=None):
    notebook = nbformat.read(SOLUTION, as_version=4)
    if edit:
        edit(notebook)
    if extra_cell:
        notebook.cells.insert(3, nbformat.v4.new_code_cell(extra_cell))
    path = tmp_path / "submission.ipynb"
    nbformat.write(notebook, path)
    subprocess.run(
        [sys.executable, "-m", "autograder.verdict", str(path), ASSIGNMENT, str(tmp_path / "v.json")],
        check=True,
        cwd=tmp_path,
        timeout=600,
        capture_output=True,
    )
    return json.loads((tmp_path / "v.json").read_text())


def test_the_solution_passes_every_cell_unflagged(tmp_path):
    result = verdict_of(tmp_path)
    assert result["flags"] == [] and all(cell["passed"] for cell in result["cells"].values()), result


def test_a_class_body_that_patches_the_executor_voids_every_cell(tmp_path):
    patch = (
        "class Patch:\n    import autograder.executor as executor\n"
        "    executor.run_cell = lambda checks, objects, **options: []\n"
    )
    result = verdict_of(tmp_path, patch)
    assert not any(cell["passed"] for cell in result["cells"].values())
    assert "tampering while loading" in result["flags"][0] and "autograder.executor.run_cell" in result["flags"][0]


@pytest.mark.parametrize(
    "patch, changed",
    [
        ("import torch; torch.allclose = lambda *a, **k: True", "torch.allclose"),
        (
            "import autograder.framework as f; f.CheckFailure.__init__ = lambda self, *a, **k: None",
            "CheckFailure.__init__",
        ),
    ],
)
def test_a_function_that_patches_during_its_check_loses_that_cell(tmp_path, patch, changed):
    def edit(notebook):
        for cell in notebook.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "make_val_step":
                cell.source = inserted_after_begin(cell.source, [patch])

    result = verdict_of(tmp_path, edit=edit)
    assert result["cells"]["test_make_val_step"]["passed"] is False
    assert result["cells"]["test_make_train_step"]["passed"] is True  # the other cells keep their scores
    assert any("test_make_val_step" in flag and changed in flag for flag in result["flags"]), result["flags"]
