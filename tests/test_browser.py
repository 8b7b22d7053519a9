"""The labs in a real browser: JupyterLab on loopback, Debian's Chromium driven by Playwright.

The notebook tests run each lab through a kernel alone; these check what a learner sees. JupyterLab
starts headless on 127.0.0.1 (with `--allow-root` when we are root, as in CI) in a scratch folder holding
copies of the labs, so nothing is written into labs/.

- Every numbered lab, in the student form learners open, renders: all its cells, its title as a heading,
  its markdown as HTML, no error dialog.
- Labs 01 and 02 (instructor forms) and lab 03 run with Run All from the Run menu: the test waits until no
  cell is queued or running, saves the notebook, and asserts that no saved cell holds an error, that every
  check cell passed, and that the live views rendered in the page (lab 03: the DAG as SVG with every node
  done and the ipywidgets progress table; lab 02: the breaker's light; figures as images).

Screenshots go to `$AGENTLAB_ARTIFACTS` (default `artifacts/`).

It needs `/usr/bin/chromium` (`.ci/run` installs Debian's package when it is missing) and the `playwright`
package; it never downloads a browser (`playwright install` would).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAB = ROOT / "labs" / "source" / "03_supervisor_fanout.ipynb"
STUDENT_LABS = sorted((ROOT / "labs").glob("[0-9][0-9]_*.ipynb"))
"""Every numbered lab as learners open it (generated from labs/source/)."""
RUN_ALL_LABS = [ROOT / "labs" / "source" / name for name in ("01_agent_loop.ipynb", "02_tools_as_rpc.ipynb")]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("AGENTLAB_ARTIFACTS") or ROOT / "artifacts")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SETTINGS = {
    # render every cell, not only those in view, so the test can read each prompt and output
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no "get notified about news?" toast over the screenshot
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}
RUN_ALL_TIMEOUT_S = 400

playwright_sync = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (apt-get install -y chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_server(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer at {url}: {log.read_text()[-3000:]}")


@contextlib.contextmanager
def _jupyterlab(tmp_path: Path, notebooks: list[Path]) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab serving scratch copies of `notebooks` on 127.0.0.1; yields (base URL, token, folder)."""
    folder = tmp_path / "labs"
    folder.mkdir()
    for notebook in notebooks:
        shutil.copy(notebook, folder / notebook.name)
    settings = tmp_path / "settings"
    for name, values in SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    port, token = _free_port(), secrets.token_hex(16)
    args = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folder}",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")  # CI runs as root; jupyter refuses to start as root without it
    env = {**os.environ, "AGENTLAB_FAST": "1", "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    log = tmp_path / "jupyter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc, log)
        yield base, token, folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def lab_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """JupyterLab serving a scratch copy of lab 03; yields (its URL with the token, folder)."""
    with _jupyterlab(tmp_path, [LAB]) as (base, token, folder):
        yield f"{base}/lab/tree/{LAB.name}?token={token}", folder


_PROMPTS = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())"


def _run_all_and_wait(page: Any) -> list[str]:
    """Run every cell from the Run menu; return the input prompts once nothing is queued or running."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    deadline, settled_since = time.monotonic() + RUN_ALL_TIMEOUT_S, None
    while time.monotonic() < deadline:
        prompts: list[str] = page.evaluate(_PROMPTS)
        busy = any("*" in p for p in prompts)
        started = any(any(ch.isdigit() for ch in p) for p in prompts)
        if started and not busy:
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 3:  # still idle 3 s later: Run All is over
                return prompts
        else:
            settled_since = None
        time.sleep(0.5)
    raise TimeoutError(f"Run All did not finish in {RUN_ALL_TIMEOUT_S} s")


def test_lab_03_runs_all_in_jupyterlab_and_its_live_views_render(lab_server: tuple[str, Path]) -> None:
    url, folder = lab_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(url)
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
            page.wait_for_timeout(3000)  # let the kernel start; Run All would queue behind it anyway
            prompts = _run_all_and_wait(page)
            dag = page.locator("svg.agentlab-dag").first
            dag.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "lab03_live_dag.png"))
            done_nodes = page.locator("svg.agentlab-dag").first.locator("g.node[data-state='done']").count()
            dags = page.locator("svg.agentlab-dag").count()
            tables = page.locator(".jp-OutputArea-output .widget-html", has_text="sub-tasks").count()
            images = page.locator(".jp-OutputArea-output img").count()
            page.keyboard.press("Control+s")
            page.wait_for_timeout(2000)
        finally:
            page.screenshot(path=str(ARTIFACTS / "lab03_end.png"))
            browser.close()
    saved = nbformat.read(folder / LAB.name, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    errors = [(c.id, o.get("ename"), o.get("evalue")) for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(any(ch.isdigit() for ch in prompt) for prompt in prompts), f"cells that never ran: {prompts}"
    assert all(c.execution_count for c in code), "the saved notebook has cells that did not run"
    assert dags >= 5, "the live DAG views did not render"  # Code 40.6.2's plan, then four straggler policies
    assert done_nodes == 8, "the first DAG should show all eight sub-tasks done"
    assert tables >= 1, "the ipywidgets progress table did not render"
    assert images >= 5, "the matplotlib figures did not render"


_CELLS_SHOWN = """n => document.querySelectorAll('.jp-Notebook .jp-Cell').length >= n
    && document.querySelectorAll('.jp-Notebook .jp-MarkdownCell:not(.jp-mod-rendered)').length === 0"""


def _browser(p: Any) -> Any:
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _shut_down_kernels(base: str, token: str) -> None:
    """Stop every kernel the server runs (opening a notebook starts one; the next lab needs none of them)."""
    with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as response:  # loopback only
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def test_every_lab_opens_and_renders_in_jupyterlab(tmp_path: Path) -> None:
    assert len(STUDENT_LABS) >= 7, STUDENT_LABS
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    rendered: dict[str, tuple[int, int, str, int, int]] = {}
    with _jupyterlab(tmp_path, STUDENT_LABS) as (base, token, _), playwright_sync.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            for lab in STUDENT_LABS:
                # a workspace of its own per lab, so the page holds that notebook alone (no restored tabs)
                page.goto(f"{base}/lab/workspaces/{lab.stem}/tree/{lab.name}?token={token}")
                page.wait_for_selector(".jp-Notebook .jp-MarkdownOutput h1", timeout=120_000)
                expected = len(nbformat.read(lab, as_version=4).cells)
                with contextlib.suppress(playwright_sync.TimeoutError):  # the counts below say what is missing
                    page.wait_for_function(_CELLS_SHOWN, arg=expected, timeout=60_000)
                cells = page.locator(".jp-Notebook .jp-Cell").count()
                markdown = page.locator(".jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown").count()
                title = page.locator(".jp-Notebook .jp-MarkdownOutput h1").first.inner_text()
                dialogs = page.locator(".jp-Dialog").count()
                code = page.locator(".jp-Notebook .jp-CodeCell .cm-content").count()
                rendered[lab.name] = (cells, markdown, title, dialogs, code)
                page.screenshot(path=str(ARTIFACTS / f"{lab.stem}_opened.png"))
                _shut_down_kernels(base, token)
        finally:
            browser.close()
    for lab in STUDENT_LABS:
        notebook = nbformat.read(lab, as_version=4)
        cells, markdown, title, dialogs, code = rendered[lab.name]
        kinds = [c.cell_type for c in notebook.cells]
        assert cells == len(kinds), f"{lab.name}: {cells} cells in the page, {len(kinds)} in the notebook"
        assert markdown == kinds.count("markdown") and code == kinds.count("code"), (lab.name, markdown, code)
        assert title.strip("¶ \n") == notebook.cells[0].source.splitlines()[0].lstrip("# ").strip(), title
        assert dialogs == 0, f"{lab.name}: an error dialog opened"


@pytest.mark.parametrize("lab", RUN_ALL_LABS, ids=[lab.stem for lab in RUN_ALL_LABS])
def test_a_lab_runs_all_in_jupyterlab_and_its_checks_pass(tmp_path: Path, lab: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with _jupyterlab(tmp_path, [lab]) as (base, token, folder), playwright_sync.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{lab.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=120_000)
            # Run All clicked while the kernel still starts can be lost on a loaded machine: wait until it is idle
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=120_000)
            prompts = _run_all_and_wait(page)
            images = page.locator(".jp-OutputArea-output img").count()
            lights = page.locator(".jp-OutputArea-output .widget-html", has_text="circuit").count()
            page.keyboard.press("Control+s")
            page.wait_for_timeout(2000)
        finally:
            page.screenshot(path=str(ARTIFACTS / f"{lab.stem}_end.png"))
            browser.close()
    saved = nbformat.read(folder / lab.name, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    errors = [(c.id, o.get("ename"), o.get("evalue")) for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    assert all(any(ch.isdigit() for ch in prompt) for prompt in prompts), f"cells that never ran: {prompts}"
    checks = [c for c in code if any(t.startswith("check:") for t in c.metadata.get("tags", []))]
    texts = [
        "".join(o.get("text", "") for o in c.outputs) + str([o.get("data", {}) for o in c.outputs]) for c in checks
    ]
    assert checks and all("points" in t and "FAIL" not in t for t in texts), texts
    assert images >= 3, "the matplotlib figures did not render"
    if lab.stem.startswith("02_"):
        assert lights == 1, "the breaker's ipywidgets light did not render"
