"""One pytest test per registered check, run on the student's notebook.

Node ids read `test_check[<assignment>-<names>-<check>]`, so `-k 02_online_dqn` selects one
assignment and `-k compute_td_loss` one function.
"""

import pytest

from autograder.runner import load_all_checks, run_check

ALL_CHECKS = load_all_checks()


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, id=c.test_id, marks=[pytest.mark.slow] if c.slow else []) for c in ALL_CHECKS],
)
def test_check(check, notebook_loader):
    outcome = run_check(check, notebook_loader(check.assignment))
    if not outcome.passed:
        # The message is the lesson; pytest's traceback of our own code would only bury it.
        pytest.fail(f"[{check.description}]\n{outcome.message}", pytrace=False)
