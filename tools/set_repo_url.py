"""Copy the course repository URL from pyproject.toml ([project.urls] Repository) into every
solution notebook: the "Open in Colab" badge and the setup cell's REPO_URL. Then regenerate
notebooks/ with tools/generate_notebooks.py.

    python tools/set_repo_url.py && python tools/generate_notebooks.py
"""

import re
import tomllib
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
REPO_URL_LINE = re.compile(r'^REPO_URL = "[^"]*"', re.MULTILINE)
BADGE_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]*?/blob/")


def repository_url() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]["urls"]["Repository"].rstrip("/")


def colab_prefix(url: str) -> str:
    """https://github.com/ORG/REPO -> https://colab.research.google.com/github/ORG/REPO/blob/"""
    return "https://colab.research.google.com/github/" + url.removeprefix("https://github.com/") + "/blob/"


def main() -> None:
    url = repository_url()
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            cell.source = REPO_URL_LINE.sub(f'REPO_URL = "{url}"', cell.source)
            cell.source = BADGE_LINK.sub(colab_prefix(url), cell.source)
        nbformat.write(notebook, path)
        print(f"{path.relative_to(ROOT)}: {url}")


if __name__ == "__main__":
    main()
