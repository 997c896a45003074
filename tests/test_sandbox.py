"""The grading sandbox (autograder/sandbox.py): what a hostile job can see, reach, keep and use.

These tests need bubblewrap; without it they fail with the install hint (only the PATH test
simulates its absence)."""

import json
import os
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

import autograder
from autograder.sandbox import Limits, SandboxUnavailable, _disk_usage, find_bwrap, run_sandboxed, stage_course

CLONE = Path(autograder.__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course_site(tmp_path_factory):
    return stage_course(tmp_path_factory.mktemp("course_site"))


@pytest.fixture
def workdir(tmp_path):
    path = tmp_path / "job"
    path.mkdir()
    return path


def run_python(code, workdir, course_site, **options):
    """Run Python `code` in the sandbox; the result."""
    return run_sandboxed(
        [sys.executable, "-c", textwrap.dedent(code)], workdir=workdir, course_site=course_site, **options
    )


def report(result):
    """The JSON the job printed last."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def processes_with(marker):
    """Host processes whose command line contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_find_bwrap_fails_with_the_install_hint_when_bwrap_is_not_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable) as raised:
        find_bwrap()
    message = str(raised.value)
    assert "missing" in message
    for hint in ("apt-get install bubblewrap", "dnf install bubblewrap", "--unsafe-no-sandbox"):
        assert hint in message


def test_find_bwrap_reports_a_bwrap_that_does_not_work(tmp_path, monkeypatch):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="No permissions to creating new namespace"):
        find_bwrap()


def test_bwrap_is_installed_and_works():
    assert Path(find_bwrap()).is_absolute()


def test_stage_course_copies_only_the_packages_read_only(course_site):
    assert sorted(p.name for p in course_site.iterdir()) == ["autograder", "helpers"]
    assert (course_site / "autograder" / "checks" / "online_dqn.py").is_file()
    assert list(course_site.rglob("*.pyc")), "byte-compiled: the job cannot write __pycache__"
    for path in [course_site, *course_site.rglob("*")]:
        assert not path.stat().st_mode & 0o222, path


def test_the_course_imports_from_the_staged_copy_not_the_editable_clone(workdir, course_site):
    result = run_python(
        """
        import json, sys
        import autograder, helpers, autograder.checks.online_dqn, torch
        net = torch.nn.Sequential(torch.nn.Linear(4, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
        optimizer = torch.optim.Adam(net.parameters())
        for _ in range(20):
            loss = net(torch.randn(16, 4)).pow(2).mean()
            optimizer.zero_grad(); loss.backward(); optimizer.step()
        print(json.dumps({"autograder": autograder.__file__, "helpers": helpers.__file__,
                          "finders": [repr(f) for f in sys.meta_path if "ditable" in repr(f)]}))
        """,
        workdir,
        course_site,
    )  # under the default Limits(): torch fits in them
    found = report(result)
    assert Path(found["autograder"]).is_relative_to(course_site)
    assert Path(found["helpers"]).is_relative_to(course_site)
    assert found["finders"] == []


def test_hidden_and_read_only_paths(workdir, course_site, tmp_path):
    course = tmp_path / "course"  # an instructor's course folder, not bound
    (course / "source").mkdir(parents=True)
    (course / "source" / "solution.py").write_text("ANSWER = 42")
    (course / "gradebook.db").write_text("grades")
    python_roots = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    result = run_python(
        f"""
        import json, os
        def readable(path):
            try:
                open(path).read()
                return True
            except OSError:
                return False
        def writable(path):
            try:
                open(path, "a").close()
                return True
            except OSError:
                return False
        print(json.dumps({{
            "read": {{p: readable(p) for p in [
                {str(CLONE / "pyproject.toml")!r}, {str(CLONE / "autograder" / "__init__.py")!r},
                {str(course / "source" / "solution.py")!r}, {str(course / "gradebook.db")!r},
                "/etc/shadow"]}},
            "exists": {{p: os.path.exists(p) for p in [
                {str(CLONE / "solutions")!r}, {str(CLONE / ".git")!r}, {str(course)!r}, "/home/"]}},
            "write": {{p: writable(p) for p in [
                {str(course_site / "autograder" / "__init__.py")!r},
                {str(course_site / "autograder" / "new.py")!r},
                {str(Path(sys.prefix) / "new.pth")!r}, "/usr/new", "/new", "/etc/new", "/dev/new"]}},
            "root": sorted(os.listdir("/root")),
        }}))
        """,
        workdir,
        course_site,
    )
    found = report(result)
    assert not any(found["read"].values()), found["read"]
    assert not any(found["exists"].values()), found["exists"]
    assert not any(found["write"].values()), found["write"]
    # /root holds at most the path to a Python installation bound below it (pyenv's)
    allowed = {p.relative_to("/root").parts[0] for p in python_roots if p.is_relative_to("/root")}
    assert set(found["root"]) <= allowed


def test_no_network_but_loopback_works(workdir, course_site):
    found = report(
        run_python(
            """
        import json, socket
        def fails(action):
            try:
                action()
                return False
            except OSError:
                return True
        server = socket.create_server(("127.0.0.1", 0))
        loopback = socket.create_connection(server.getsockname(), timeout=3)
        print(json.dumps({
            "connect": fails(lambda: socket.create_connection(("1.1.1.1", 80), timeout=3)),
            "dns": fails(lambda: socket.getaddrinfo("pypi.org", 443)),
            "loopback": loopback.getpeername()[0]}))
        """,
            workdir,
            course_site,
        )
    )
    assert found == {"connect": True, "dns": True, "loopback": "127.0.0.1"}


def test_a_jupyter_kernel_runs_a_notebook_inside(workdir, course_site):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import os, autograder, torch\nprint(os.getuid(), autograder.__file__, torch.ones(3).sum().item())"
        )
    ]
    nbformat.write(notebook, workdir / "tiny.ipynb")
    version = run_sandboxed([sys.executable, "-m", "nbgrader", "--version"], workdir=workdir, course_site=course_site)
    assert version.returncode == 0 and "nbgrader version" in version.stdout, version.stderr
    result = run_sandboxed(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "tiny.ipynb",
            "--output",
            "done.ipynb",
        ],
        workdir=workdir,
        course_site=course_site,
        limits=Limits(wall_seconds=120),
    )
    assert result.returncode == 0, result.stderr
    output = nbformat.read(workdir / "done.ipynb", as_version=4).cells[0].outputs[0]["text"]
    uid, path, total = output.split()
    assert uid == "65534" and Path(path).is_relative_to(course_site) and total == "3.0"


def test_a_detached_process_does_not_outlive_the_job(workdir, course_site):
    marker = f"299.{os.getpid()}1"
    result = run_python(
        f"""
        import subprocess
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
        subprocess.Popen(["sh", "-c", "sleep {marker} & sleep {marker}"])
        """,
        workdir,
        course_site,
    )
    assert result.returncode == 0, result.stderr
    assert processes_with(marker) == []


def test_the_time_limit_kills_the_whole_job(workdir, course_site):
    marker = f"299.{os.getpid()}2"
    result = run_python(
        f"""
        import subprocess, time
        subprocess.Popen(["sleep", "{marker}"], start_new_session=True)
        while True:
            time.sleep(1)
        """,
        workdir,
        course_site,
        limits=Limits(wall_seconds=3),
    )
    assert result.timed_out and result.killed_reason == "time limit"
    assert result.returncode == -9
    assert 3 <= result.seconds < 6
    assert processes_with(marker) == []


def test_one_huge_allocation_fails_with_memory_error(workdir, course_site):
    result = run_python("data = bytearray(10 * 2**30)", workdir, course_site, limits=Limits(memory_bytes=2 * 2**30))
    assert result.returncode == 1 and "MemoryError" in result.stderr
    assert result.killed_reason is None


def test_memory_spread_over_processes_is_capped_in_total(workdir, course_site):
    result = run_python(
        """
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                data = b"x" * (300 * 2**20)  # allowed per process, not 4 times over
                time.sleep(60)
        time.sleep(60)
        """,
        workdir,
        course_site,
        limits=Limits(memory_bytes=2**30, wall_seconds=30),
    )
    assert result.killed_reason == "memory" and result.returncode == -9
    assert result.seconds < 15


def test_one_endless_file_stops_at_the_disk_limit(workdir, course_site):
    result = run_python(
        """
        with open("endless", "wb") as file:
            while True:
                file.write(b"x" * 2**20)
        """,
        workdir,
        course_site,
        limits=Limits(disk_bytes=50 * 2**20),
    )
    assert result.returncode == 1 and "File too large" in result.stderr
    assert (workdir / "endless").stat().st_size <= 50 * 2**20


def test_many_files_in_tmp_are_stopped_at_the_disk_limit(workdir, course_site):
    result = run_python(
        """
        import itertools
        for i in itertools.count():
            with open(f"/tmp/part{i}", "wb") as file:
                file.write(b"x" * 2**20)
        """,
        workdir,
        course_site,
        limits=Limits(disk_bytes=50 * 2**20, wall_seconds=60),
    )
    assert result.killed_reason == "disk limit" and result.returncode == -9
    written = _disk_usage(workdir)
    assert 50 * 2**20 < written < 2**30  # stopped soon: it overshoots by what it writes in 0.2 s
    assert any((workdir / ".sandbox" / "tmp").iterdir()), "/tmp is a folder of workdir"


def test_empty_files_count_against_the_disk_limit(workdir, course_site):
    result = run_python(
        """
        import itertools
        for i in itertools.count():
            open(f"/dev/shm/empty{i}", "w").close()
        """,
        workdir,
        course_site,
        limits=Limits(disk_bytes=50 * 2**20, wall_seconds=60),
    )
    assert result.killed_reason == "disk limit"


def test_too_many_processes_kill_the_job(workdir, course_site):
    marker = f"299.{os.getpid()}3"
    result = run_python(
        f"""
        import subprocess, time
        children = [subprocess.Popen(["sleep", "{marker}"]) for _ in range(200)]
        time.sleep(60)
        """,
        workdir,
        course_site,
        limits=Limits(max_processes=50, wall_seconds=30),
    )
    assert result.killed_reason == "process limit"
    assert processes_with(marker) == []


def test_the_per_process_limits_are_set_and_cpu_time_is_capped(workdir, course_site):
    limits = Limits(memory_bytes=3 * 2**30, disk_bytes=100 * 2**20, cpu_seconds=1)
    found = report(
        run_python(
            """
        import json, resource
        print(json.dumps([resource.getrlimit(getattr(resource, name))[0]
                          for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_CORE")]))
        """,
            workdir,
            course_site,
            limits=limits,
        )
    )
    assert found == [3 * 2**30, 100 * 2**20, 1, 0]
    spinning = run_python("while True: pass", workdir, course_site, limits=limits)
    assert spinning.returncode == 128 + 9 and spinning.seconds < 5  # the kernel's SIGKILL, via bwrap


def test_shell_pipelines_behave_as_usual(workdir, course_site):
    result = run_sandboxed(["sh", "-c", "yes | head -n 2"], workdir=workdir, course_site=course_site)
    assert (result.returncode, result.stdout, result.stderr) == (0, "y\ny\n", "")


def test_output_is_captured_and_only_its_end_kept(workdir, course_site):
    result = run_python(
        """
        import sys
        sys.stdout.write("a" * 3_000_000 + "THE END")
        sys.stderr.write("an error")
        """,
        workdir,
        course_site,
    )
    assert result.returncode == 0
    assert result.stdout.endswith("THE END") and len(result.stdout) < 1_100_000
    assert result.stdout.startswith("[... first")
    assert result.stderr == "an error"


def test_the_environment_is_minimal(workdir, course_site, monkeypatch):
    monkeypatch.setenv("INSTRUCTOR_SECRET", "do not leak")
    found = report(
        run_python(
            """
        import json, os
        print(json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "uid": os.getuid()}))
        """,
            workdir,
            course_site,
            env={"NBGRADER_EXTRA": "1"},
        )
    )
    env = found["env"]
    assert "INSTRUCTOR_SECRET" not in env
    assert set(env) - {"PWD", "PYGAME_HIDE_SUPPORT_PROMPT"} == {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "MPLBACKEND",
        "SDL_VIDEODRIVER",
        "SDL_AUDIODRIVER",
        "OMP_NUM_THREADS",
        "PYTHONNOUSERSITE",
        "PYTHONPATH",
        "NBGRADER_EXTRA",
    }
    assert env["PYTHONPATH"].split(":")[0] == str(course_site)
    assert env["MPLBACKEND"] == "Agg" and env["OMP_NUM_THREADS"] == "1"
    assert Path(env["HOME"]).is_relative_to(workdir) and env["TMPDIR"] == "/tmp"
    assert found["cwd"] == str(workdir) and found["uid"] == 65534


def test_readonly_binds_and_a_fresh_tmp_each_run(workdir, course_site, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "seeds.txt").write_text("0 1 2")
    code = f"""
        import json, os
        try:
            open("/data/new", "w")
            writable = True
        except OSError:
            writable = False
        bound = {[str(workdir), *(str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix))]!r}
        before = [name for name in os.listdir("/tmp") if not any(b.startswith("/tmp/" + name) for b in bound)]
        open("/tmp/left-behind", "w").close()
        print(json.dumps({{"seeds": open("/data/seeds.txt").read(), "writable": writable, "tmp": before}}))
        """
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "keep").write_text("")
    (workdir / ".sandbox").mkdir()
    (workdir / ".sandbox" / "tmp").symlink_to(decoy)  # planted by an earlier job
    first = report(run_python(code, workdir, course_site, readonly_binds={data: "/data"}))
    second = report(run_python(code, workdir, course_site, readonly_binds={data: "/data"}))
    assert first == second == {"seeds": "0 1 2", "writable": False, "tmp": []}
    assert (decoy / "keep").exists() and not (decoy / "left-behind").exists()


def test_course_site_inside_workdir_is_refused(workdir):
    with pytest.raises(ValueError, match="must not lie inside workdir"):
        run_sandboxed(["true"], workdir=workdir, course_site=workdir / "site")


def test_unsafe_no_sandbox_runs_directly_with_the_same_env_and_limits(workdir, course_site):
    found = report(
        run_python(
            f"""
        import json, os, autograder
        print(json.dumps({{"clone": os.path.exists({str(CLONE / "pyproject.toml")!r}),
                          "autograder": autograder.__file__, "path": os.environ["PYTHONPATH"]}}))
        """,
            workdir,
            course_site,
            unsafe_no_sandbox=True,
        )
    )
    assert found["clone"], "no isolation"
    assert Path(found["autograder"]).is_relative_to(course_site)
    assert found["path"] == str(course_site)
    slow = run_python(
        "import time; time.sleep(60)", workdir, course_site, limits=Limits(wall_seconds=2), unsafe_no_sandbox=True
    )
    assert slow.timed_out and slow.returncode == -9
    big = run_python(
        "data = bytearray(10 * 2**30)",
        workdir,
        course_site,
        limits=Limits(memory_bytes=2 * 2**30),
        unsafe_no_sandbox=True,
    )
    assert "MemoryError" in big.stderr
