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
        cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )
    cases = ElementTree.parse(report).getroot().iter("testcase")
    return {case.get("name"): [child for child in case if child.tag in ("failure", "error", "skipped")] for case in cases}


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
