"""The one executor and its guards, on small student notebooks: whatever the code does, only its
check fails, with a teaching message, and nothing reaches stderr."""

import nbformat
import pytest

from autograder import guards, runner
from autograder.executor import CellChecks, ChecksFailed, run_cell
from autograder.framework import REGISTRY, Check
from autograder.loader import load_notebook


def notebook_with(tmp_path, source):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(notebook, tmp_path / "nb.ipynb")
    return load_notebook(tmp_path / "nb.ipynb")


def calling(name="f", cell=""):
    def calls_it(**objects):
        assert objects[name]() == 1, f"{name} must return 1"

    calls_it.__doc__ = f"calls {name} and expects 1"
    return Check("test", f"calls_{name}", calls_it, (name,), cell)


def outcome_of(tmp_path, source):
    return runner.run_check(calling(), notebook_with(tmp_path, source))


def test_student_warning_becomes_a_note_and_never_reaches_stderr(tmp_path, capfd):
    outcome = outcome_of(tmp_path, "import warnings\ndef f():\n    warnings.warn('careful')\n    return 1")
    assert outcome.passed
    assert any("your code warned" in note and "careful" in note and "cell 1" in note for note in outcome.notes)
    assert capfd.readouterr().err == ""


def test_stderr_of_python_and_of_c_libraries_is_kept_out(tmp_path, capfd):
    source = "import os, sys\ndef f():\n    print('py', file=sys.stderr)\n    os.write(2, b'from C\\n')\n    return 1"
    outcome = outcome_of(tmp_path, source)
    assert outcome.passed and "py" in outcome.notes[0] and "from C" in outcome.notes[0]
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    "statement, words",
    [
        ("raise KeyboardInterrupt", "KeyboardInterrupt"),
        ("raise SystemExit(0)", "called exit()"),
        ("return [][1]", "IndexError"),
    ],
)
def test_interrupt_exit_and_errors_fail_only_that_check(tmp_path, statement, words):
    notebook = notebook_with(tmp_path, f"def f():\n    {statement}\ndef g():\n    return 1")
    outcomes = run_cell([calling("f"), calling("g")], runner.NotebookObjects(notebook))
    assert [o.status for o in outcomes] == ["failed", "passed"]
    assert words in outcomes[0].message and "nb.ipynb, cell 1" in outcomes[0].message


def test_a_loop_that_swallows_every_exception_is_still_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "QUICK_CHECK_SECONDS", 1)
    outcome = outcome_of(
        tmp_path,
        "def f():\n    while True:\n        try:\n            pass\n        except BaseException:\n            pass",
    )
    assert outcome.status == "timed out" and "No answer within 1 s" in outcome.message


def test_a_blocking_call_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(guards, "QUICK_CHECK_SECONDS", 1)
    outcome = outcome_of(tmp_path, "import time\ndef f():\n    time.sleep(1000)")
    assert outcome.status == "timed out"


def test_a_flood_of_prints_is_capped_and_the_check_still_passes(tmp_path):
    outcome = outcome_of(tmp_path, "def f():\n    for i in range(300_000):\n        print('debug', i)\n    return 1")
    assert outcome.passed
    assert len(outcome.output) == guards.MAX_PRINTED_CHARACTERS


def test_cell_reports_failures_without_traceback_and_skips_after_a_stall(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(guards, "QUICK_CHECK_SECONDS", 1)
    REGISTRY.extend([calling("f", "test_cell"), calling("g", "test_cell"), calling("f", "test_cell")])
    try:
        notebook = notebook_with(tmp_path, "def f():\n    while True:\n        pass\ndef g():\n    return 1")
        with pytest.raises(ChecksFailed) as failed:
            CellChecks("test", "test_cell", "f", "g")(notebook.get("f"), notebook.get("g"))
    finally:
        del REGISTRY[-3:]
    printed = capsys.readouterr()
    assert "FAILED: calls f" in printed.out and "ok: calls g" in printed.out and printed.err == ""
    rendered = failed.value._render_traceback_()
    assert "2 of 3 checks of f, g failed:" in rendered[0]
    assert any("No answer within 1 s" in line for line in rendered)
    assert any("Not run: f gave no answer" in line for line in rendered)
