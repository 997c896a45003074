"""pytest front end of the autograder: `pytest autograder [--notebooks DIR]`."""

from pathlib import Path

import pytest

from autograder.loader import load_notebook


def pytest_addoption(parser):
    parser.addoption(
        "--notebooks",
        default="notebooks",
        help="folder holding <assignment>/<assignment>.ipynb to grade (default: notebooks; "
        "the solutions: --notebooks solutions)",
    )


@pytest.fixture(scope="session")
def notebook_loader(request):
    """Load each assignment's notebook once per run; return a function assignment -> LoadedNotebook."""
    folder = Path(request.config.getoption("--notebooks"))
    if not folder.is_absolute():
        folder = Path(request.config.rootpath) / folder
    cache = {}

    def load(assignment: str):
        if assignment not in cache:
            path = folder / assignment / f"{assignment}.ipynb"
            if path.is_relative_to(Path.cwd()):  # shorter paths in messages
                path = path.relative_to(Path.cwd())
            if not path.exists():
                pytest.fail(f"No notebook at {path}: is --notebooks pointing at the right folder?", pytrace=False)
            cache[assignment] = load_notebook(path)
        return cache[assignment]

    return load
