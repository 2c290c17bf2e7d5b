"""`harness report`'s HTML, opened the way a person opens it: headless Chromium, offline, from the file.

The operator's command runs on the embedded world (clean: preflight and transition; and the transition of one
where the bot logs live trading), then
`harness report` writes the single-file HTML. Chromium loads it from file://, the tree is opened group by group
(Chrome DevTools Protocol over a pipe: no extra package, no port), and every scenario of the run must be there
with the state Allure recorded for it, a skip never shown as passed. A secret planted in the bot's .env and in
the recorded evidence must be in no file the command wrote, the HTML's embedded (base64) data included.

Skipped with the reason when Chromium, Node or the Allure install are missing here, except when $CI is set: CI
installs them (`.ci/run`), so there their absence fails.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.evidence.runs import latest_runs
from tests.acceptance.runner import REPO, run_features
from tests.leakcheck import leaks

SECRET = "planted-Report-Secret-7Kq2Zx9"
FULL_ACCOUNT = "U7654321"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PAGE_TIMEOUT = 90.0  # longer than READ_TREE may wait for the tree (50 s) and open its groups (5 s)
WORLDS = {"clean": {}, "bot logs live trading": {"BOT_FAULTS": "live-log"}}
# The clean world carries the operator's own screenshot; the other the picture drawn from the gateway's facts.
SCREENSHOT_WORLD = "clean"
TWO_PHASE_WORLD = "clean"
# Opens every group of the results tree, then reads each scenario's title and status from the page.
READ_TREE = """
(async () => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < 500 && !document.querySelector('[data-testid="tree-content"]'); i++) await sleep(100);
  for (let round = 0; round < 30; round++) {
    const closed = [...document.querySelectorAll('[data-testid="tree-section"]')].filter(
      (section) => !(section.nextElementSibling && section.nextElementSibling.matches('[data-testid="tree-content"]')));
    if (!closed.length) break;
    closed.forEach((section) => section.click());
    await sleep(150);
  }
  const tabs = {};
  document.querySelectorAll('[data-testid^="nav-tab-"]').forEach((tab) => {
    tabs[tab.dataset.testid] = tab.innerText;
  });
  return {
    title: document.querySelector('[data-testid="report-title"]')?.innerText || "",
    tabs,
    groups: [...document.querySelectorAll('[data-testid="tree-section-title"]')].map((t) => t.innerText),
    leaves: [...document.querySelectorAll('[data-testid="tree-leaf"]')].map((leaf) => [
      leaf.querySelector('[data-testid="tree-leaf-title"]')?.textContent || "",
      (leaf.querySelector('[data-testid^="tree-leaf-status-"]')?.dataset.testid || "").replace("tree-leaf-status-", ""),
    ]),
  };
})()
"""


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must install it (.ci/run)")
    pytest.skip(reason)


def _chromium() -> str:
    if os.name == "nt":
        _missing("the DevTools pipe used here is POSIX-only")
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    _missing("no headless Chromium here (apt-get install chromium)")
    raise AssertionError("unreachable")


class DevTools:
    """Chromium with --remote-debugging-pipe: commands on its fd 3, replies on its fd 4, NUL-terminated JSON."""

    def __init__(self, chromium: str, url: str, profile: Path) -> None:
        to_chromium, self._commands = os.pipe()
        self._replies, from_chromium = os.pipe()

        def wire() -> None:  # in the child, before exec: the pipe ends become fds 3 and 4
            os.dup2(to_chromium, 3)
            os.dup2(from_chromium, 4)

        self.process = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--no-first-run",
             "--disable-background-networking", "--disable-extensions", f"--user-data-dir={profile}", url],
            preexec_fn=wire, pass_fds=(3, 4), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_chromium)
        os.close(from_chromium)
        self._buffer = b""
        self._id = 0
        self._deadline = time.monotonic() + PAGE_TIMEOUT

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                left = self._deadline - time.monotonic()
                ready, _, _ = select.select([self._replies], [], [], max(left, 0))
                if not ready:
                    raise TimeoutError(f"Chromium did not answer {method} within {PAGE_TIMEOUT:g} s")
                chunk = os.read(self._replies, 1 << 20)
                if not chunk:
                    raise EOFError(f"Chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def close(self) -> None:
        os.close(self._commands)
        os.close(self._replies)
        self.process.kill()
        self.process.wait(timeout=30)


def read_report(html: Path, scratch: Path) -> dict:
    """What a person sees in the report at `html`: title, tabs, groups, and every scenario with its state."""
    browser = DevTools(_chromium(), html.resolve().as_uri(), scratch / "chromium-profile")
    try:
        page = next(t for t in browser.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        session = browser.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]
        for _ in range(50):  # the app may replace the document it starts in (a new execution context)
            try:
                reply = browser.send("Runtime.evaluate", {"expression": READ_TREE, "awaitPromise": True,
                                                          "returnByValue": True}, session)
                break
            except RuntimeError as exc:
                if "context" not in str(exc).lower():
                    raise
                time.sleep(0.2)
        else:
            raise AssertionError("the report's page never settled")
        return reply["result"]["value"]
    finally:
        browser.close()


def _recorded_runs(root: Path, world: str) -> tuple[Path, list[tuple[str, str]]]:
    """The operator's command on the embedded world; (evidence dir, every (scenario title, Allure status) of the
    latest run of each phase). The clean world runs the preflight (Allure results in its run directory, the
    default) and the transition (sent elsewhere with --alluredir, as the README's demo does); the other world the
    transition only."""
    evidence, elsewhere = root / "evidence", root / "allure-results"
    phases = [("preflight", ("--phase", "preflight"), None)] if world == TWO_PHASE_WORLD else []
    if world == TWO_PHASE_WORLD:
        phases.append(("transition", ("--alluredir", str(elsewhere)), elsewhere))
    else:
        phases.append(("transition", (), None))
    expected: list[tuple[str, str]] = []
    for phase, args, results in phases:
        (root / phase).mkdir()
        run = run_features(root / phase, "--evidence-dir", str(evidence), *args, env=WORLDS[world])
        assert run.outcomes and bool(run.failed()) == (world != TWO_PHASE_WORLD), run.output[-3000:]
        recorded = latest_runs(evidence).get(phase)
        assert recorded is not None, f"the run recorded no {phase} run under {evidence / 'runs'}"
        source = recorded.allure_results()
        assert source == (results or recorded.path / "allure-results")
        statuses = [json.loads(p.read_text(encoding="utf-8")) for p in source.glob("*-result.json")]
        found = [(body["name"], body["status"]) for body in statuses]
        # The report's inputs agree with pytest's own account of the run.
        assert [status for _, status in found].count("skipped") == len(run.skipped())
        assert [status for _, status in found].count("passed") == len(run.passed())
        expected += found
    return evidence, sorted(expected)


def _plant(evidence: Path, root: Path) -> Path:
    """A secret in a .env the report is told about, and the same secret and a full account id in the recorded
    results (as a run that leaked would have left them); the .env's path."""
    env_file = root / "bot.env"
    env_file.write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nDISCORD_BOT_TOKEN={SECRET}\n", encoding="utf-8")
    source = latest_runs(evidence)["transition"].allure_results()
    assert source is not None
    result = next(iter(sorted(source.glob("*-result.json"))))
    body = json.loads(result.read_text(encoding="utf-8"))
    body["description"] = f"{body.get('description') or ''} token={SECRET} account {FULL_ACCOUNT}"
    body["attachments"] = [*body.get("attachments", []),
                           {"name": "planted", "source": "planted-attachment.txt", "type": "text/plain"}]
    result.write_text(json.dumps(body), encoding="utf-8")
    (source / "planted-attachment.txt").write_text(f"log: token {SECRET} for {FULL_ACCOUNT}\n", encoding="utf-8")
    return env_file


def _picture(evidence: Path, world: str) -> str:
    """The operator's screenshot, or (when the run recorded none) the paper account's facts; the attachment's name."""
    if world == SCREENSHOT_WORLD:
        from PIL import Image

        Image.new("RGB", (40, 20), (0, 120, 60)).save(evidence / "screenshot.png")
        return "Paper account (the operator's screenshot)"
    run = latest_runs(evidence)["transition"]
    if run.paper_account() is None:
        facts = {"accounts": ["DU12****"], "all_paper": True, "host": "127.0.0.1", "port": 4002,
                 "observed_at": run.finished_at, "open_orders": [], "positions": []}
        (run.path / "paper-account.json").write_text(json.dumps(facts), encoding="utf-8")
    return "Paper account (as read from the gateway)"


def _harness_report(evidence: Path, env_file: Path) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k == "HARNESS_TOOLS_CACHE"}
    command = [sys.executable, "-m", "harness.cli", "report", "--evidence-dir", str(evidence), "--bot-env",
               str(env_file)]
    return subprocess.run(command, cwd=REPO, env=environ, capture_output=True, text=True, timeout=600)


def _embedded_data(html: str) -> str:
    """The report's embedded files (base64 in `d("name", "...")` calls), decoded, as one text."""
    decoded = []
    for payload in re.findall(r'd\("[^"]*","([A-Za-z0-9+/=]*)"\)', html):
        decoded.append(base64.b64decode(payload).decode("utf-8", errors="replace"))
    return "\n".join(decoded)


@pytest.fixture(scope="module", params=list(WORLDS), ids=list(WORLDS))
def report(request, tmp_path_factory: pytest.TempPathFactory):
    from harness.report import node_tools

    _chromium()
    try:
        node_tools.find_node()
    except node_tools.ToolError as exc:
        _missing(str(exc))
    root = tmp_path_factory.mktemp("report-" + request.param.replace(" ", "-"))
    evidence, expected = _recorded_runs(root, request.param)
    env_file = _plant(evidence, root)
    picture = _picture(evidence, request.param)
    done = _harness_report(evidence, env_file)
    if done.returncode != 0 and ("npm" in done.stderr or "Allure" in done.stderr):
        _missing(f"harness report could not get Allure here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr
    html = evidence / "report" / "index.html"
    with tempfile.TemporaryDirectory(prefix="chromium-", ignore_cleanup_errors=True) as scratch:
        seen = read_report(html, Path(scratch))
    return request.param, evidence, expected, done, seen, picture


def test_chromium_finds_every_scenario_with_its_state(report) -> None:
    world, _, expected, _, seen, _ = report
    shown = sorted((title, status) for title, status in seen["leaves"])
    assert len(shown) == len(expected), f"{world}: the tree shows {len(shown)} scenarios of {len(expected)}"
    assert shown == expected
    states = {status for _, status in shown}
    if world == TWO_PHASE_WORLD:
        assert {"preflight", "transition"} <= set(seen["groups"])  # grouped by phase
        assert "failed" not in states and "skipped" in states
        assert "preflight: INCOMPLETE; transition: TRANSITION VERIFIED" in seen["title"]  # recorded, not decided here
    else:
        assert "failed" in states
        assert "transition: NEEDS REMEDIATION" in seen["title"]
        assert seen["tabs"]["nav-tab-globalErrors"].split()[-1] != "0"  # the failed items, one error each


def test_the_paper_account_picture_is_in_the_page(report) -> None:
    _, evidence, _, _, seen, picture = report
    assert seen["tabs"]["nav-tab-globalAttachments"].split()[-1] == "1"
    html = (evidence / "report" / "index.html").read_text(encoding="utf-8")
    assert picture in _embedded_data(html)


def test_the_report_is_one_file_that_calls_nothing(report) -> None:
    _, evidence, _, done, _, _ = report
    html = (evidence / "report" / "index.html").read_text(encoding="utf-8")
    assert "googletagmanager" not in html
    assert not re.findall(r'(?:src|href)="https?://', html)  # no script, style or font from the network
    assert f"wrote {evidence / 'report' / 'index.html'}" in done.stdout.splitlines()


def test_no_planted_secret_is_in_any_file_the_report_wrote(report) -> None:
    _, evidence, _, done, _, _ = report
    written = [Path(line.removeprefix("wrote ")) for line in done.stdout.splitlines() if line.startswith("wrote ")]
    assert evidence / "report" / "index.html" in written and len(written) >= 3
    for path in written:
        data = path.read_bytes()
        text = data.decode("utf-8", errors="replace")
        if path.suffix == ".html":
            text += _embedded_data(text)
            assert "log: token" in text, "the planted attachment is not in the page: this check would see nothing"
        assert not leaks(text, SECRET, pieces=True), f"{path} holds the planted secret"
        assert FULL_ACCOUNT not in text, f"{path} holds a full account id"
    assert SECRET not in done.stdout + done.stderr
