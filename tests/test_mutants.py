"""Prove the checks: every mutant is caught with a teaching failure, every alternative passes,
and every check is caught failing by at least one mutant."""

from functools import cache
from pathlib import Path

import pytest

from autograder.loader import load_notebook
from autograder.mutants import load_bank
from autograder.runner import load_all_checks, run_check

ROOT = Path(__file__).resolve().parents[1]
CHECKS = load_all_checks()
BANK = load_bank()
MUTANTS = [v for v in BANK if v.is_mutant]
ALTERNATIVES = [v for v in BANK if not v.is_mutant]


@cache
def solution(assignment):
    return load_notebook(ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def checks_named(assignment, names):
    found = {c.name: c for c in CHECKS if c.assignment == assignment and c.name in names}
    missing = set(names) - set(found)
    assert not missing, f"the bank names checks that do not exist in {assignment}: {sorted(missing)}"
    return [found[name] for name in names]


def variant_param(variant):
    slow = any(c.slow for c in CHECKS if c.assignment == variant.assignment and c.name in variant.catches)
    marks = [pytest.mark.slow] if slow else []
    return pytest.param(variant, id=f"{variant.assignment}-{variant.target}-{variant.name}", marks=marks)


@pytest.mark.parametrize("variant", [variant_param(v) for v in MUTANTS])
def test_mutant_is_caught(variant):
    notebook = solution(variant.assignment)
    for check in checks_named(variant.assignment, variant.catches):
        outcome = run_check(check, notebook, {variant.target: variant.implementation_for(notebook)})
        assert outcome.error_type == "CheckFailure", f"{check.name} did not fail with a CheckFailure: {outcome}"
        message = outcome.message
        assert "expected" in message or "likely cause" in message, f"{check.name} fails without teaching: {message}"


@pytest.mark.parametrize("variant", [variant_param(v) for v in ALTERNATIVES])
def test_alternative_passes(variant):
    touched = [c for c in CHECKS if c.assignment == variant.assignment and variant.target in c.targets and not c.slow]
    assert touched, f"no check takes {variant.target}"
    notebook = solution(variant.assignment)
    for check in touched:
        outcome = run_check(check, notebook, {variant.target: variant.implementation_for(notebook)})
        assert outcome.passed, f"{check.name} rejects a correct alternative:\n{outcome.message}"


def test_every_check_is_caught_by_some_mutant():
    caught = {(v.assignment, name) for v in MUTANTS for name in v.catches}
    uncaught = [c.test_id for c in CHECKS if (c.assignment, c.name) not in caught]
    assert not uncaught, f"checks that no mutant makes fail (a check that cannot fail is a defect): {uncaught}"
