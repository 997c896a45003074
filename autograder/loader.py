"""Load a student's definitions from a notebook without running its training cells.

Only top-level imports, ``def``, ``class`` and UPPER_CASE constant assignments are executed,
cell by cell, in one fresh module. Everything else (training loops, plots, videos, magics,
shell lines) is dropped. A cell that does not parse, or that raises while defining things,
is remembered: asking for a name it defines gives a message naming the notebook and the cell,
and every other name still loads.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.framework import StudentCodeError
from autograder.guards import CheckTimeout, time_limit

# Executing one cell's definitions should take milliseconds; more means a constant that
# calls something slow or a loop that never ends.
CELL_TIME_LIMIT_SECONDS = 20
_DEFINITION_PATTERN = re.compile(r"^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)", re.MULTILINE)
_CONSTANT_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")
_load_counter = itertools.count()


@dataclass
class CellProblem:
    cell_number: int  # 1-based position among all cells, as Jupyter counts them
    reason: str


@dataclass
class LoadedNotebook:
    path: Path
    module: types.ModuleType
    defined_in: dict[str, int] = field(default_factory=dict)  # name -> cell number
    problems: dict[str, CellProblem] = field(default_factory=dict)  # name -> what went wrong

    def get(self, name: str):
        """Return the student's object called `name`, or raise StudentCodeError saying why not."""
        if name in self.problems:
            problem = self.problems[name]
            raise StudentCodeError(
                f"`{name}` could not be loaded from {self.path}, cell {problem.cell_number}: {problem.reason}"
            )
        if not hasattr(self.module, name):
            raise StudentCodeError(
                f"`{name}` is not defined in {self.path}. Keep the cell that defines it and do "
                f"not rename it: the checks look for exactly `{name}`."
            )
        return getattr(self.module, name)

    def where(self, name: str) -> str:
        """A short 'notebook, cell N' description of where `name` was defined."""
        cell = self.defined_in.get(name)
        return f"{self.path}, cell {cell}" if cell else str(self.path)


def _strip_ipython(source: str) -> str:
    """Drop magics (%, %%) and shell lines (!), which are not Python."""
    kept = []
    for line in source.splitlines():
        stripped = line.lstrip()
        kept.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(kept)


def _is_constant_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    else:
        return False
    return all(isinstance(t, ast.Name) and _CONSTANT_PATTERN.match(t.id) for t in targets)


def _definitions_only(tree: ast.Module) -> ast.Module:
    keep = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    body = [node for node in tree.body if isinstance(node, keep) or _is_constant_assignment(node)]
    return ast.Module(body=body, type_ignores=[])


def _defined_names(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif _is_constant_assignment(node):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.extend(t.id for t in targets)
    return names


def load_notebook(path: str | Path) -> LoadedNotebook:
    """Execute the definitions of the notebook at `path` in a fresh module; never raises for bad cells."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    safe_stem = re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(f"student_notebook_{next(_load_counter)}_{safe_stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses and pickle look classes up there
    loaded = LoadedNotebook(path=path, module=module)

    for cell_number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        source = _strip_ipython(cell.source)
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            reason = (
                f"the cell has a syntax error on its line {error.lineno}: {error.msg}. Fix it and run the cell again."
            )
            for name in _DEFINITION_PATTERN.findall(source):
                loaded.problems[name] = CellProblem(cell_number, reason)
            continue

        names = _defined_names(tree)
        for name in names:
            loaded.defined_in[name] = cell_number
            loaded.problems.pop(name, None)  # a later, good definition wins, as in Jupyter
        filename = f"{path} (cell {cell_number})"
        # Registered so that tracebacks through student code show its lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        code = compile(_definitions_only(tree), filename, "exec")
        try:
            with time_limit(CELL_TIME_LIMIT_SECONDS):
                exec(code, module.__dict__)
        except CheckTimeout:
            reason = f"defining it took over {CELL_TIME_LIMIT_SECONDS} s (a slow constant or an endless loop?)"
            for name in names:
                loaded.problems[name] = CellProblem(cell_number, reason)
        except BaseException as error:  # noqa: BLE001 (a bad cell must never stop the others from loading)
            reason = f"running the cell's definitions raised {type(error).__name__}: {error}"
            for name in names:
                loaded.problems[name] = CellProblem(cell_number, reason)
    return loaded
