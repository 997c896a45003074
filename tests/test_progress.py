"""helpers/progress.py: one bar per loop, redrawn in place in a kernel, never on stderr, green when
the loop stops early, silent outside a kernel."""

import nbformat
from nbclient import NotebookClient

from helpers.progress import ProgressBar

LOOP = """
from helpers.progress import ProgressBar
progress = ProgressBar(10, "demo", delay=0, min_interval=0)
for step in range(1, 11):
    progress.update(step)
    if step == 6:
        break  # e.g. an evaluation reached the target return
progress.close()
"""


def run_cell(source, tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return notebook.cells[0].outputs


def test_a_bar_is_one_output_redrawn_in_place_and_ends_green(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    outputs = run_cell(LOOP, tmp_path)
    assert [output.output_type for output in outputs] == ["display_data"], outputs
    html, text = outputs[0].data["text/html"], outputs[0].data["text/plain"]
    assert 'data-state="success"' in html and 'value="6" max="10"' in html
    assert "6/10 steps in 00:00, stopped early at 6 of 10 steps" in text


def test_an_error_turns_the_bar_red(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    source = (
        "from helpers.progress import ProgressBar\n"
        "try:\n"
        "    with ProgressBar(5, 'demo', delay=0, min_interval=0) as progress:\n"
        "        progress.update(2)\n"
        "        raise ValueError('boom')\n"
        "except ValueError:\n"
        "    pass\n"
    )
    (output,) = run_cell(source, tmp_path)
    assert 'data-state="error"' in output.data["text/html"] and "stopped by ValueError" in output.data["text/plain"]


def test_quick_runs_and_scripts_show_nothing(capsys):
    progress = ProgressBar(3, "quick", delay=0, min_interval=0)  # not in a kernel: silent
    for step in range(1, 4):
        progress.update(step)
    progress.close()
    assert capsys.readouterr() == ("", "")
    assert progress.state == "success" and progress.note == ""
    assert "quick: 3/3 steps in 00:00" == progress.text()
