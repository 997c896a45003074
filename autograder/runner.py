"""Run one check against objects from a student's notebook, with guard rails.

Used by the pytest front end and the mutant bank. Whatever the student's code does (raise
NotImplementedError, loop forever, print without end), only this check fails, with a message
that names the function, the notebook and the cell.
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
import signal
import sys

from autograder.checks.core import REGISTRY, Check
from autograder.loader import LoadedNotebook, StudentCodeError

QUICK_CHECK_SECONDS = 30
SLOW_CHECK_SECONDS = 300
MAX_PRINTED_CHARACTERS = 100_000


class _OutputFlood(BaseException):
    """Raised inside print(); a BaseException so that student `except Exception` cannot hide it."""


class _CheckTimeout(BaseException):
    """Raised by the alarm; a BaseException so that student `except Exception` cannot hide it."""


class _BoundedOutput:
    """A stdout/stderr stand-in that keeps the output and stops the run once it grows too long."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > self.limit:
            raise _OutputFlood()
        return len(text)

    def flush(self) -> None:
        pass

    def text(self) -> str:
        return "".join(self.parts)


@contextlib.contextmanager
def _time_limit(seconds: int):
    if not hasattr(signal, "SIGALRM"):  # Windows: no alarm; pytest-timeout is the backstop
        yield
        return

    def on_alarm(signum, frame):
        raise _CheckTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _replaced(notebook: LoadedNotebook, replacements: dict):
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


def _stub_name(error: BaseException, notebook: LoadedNotebook, targets: tuple[str, ...]) -> str:
    """Name the notebook definition whose cell raised `error` (the stub), preferring the check's targets."""
    cell_file = None
    traceback = error.__traceback__
    while traceback is not None:  # the innermost frame in a notebook cell is the stub
        if "(cell " in traceback.tb_frame.f_code.co_filename:
            cell_file = traceback.tb_frame.f_code.co_filename
        traceback = traceback.tb_next
    in_that_cell = [n for n, cell in notebook.defined_in.items() if cell_file == f"{notebook.path} (cell {cell})"]
    preferred = [n for n in targets if n in in_that_cell] or in_that_cell
    return preferred[0] if preferred else ", ".join(targets)


def load_all_checks() -> list[Check]:
    """Import every module of autograder.checks so that their checks register themselves."""
    import autograder.checks as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return REGISTRY


def run_check(check: Check, notebook: LoadedNotebook, replacements: dict | None = None) -> str:
    """Run `check` on the notebook's objects (or `replacements` for some names); return what it printed.

    Raises CheckFailure (from the check) or StudentCodeError (code that could not be run).
    """
    replacements = replacements or {}
    objects = {
        name: replacements[name] if name in replacements else notebook.get(name)
        for name in check.targets
    }
    where = "; ".join(f"`{name}` is in {notebook.where(name)}" for name in check.targets)
    seconds = SLOW_CHECK_SECONDS if check.slow else QUICK_CHECK_SECONDS
    output = _BoundedOutput(MAX_PRINTED_CHARACTERS)
    try:
        with _time_limit(seconds), contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), \
                _replaced(notebook, replacements):
            check.function(**objects)
    except NotImplementedError as error:
        stub = _stub_name(error, notebook, check.targets)
        raise StudentCodeError(
            f"Not implemented yet: {stub} still raises NotImplementedError "
            f"({notebook.where(stub) if stub in notebook.defined_in else where}). "
            "Replace `raise NotImplementedError()` with your code."
        ) from None
    except _CheckTimeout:
        raise StudentCodeError(
            f"No answer within {seconds} s while checking {', '.join(check.targets)} ({where}). "
            "Look for a loop that never ends (for example a `while` whose condition never changes)."
        ) from None
    except _OutputFlood:
        raise StudentCodeError(
            f"{', '.join(check.targets)} printed over {MAX_PRINTED_CHARACTERS:,} characters ({where}). "
            "Remove the debugging prints inside it (a print in a loop runs on every step)."
        ) from None
    finally:
        sys.stdout.flush()
    return output.text()
