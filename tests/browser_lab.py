"""JupyterLab driven by headless Chromium, for tests/test_browser.py.

`LabServer` runs JupyterLab on 127.0.0.1 (a free port, a token, its own settings) and stops it with
every kernel it started. `start_chromium` opens Debian's chromium through its chromedriver (selenium).
`LabPage` does what a student does (open a notebook, select a cell and press Shift+Enter, Run > Run
All Cells) and reads what the student sees: the page's outputs, and the notebook model's output
types, which tell an error (the test cells' teaching message) from a stream written to stderr
(JupyterLab draws both as the same red block).

Needs `apt-get install chromium chromium-driver` and `pip install -r requirements.txt` (selenium).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_HINT = "apt-get install chromium chromium-driver && pip install -r requirements.txt"
# Headless, as root, on a closed network: the background-networking flags stop Chromium's own
# connection attempts (without them many local connections are refused here).
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--hide-scrollbars",
)
WINDOW = (1400, 1000)
MAX_SCREENSHOT_HEIGHT = 16_000  # Chromium draws at most ~16 384 pixels in one capture
STDERR_MIME = "application/vnd.jupyter.stderr"  # JupyterLab's mime type for stderr AND errors (red)
# JupyterLab settings for a clean page: no news toast (it asks to reach the internet).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}


def chromium_paths() -> tuple[str | None, str | None]:
    """(chromium, chromedriver) on PATH, or None for each one missing."""
    browser = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    return browser, shutil.which("chromedriver")


def browser_missing() -> str | None:
    """Why the browser test cannot run here (with the install hint), or None when it can."""
    browser, driver = chromium_paths()
    missing = [name for name, path in (("chromium", browser), ("chromedriver", driver)) if path is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium")
    if not missing:
        return None
    return f"the browser test needs {', '.join(missing)}: {INSTALL_HINT}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """JupyterLab serving `root_dir` on 127.0.0.1, with its config, runtime and settings in `scratch`.

    Kernels import this clone's `helpers` and `autograder` (PYTHONPATH) and use Jupyter's own
    matplotlib backend, as in a student's JupyterLab (MPLBACKEND is removed).
    """

    def __init__(self, root_dir: Path, scratch: Path):
        self.root_dir, self.scratch = Path(root_dir), Path(scratch)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.scratch / "jupyterlab.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> None:
        settings = self.scratch / "settings"
        for name, values in LAB_SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env.update(
            JUPYTER_CONFIG_DIR=str(self.scratch / "config"),
            JUPYTER_RUNTIME_DIR=str(self.scratch / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.scratch / "workspaces"),
        )
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.allow_root=True",
            # window.jupyterapp: the page's notebook model, to tell an error output from stderr
            "--LabApp.expose_app_in_browser=True",
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=self.root_dir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/api/status")
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, characters: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-characters:]
        except OSError:
            return "(no log)"

    def api(self, method: str, path: str):
        request = urllib.request.Request(
            self.url + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Close every session and kernel (between notebooks: each kernel holds torch in memory)."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels"):
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def stop(self) -> None:
        """Stop the server and every process it started (kernels run in their own sessions, so they
        are found as its children and killed if the server's shutdown left them behind)."""
        if self.process is None:
            return
        import psutil  # installed with ipykernel

        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        try:
            self.shutdown_kernels()
        except Exception:  # noqa: BLE001 (stopping anyway)
            pass
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        _, alive = psutil.wait_procs(children, timeout=10)
        for child in alive:
            child.kill()
        psutil.wait_procs(alive, timeout=10)
        self.process = None


def start_chromium(user_data_dir: Path):
    """Headless Chromium through the system's chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--user-data-dir={user_data_dir}"):
        options.add_argument(flag)
    # Leaving a notebook that ran cells asks "leave the page?": accept it.
    options.set_capability("unhandledPromptBehavior", "accept")
    return webdriver.Chrome(options=options, service=Service(driver))


def wait_for(condition, timeout: float, what: str, interval: float = 0.5):
    """Poll `condition()` until it returns something truthy; return it, or fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(interval)


# Runs in the page: each cell as the notebook model knows it (type, tags, outputs by type) and as
# the page shows it (prompt, rendered outputs with their mime type and text).
_CELLS_JS = """
const panel = window.jupyterapp.shell.currentWidget;
const nodes = [...panel.content.node.querySelectorAll('.jp-Cell')];
const model = panel.content.model.cells;
const cells = [];
for (let i = 0; i < model.length; i++) {
  const json = model.get(i).toJSON();
  const node = nodes[i];
  const prompt = node ? node.querySelector('.jp-InputPrompt') : null;
  cells.push({
    index: i,
    cell_type: json.cell_type,
    tags: (json.metadata || {}).tags || [],
    grade_id: ((json.metadata || {}).nbgrader || {}).grade_id || null,
    source: (Array.isArray(json.source) ? json.source.join('') : json.source).slice(0, 300),
    prompt: prompt ? prompt.textContent.trim() : '',
    outputs: (json.outputs || []).map(o => ({
      output_type: o.output_type, name: o.name || null, ename: o.ename || null, evalue: (o.evalue || '').slice(0, 600),
      mimes: Object.keys(o.data || {}),
      text: (Array.isArray(o.text) ? o.text.join('') : (o.text || '')).slice(0, 3000),
    })),
    shown: node ? [...node.querySelectorAll('.jp-OutputArea-output')].map(e => ({
      mime: e.dataset.mimeType || '', text: e.textContent.slice(0, 3000),
    })) : [],
    images: node ? node.querySelectorAll('.jp-OutputArea-output img').length : 0,
    progress: node ? [...node.querySelectorAll('div.course-progress')].map(e => ({
      state: e.dataset.state, text: e.textContent.trim(),
    })) : [],
  });
}
return {rendered: nodes.length, cells: cells,
        status: (panel.node.querySelector('.jp-Notebook-ExecutionIndicator') || {dataset: {}}).dataset.status};
"""

# Runs in the page (async): the first <video>'s source and whether the browser can play it.
_VIDEO_JS = """
const done = arguments[arguments.length - 1];
const video = window.jupyterapp.shell.currentWidget.content.node.querySelector('video');
if (!video) { done(null); return; }
const source = video.querySelector('source');
const src = video.currentSrc || video.getAttribute('src') || (source ? source.getAttribute('src') : '') || '';
const report = () => done({
  src_prefix: src.slice(0, 40), src_length: src.length, ready_state: video.readyState,
  duration: video.duration, error: video.error ? video.error.code : null,
  width: video.videoWidth, height: video.videoHeight,
});
if (video.readyState >= 1) { report(); return; }
video.addEventListener('loadedmetadata', report, {once: true});
video.addEventListener('error', report, {once: true});
if (source) source.addEventListener('error', report, {once: true});
video.load();
setTimeout(report, 20000);
"""


class LabPage:
    """One browser tab on a LabServer, with at most one notebook open."""

    def __init__(self, driver, server: LabServer):
        self.driver, self.server = driver, server

    def open(self, path: str, timeout: float = 240) -> dict:
        """Open the notebook at `path` (relative to the server's root) and wait until every cell is
        drawn and its kernel is idle; return the cells (see `cells`). The first notebook loads
        JupyterLab (in a fresh workspace); later ones open in the loaded page, as from the file browser."""
        opened = False
        if self._app_loaded():
            try:
                self.driver.execute_script(
                    "return window.jupyterapp.commands.execute('docmanager:open',"
                    " {path: arguments[0], factory: 'Notebook'}).then(() => true);",
                    path,
                )
                opened = True
            except Exception:  # noqa: BLE001 (load the page afresh instead)
                pass
        if not opened:
            self.driver.get(f"{self.server.url}/lab/tree/{path}?reset&token={self.server.token}")
        expected = len(json.loads((self.server.root_dir / path).read_text())["cells"])

        def ready():
            try:
                state = self.driver.execute_script(
                    "const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                    "if (!w || !w.content || !w.content.model || !w.sessionContext) return null;"
                    "if (w.context.path !== arguments[0]) return null;"
                    "return {cells: w.content.node.querySelectorAll('.jp-Cell').length,"
                    " kernel: w.sessionContext.session && w.sessionContext.session.kernel"
                    "  ? w.sessionContext.session.kernel.status : null};",
                    path,
                )
            except Exception:  # noqa: BLE001 (the page is still loading)
                return None
            return state and state["cells"] == expected and state["kernel"] == "idle"

        wait_for(ready, timeout, f"{path} to open with {expected} cells and an idle kernel")
        # More room for the notebook, as a student would have on a laptop: close the file browser.
        # and the other tabs (the Launcher that JupyterLab opens when the previous notebook closed).
        self.driver.execute_script(
            "const shell = window.jupyterapp.shell; shell.collapseLeft(); shell.collapseRight();"
            "for (const w of [...shell.widgets('main')]) { if (w !== shell.currentWidget) w.dispose(); }"
        )
        time.sleep(0.5)
        return self.cells()

    def cells(self) -> dict:
        """{'rendered': number of cells drawn, 'status': kernel status, 'cells': [per cell: cell_type, tags,
        grade_id, source (start), prompt ('[3]:'), outputs (model: output_type, name, ename, mimes, text),
        shown (page: mime, text), images (count), progress (course progress bars: state, text)]}."""
        return self.driver.execute_script(_CELLS_JS)

    def _cell_node(self, index: int):
        from selenium.webdriver.common.by import By

        panel = self.driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden)")
        return panel.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell")[index]

    def run_cell(self, index: int, timeout: float = 300) -> dict:
        """Select cell `index` (click its prompt) and press Shift+Enter; wait until it has run."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        node = self._cell_node(index)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", node)
        node.find_element(By.CSS_SELECTOR, ".jp-InputPrompt").click()
        ActionChains(self.driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()

        def ran():
            cell = self.cells()["cells"][index]
            return cell if cell["prompt"] not in ("[ ]:", "[*]:", "") else None

        return wait_for(ran, timeout, f"cell {index} to run", interval=0.3)

    def run_all(self) -> None:
        """Menu Run > Run All Cells."""
        from selenium.webdriver.common.by import By

        menu = next(
            item
            for item in self.driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-item")
            if item.text.strip() == "Run"
        )
        menu.click()

        def run_all_item():
            items = self.driver.find_elements(By.CSS_SELECTOR, "#jp-mainmenu-run .lm-Menu-item")
            return [each for each in items if each.text.split("\n")[0].strip() == "Run All Cells"]

        item = wait_for(run_all_item, 20, "Run > Run All Cells")[0]
        item.click()

    def wait_until_idle(self, timeout: float) -> dict:
        """Wait until no cell is queued or running and the kernel is idle (twice in a row, a second
        apart); return the cells."""
        time.sleep(2)
        calm = []

        def settled():
            state = self.cells()
            busy = any(cell["prompt"] == "[*]:" for cell in state["cells"]) or state["status"] != "idle"
            calm.append(not busy)
            return state if calm[-2:] == [True, True] else None

        return wait_for(settled, timeout, "every cell to finish running", interval=1.0)

    def video(self) -> dict | None:
        """The first video in the notebook: source (prefix, length), readyState, duration, error code."""
        self.driver.set_script_timeout(30)
        return self.driver.execute_async_script(_VIDEO_JS)

    def screenshot(self, path: Path) -> None:
        """The whole notebook in one image: the window grows to the notebook's height (up to
        MAX_SCREENSHOT_HEIGHT), then shrinks back."""
        path.parent.mkdir(parents=True, exist_ok=True)
        extra = (
            self.driver.execute_script(
                "const s = window.jupyterapp.shell.currentWidget.content.node;"
                "const o = s.classList.contains('jp-WindowedPanel-outer') ? s"
                "  : (s.querySelector('.jp-WindowedPanel-outer') || s.closest('.jp-WindowedPanel-outer') || s);"
                "o.scrollTop = 0; return o.scrollHeight - o.clientHeight;"
            )
            or 0
        )
        height = min(WINDOW[1] + max(int(extra), 0) + 50, MAX_SCREENSHOT_HEIGHT)
        try:
            self.driver.set_window_size(WINDOW[0], height)
            time.sleep(1.5)  # let JupyterLab lay out the now visible cells
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(*WINDOW)

    def _app_loaded(self) -> bool:
        try:
            return bool(
                self.driver.execute_script("return !!window.jupyterapp && !document.querySelector('.jp-Dialog');")
            )
        except Exception:  # noqa: BLE001 (no page, or a dialog)
            return False

    def leave(self) -> None:
        """Close the notebook without saving (its kernel is then shut down by the server fixture);
        if that fails, go to a blank page so that the next open() loads JupyterLab afresh."""
        try:
            self.driver.execute_script(
                "for (const w of [...window.jupyterapp.shell.widgets('main')]) {"
                "  if (w.context) { w.context.model.dirty = false; } w.dispose(); }"
            )
            wait_for(
                lambda: not self.driver.find_elements("css selector", ".jp-NotebookPanel"), 10, "the notebook to close"
            )
        except Exception:  # noqa: BLE001 (a dialog or a dead page)
            try:
                self.driver.get("about:blank")
            except Exception:  # noqa: BLE001
                pass
