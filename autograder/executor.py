"""THE executor: runs checks under the guards (autograder/guards.py) and turns whatever happened
into an Outcome with a teaching message. The notebook's test cells, nbgrader, `pytest autograder`,
the mutant bank and the class-grading verdict all run checks through `run_check`.

Whatever the student's code does (raise NotImplementedError, loop forever, print without end,
warn, write to stderr, raise KeyboardInterrupt or SystemExit), only that check fails, with a
message that names the function and where it was defined; the next check runs.

In a notebook, a test cell calls a CellChecks object (`check_compute_td_loss(compute_td_loss)`):
it prints one `ok:` line per passing check and, if any check failed, ends the cell with a
ChecksFailed error that Jupyter shows as the teaching message alone (no traceback through the
autograder), so nbgrader scores the cell 0.
"""

from __future__ import annotations

import re
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from autograder import guards
from autograder.framework import Check, CheckFailure, StudentCodeError, checks_in_cell

PASSED, FAILED, NOT_IMPLEMENTED, TIMED_OUT, SKIPPED = "passed", "failed", "not implemented", "timed out", "skipped"
_LOADER_FILE = re.compile(r"^(?P<path>.*) \(cell (?P<cell>\d+)\)$")


def describe_code_file(filename: str) -> str | None:
    """Where student code with this code filename lives ('nb.ipynb, cell 7', 'cell In [12]'), or
    None if the file is not student code (a library, the autograder)."""
    match = _LOADER_FILE.match(filename)
    if match:
        return f"{match['path']}, cell {match['cell']}"
    if filename.startswith("<mutant "):
        return f"the mutant bank's {filename[1:-1]}"
    try:
        shell = get_ipython()  # noqa: F821 (defined in IPython kernels only)
    except NameError:
        return None
    execution_count = getattr(getattr(shell, "compile", None), "_filename_map", {}).get(filename)
    return f"cell In [{execution_count}]" if execution_count is not None else None


def _student_frames(error: BaseException, locate) -> list[tuple[str, str, int]]:
    """(qualified name, where, line) of each traceback frame in student code, outermost first."""
    frames = []
    for frame, line in traceback.walk_tb(error.__traceback__):
        where = locate(frame.f_code.co_filename)
        if where is not None:
            # make_train_step.<locals>.train_step is the student's make_train_step
            frames.append((frame.f_code.co_qualname.split(".<locals>.")[0], where, line))
    return frames


def where_defined(obj, locate) -> str | None:
    """Where the student defined `obj` (a function, or a class through its methods), if known."""
    codes = [getattr(obj, "__code__", None)]
    if isinstance(obj, type):
        codes = [getattr(member, "__code__", None) for member in vars(obj).values()]
    for code in codes:
        if code is not None and locate(code.co_filename) is not None:
            return locate(code.co_filename)
    return None


@dataclass
class Outcome:
    """What running one check gave."""

    check: Check
    status: str  # PASSED, FAILED, NOT_IMPLEMENTED, TIMED_OUT or SKIPPED
    message: str = ""  # the teaching message ('' when passed)
    error_type: str = ""  # the class name of what was raised ('' when passed)
    output: str = ""  # what the check printed (up to the cap)
    notes: list[str] = field(default_factory=list)  # warnings and stderr of student code, as short notes
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == PASSED


def _seconds_for(check: Check) -> int:
    return guards.SLOW_CHECK_SECONDS if check.slow else guards.QUICK_CHECK_SECONDS


def _failure(check: Check, error: BaseException, locate, objects: Mapping, seconds: int) -> tuple[str, str]:
    """(status, teaching message) for an exception that escaped the check."""
    names = ", ".join(check.targets)
    known = []
    for name in check.targets:
        try:
            known.append(where_defined(objects[name], locate))
        except Exception:  # noqa: BLE001 (a name that does not load has its own message)
            pass
    targets_where = "; ".join(dict.fromkeys(w for w in known if w)) or "your notebook"
    student = _student_frames(error, locate)
    innermost = student[-1] if student else None
    if isinstance(error, (CheckFailure, StudentCodeError)):
        return FAILED, str(error)
    if isinstance(error, guards.CheckTimeout):
        return TIMED_OUT, (
            f"No answer within {seconds} s while checking {names} ({targets_where}). "
            "Look for a loop that never ends (for example a `while` whose condition never changes)."
        )
    if isinstance(error, NotImplementedError) and innermost:
        stub, where, _ = innermost
        return NOT_IMPLEMENTED, (
            f"Not implemented yet: {stub} still raises NotImplementedError ({where}). "
            "Replace `raise NotImplementedError()` with your code."
        )
    place = f" in {innermost[0]} ({innermost[1]}, line {innermost[2]})" if innermost else ""
    if isinstance(error, SystemExit):
        return FAILED, (
            f"Your code called exit(){place} while checking {names}. A graded function must "
            "return its result; remove the exit() / sys.exit() call."
        )
    if isinstance(error, KeyboardInterrupt):
        return FAILED, (
            f"Your code raised KeyboardInterrupt{place} while checking {names}. Remove the `raise KeyboardInterrupt`."
        )
    if innermost:
        return FAILED, (
            f"Your code raised {type(error).__name__}: {error}{place} while checking {names}.\n"
            "  likely cause: call the function on a small example in a notebook cell to see the "
            "full traceback"
        )
    tail = "".join(traceback.format_exception(error)[-3:]).rstrip()
    return FAILED, (
        f"Checking {names} raised {type(error).__name__}: {error}.\n"
        f"  (the error came from library code, not from a line of your notebook)\n{tail}"
    )


def _notes(captured: guards.Captured, locate) -> list[str]:
    notes = []
    for warning in captured.warnings:
        where = locate(warning.filename)
        if where is not None:  # the student's own warnings; library internals stay hidden
            notes.append(
                f"note: your code warned ({where}, line {warning.lineno}): "
                f"{warning.category.__name__}: {warning.message}"
            )
    if captured.stderr.strip():
        text = captured.stderr.strip()
        shown = text[: guards.MAX_STDERR_NOTE_CHARACTERS]
        more = f" ... ({len(text) - len(shown):,} more characters)" if len(text) > len(shown) else ""
        notes.append(
            "note: written to stderr during the check (kept out of the cell's stderr): "
            + shown.replace("\n", " | ")
            + more
        )
    return list(dict.fromkeys(notes))


def run_check(
    check: Check, objects: Mapping, *, locate: Callable = describe_code_file, stdout: guards.BoundedStream | None = None
) -> Outcome:
    """Run one check with the objects it names (taken from `objects`) under every guard.

    Never raises, except for a real interrupt (the user's Ctrl-C, nbgrader's cell timeout).
    `stdout` receives what the check prints (default: kept in the Outcome only).
    """
    stream = stdout if stdout is not None else guards.BoundedStream()
    seconds = _seconds_for(check)
    first_part = len(stream.kept)
    started = time.perf_counter()
    status, message, error_type = PASSED, "", ""
    captured = guards.Captured()
    with guards.interrupt_watch() as interrupt:
        try:
            with guards.single_thread(), guards.seeded(0), guards.captured_output(stream) as captured:
                arguments = {name: objects[name] for name in check.targets}
                with guards.time_limit(seconds):
                    check.function(**arguments)
        except KeyboardInterrupt:
            if interrupt.real:
                raise
            status, message = _failure(check, sys.exc_info()[1], locate, objects, seconds)
            error_type = "KeyboardInterrupt"
        except BaseException as error:  # noqa: BLE001 (student code may raise anything)
            status, message = _failure(check, error, locate, objects, seconds)
            error_type = type(error).__name__
    return Outcome(
        check,
        status,
        message,
        error_type,
        "".join(stream.kept[first_part:]),
        _notes(captured, locate),
        time.perf_counter() - started,
    )


def run_cell(
    checks: list[Check],
    objects: Mapping,
    *,
    locate: Callable = describe_code_file,
    stdout=None,
    on_outcome: Callable | None = None,
) -> list[Outcome]:
    """Run the checks of one test cell in order, sharing one output cap. After a check times out,
    the following checks that take the same objects are skipped (they would wait as long again)."""
    stream = guards.BoundedStream(stdout)
    outcomes, stalled = [], set()
    for each in checks:
        if stalled & set(each.targets):
            outcome = Outcome(
                each,
                SKIPPED,
                f"Not run: {', '.join(sorted(stalled))} gave no answer in an earlier check of this cell.",
                "CheckTimeout",
            )
        else:
            outcome = run_check(each, objects, locate=locate, stdout=stream)
        if outcome.status == TIMED_OUT:
            stalled |= set(each.targets)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    if stream.dropped:
        print(
            f"  ... {stream.dropped:,} more printed characters not shown (at most "
            f"{guards.MAX_PRINTED_CHARACTERS:,} per cell)",
            file=stdout or sys.stdout,
        )
    return outcomes


class ChecksFailed(AssertionError):
    """Some checks of a test cell failed. Jupyter shows only the teaching messages (no traceback)."""

    def __init__(self, title: str, failures: list[Outcome]):
        self.lines = [title] + [
            line
            for outcome in failures
            for line in (f"- {outcome.check.description}:", *("    " + text for text in outcome.message.splitlines()))
        ]
        super().__init__("\n".join(self.lines))

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return [f"\x1b[0;31m{self.lines[0]}\x1b[0m", *self.lines[1:]]


class CellChecks:
    """What a notebook's test cell calls: `check_x = CellChecks(assignment, "test_x", "x", ...)`, then
    `check_x(x, ...)` runs every check registered for test cell "test_x", each with the objects it
    names, the arguments being given in `names` order."""

    def __init__(self, assignment: str, cell: str, *names: str):
        self.assignment, self.cell, self.names = assignment, cell, names
        self.__name__ = "check_" + cell.removeprefix("test_")  # the name it has in its checks module
        self.__doc__ = f"Run the checks of test cell {cell} ({assignment}) on {', '.join(names)}."

    def __repr__(self) -> str:
        return f"<checks of {self.assignment} {self.cell}({', '.join(self.names)})>"

    def __call__(self, *objects) -> None:
        if len(objects) != len(self.names):
            raise TypeError(
                f"{self.__name__} takes {len(self.names)} arguments ({', '.join(self.names)}), got {len(objects)}"
            )
        checks = checks_in_cell(self.assignment, self.cell)
        if not checks:
            raise LookupError(f"no check of {self.assignment} belongs to the test cell {self.cell}")

        def show(outcome: Outcome) -> None:
            # One write per check: print() writes the text and the newline apart, and a kernel that
            # flushes between them leaves a lone newline (a blank line in nbgrader's feedback).
            lines = [f"  {'ok' if outcome.passed else 'FAILED'}: {outcome.check.description}"]
            lines += [f"    {note}" for note in outcome.notes]
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()

        outcomes = run_cell(checks, dict(zip(self.names, objects)), stdout=sys.stdout, on_outcome=show)
        failures = [o for o in outcomes if not o.passed]
        count = f"{len(outcomes)} check{'s' if len(outcomes) != 1 else ''}"
        if failures:
            raise ChecksFailed(f"{len(failures)} of {count} of {', '.join(self.names)} failed:", failures)
        sys.stdout.write(f"{'All ' if len(outcomes) > 1 else ''}{count} of {', '.join(self.names)} passed.\n")
