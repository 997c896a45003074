"""The mutant bank: realistic buggy implementations that the checks must catch.

Each module here holds, for one assignment, `@mutant` functions or classes (a bug a student
could plausibly write, and the checks that must fail on it) and `@alternative` ones (a different
but correct way to write the same thing, which every check must accept). tests/test_mutants.py
runs them all against the solution notebook with the mutant swapped in; it also proves that
every registered check is caught failing by at least one mutant.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    assignment: str
    target: str  # the notebook name it replaces
    implementation: Callable
    catches: tuple[str, ...]  # names of checks that must fail; empty for an alternative
    name: str
    description: str
    patch: tuple[str, str] | None = None  # (old, new): edit the notebook's own definition instead

    def implementation_for(self, notebook):
        """The replacement object; a patch mutant is built from `notebook`'s definition of the target."""
        if self.patch is None:
            return self.implementation
        old, new = self.patch
        source = textwrap.dedent(inspect.getsource(notebook.get(self.target)))
        if source.count(old) != 1:
            raise ValueError(f"mutant {self.name}: {old!r} must occur exactly once in {self.target}")
        namespace = dict(vars(notebook.module))
        exec(compile(source.replace(old, new), f"<mutant {self.name}>", "exec"), namespace)
        return namespace[self.target]

    @property
    def is_mutant(self) -> bool:
        return bool(self.catches)


BANK: list[Variant] = []


def _register(assignment: str, target: str, catches: tuple[str, ...], build: Callable | None):
    def register(definition):
        implementation = build(definition) if build else definition
        description = (inspect.getdoc(definition) or definition.__name__).splitlines()[0]
        BANK.append(Variant(assignment, target, implementation, catches, definition.__name__, description))
        return definition

    return register


def mutant(assignment: str, target: str, *catches: str, build: Callable | None = None):
    """Register a buggy `target` that must make each check named in `catches` fail.

    With `build`, the decorated function is only the part that differs, and build(function)
    makes the full replacement (e.g. a TD loss from its target computation).
    """
    if not catches:
        raise ValueError("a mutant must name at least one check that catches it")
    return _register(assignment, target, catches, build)


def patched(assignment: str, target: str, old: str, new: str, *catches: str, name: str, description: str):
    """Register a mutant made by replacing `old` with `new` in the notebook's own `target` (a provided
    function such as a training loop, too long to copy here)."""
    BANK.append(Variant(assignment, target, None, catches, name, description, (old, new)))


def alternative(assignment: str, target: str, *, build: Callable | None = None):
    """Register a correct but different `target` that every check must accept."""
    return _register(assignment, target, (), build)


def load_bank() -> list[Variant]:
    """Import every module of this package so that their variants register themselves."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return BANK
