"""The notebooks themselves: generated from one source, clean, leak-free, runnable."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.generate_notebooks import assignments, generate
from tools.set_repo_url import colab_prefix, repository_url

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments()
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


def read(kind, name):
    return nbformat.read(ROOT / kind / name / f"{name}.ipynb", as_version=4)


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def test_every_solution_has_a_released_notebook():
    released = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    assert released == ASSIGNMENTS, "run `python tools/generate_notebooks.py` and commit notebooks/"


def test_released_notebooks_match_their_source(tmp_path):
    """The drift check: notebooks/ is exactly what nbgrader generates from solutions/."""
    generate(ASSIGNMENTS, tmp_path)
    stale = [
        name
        for name in ASSIGNMENTS
        if (tmp_path / "notebooks" / name / f"{name}.ipynb").read_text()
        != (ROOT / "notebooks" / name / f"{name}.ipynb").read_text()
    ]
    assert not stale, f"notebooks/ is out of date for {stale}: run `python tools/generate_notebooks.py` and commit"


@pytest.mark.parametrize("kind", ["solutions", "notebooks"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_notebooks_have_no_outputs(kind, name):
    dirty = [
        i
        for i, cell in enumerate(read(kind, name).cells, start=1)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{kind}/{name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_leaks_no_solution_or_hidden_test(name):
    released = {grade_id(c): c.source for c in read("notebooks", name).cells if grade_id(c)}
    for cell in read("solutions", name).cells:
        secret_lines = {
            line.strip()
            for block in SOLUTION_BLOCK.findall(cell.source) + HIDDEN_BLOCK.findall(cell.source)
            for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")
        }
        release_lines = {line.strip() for line in released.get(grade_id(cell), "").splitlines()}
        leaked = secret_lines & release_lines
        assert not leaked, f"{name}, cell {grade_id(cell)}: the release shows solution lines {sorted(leaked)}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_graded_cells_are_named_after_their_function(name):
    for cell in read("solutions", name).cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            defined = re.findall(r"^(?:def|class) (\w+)", cell.source, re.MULTILINE)
            assert defined == [meta["grade_id"]], (
                f"{name}: the answer cell {meta['grade_id']!r} must define exactly that one function or class, "
                f"found {defined}"
            )


@pytest.mark.parametrize("kind", ["solutions", "notebooks"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_repository_url_comes_from_pyproject(kind, name):
    url = repository_url()
    text = "\n".join(c.source for c in read(kind, name).cells)
    assert f'REPO_URL = "{url}"' in text, "run `python tools/set_repo_url.py` then regenerate"
    assert f"{colab_prefix(url)}main/notebooks/{name}/{name}.ipynb" in text, "the Colab badge is missing or stale"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_runs_end_to_end(name, tmp_path, monkeypatch):
    """Run All on the solution, headless, in a scratch folder (videos and plots land there): no cell
    errs or writes to stderr (a red block in Jupyter; a test cell scored 0 by nbgrader)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports helpers/autograder from this clone
    notebook = read("solutions", name)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{name} fails under Run All:\n{str(error)[-4000:]}", pytrace=False)
    stderr = {
        number: [
            output.get("text", output.get("evalue", ""))[:500]
            for output in cell.outputs
            if output.get("name") == "stderr" or output.output_type == "error"
        ]
        for number, cell in enumerate(notebook.cells, start=1)
        if cell.cell_type == "code"
    }
    assert not {n: o for n, o in stderr.items() if o}, f"{name}: cells with stderr or errors: {stderr}"
