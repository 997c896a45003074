"""The course's nbgrader preprocessors, switched on in nbgrader_config.py.

RepairCells (before nbgrader's OverwriteCells, when a submission is sanitized) makes sure a
student is never left ungraded by what Jupyter does to cell metadata:
- a copy-pasted test cell (Jupyter copies its nbgrader metadata) is ignored: the copy becomes a
  plain comment cell, and the real cell, at its place in the source order, is the one graded;
- a cell whose grade_id the source does not have (renamed, or from another notebook) loses its
  nbgrader metadata and is run as the student's own code;
- a deleted test cell or locked provided cell is put back from the gradebook after the nearest
  cell before it in the source (nbgrader's own add_missing_cells fails when that neighbour is a
  locked cell that is not graded, and on metadata left empty by its DeduplicateIds).

CourseExecute (nbgrader's Execute, when the sanitized notebook runs):
- gives every other ungraded cell at most 60 s (CourseExecute.ungraded_timeout), after which the
  cell is interrupted and the next one runs;
- skips cells tagged `demo` (training runs, experiments, videos) unless they are grade cells: the
  reward gates train their own agents, so the demos only cost time and change no grade;
- when the kernel dies (os._exit, a crash, out of memory), keeps the outputs and scores of the
  cells before it and marks every later code cell with an error saying why it did not run,
  instead of nbgrader dropping the whole submission.

ModelAnswers (nbgrader generate_feedback) shows the model answer under each written answer.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import Execute, GetGrades, NbGraderPreprocessor
from traitlets import Integer, List

DEMO_TAG = "demo"


def _grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _error_output(ename: str, message: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=message, traceback=[f"\x1b[0;31m{ename}\x1b[0m: {message}"]
    )


class RepairCells(NbGraderPreprocessor):
    """Drop duplicated and unknown grade cells, and put back missing test and locked cells."""

    def preprocess(self, nb, resources):
        with Gradebook(resources["nbgrader"]["db_url"]) as gradebook:
            try:
                source = gradebook.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"])
            except MissingEntry:
                return nb, resources
            source_cells = list(source.source_cells)
            points = {cell.name: cell.max_score for cell in source.grade_cells}
            solutions = {cell.name for cell in source.solution_cells}
            order = [cell.name for cell in source_cells]
            by_name = {cell.name: cell for cell in source_cells}

            kept: dict[str, int] = {}
            for index, cell in enumerate(nb.cells):
                name = _grade_id(cell)
                if name is None:
                    if "nbgrader" in cell.get("metadata", {}):
                        del cell.metadata["nbgrader"]  # empty or broken metadata
                    continue
                if name not in by_name:
                    self.log.warning("Cell %d has the unknown grade_id %r: graded as plain code", index + 1, name)
                    del cell.metadata["nbgrader"]
                    continue
                if name in kept:
                    self._drop_copy(nb, kept, name, index, order, name in points and name not in solutions)
                else:
                    kept[name] = index

            for name in order:  # put back what is missing, after its nearest present predecessor
                cell = by_name[name]
                if name in kept or name in solutions or not (name in points or cell.locked):
                    continue
                self.log.warning("Cell %r is missing from the submission: put back from the source", name)
                before = [kept[n] for n in order[: order.index(name)] if n in kept]
                position = max(before) + 1 if before else 0
                nb.cells.insert(position, self._restored(cell, points.get(name)))
                kept = {n: (i + 1 if i >= position else i) for n, i in kept.items()}
                kept[name] = position
        return nb, resources

    def _drop_copy(self, nb, kept: dict, name: str, index: int, order: list, is_test: bool) -> None:
        """Two cells carry `name`: keep the one that stands after the cell before it in the source
        order (a pasted copy usually sits elsewhere), and ignore the other."""
        position = order.index(name)
        previous = order[position - 1] if position > 0 else None
        copy = index
        if previous in kept and kept[name] < kept[previous] < index:
            copy, kept[name] = kept[name], index  # the first one stands too early: keep the later one
        self.log.warning("Cell %r appears twice: the copy at cell %d is ignored", name, copy + 1)
        cell = nb.cells[copy]
        del cell.metadata["nbgrader"]
        if "id" in cell:
            cell["id"] = uuid.uuid4().hex[:8]  # Jupyter copied the id too
        if is_test and cell.cell_type == "code":  # never run a test twice (a gate costs seconds)
            cell.source = f"# A copy of the test cell {name!r}: ignored by the grading."
            cell.outputs = []

    @staticmethod
    def _restored(source_cell, max_score) -> NotebookNode:
        meta = {
            "grade": max_score is not None,
            "grade_id": source_cell.name,
            "locked": True,
            "solution": False,
            "schema_version": 3,
            "task": False,
            "checksum": source_cell.checksum,
        }
        if max_score is not None:
            meta["points"] = max_score
        cell = {
            "cell_type": source_cell.cell_type,
            "metadata": {"deletable": False, "editable": False, "nbgrader": meta},
            "source": source_cell.source,
        }
        if source_cell.cell_type == "code":
            cell.update(execution_count=None, outputs=[])
        cell["id"] = uuid.uuid4().hex[:8]
        return nbformat.from_dict(cell)


class CourseExecute(Execute):
    """nbgrader's Execute, skipping `demo` cells, giving the other ungraded cells a shorter time
    limit, and surviving a dead kernel."""

    ungraded_timeout = Integer(
        60,
        help="seconds an ungraded cell may run (the grade cells keep Execute.timeout): a student's own "
        "cell that calls a function that never returns costs this, not the whole timeout",
    ).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._died_in = None
        return super().preprocess(nb, resources, km)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if cell is None or utils.is_grade(cell) or not timeout:
            return timeout
        return min(timeout, self.ungraded_timeout)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._died_in is not None:
            cell.outputs = [
                _error_output(
                    "NotRun", f"not run: the kernel died in cell {self._died_in} (os._exit, a crash, or out of memory)"
                )
            ]
            return cell, resources
        if DEMO_TAG in cell.get("metadata", {}).get("tags", []) and not utils.is_grade(cell):
            cell.outputs = []
            return cell, resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._died_in = index + 1
            self.log.error("The kernel died in cell %d; later cells are marked as not run", index + 1)
            cell.outputs = list(cell.get("outputs", [])) + [
                _error_output(
                    "DeadKernelError", "the kernel died while running this cell (os._exit, a crash, or out of memory)"
                )
            ]
            return cell, resources


class ModelAnswers(NbGraderPreprocessor):
    """In the feedback, show the course's model answer under each written answer.

    A written answer is a markdown cell that is both a solution and a grade cell ("manually graded
    answer"); the student's version says YOUR ANSWER HERE and the model answer stays in the source
    notebook (solutions/), which the instructor's course folder holds. Run by
    `nbgrader generate_feedback` (nbgrader_config.py), on the instructor's machine: nothing of it
    reaches a student before the feedback is released.
    """

    # nbconvert hands every feedback preprocessor this setting; declaring it keeps the log quiet.
    display_data_priority = List(GetGrades.display_data_priority.default_value).tag(config=True)

    def preprocess(self, nb, resources):
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        info = resources["nbgrader"]
        path = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"])) / (
            f"{info['notebook']}.ipynb"
        )
        if not path.exists():
            self.log.warning("No source notebook at %s: the feedback shows no model answers", path)
            return nb, resources
        answers = {
            _grade_id(cell): cell.source
            for cell in nbformat.read(path, as_version=4).cells
            if cell.cell_type == "markdown" and utils.is_solution(cell) and utils.is_grade(cell)
        }
        for index in reversed(range(len(nb.cells))):
            name = _grade_id(nb.cells[index])
            if nb.cells[index].cell_type == "markdown" and name in answers:
                quoted = "\n".join(f"> {line}" if line else ">" for line in answers[name].splitlines())
                nb.cells.insert(index + 1, nbformat.v4.new_markdown_cell(f"> **Model answer**\n>\n{quoted}"))
        return nb, resources
