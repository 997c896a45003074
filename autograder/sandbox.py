"""Run one untrusted grading job (a student's `nbgrader autograde`, a verdict process) in a sandbox.

The sandbox is bubblewrap (`bwrap` 0.8+, as root or with unprivileged user namespaces). The job sees:

* the host's /usr, /bin, /lib*, /etc, the Python installation and the active venv, at their host
  paths, read-only; files in /etc that others may not read (/etc/shadow, ...) are masked, and the
  venv's `__editable__*` files read as empty, so an editable install of the course points nowhere;
* `course_site` (see `stage_course`: a copy of `autograder` and `helpers`) read-only, first on
  PYTHONPATH;
* `workdir` read-write at its own host path (the same in both modes, so commands may name files by
  absolute path); the command runs there. /tmp, HOME and /dev/shm are the folders
  `.sandbox/{tmp,home,shm}` of workdir, emptied before each run: all it can write is under workdir;
* a fresh /proc, a minimal read-only /dev, no network (just its own loopback, which Jupyter
  kernels use), a minimal environment, uid 65534 without capabilities.

So hostile student code cannot read the course folder (solutions, source, gradebook.db, other
students' submissions), the git clone of the course, /root, /home or /work beyond what is bound;
cannot modify the course's Python code, reach the network, or leave processes behind (a PID
namespace: when the job ends or is killed, all its processes die). Limits: per process, address
space (RLIMIT_AS = memory_bytes), file size (RLIMIT_FSIZE = disk_bytes) and optionally CPU time;
a watchdog polling every 0.2 s kills the whole job at the wall-clock limit, when its processes
hold more than memory_bytes of anonymous memory in total, run more than max_processes processes,
or when the files under workdir (at least 4 KiB each) plus its output exceed disk_bytes.

It does NOT protect against: students sharing code; the job tampering with its own workdir
(notebooks, outputs, a gradebook copy there: trust nothing it leaves, not even symlinks, which may
point anywhere on the host); bugs in bubblewrap or the kernel. Polled limits can be overshot by
what a job does in 0.2 s (a few hundred MB written, a fork bomb's first fraction of a second);
RLIMIT_NPROC is not used: the kernel does not enforce it on a job that is root outside its user
namespace. For hard caps run the grader in a cgroup (`systemd-run --scope -p MemoryMax=8G -p
TasksMax=1024 ...`). When the grader runs as root the job is root on the host: it owns the files it
writes and counts as the owner of the root-owned files it sees (all read-only; only /etc is
scanned for private files), so prefer grading as a normal user.
"""

from __future__ import annotations

import compileall
import functools
import json
import os
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

COURSE_PACKAGES = ("autograder", "helpers")
OUTPUT_BYTES = 1_000_000  # kept of each of stdout and stderr (their ends)
POLL_SECONDS = 0.2
SANDBOX_UID = 65534  # "nobody"
NAMESPACE_ARGS = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--uid",
    str(SANDBOX_UID),
    "--gid",
    str(SANDBOX_UID),
    "--die-with-parent",
    "--new-session",
    "--clearenv",
]
INSTALL_HINT = (
    "Install bubblewrap: `apt-get install bubblewrap` (Debian/Ubuntu) or "
    "`dnf install bubblewrap` (Fedora/RHEL). Or pass --unsafe-no-sandbox to grade "
    "without isolation (student code then runs with your rights: only for code you trust)."
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here."""


def find_bwrap() -> str:
    """Return the absolute path of a working `bwrap` on PATH, else raise SandboxUnavailable."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is missing: it is not on PATH. {INSTALL_HINT}")
    path = os.path.abspath(path)
    error = _bwrap_error(path)
    if error:
        raise SandboxUnavailable(f"bubblewrap at {path} does not work here: {error}\n{INSTALL_HINT}")
    return path


@functools.cache
def _bwrap_error(path: str) -> str | None:
    """Run `bwrap` once with the namespaces the sandbox uses; its error text, or None if it works."""
    try:
        done = subprocess.run(
            [path, *NAMESPACE_ARGS, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return str(error)
    return None if done.returncode == 0 else (done.stderr.strip() or f"exit code {done.returncode}")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one job.

    memory_bytes caps each process's address space (RLIMIT_AS) and the anonymous memory of all
    its processes together. With OMP_NUM_THREADS=1, torch training a small network takes about
    0.8 GB of address space and a Jupyter kernel that imports torch 1.3 GB, but every extra thread
    reserves its stack and malloc arena (~70 MB): keep several GB. disk_bytes counts everything
    under workdir, what the caller put there too, plus the captured output."""

    wall_seconds: float = 1800
    memory_bytes: int = 6 * 2**30
    cpu_seconds: int | None = None  # the kernel kills a process that used that much CPU time
    disk_bytes: int = 512 * 2**20
    max_processes: int = 512


@dataclass
class SandboxResult:
    returncode: int | None  # -9 when a limit killed the job; killed by signal N: 128+N in bwrap
    stdout: str  # the last ~1 MB only
    stderr: str
    seconds: float
    timed_out: bool
    killed_reason: str | None  # "time limit", "disk limit", "memory", "process limit" or None


def stage_course(into: Path) -> Path:
    """Copy the course packages `autograder` and `helpers` (not solutions/, tests/, notebooks/ or
    .git), byte-compiled, into `into`/site, make them read-only, and return that folder (for
    PYTHONPATH). This is what a non-editable install puts in site-packages, but without pip
    writing build/ into the clone. To delete the copy as a normal user: `chmod -R u+w` first."""
    root = Path(__file__).resolve().parents[1]  # the clone, or site-packages if installed
    site_dir = Path(into) / "site"
    site_dir.mkdir(parents=True)
    for name in COURSE_PACKAGES:
        shutil.copytree(root / name, site_dir / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    compileall.compile_dir(site_dir, quiet=1)
    for folder, _, files in os.walk(site_dir):
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)
    return site_dir


def run_sandboxed(
    command: list[str],
    *,
    workdir: Path,
    course_site: Path,
    env: dict[str, str] | None = None,
    limits: Limits = Limits(),
    readonly_binds: dict[Path, str] | None = None,
    unsafe_no_sandbox: bool = False,
) -> SandboxResult:
    """Run `command` in the sandbox (see the module docstring), in `workdir`, within `limits`.

    `readonly_binds` maps host paths to the paths where the job sees them (read-only); keep their
    destinations outside workdir. With unsafe_no_sandbox=True the command runs directly, with the
    same environment and limits but no isolation: it sees everything you can, and processes
    that start their own session or daemonize may outlive it."""
    workdir, course_site = Path(workdir).resolve(), Path(course_site).resolve()
    if course_site.is_relative_to(workdir):
        raise ValueError(f"course_site {course_site} must not lie inside workdir {workdir}")
    private = workdir / ".sandbox"  # rebuilt each run: a previous job may have planted symlinks
    if private.is_symlink() or private.is_file():
        private.unlink()
    elif private.exists():  # the job may have made its folders read-only
        shutil.rmtree(private, onerror=lambda f, path, _: (os.chmod(os.path.dirname(path), 0o700), f(path)))
    for name in ("tmp", "home", "shm"):
        (private / name).mkdir(parents=True)
    job_env = _job_env(course_site, private, env or {}, unsafe_no_sandbox)
    sandboxed = not unsafe_no_sandbox
    argv, info_read, info_write = list(command), -1, -1
    if sandboxed:  # bwrap writes its child's pid and namespaces to the --info-fd pipe
        argv = _bwrap_argv(find_bwrap(), workdir, course_site, private, readonly_binds or {}, job_env)
        info_read, info_write = os.pipe()
        argv += ["--info-fd", str(info_write), "--", *command]
    with tempfile.TemporaryDirectory(prefix="sandbox-output-") as logs:
        out_path, err_path = Path(logs, "stdout"), Path(logs, "stderr")
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            start = time.monotonic()
            process = subprocess.Popen(
                _with_limits(argv, limits),
                cwd=workdir,
                env=job_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                pass_fds=(info_write,) if sandboxed else (),
            )
            namespace = None
            if sandboxed:
                os.close(info_write)
                with open(info_read) as info:  # closed by bwrap before it starts the command
                    namespace = json.loads(info.read() or "{}").get("pid-namespace")
            reason = _watch(process, limits, start, [workdir, out_path, err_path])
            _kill_group(process.pid)  # what is left of bwrap, or the unsafe job's process group
            if namespace:
                _wait_until_gone(f"pid:[{namespace}]")
        return SandboxResult(
            returncode=-signal.SIGKILL if reason else process.returncode,
            stdout=_tail(out_path),
            stderr=_tail(err_path),
            seconds=time.monotonic() - start,
            timed_out=reason == "time limit",
            killed_reason=reason,
        )


def _job_env(course_site: Path, private: Path, extra: dict[str, str], unsafe: bool) -> dict[str, str]:
    """The job's whole environment: nothing from the host's but the venv's bin on PATH."""
    python_path = str(course_site) + (":" + extra["PYTHONPATH"] if extra.get("PYTHONPATH") else "")
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(private / "home"),
        "TMPDIR": str(private / "tmp") if unsafe else "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
        "OMP_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1",
        **extra,
        "PYTHONPATH": python_path,
    }


def _bwrap_argv(
    bwrap: str,
    workdir: Path,
    course_site: Path,
    private: Path,
    readonly_binds: dict[Path, str],
    job_env: dict[str, str],
) -> list[str]:
    argv = [
        bwrap,
        *NAMESPACE_ARGS,
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(private / "shm"),
        "/dev/shm",
        "--remount-ro",
        "/dev",
        "--bind",
        str(private / "tmp"),
        "/tmp",  # first: a venv or workdir may lie in /tmp
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind",
        "/etc",
        "/etc",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    for path, is_dir in _private_files("/etc"):
        argv += ["--tmpfs", path, "--remount-ro", path] if is_dir else ["--ro-bind", "/dev/null", path]
    for root in _python_roots():
        argv += ["--ro-bind", root, root]
    for folder in site.getsitepackages():
        for path in sorted(Path(folder).glob("__editable__*")):
            argv += ["--ro-bind", "/dev/null", str(path)]
    argv += ["--bind", str(workdir), str(workdir), "--ro-bind", str(course_site), str(course_site)]
    for host, inside in readonly_binds.items():
        argv += ["--ro-bind", str(Path(host).resolve()), str(inside)]
    for key, value in job_env.items():
        argv += ["--setenv", key, value]
    return argv + ["--remount-ro", "/", "--chdir", str(workdir)]  # no writable RAM at /


def _python_roots() -> list[str]:
    """The Python installation and venv folders, outside /usr (already bound)."""
    roots = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    return sorted(r for r in roots if not (r == "/usr" or r.startswith("/usr/")))


@functools.cache
def _private_files(top: str) -> tuple[tuple[str, bool], ...]:
    """Files and folders under `top` that others may not read (or enter): (path, is a folder)."""
    found = []
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(folder, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                continue
            need = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
            if not stat.S_ISLNK(mode) and mode & need != need:
                found.append((path, stat.S_ISDIR(mode)))
        hidden = {p for p, _ in found}
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in hidden]
    return tuple(found)


# Sets the per-process limits, then execs the command (bwrap, or the job itself when unsafe): a
# preexec_fn could deadlock in a threaded grader (a Dask worker). Restores the SIGPIPE and SIGXFSZ
# defaults that Python ignores and exec would pass on.
_LIMIT_THEN_EXEC = """import os, resource, signal, sys
for name, value in zip(sys.argv[1].split()[::2], sys.argv[1].split()[1::2]):
    try:
        resource.setrlimit(getattr(resource, name), (int(value), int(value)))
    except (ValueError, OSError):  # not on this system (e.g. RLIMIT_AS on macOS)
        pass
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _with_limits(argv: list[str], limits: Limits) -> list[str]:
    """`argv` run under the per-process limits (bwrap and everything inside inherit them)."""
    values = {"RLIMIT_AS": limits.memory_bytes, "RLIMIT_FSIZE": limits.disk_bytes, "RLIMIT_CORE": 0}
    if limits.cpu_seconds is not None:
        values["RLIMIT_CPU"] = limits.cpu_seconds
    spec = " ".join(f"{name} {value}" for name, value in values.items())
    return [sys.executable, "-I", "-S", "-c", _LIMIT_THEN_EXEC, spec, *argv]


def _watch(process: subprocess.Popen, limits: Limits, start: float, writable: list[Path]) -> str | None:
    """Wait for `process`; kill it (and so the whole sandbox) when a limit is passed. The reason."""
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        tree = _descendants(process.pid)
        if time.monotonic() - start > limits.wall_seconds:
            reason = "time limit"
        elif sum(_disk_usage(path) for path in writable) > limits.disk_bytes:
            reason = "disk limit"
        elif len(tree) > limits.max_processes:
            reason = "process limit"
        elif sum(_anonymous_memory(pid) for pid in tree) > limits.memory_bytes:
            reason = "memory"
        else:
            continue
        _kill(process, tree)
        return reason


def _kill(process: subprocess.Popen, tree: list[int]) -> None:
    """SIGKILL the job: every process of `tree` (bwrap, the PID namespace's init, what runs inside),
    the rest of the process group; killing the namespace's init kills whatever else is inside."""
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    _kill_group(process.pid)
    process.wait()


def _wait_until_gone(pid_namespace: str, timeout: float = 10) -> None:
    """Wait until no process is left in the sandbox's PID namespace: bwrap may exit before the
    kernel has finished killing them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_namespace in map(_pid_namespace, os.listdir("/proc")):
        time.sleep(0.02)


def _pid_namespace(pid: str) -> str | None:
    """The PID namespace of live process `pid` (not a zombie: it runs nothing), else None."""
    try:
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
            return None
        return os.readlink(f"/proc/{pid}/ns/pid")
    except (OSError, IndexError):  # not a process, or one that is gone
        return None


def _kill_group(pid: int) -> None:
    """SIGKILL the process group `pid` leads (bwrap's child then dies too: --die-with-parent)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _descendants(root: int) -> list[int]:
    """`root` and all its descendants, from /proc (empty where there is no /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else []:
        if entry.name.isdigit():
            try:
                stat_line = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parent = int(stat_line.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def _anonymous_memory(pid: int) -> int:
    """Bytes of private (anonymous) resident memory of process `pid`, 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _disk_usage(path: Path) -> int:
    """Bytes allocated under `path`, at least 4 KiB a file (so millions of empty files count).
    os.fwalk never follows the symlinks a hostile job may swap in while we walk."""
    if not path.is_dir():
        return max(path.stat().st_blocks * 512, 4096) if path.exists() else 0
    total = 0
    for _, dirs, files, folder_fd in os.fwalk(path):
        for name in dirs + files:
            try:
                total += max(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_blocks * 512, 4096)
            except OSError:
                pass
    return total


def _tail(path: Path) -> str:
    """The last OUTPUT_BYTES of a captured output file, decoded."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        file.seek(max(0, size - OUTPUT_BYTES))
        text = file.read().decode("utf-8", errors="replace")
    return f"[... first {size - OUTPUT_BYTES} bytes cut ...]\n{text}" if size > OUTPUT_BYTES else text
