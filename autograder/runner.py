"""Run checks on a notebook loaded from disk (autograder/loader.py): the pytest front end, the
mutant bank, the class-grading verdict and the benchmarks use this. The checks themselves run
through the one executor (autograder/executor.py), with the same guards as in a test cell.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from autograder.executor import Outcome
from autograder.executor import run_check as execute
from autograder.framework import Check, load_all_checks  # noqa: F401 (re-exported for the front ends)
from autograder.loader import LoadedNotebook


class NotebookObjects(Mapping):
    """The notebook's objects by name, with `replacements` taking precedence. A name that does not
    load raises StudentCodeError when a check asks for it (the executor reports it)."""

    def __init__(self, notebook: LoadedNotebook, replacements: dict | None = None):
        self.notebook, self.replacements = notebook, replacements or {}

    def __getitem__(self, name: str):
        return self.replacements[name] if name in self.replacements else self.notebook.get(name)

    def __iter__(self):
        return iter({**vars(self.notebook.module), **self.replacements})

    def __len__(self) -> int:
        return len({**vars(self.notebook.module), **self.replacements})


@contextlib.contextmanager
def replaced(notebook: LoadedNotebook, replacements: dict):
    """Swap names in the notebook's namespace too, so notebook code that calls them by name
    (a provided training loop calling compute_td_loss) uses the replacement."""
    namespace = notebook.module.__dict__
    saved = {name: namespace[name] for name in replacements if name in namespace}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            namespace.pop(name, None)
        namespace.update(saved)


def run_check(check: Check, notebook: LoadedNotebook, replacements: dict | None = None) -> Outcome:
    """Run `check` on the notebook's objects (or `replacements` for some names) through the executor."""
    replacements = replacements or {}
    with replaced(notebook, replacements):
        return execute(check, NotebookObjects(notebook, replacements))
