"""What a check is, below any check content: a teaching failure, a registry, and the test cell
each check belongs to.

A check is a plain function whose parameters are named after the notebook objects it needs
(`def one_optimizer_step(make_train_step): ...`), registered with the assignment and the nbgrader
`grade_id` of the test cell that runs it:

    @check("01_pytorch_regression", cell="test_make_train_step")

It raises CheckFailure with what was expected, what was got, and the likely fix. It never imports
from a notebook: the executor (autograder/executor.py) hands it the objects, in the notebook's
test cell, under pytest and in the mutant bank alike.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


class CheckFailure(AssertionError):
    """A check found a bug. The message says what was expected, what was got, and the likely cause."""

    def __init__(self, problem: str, *, expected=None, got=None, hint: str | None = None):
        lines = [problem]
        if expected is not None:
            lines.append(f"  expected: {expected}")
        if got is not None:
            lines.append(f"  got:      {got}")
        if hint:
            lines.append(f"  likely cause: {hint}")
        super().__init__("\n".join(lines))


class StudentCodeError(AssertionError):
    """The student's code could not be run: a name is missing, a cell does not load, a stub, a stall."""


@dataclass(frozen=True)
class Check:
    assignment: str
    name: str
    function: Callable
    targets: tuple[str, ...]  # the notebook names the check takes, in parameter order
    cell: str = ""  # the grade_id of the test cell that runs it
    slow: bool = False

    @property
    def description(self) -> str:
        return (inspect.getdoc(self.function) or self.name).splitlines()[0]

    @property
    def test_id(self) -> str:
        return f"{self.assignment}-{'+'.join(self.targets)}-{self.name}"


REGISTRY: list[Check] = []


def check(assignment: str, *, cell: str, slow: bool = False):
    """Register a check of `assignment`, run by the test cell `cell`; its parameter names are the
    notebook names it needs (each must be one of the names that cell passes)."""

    def register(function: Callable) -> Callable:
        targets = tuple(inspect.signature(function).parameters)
        REGISTRY.append(Check(assignment, function.__name__, function, targets, cell, slow))
        return function

    return register


def checks_in_cell(assignment: str, cell: str) -> list[Check]:
    """The checks that the test cell `cell` of `assignment` runs, in registration order."""
    return [c for c in REGISTRY if c.assignment == assignment and c.cell == cell]


def load_all_checks() -> list[Check]:
    """Import every module of autograder.checks so that their checks register themselves."""
    package = importlib.import_module("autograder.checks")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return REGISTRY
