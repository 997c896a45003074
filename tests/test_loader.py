"""The loader and runner on bad student notebooks: only the concerned checks fail, the run completes."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import guards, runner
from autograder.framework import Check
from autograder.loader import StudentCodeError, load_notebook

ROOT = Path(__file__).resolve().parents[1]


def write_notebook(path, *sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(notebook, path)
    return path


def check_calling(function_name):
    def calls_it(**objects):
        objects[function_name]()

    return Check("test", "calls_it", calls_it, (function_name,))


def test_only_definitions_run(tmp_path):
    path = write_notebook(
        tmp_path / "nb.ipynb",
        "import math\nLIMIT = 3\nlimit_lowercase = 4\n%matplotlib inline\n!pip install nothing",
        "def area(r):\n    return math.pi * r * r\n\nwhile True:\n    pass",  # a training loop: never run
        "raise SystemExit('a training cell')",
    )
    loaded = load_notebook(path)
    assert loaded.get("area")(1.0) == pytest.approx(3.14159, abs=1e-5)
    assert loaded.get("LIMIT") == 3
    with pytest.raises(StudentCodeError, match="not defined"):
        loaded.get("limit_lowercase")


def test_syntax_error_fails_only_that_cells_names(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "def good():\n    return 1", "def broken(:\n    return 2")
    loaded = load_notebook(path)
    assert loaded.get("good")() == 1
    with pytest.raises(StudentCodeError, match=r"`broken`.*nb\.ipynb, cell 2: .*syntax error"):
        loaded.get("broken")


def test_later_good_definition_replaces_a_broken_one(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "def f(:\n    pass", "def f():\n    return 'fixed'")
    assert load_notebook(path).get("f")() == "fixed"


def test_missing_function_says_so(tmp_path):
    loaded = load_notebook(write_notebook(tmp_path / "nb.ipynb", "x = 1"))
    with pytest.raises(StudentCodeError, match="`make_train_step` is not defined.*do not rename"):
        loaded.get("make_train_step")


def test_cell_whose_definitions_raise(tmp_path):
    path = write_notebook(
        tmp_path / "nb.ipynb", "import not_a_module_anywhere\ndef f():\n    return 1", "def g():\n    return 2"
    )
    loaded = load_notebook(path)
    assert loaded.get("g")() == 2
    with pytest.raises(StudentCodeError, match="cell 1: .*ModuleNotFoundError"):
        loaded.get("f")


def test_slow_constant_is_cut(tmp_path, monkeypatch):
    monkeypatch.setattr("autograder.loader.CELL_TIME_LIMIT_SECONDS", 1)
    path = write_notebook(
        tmp_path / "nb.ipynb", "def spin():\n    while True:\n        pass\nVALUE = spin()", "def ok():\n    return 1"
    )
    loaded = load_notebook(path)
    assert loaded.get("ok")() == 1
    with pytest.raises(StudentCodeError, match="took over 1 s"):
        loaded.get("VALUE")


def test_stub_reports_not_implemented(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()")
    outcome = runner.run_check(check_calling("f"), load_notebook(path))
    assert outcome.status == "not implemented"
    assert re.search(
        r"Not implemented yet: f .*nb\.ipynb, cell 1.*Replace `raise NotImplementedError\(\)`", outcome.message
    )


def test_endless_function_times_out(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "QUICK_CHECK_SECONDS", 1)
    path = write_notebook(
        tmp_path / "nb.ipynb",
        "def f():\n    while True:\n        try:\n            pass\n        except Exception:\n            pass",
    )
    outcome = runner.run_check(check_calling("f"), load_notebook(path))
    assert outcome.status == "timed out"
    assert re.search(r"No answer within 1 s while checking f .*cell 1", outcome.message), outcome.message


def test_front_end_fails_only_the_broken_function(tmp_path):
    """A whole `pytest autograder` run on a notebook whose make_val_step cell does not parse."""
    source = ROOT / "solutions" / "01_pytorch_regression" / "01_pytorch_regression.ipynb"
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "make_val_step":
            cell.source = cell.source.replace("model.eval()", "model.eval(")
    target = tmp_path / "01_pytorch_regression" / "01_pytorch_regression.ipynb"
    target.parent.mkdir()
    nbformat.write(notebook, target)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "autograder",
            "--notebooks",
            str(tmp_path),
            "-k",
            "01_pytorch_regression",
            "-q",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout[-3000:]  # 1: some tests failed; 2-4 would be a crashed run
    assert "4 failed, 7 passed" in result.stdout, result.stdout[-3000:]
    assert "`make_val_step` could not be loaded" in result.stdout and "syntax error" in result.stdout
