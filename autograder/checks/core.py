"""What check modules import: the registry and teaching failure (autograder/framework.py), the
test-cell entry point (autograder/executor.py), and small helpers that checks share.

A check is a plain function whose parameters are named after the notebook objects it needs,
registered with the test cell that runs it: `@check(ASSIGNMENT, cell="test_make_train_step")`.
A module then names each test cell's entry point:
`check_make_train_step = CellChecks(ASSIGNMENT, "test_make_train_step", "make_train_step")`.
"""

from __future__ import annotations

import contextlib

from autograder.executor import CellChecks
from autograder.framework import Check, CheckFailure, StudentCodeError, check

__all__ = ["CellChecks", "Check", "CheckFailure", "StudentCodeError", "assert_close", "check", "runtime_errors_fail"]


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
