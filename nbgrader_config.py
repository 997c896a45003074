"""nbgrader settings of the course. Run nbgrader commands from the repository root."""

c = get_config()  # noqa: F821 (provided by nbgrader)

# solutions/<assignment>/<assignment>.ipynb is the single source; the student versions are
# generated into notebooks/<assignment>/<assignment>.ipynb and committed.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# What a student sees in place of each ### BEGIN SOLUTION ... ### END SOLUTION block.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Autograding executes the whole notebook. The longest cell trains a CartPole agent (about a
# minute on a laptop CPU); 600 s leaves room for slow machines without hanging a class run.
c.Execute.timeout = 600
c.Execute.interrupt_on_timeout = True

# A student who deleted or replaced a test cell still gets the real one: locked and grade cells
# are overwritten from the source, and missing ones are put back.
c.OverwriteCells.add_missing_cells = True

# The course's repairs (autograder/nbgrader_plugins.py): a copy-pasted, renamed or deleted grade cell
# never leaves a student ungraded; cells tagged `demo` are skipped while autograding (the reward gates
# train their own agents); a kernel that dies keeps the scores of the cells before it. Written answers
# ("manually graded answer" cells) are graded by the instructor (nbgrader formgrader).
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,  # noqa: E402
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.nbgrader_plugins import CourseExecute, ModelAnswers, RepairCells  # noqa: E402

c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    RepairCells,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    CourseExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# The feedback shows the model answer (kept in solutions/) under each written answer.
c.GenerateFeedback.preprocessors = [GetGrades, ModelAnswers, CSSHTMLHeaderPreprocessor]
