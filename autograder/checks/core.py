"""What every check is made of: a teaching failure, a registry, and the suite a test cell runs.

A check is a plain function whose parameters are named after the notebook objects it needs
(`def one_optimizer_step(make_train_step): ...`). It raises CheckFailure with what was
expected, what was got, and the likely fix. It never imports from a notebook: the notebook's
test cell, the pytest front end and the mutant bank all hand it the objects.
"""
from __future__ import annotations

import contextlib
import inspect
from dataclasses import dataclass
from typing import Callable


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


@dataclass(frozen=True)
class Check:
    assignment: str
    name: str
    function: Callable
    targets: tuple[str, ...]  # the notebook names the check takes, in parameter order
    slow: bool = False

    @property
    def description(self) -> str:
        return (inspect.getdoc(self.function) or self.name).splitlines()[0]

    @property
    def test_id(self) -> str:
        return f"{self.assignment}-{'+'.join(self.targets)}-{self.name}"


REGISTRY: list[Check] = []


def check(assignment: str, *, slow: bool = False):
    """Register a check of `assignment`; its parameter names are the notebook names it needs."""

    def register(function: Callable) -> Callable:
        targets = tuple(inspect.signature(function).parameters)
        REGISTRY.append(Check(assignment, function.__name__, function, targets, slow))
        return function

    return register


def checks_of(assignment: str, targets: tuple[str, ...] | None = None) -> list[Check]:
    """The registered checks of `assignment` (only those taking exactly `targets`, if given)."""
    return [
        c for c in REGISTRY
        if c.assignment == assignment and (targets is None or set(c.targets) == set(targets))
    ]


def run_suite(assignment: str, **objects) -> None:
    """Run every check of `assignment` that takes exactly `objects`; print one line per check.

    This is what a notebook's test cell calls. The first failing check raises.
    """
    selected = checks_of(assignment, tuple(objects))
    if not selected:
        raise LookupError(f"no check of {assignment} takes {tuple(objects)}")
    for selected_check in selected:
        selected_check.function(**objects)
        print(f"  ok: {selected_check.description}")
    print(f"All {len(selected)} checks of {', '.join(objects)} passed.")


def suite(assignment: str, *names: str) -> Callable:
    """The function a notebook's test cell calls: check_x = suite(A, "x"); check_x(x) runs every check
    of assignment A that takes exactly the named objects, passed positionally in `names` order."""

    def run(*objects) -> None:
        run_suite(assignment, **dict(zip(names, objects, strict=True)))

    run.__name__ = f"check_{names[0]}"
    run.__doc__ = f"Run every check of {assignment} that takes {', '.join(names)}."
    return run


@contextlib.contextmanager
def runtime_errors_fail(problem: str, hint: str):
    """Inside this block, a RuntimeError from student code (PyTorch's shape and in-place errors)
    becomes a CheckFailure with a hint. NotImplementedError is a RuntimeError too: it passes
    through, so the runner reports the stub as not implemented yet."""
    try:
        yield
    except NotImplementedError:
        raise
    except RuntimeError as error:
        raise CheckFailure(problem, got=f"RuntimeError: {error}", hint=hint) from None


def assert_close(actual, expected, *, what: str, tolerance: float, hint: str) -> None:
    """Fail with a teaching message unless |actual - expected| <= tolerance elementwise."""
    import numpy as np

    actual_array = np.asarray(actual, dtype=float)
    expected_array = np.asarray(expected, dtype=float)
    if actual_array.shape != expected_array.shape or not np.allclose(
        actual_array, expected_array, atol=tolerance, rtol=0
    ):
        raise CheckFailure(
            f"{what} is wrong (tolerance {tolerance:g}).",
            expected=np.round(expected_array, 6).tolist(),
            got=np.round(actual_array, 6).tolist(),
            hint=hint,
        )
