"""The verdict on one submission, decided outside the student's kernel: a fresh process loads the
submission's definitions (autograder/loader.py) and runs each test cell's checks through the one
executor. Used by the class-grading command (autograder/grade.py) inside the sandbox:

    python -m autograder.verdict SUBMISSION.ipynb ASSIGNMENT OUT.json

Before any student code runs, it fingerprints the check machinery and the libraries the checks
use: every attribute of the course's modules, of torch, numpy, scipy, gymnasium and the standard
modules the executor relies on, and every attribute of the classes defined there. After loading
the definitions (class bodies, default arguments and UPPER_CASE constants run code) and after each
test cell it compares; anything changed is put back, the cell earns nothing, and the change is
flagged. Tampering while loading voids every cell.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WATCHED_PREFIXES = ("autograder", "helpers", "torch", "numpy", "scipy", "gymnasium")
OWN_PREFIXES = ("autograder", "helpers")
WATCHED_MODULES = (
    "builtins",
    "math",
    "random",
    "copy",
    "inspect",
    "warnings",
    "contextlib",
    "traceback",
    "signal",
    "time",
    "json",
    "io",
    "os",
    "collections",
    "functools",
    "itertools",
    "types",
)
# Rebound on purpose while checks run, and put back by the guards: not tampering.
VOLATILE = {("warnings", "filters"), ("warnings", "showwarning"), ("warnings", "_showwarnmsg_impl"), ("os", "environ")}


def _watched(name: str) -> bool:
    return name in WATCHED_MODULES or name.split(".")[0] in WATCHED_PREFIXES


def _ours(name: str) -> bool:
    return name.split(".")[0] in OWN_PREFIXES


def _watched_classes(name: str, value) -> bool:
    """The course's own classes (but optimizers: torch wraps their `step` on first use), and the two
    classes every check leans on."""
    import torch

    if value is torch.Tensor or value is torch.nn.Module:
        return True
    module = vars(value).get("__module__")
    return isinstance(module, str) and _ours(module) and not issubclass(value, torch.optim.Optimizer)


def fingerprint() -> dict:
    """(owner, attribute) -> the object bound there, for every watched module and class. In the
    course's own modules every name counts; in libraries only public names (they set private
    caches of their own as they run)."""
    import warnings

    prints: dict = {}
    with warnings.catch_warnings():  # touching deprecated names warns
        warnings.simplefilter("ignore")
        _collect(prints)
    return prints


def _collect(prints: dict) -> None:
    for name, module in list(sys.modules.items()):
        if module is None or not _watched(name):
            continue
        prints[("sys.modules", name)] = module
        try:
            attributes = dict(vars(module))
        except TypeError:
            continue
        for attribute, value in attributes.items():
            if (name, attribute) in VOLATILE or (attribute.startswith("_") and not _ours(name)):
                continue
            prints[(name, attribute)] = value
            if isinstance(value, type) and _watched_classes(name, value):
                for member, member_value in list(vars(value).items()):
                    prints[(f"{value.__module__}.{value.__qualname__}", member, value)] = member_value


def tampered(before: dict) -> list[str]:
    """What changed since `before` (rebound, replaced or deleted); each change is put back."""
    changes = []
    for key, value in before.items():
        owner, attribute = key[0], key[1]
        if owner == "sys.modules":
            current = sys.modules.get(attribute)
            if current is not value:
                changes.append(f"sys.modules[{attribute!r}]")
                sys.modules[attribute] = value
            continue
        if len(key) == 3:  # a class member
            cls = key[2]
            current = vars(cls).get(attribute, _MISSING)
            if current is not value:
                changes.append(f"{owner}.{attribute}")
                try:
                    setattr(cls, attribute, value)
                except (TypeError, AttributeError):
                    pass
            continue
        module = sys.modules.get(owner)
        current = vars(module).get(attribute, _MISSING) if module is not None else _MISSING
        if current is not value:
            changes.append(f"{owner}.{attribute}")
            if module is not None:
                setattr(module, attribute, value)
    return changes


_MISSING = object()


def verdict(notebook_path: Path, assignment: str) -> dict:
    """{"cells": {grade_id: {"passed", "messages"}}, "flags": [...]} for the submission."""
    from autograder.executor import run_cell
    from autograder.framework import checks_in_cell, load_all_checks
    from autograder.loader import load_notebook
    from autograder.runner import NotebookObjects, replaced  # noqa: F401 (loaded before student code)

    checks = [c for c in load_all_checks() if c.assignment == assignment]
    cells = list(dict.fromkeys(c.cell for c in checks))
    before = fingerprint()
    notebook = load_notebook(notebook_path)
    flags, result = [], {}
    at_load = tampered(before)
    if at_load:
        flags.append(f"tampering while loading the definitions: {', '.join(at_load[:5])}")
    for cell in cells:
        if at_load:
            result[cell] = {"passed": False, "messages": ["not graded: the definitions alter the autograder"]}
            continue
        outcomes = run_cell(checks_in_cell(assignment, cell), NotebookObjects(notebook))
        changes = tampered(before)
        if changes:
            flags.append(f"tampering in {cell}: {', '.join(changes[:5])}")
        result[cell] = {
            "passed": not changes and all(o.passed for o in outcomes),
            "messages": [o.message for o in outcomes if not o.passed][:10],
        }
    return {"cells": result, "flags": flags}


def main() -> None:
    notebook_path, assignment, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    import torch._dynamo  # noqa: F401 (on import it rebinds torch.manual_seed: do that before the fingerprint)

    import autograder.checks  # noqa: F401 (import everything before the student's code runs)

    result = verdict(notebook_path, assignment)
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
