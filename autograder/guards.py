"""The guards every check runs under, in every entry point (notebook test cell, nbgrader, pytest,
mutant bank), and the loader's cell limit. One place for each idea:

- `time_limit`: a check that gives no answer within N seconds is stopped, even if the student's
  code catches the exception (after the first alarm every line of student code raises again);
- `BoundedStream` / `captured_output`: what a check prints reaches the cell up to a cap, the rest
  is counted and dropped (a flood of debugging prints never fills a notebook or a feedback page);
  stderr and warnings (Python's and C libraries' on file descriptor 2) never reach the cell's
  stderr, where nbgrader would score the cell 0;
- `interrupt_watch`: tells a real interrupt (Ctrl-C, Jupyter's stop button, nbgrader's timeout)
  from a KeyboardInterrupt raised by student code;
- `single_thread` and `seeded`: small networks train faster on one thread, and every check starts
  from the same random state (restored afterwards, so a notebook's own random stream is untouched).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import sys
import tempfile
import threading
import warnings
from dataclasses import dataclass, field

QUICK_CHECK_SECONDS = int(os.environ.get("AUTOGRADER_QUICK_SECONDS", 30))
SLOW_CHECK_SECONDS = int(os.environ.get("AUTOGRADER_SLOW_SECONDS", 300))
MAX_PRINTED_CHARACTERS = 100_000  # per test cell (or per check under pytest)
MAX_STDERR_NOTE_CHARACTERS = 500

_GUARD_FILES = {os.path.abspath(__file__)}


class CheckTimeout(BaseException):
    """Raised when the time is up; a BaseException so that `except Exception` in student code cannot hide it."""


def _in_guard_code(frame) -> bool:
    return os.path.abspath(frame.f_code.co_filename) in _GUARD_FILES


class time_limit:  # noqa: N801 (used like a function: `with time_limit(30):`)
    """Raise CheckTimeout in the block after `seconds`. If the code catches it and goes on, every
    following line it runs raises it again, until the block is left. Main thread only (elsewhere,
    and on Windows, the block runs without a limit)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self.active = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def _raise_on_every_line(self, frame, event, arg):
        if self.expired and not _in_guard_code(frame):
            raise CheckTimeout()
        return self._raise_on_every_line

    def _on_alarm(self, signum, frame):
        self.expired = True
        sys.settrace(self._raise_on_every_line)  # new frames
        while frame is not None:  # and the frames already running
            frame.f_trace, frame.f_trace_lines = self._raise_on_every_line, True
            frame = frame.f_back
        raise CheckTimeout()

    def __enter__(self):
        if self.active:
            self.previous_trace = sys.gettrace()
            self.previous_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)  # then every second, for blocking calls
        return self

    def __exit__(self, *exc_info):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous_handler)
            if self.expired:
                sys.settrace(self.previous_trace)
                frame = sys._getframe()
                while frame is not None:
                    frame.f_trace = None
                    frame = frame.f_back
        return False


@dataclass
class BoundedStream(io.TextIOBase):
    """A text stream that forwards writes to `target` until `limit` characters, then counts the rest."""

    target: object = None  # another stream, or None to only keep the text
    limit: int = MAX_PRINTED_CHARACTERS
    kept: list = field(default_factory=list)
    size: int = 0
    dropped: int = 0

    def write(self, text) -> int:
        text = str(text)
        room = self.limit - self.size
        shown, rest = text[: max(room, 0)], text[max(room, 0) :]
        if shown:
            self.kept.append(shown)
            self.size += len(shown)
            if self.target is not None:
                self.target.write(shown)
        self.dropped += len(rest)
        return len(text)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        if self.target is not None:
            self.target.flush()

    def text(self) -> str:
        return "".join(self.kept)


@dataclass
class Captured:
    """What a guarded block wrote besides its teaching output."""

    stderr: str = ""  # Python-level and file-descriptor-level stderr, as text
    warnings: list = field(default_factory=list)  # warnings.WarningMessage


@contextlib.contextmanager
def captured_output(stdout: BoundedStream):
    """Send sys.stdout to `stdout`; keep sys.stderr, fd 2 and warnings out of the cell, in a Captured."""
    captured = Captured()
    python_stderr = io.StringIO()
    saved_fd = None
    spool = tempfile.TemporaryFile(mode="w+b")
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
        os.dup2(spool.fileno(), 2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (some embedded consoles)
        saved_fd = None
    try:
        with (
            warnings.catch_warnings(record=True) as caught,
            contextlib.redirect_stdout(stdout),
            contextlib.redirect_stderr(python_stderr),
        ):
            warnings.simplefilter("always")
            yield captured
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
        spool.seek(0)
        fd_text = spool.read(64_000).decode(errors="replace")
        spool.close()
        captured.stderr = python_stderr.getvalue() + fd_text
        captured.warnings = list(caught)


@dataclass
class InterruptWatch:
    real: bool = False


@contextlib.contextmanager
def interrupt_watch():
    """Note whether a KeyboardInterrupt came from a real SIGINT (the user, or nbgrader's timeout)."""
    watch = InterruptWatch()
    if threading.current_thread() is not threading.main_thread():
        yield watch
        return

    def on_interrupt(signum, frame):
        watch.real = True
        raise KeyboardInterrupt()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield watch
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def single_thread():
    """One torch thread inside the block: faster for these small networks, steady on shared cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@contextlib.contextmanager
def seeded(seed: int = 0):
    """Seed Python's, numpy's and torch's global generators; restore their states afterwards."""
    import numpy as np
    import torch

    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
