"""What a student sees in JupyterLab, in a real browser (headless Chromium driven by selenium).

For each student notebook: run the setup cell and the cells up to the first test cell (Shift+Enter),
then the test cell shows the teaching "Not implemented yet" line and no cell shows stderr. For the
solutions of 02 and 05: Run All, then no cell shows stderr or an error, the live plot redrew in place,
every progress bar ended green, and the video plays. Screenshots go to artifacts/screenshots/.

Needs Debian's chromium and chromium-driver (`apt-get install chromium chromium-driver`) and selenium
(requirements.txt). Without them the tests skip, except under CI (the CI variable set), where they fail.
Run: `python -m pytest tests/test_browser.py -q -p no:xdist`.
"""

import os
import shutil
import time

import pytest

from tests.browser_lab import ROOT, LabPage, LabServer, browser_missing, start_chromium
from tools.generate_notebooks import assignments

ASSIGNMENTS = assignments()
RUN_ALL = ["02_online_dqn", "05_target_network"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
NOT_IMPLEMENTED = "Not implemented yet"
# 05's Run All trains twice (a few minutes on an idle CPU); leave room for a shared CI machine.
RUN_ALL_SECONDS = 1500

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a scratch copy of notebooks/ and solutions/; always stopped."""
    reason = browser_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but {reason}", pytrace=False)
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("lab_root")
    for kind in ("notebooks", "solutions"):
        for name in ASSIGNMENTS:
            (root / kind / name).mkdir(parents=True)
            shutil.copy(ROOT / kind / name / f"{name}.ipynb", root / kind / name)
    lab = LabServer(root, tmp_path_factory.mktemp("lab_scratch"))
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


@pytest.fixture(scope="module")
def driver(server, tmp_path_factory):
    browser = start_chromium(tmp_path_factory.mktemp("chromium_profile"))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def page(driver, server):
    """A tab for one notebook; its kernel is shut down afterwards."""
    tab = LabPage(driver, server)
    try:
        yield tab
    finally:
        tab.leave()
        server.shutdown_kernels()


def stderr_outputs(cells, allowed=()):
    """{cell number: [what the student reads]} for each cell with an output drawn in red (stderr or an
    error), except the errors `allowed` as (cell index, exception name)."""
    found = {}
    for cell in cells:
        for output in cell["outputs"]:
            red = output["output_type"] == "error" or output["name"] == "stderr"
            if red and (cell["index"], output["ename"]) not in allowed:
                what = (
                    f"{output['ename']}: {output['evalue']}"
                    if output["output_type"] == "error"
                    else f"stderr: {output['text'][:600]!r}"
                )
                found.setdefault(cell["index"], []).append(what)
    return found


def red_blocks_shown(cells):
    """{cell index: number of red blocks drawn on the page} (stderr and errors share the look)."""
    counts = {
        cell["index"]: sum(s["mime"] == "application/vnd.jupyter.stderr" for s in cell["shown"]) for cell in cells
    }
    return {index: count for index, count in counts.items() if count}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_notebook_first_check_teaches(name, page):
    """Setup cell, then each code cell down to the first test cell (demo cells skipped), by Shift+Enter:
    the test cell says "Not implemented yet", and nothing is red except its failed-checks message."""
    opening = time.monotonic()
    cells = page.open(f"notebooks/{name}/{name}.ipynb")["cells"]
    opened = time.monotonic() - opening
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    first_test = next(cell["index"] for cell in code if (cell["grade_id"] or "").startswith("test_"))
    to_run = [cell["index"] for cell in code if cell["index"] <= first_test and "demo" not in cell["tags"]]
    assert to_run[0] == code[0]["index"] and code[0]["grade_id"] == "setup", "the first code cell is the setup cell"
    started = time.monotonic()
    for index in to_run:
        page.run_cell(index)
    seconds = time.monotonic() - started
    page.screenshot(SCREENSHOTS / f"student-{name}-first-check.png")
    cells = page.cells()["cells"]

    problems = []  # everything that looks wrong, reported together
    setup = cells[to_run[0]]
    if setup["outputs"]:
        problems.append(f"the setup cell shows output: {[o['text'] or o['mimes'] for o in setup['outputs']]}")
    check = cells[first_test]
    shown = "\n".join(output["text"] for output in check["shown"])
    if NOT_IMPLEMENTED not in shown:
        problems.append(
            f"the first test cell ({check['grade_id']}) does not show {NOT_IMPLEMENTED!r}; it shows:\n{shown[:2000]}"
        )
    # The failed checks end the test cell with ChecksFailed (the teaching message, drawn in red): expected.
    expected = {(first_test, "ChecksFailed")}
    if stderr_outputs(cells, allowed=expected):
        problems.append(
            f"red blocks a student should not see (cell index: outputs): {stderr_outputs(cells, allowed=expected)}"
        )
    if not set(red_blocks_shown(cells)) <= {first_test} or red_blocks_shown(cells).get(first_test, 0) > 1:
        problems.append(f"red blocks drawn (cell index: count): {red_blocks_shown(cells)}")
    print(f"{name}: opened in {opened:.0f} s, {len(to_run)} cells run in {seconds:.0f} s")
    assert not problems, f"{name} (screenshot: artifacts/screenshots/student-{name}-first-check.png):\n- " + (
        "\n- ".join(problems)
    )


@pytest.mark.timeout(RUN_ALL_SECONDS + 300)
@pytest.mark.parametrize("name", RUN_ALL)
def test_solution_run_all_looks_right(name, page):
    """Run > Run All Cells on the solution: every cell runs, nothing is red, the live plot redrew in
    place (one image), every progress bar ended green, and the video plays."""
    page.open(f"solutions/{name}/{name}.ipynb")
    started = time.monotonic()
    page.run_all()
    try:
        cells = page.wait_until_idle(RUN_ALL_SECONDS)["cells"]
    except TimeoutError:
        page.screenshot(SCREENSHOTS / f"solution-{name}-run-all.png")
        cells = page.cells()["cells"]
        running = [(cell["index"], cell["source"].splitlines()[0]) for cell in cells if cell["prompt"] == "[*]:"][:1]
        bars = [bar["text"] for cell in cells for bar in cell["progress"]]
        pytest.fail(
            f"{name}: Run All still running after {RUN_ALL_SECONDS} s; running (cell index, first line): "
            f"{running}; progress bars: {bars}",
            pytrace=False,
        )
    seconds = time.monotonic() - started
    video = page.video()
    page.screenshot(SCREENSHOTS / f"solution-{name}-run-all.png")

    code = [cell for cell in cells if cell["cell_type"] == "code"]
    problems = []  # everything that looks wrong, reported together
    not_run = [cell["index"] for cell in code if not cell["prompt"].strip("[]:").isdigit()]
    if not_run:
        problems.append(f"Run All stopped: cells {not_run} did not run")
    if stderr_outputs(cells):
        problems.append(f"cells with stderr or errors (cell index: outputs): {stderr_outputs(cells)}")
    if red_blocks_shown(cells):
        problems.append(f"red blocks drawn (cell index: count): {red_blocks_shown(cells)}")

    training = [cell for cell in code if "TrainingPlot(" in cell["source"]]
    if len(training) != 1:
        problems.append(f"expected one training cell with a TrainingPlot, found {len(training)}")
    else:
        images = sum("image/png" in output["mimes"] for output in training[0]["outputs"])
        if not images == training[0]["images"] == 1:
            problems.append(
                f"the training plot must redraw in place (one image output); cell {training[0]['index']} "
                f"has {images} in the notebook and {training[0]['images']} on the page"
            )

    bars = {cell["index"]: cell["progress"] for cell in code if cell["progress"]}
    if training and training[0]["index"] not in bars:
        problems.append(
            f"the training cell shows no course progress bar (div.course-progress); its outputs: "
            f"{[output['mimes'] for output in training[0]['outputs']]}"
        )
    unfinished = {index: found for index, found in bars.items() if any(bar["state"] != "success" for bar in found)}
    if unfinished:
        problems.append(f"progress bars not green at the end (cell index: bars): {unfinished}")
    widgets = [
        cell["index"]
        for cell in code
        if any("application/vnd.jupyter.widget-view+json" in output["mimes"] for output in cell["outputs"])
    ]
    if widgets:
        problems.append(f"cells {widgets} show a widget (a tqdm bar?) instead of the course's progress bar")

    if video is None:
        problems.append("no <video> element after Run All")
    elif not (video["src_prefix"].startswith("data:video/mp4;base64,") and video["src_length"] > 1000):
        problems.append(f"the video has no data: {video}")
    elif video["error"] is not None or not (video["ready_state"] >= 1 or (video["duration"] or 0) > 0):
        problems.append(f"the browser cannot play the video: {video}")
    print(f"{name}: Run All took {seconds:.0f} s; progress bars {bars}; video {video}")
    screenshot = f"artifacts/screenshots/solution-{name}-run-all.png"
    assert not problems, f"{name} after Run All (screenshot: {screenshot}):\n- " + "\n- ".join(problems)
