"""`pytest autograder` as students and CI run it: on the solutions every check passes; on the
released blanks every check fails, each with a not-implemented message, and nothing errors."""

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from autograder.runner import load_all_checks

ROOT = Path(__file__).resolve().parents[1]
CHECK_COUNT = len(load_all_checks())


def run_autograder(tmp_path, notebooks):
    report = tmp_path / "report.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "autograder", "--notebooks", notebooks, "-q", f"--junitxml={report}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    cases = ElementTree.parse(report).getroot().iter("testcase")
    return {
        case.get("name"): [child for child in case if child.tag in ("failure", "error", "skipped")] for case in cases
    }


@pytest.mark.slow
def test_solutions_pass_every_check(tmp_path):
    results = run_autograder(tmp_path, "solutions")
    problems = {name: outcome[0].get("message", "")[:300] for name, outcome in results.items() if outcome}
    assert len(results) == CHECK_COUNT and not problems, problems


def test_blanks_fail_every_check_as_not_implemented(tmp_path):
    results = run_autograder(tmp_path, "notebooks")
    assert len(results) == CHECK_COUNT, "some checks were not collected"
    for name, outcome in results.items():
        assert [child.tag for child in outcome] == ["failure"], f"{name}: expected a plain failure, got {outcome}"
        assert "Not implemented yet" in outcome[0].get("message", ""), f"{name}: {outcome[0].get('message')}"


# ---------------------------------------------------------------- the graded cell is the unit


def test_cells(kind="solutions"):
    """(assignment, grade_id) -> source of every autograded test cell of the notebooks in `kind`."""
    import nbformat

    cells = {}
    for path in sorted((ROOT / kind).glob("*/*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                cells[(path.parent.name, meta["grade_id"])] = cell.source
    return cells


TEST_CELLS = test_cells()
test_cells.__test__ = False  # a helper, not a test


def test_checks_and_test_cells_are_the_same_set():
    """Every check belongs to a test cell of the solutions, and every test cell runs some checks."""
    check_cells = {(c.assignment, c.cell) for c in load_all_checks()}
    assert check_cells - set(TEST_CELLS) == set(), "checks registered for a cell that no notebook has"
    assert set(TEST_CELLS) - check_cells == set(), "test cells that run no check"


@pytest.mark.parametrize("key", sorted(TEST_CELLS), ids=lambda key: f"{key[0]}-{key[1]}")
def test_each_test_cell_runs_its_own_checks(key):
    """The cell calls the CellChecks of its own grade_id with exactly the names it declares, and each
    of its checks takes only names that the cell passes: every check is reached."""
    import ast
    import importlib

    from autograder.executor import CellChecks

    assignment, grade_id = key
    tree = ast.parse(TEST_CELLS[key])
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)]
    calls = [node.value for node in tree.body if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    assert len(imports) == 1 and len(calls) == 1, "a test cell is one import and one call"
    entry = getattr(importlib.import_module(imports[0].module), calls[0].func.id)
    assert isinstance(entry, CellChecks) and (entry.assignment, entry.cell) == key, f"{entry!r} is not this cell's"
    assert [argument.id for argument in calls[0].args] == list(entry.names)
    for each in load_all_checks():
        if (each.assignment, each.cell) == key:
            assert set(each.targets) <= set(entry.names), f"{each.name} takes names the cell does not pass"


def test_gate_numbers_come_from_gates_py():
    """Config defaults, the gate check's docstring and the gate cell's docstring agree with GATES."""
    from autograder.gates import GATES
    from autograder.loader import load_notebook

    for assignment, gate in GATES.items():
        config = load_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb").get("Config")()
        assert config.total_steps == gate.total_steps, f"{assignment}: Config.total_steps is not the gate's budget"
        if gate.stop_return is not None:
            assert config.stop_return == gate.stop_return, f"{assignment}: Config.stop_return differs from the gate's"
        (gate_check,) = [c for c in load_all_checks() if c.assignment == assignment and c.cell.endswith("_gate")]
        cell_doc = TEST_CELLS[(assignment, gate_check.cell)]
        for text, where in [(gate_check.description, "the check's docstring"), (cell_doc, "the test cell")]:
            assert gate.summary in text and f">= {gate.threshold:g}" in text, (
                f"{assignment}: {where} must say {gate.summary!r} and '>= {gate.threshold:g}': {text!r}"
            )


def test_each_entry_point_is_named_after_its_test_cell():
    """One name per idea: test cell `test_X` <-> entry point `check_X` in autograder/checks/<topic>.py."""
    import importlib
    import pkgutil

    import autograder.checks
    from autograder.executor import CellChecks

    wrong = []
    for module in pkgutil.iter_modules(autograder.checks.__path__):
        for name, value in vars(importlib.import_module(f"autograder.checks.{module.name}")).items():
            if isinstance(value, CellChecks) and name != "check_" + value.cell.removeprefix("test_"):
                wrong.append(f"{module.name}.{name} runs {value.cell}")
    assert not wrong, f"rename to check_<cell without test_>: {wrong}"


def test_gate_calibration_data_is_current_and_complete():
    """Each gate's data file (written by benchmarks/calibrate_gates.py --write) was measured with the
    gate's settings, on at least 50 training seeds including the gate's own, and the reference passes
    at least 49 of them: a gate that fails a correct student more than 1 time in 50 is not used.
    A calibration recorded before per-seed rows were kept stands as a "summary" of the same settings."""
    from autograder.gates import GATES

    for assignment, gate in GATES.items():
        data = gate.calibration_data()
        rerun = f"python benchmarks/calibrate_gates.py --assignment {assignment} --seeds 50 --baselines --write"
        assert data.get("settings") == gate.settings, f"{assignment}: the calibration is stale or missing: {rerun}"
        passed, seeds, _, _ = gate.pass_rate()
        assert seeds >= 50, f"{assignment}: {seeds} seeds: {rerun}"
        if len(data["runs"]) >= 50:
            assert gate.train_seed in {run["seed"] for run in data["runs"]}, f"{assignment}: the gate's seed is missing"
        assert passed >= seeds - 1, f"{assignment}: the reference passes only {gate.calibration}"
        assert {"untrained_networks_max", "random_policy"} <= set(data.get("baselines", {})), rerun
        assert gate.threshold > data["baselines"]["random_policy"], assignment
