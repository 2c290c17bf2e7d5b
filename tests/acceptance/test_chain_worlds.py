"""One transition, one chain of evidence: what happens between runs never turns the final verdict green. Each
world starts from the README demo's evidence (four VERIFIED phases, SUCCESS), does what an operator or an
adversary did between runs with the operator's own commands, and runs `harness report`."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.evidence.runs import list_runs
from tests.acceptance.matrix import ChainFault
from tests.acceptance.runner import NOT_THE_OPERATORS, REPO, Run, SharedRuns, harness_demo_as_written

WAIT = 120.0
HERE = "test_chain_worlds.py::"
CHAIN_MATRIX = [
    ChainFault("an open incident", "`harness halt --reason ...` after four VERIFIED phases (and a review attested "
               "before it)", "NEEDS REMEDIATION naming the incident; an Incidents section; the runs and the review "
               "before it no longer count", HERE + "test_an_incident_after_four_verified_phases_needs_remediation_and_"
               "is_in_the_log"),
    ChainFault("a watch cut short", "`harness watch` on a world with an order in the live account, killed (SIGKILL) "
               "after a failing round", "NEEDS REMEDIATION: the first hour was cut short after recording a failure; "
               "the older VERIFIED watch does not stand in", HERE + "test_a_watch_killed_after_a_critical_round_is_not_"
               "replaced_by_an_older_verified_one"),
    ChainFault("an edited verdict", "a failing first day's verdict.json edited to `TRANSITION VERIFIED` (its "
               "overall, then every item)", "NEEDS REMEDIATION: the recorded verdict does not match the checks it "
               "recorded", HERE + "test_a_failing_first_day_whose_verdict_json_says_verified_is_not_believed"),
    ChainFault("another program named like the bot", "an unrelated `python -m src.main` runs on the machine during "
               "the demo's preflight", "the embedded world looks at its own stand-in bot: no bot process is running",
               HERE + "test_the_embedded_world_looks_at_its_own_bot_not_at_the_machines"),
    ChainFault("attestations before the fact", "at 01:26 ET on the day of the switch, `harness confirm` of the first "
               "day's items and of the declaration", "each refused in one line: no check ran (or the transition is "
               "not verified on the real bot); nothing recorded", HERE + "test_attestations_before_the_fact_are_"
               "refused"),
    ChainFault("the incident lock from another folder", "`harness halt --bot-dir B` at one desk, `harness switch "
               "paper --bot-dir B` from another working directory", "the switch is refused until `harness confirm "
               "incident_resolved --bot-dir B`", HERE + "test_the_incident_lock_binds_the_bot_wherever_the_next_"
               "command_runs"),
    ChainFault("a preflight after the switch", "`pytest features/ --phase preflight` again after the demo, on a "
               "paper account holding a position (it fails)", "SUCCESS still: the pre-switch preflight counts; the "
               "later one is listed as not counted, with why", HERE + "test_a_preflight_run_again_after_the_switch_"
               "does_not_replace_the_one_before_it"),
    ChainFault("a first hour of seconds", "`harness watch --for 2s --live-gateway --bot-dir B`", "the first hour is "
               "open: watched for 0 min, the seed's hour is 60; the log says how long was watched",
               HERE + "test_a_real_bots_first_hour_watched_for_seconds_cannot_stand_for_the_hour"),
    ChainFault("a failing run removed", "a failing first day's run directory deleted, so that an older VERIFIED "
               "one is the newest again", "NEEDS REMEDIATION: the evidence directory's history still lists the run "
               "that finished, and names it gone", HERE + "test_a_failing_run_removed_from_the_evidence_is_not_"
               "forgotten"),
    ChainFault("the demo beside a real bot", "`harness demo` as the README writes it, then in the same folder "
               "`harness snapshot --bot-dir B`, one `harness confirm`, the preflight on B", "the demo operator's "
               "Step 0 attestations are not B's: the demo keeps its evidence in reports/demo/",
               HERE + "test_the_demos_attestations_never_count_for_a_real_bot_in_the_same_folder"),
    ChainFault("concurrent writers", "twelve `harness confirm` at once on one evidence directory", "twelve "
               "attestations kept (each append holds the log's lock)",
               HERE + "test_twelve_concurrent_confirms_keep_twelve_attestations"),
]


@pytest.fixture(scope="module")
def demo(shared_runs: SharedRuns) -> Run:
    return shared_runs.made("the README's demo", harness_demo_as_written)


@pytest.fixture
def evidence(demo: Run, tmp_path: Path) -> Path:
    assert demo.code == 0, demo.output[-3000:]
    copy = tmp_path / "evidence"
    shutil.copytree(demo.evidence, copy, ignore=shutil.ignore_patterns("report", "Task_4_3_Transition_Log.md"))
    return copy


def _environ(**extra: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HARNESS_") or k == "HARNESS_TOOLS_CACHE"}
    return {**environ, "PYTHONIOENCODING": "utf-8", **extra}


def harness(*args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], cwd=REPO, env=_environ(**extra),
                          capture_output=True, text=True, encoding="utf-8", timeout=WAIT)


def report(evidence: Path) -> tuple[str, str]:
    done = harness("report", "--no-html", "--evidence-dir", str(evidence))
    assert done.returncode == 0, done.stdout + done.stderr
    return ((evidence / "Task_4_3_Transition_Log.md").read_text(encoding="utf-8"),
            (evidence / "report" / "board-card.md").read_text(encoding="utf-8"))


def status(text: str) -> str:
    return re.search(r"^\*\*Status:\*\* (.+)$", text, re.M).group(1)


def test_the_demos_evidence_says_success_before_anything_happens(evidence):
    log, card = report(evidence)
    assert status(log) == "SUCCESS" and "✅ SUCCESS" in card.splitlines()[0]


def test_an_incident_after_four_verified_phases_needs_remediation_and_is_in_the_log(evidence):
    declared = harness("confirm", "dod_operator_reviewed", "--by", "Ann", "--evidence-dir", str(evidence))
    assert declared.returncode == 0, declared.stderr
    time.sleep(1.1)  # the incident is recorded to the second: it must come after the review
    halt = harness("halt", "--reason", "orders in the live account", "--evidence-dir", str(evidence),
                   "--gateway", "127.0.0.1:9", "--network-timeout", "2")
    assert "incident recorded" in halt.stdout + halt.stderr
    log, card = report(evidence)
    assert status(log) == "NEEDS REMEDIATION"
    assert "- ❌ incident open: incident recorded at " in log and "orders in the live account" in log
    assert "## Incidents" in log and "Proceed to Task 4.4" not in log
    assert card.splitlines()[0].endswith("❌ NEEDS REMEDIATION") and "incident open" in card
    assert "- [✅] Operator reviews transition log" not in log  # attested before the incident: void
    assert "started before the incident of" in log


def test_a_watch_killed_after_a_critical_round_is_not_replaced_by_an_older_verified_one(evidence):
    command = [sys.executable, "-m", "harness.cli", "watch", "--for", "60s", "--every", "1s",
               "--evidence-dir", str(evidence)]
    watch = subprocess.Popen(command, cwd=REPO, env=_environ(HARNESS_EMBEDDED_FAULTS="live-account-activity"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            watches = [run for run in list_runs(evidence) if run.phase == "first-hour" and not run.finished_at]
            if watches and any(r.get("status") == "failed" for r in watches[-1].watch_rounds()):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the watch recorded no failing round")
    finally:
        os.kill(watch.pid, signal.SIGKILL) if os.name != "nt" else watch.kill()
        watch.wait(timeout=30)
    log, card = report(evidence)
    assert status(log) == "NEEDS REMEDIATION", log[-2500:]
    assert re.search(r"first-hour: run \S+ was cut short \(no end recorded\) after recording a failure: "
                     r"dod_no_live_orders", log)
    assert "| first-hour |" in log and "cut short (no end recorded)" in log
    assert "❌" in card.splitlines()[0]


def test_a_failing_first_day_whose_verdict_json_says_verified_is_not_believed(evidence):
    environ = _environ(HARNESS_EMBEDDED_FAULTS="first-day-no-reconnect")
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider",
                           *NOT_THE_OPERATORS, "--phase", "first-day", "--evidence-dir", str(evidence)],
                          cwd=REPO, env=environ, capture_output=True, text=True, timeout=WAIT * 2)
    assert done.returncode == 1, done.stdout[-3000:]
    newest = [run for run in list_runs(evidence) if run.phase == "first-day"][-1]
    body = json.loads((newest.path / "verdict.json").read_text(encoding="utf-8"))
    body["overall"] = "TRANSITION VERIFIED"  # the adversary's one edit
    (newest.path / "verdict.json").write_text(json.dumps(body), encoding="utf-8")
    log, _card = report(evidence)
    assert status(log) == "NEEDS REMEDIATION" and "dod_reconnect" in log
    for item in body["items"]:  # the next edit: every item says VERIFIED
        item["status"] = "VERIFIED"
    (newest.path / "verdict.json").write_text(json.dumps(body), encoding="utf-8")
    log, _card = report(evidence)
    assert status(log) == "NEEDS REMEDIATION"
    assert "does not match the checks it recorded (dod_reconnect is VERIFIED although a check of it failed)" in log


def test_the_embedded_world_looks_at_its_own_bot_not_at_the_machines(tmp_path):
    """An operator tries the demo on the desk where their bot runs (`python -m src.main`): the embedded world's
    preflight looks for its own stand-in bot, not for the operator's."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", "-m", "src.main"])
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider",
                               *NOT_THE_OPERATORS, "--phase", "preflight", "--evidence-dir", str(tmp_path / "e"),
                               "-k", "no_bot_process"],
                              cwd=REPO, env=_environ(), capture_output=True, text=True, timeout=WAIT)
    finally:
        bystander.kill()
        bystander.wait(timeout=30)
    assert "The bot is still running" not in done.stdout, done.stdout[-3000:]
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout[-3000:]


def test_attestations_before_the_fact_are_refused(tmp_path, evidence):
    """At 01:26 ET on the day of the switch nobody can have seen the first day: its items are refused before a
    check ran (and before the day is over); the declaration is refused while anything is not verified."""
    empty = tmp_path / "empty"
    for item in ("dod_autostart", "dod_reconnect", "dod_no_crashes", "dod_orders_paper"):
        done = harness("confirm", item, "--by", "Ann", "--evidence-dir", str(empty),
                       HARNESS_EMBEDDED_NOW="2026-12-07T01:26:00-05:00")
        assert done.returncode == 1 and "has not run yet" in done.stderr, done.stderr
        assert done.stderr.count("\n") == 1
    assert not (empty / "attestations.json").exists()
    declared = harness("confirm", "dod_operator_declared", "--by", "Ann", "--evidence-dir", str(empty))
    assert declared.returncode == 1 and "needs a verified transition of the real bot" in declared.stderr
    verified = harness("confirm", "dod_env_mode", "--by", "Ann", "--evidence-dir", str(evidence))
    assert verified.returncode == 1 and "is VERIFIED in run" in verified.stderr
    demo = harness("confirm", "dod_operator_declared", "--by", "Ann", "--evidence-dir", str(evidence))
    assert demo.returncode == 1 and "the embedded world (not the real bot)" in demo.stderr


def test_the_incident_lock_binds_the_bot_wherever_the_next_command_runs(tmp_path):
    """`harness halt --bot-dir B` from one folder; `harness switch paper --bot-dir B` from another (its default
    evidence directory, reports/, is another folder): refused until the incident is resolved for the bot."""
    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", switch=False, git=False)
    first, second = tmp_path / "desk-1", tmp_path / "desk-2"
    first.mkdir()
    second.mkdir()

    def at(folder: Path, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "harness.cli", *args, "--bot-dir", str(bot.root)], cwd=folder,
                              env=_environ(PYTHONPATH=str(REPO)), capture_output=True, text=True, timeout=WAIT)

    halted = at(first, "halt", "--reason", "orders in the live account", "--gateway", "127.0.0.1:9",
                "--network-timeout", "2")
    assert "incident recorded" in halted.stderr + halted.stdout, halted.stderr
    before = bot.env_file.read_bytes()
    switched = at(second, "switch", "paper", "--force-market-hours")
    assert switched.returncode == 1 and "an incident is open" in switched.stderr, switched.stderr
    assert bot.env_file.read_bytes() == before and not (second / "reports" / "baseline.json").exists()
    resolved = at(second, "confirm", "incident_resolved", "--by", "Ann", "--note", "the port was 4001; fixed")
    assert resolved.returncode == 0, resolved.stderr
    # (no process of this test is the bot; another test of the session may run a `python -m src.main`)
    switched = at(second, "switch", "paper", "--force-market-hours", "--bot-process", f"no-such-bot-{os.getpid()}")
    assert switched.returncode == 0, switched.stderr


def test_a_preflight_run_again_after_the_switch_does_not_replace_the_one_before_it(evidence):
    """After the switch the paper account trades, so a preflight then fails; it is not the pre-switch one."""
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *NOT_THE_OPERATORS,
                           "--phase", "preflight", "--evidence-dir", str(evidence)], cwd=REPO,
                          env=_environ(HARNESS_EMBEDDED_FAULTS="open-positions"), capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 1, done.stdout[-3000:]
    newest = [run for run in list_runs(evidence) if run.phase == "preflight"][-1]
    log, _card = report(evidence)
    assert status(log) == "SUCCESS", log[-2500:]
    assert re.search(rf"- `{newest.run_id}`: a preflight after the transition run \S+: the preflight that counts is "
                     "the one before the switch", log)


def test_a_real_bots_first_hour_watched_for_seconds_cannot_stand_for_the_hour(tmp_path):
    from harness.fakes.botdir import make_bot_dir

    bot = make_bot_dir(tmp_path / "bot", git=False)
    evidence = tmp_path / "evidence"
    watched = harness("watch", "--for", "2s", "--every", "1s", "--live-gateway", "--bot-dir", str(bot.root),
                      "--gateway", "127.0.0.1:9", "--network-timeout", "1", "--evidence-dir", str(evidence))
    assert watched.returncode in (1, 6), watched.stdout + watched.stderr
    log, _card = report(evidence)
    assert re.search(r"first-hour: run \S+ watched the bot for 0 min; the seed's first hour is 60 minutes at the "
                     r"desk: `harness watch --for 1h`", log), log[-2500:]
    assert re.search(r"\*\*Watched:\*\* \d s \(shorter than the seed's hour\)", log)


def test_a_failing_run_removed_from_the_evidence_is_not_forgotten(evidence):
    """The adversary's other edit: delete the failing first-day run, so that the demo's older VERIFIED one is
    the newest again. The evidence directory's history still lists the run that finished."""
    done = subprocess.run([sys.executable, "-m", "pytest", "features/", "-p", "no:cacheprovider", *NOT_THE_OPERATORS,
                           "--phase", "first-day", "--evidence-dir", str(evidence)], cwd=REPO,
                          env=_environ(HARNESS_EMBEDDED_FAULTS="first-day-crash-at-noon"), capture_output=True,
                          text=True, timeout=WAIT * 2)
    assert done.returncode == 1, done.stdout[-3000:]
    newest = [run for run in list_runs(evidence) if run.phase == "first-day"][-1]
    shutil.rmtree(newest.path)
    log, card = report(evidence)
    assert status(log) == "NEEDS REMEDIATION", log[-2500:]
    assert f"first-day: run {newest.run_id}, which finished at" in log and "is gone from the evidence" in log
    assert "❌" in card.splitlines()[0]


def test_the_demos_attestations_never_count_for_a_real_bot_in_the_same_folder(demo, tmp_path):
    """`harness demo` as the README writes it, then in the same folder with the default evidence directory:
    `harness snapshot --bot-dir B`, one `harness confirm`, the README's preflight line (on B, no gateway): the
    demo operator's Step 0 attestations are not B's."""
    from harness.fakes.botdir import make_bot_dir

    desk = demo.root
    bot = make_bot_dir(tmp_path / "bot", switch=False, git=False)

    def here(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", *args], cwd=desk, env=_environ(PYTHONPATH=str(REPO)),
                              capture_output=True, text=True, timeout=WAIT)

    assert here("harness.cli", "snapshot", "--bot-dir", str(bot.root), "--replace").returncode == 0
    assert here("harness.cli", "confirm", "pre_operator_authorized", "--by", "Ann").returncode == 0
    preflight = here("pytest", str(REPO / "features"), "-p", "no:cacheprovider", *NOT_THE_OPERATORS, "-c",
                     str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "--phase", "preflight", "--bot-dir",
                     str(bot.root))
    assert "demo operator" not in preflight.stdout, preflight.stdout[-3000:]
    assert "attested by Ann" in preflight.stdout
    assert preflight.returncode == 6, preflight.stdout[-3000:]  # Task 4.2's approval: still a person's to attest
    assert re.search(r"pre_task_4_2_approved\s+OPERATOR TO CONFIRM", preflight.stdout)


def test_twelve_concurrent_confirms_keep_twelve_attestations(tmp_path):
    evidence = tmp_path / "evidence"
    confirms = [subprocess.Popen([sys.executable, "-m", "harness.cli", "confirm", "pre_stability_criteria", "--by",
                                  f"writer {n}", "--evidence-dir", str(evidence)], cwd=REPO, env=_environ(),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for n in range(12)]
    for confirm in confirms:
        assert confirm.wait(timeout=WAIT) == 0, confirm.stderr.read()
    kept = json.loads((evidence / "attestations.json").read_text(encoding="utf-8"))["attestations"]
    assert sorted(row["by"] for row in kept) == sorted(f"writer {n}" for n in range(12))
