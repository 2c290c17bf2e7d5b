"""Evidence on disk: rows, kept texts and kept facts (redacted and capped like every record), in the run directory."""

from __future__ import annotations

from harness.evidence.records import MAX_KEPT_TEXT_CHARS, Evidence


def test_a_kept_text_is_written_redacted_and_capped(tmp_path):
    evidence = Evidence(tmp_path)
    evidence.redactor.add(["tok_SECRET_123"])
    evidence.finish_test("features/x.feature::test_x", "x", [], "passed", "")
    evidence.keep_text("../escape/stand-in-bot-output.txt", "account DU1234567 token tok_SECRET_123\n" + "x" * 10**6)
    evidence.write()
    kept = (tmp_path / "stand-in-bot-output.txt").read_text(encoding="utf-8")
    assert "tok_SECRET_123" not in kept and "DU1234567" not in kept and "DU****567" in kept
    assert len(kept) < MAX_KEPT_TEXT_CHARS + 200
    assert not (tmp_path.parent / "escape").exists()


def test_a_lazy_sequence_is_recorded_as_a_list_reading_only_what_is_kept():
    from collections.abc import Sequence

    from harness.evidence.records import MAX_ITEMS

    read: list[int] = []

    class Lazy(Sequence):
        def __len__(self):
            return 10 * MAX_ITEMS

        def __getitem__(self, index):
            if isinstance(index, slice) or index >= len(self):
                raise IndexError(index)
            read.append(index)
            return f"line {index} of DU1234567"

    data = Evidence(None).redactor.data(Lazy())
    assert data[0] == "line 0 of DU****567" and len(data) == MAX_ITEMS + 1 and "more items" in data[-1]
    assert max(read) == MAX_ITEMS - 1


def test_with_a_run_directory_everything_goes_there_and_a_workers_files_are_its_own(tmp_path):
    from harness.probes.gateway import GatewayFacts

    run_dir = tmp_path / "runs" / "20261125T194108Z-transition-embedded"
    for worker in (None, "gw1"):
        evidence = Evidence(tmp_path, run_dir=run_dir, worker=worker)
        evidence.redactor.add(["tok_SECRET_123"])
        evidence.finish_test(f"features/x.feature::test_{worker}", "x", [], "passed", "")
        evidence.keep_text("stand-in-bot-output.txt", "out")
        evidence.keep_facts("paper-account.json", GatewayFacts(host="127.0.0.1", port=4002, accounts=("DU1234567",),
                                                               problem="token tok_SECRET_123"))
        evidence.write()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "evidence-gw1.jsonl", "evidence.jsonl", "paper-account.json", "stand-in-bot-output-gw1.txt",
        "stand-in-bot-output.txt"]
    assert not (tmp_path / "evidence.jsonl").exists(), "the run directory's owner copies the rows to the top"
    paper = (run_dir / "paper-account.json").read_text(encoding="utf-8")
    assert "DU****567" in paper and "DU1234567" not in paper and "tok_SECRET_123" not in paper


def test_kept_facts_are_not_written_without_a_run_directory(tmp_path):
    evidence = Evidence(tmp_path)
    evidence.finish_test("features/x.feature::test_x", "x", [], "passed", "")
    evidence.keep_facts("paper-account.json", {"accounts": ["DU1234567"]})
    evidence.write()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence.jsonl"]


# -- what Allure shows beside the results ---------------------------------------------------------------------
def test_a_scenarios_allure_labels_come_from_its_checklist_items():
    from harness.core import dod
    from harness.pytest.allure_labels import scenario_marks

    marks = scenario_marks(["transition", "dod_env_mode", "dod_log_paper", "critical"], critical=True)
    labels = {(m.kwargs.get("label_type"), m.args[0]) for m in marks if m.name == "allure_label"}
    assert labels == {("epic", "Task 4.3"), ("severity", "critical"),
                      ("feature", "Configuration Verified"), ("feature", "Paper Trading Mode Confirmed"),
                      ("story", dod.BY_ID["dod_env_mode"].text), ("story", dod.BY_ID["dod_log_paper"].text)}
    links = [m for m in marks if m.name == "allure_link"]
    assert [m.kwargs["name"] for m in links] == ["DoD item dod_env_mode", "DoD item dod_log_paper"]
    assert all(m.args[0].endswith("#" + m.kwargs["name"].rsplit(" ", 1)[-1]) for m in links)
    normal = scenario_marks(["dod_env_mode"], critical=False)
    assert ("severity", "normal") in {(m.kwargs.get("label_type"), m.args[0]) for m in normal if m.args}


def test_the_wrong_mode_category_takes_mode_and_account_failures_only():
    import re

    from harness.pytest.allure_labels import CATEGORIES

    wrong = next(c for c in CATEGORIES if c["name"] == "Wrong mode or account")
    pattern = re.compile(wrong["messageRegex"])  # Allure matches the whole message
    for message in ("harness.checks.CheckFailed: Execution mode is not paper trading: DRY_RUN=true",
                    "CheckFailed: Wrong account, halt the bot:\nU****321 is live",
                    "Discord announces the wrong mode: LIVE TRADING"):
        assert pattern.fullmatch(message), message
    for message in ("CheckFailed: Orders rejected: 2 orders rejected", "IBKR_CLIENT_ID is not set"):
        assert not pattern.fullmatch(message), message
    assert {c["name"]: c["matchedStatuses"] for c in CATEGORIES if "messageRegex" not in c} == {
        "Could not look: operator to confirm": ["skipped"], "Harness error": ["broken"]}


def test_environment_properties_are_ascii_escaped_and_redacted(tmp_path):
    from harness.pytest.allure_labels import env_mode, environment, write_environment

    rows = [{"records": [{"name": "bot .env", "facts": {"values": {"DRY_RUN": "false", "PAPER_TRADING": "true"}}}]}]
    props = environment(phase="transition", world="bot directory", versions={"harness": "0.1.0"},
                        gateway="127.0.0.1:4002", live_gateway=None, accounts=["DU****567"], mode=env_mode(rows))
    props["note"] = "tok_SECRET_123 é\nnext"
    target = write_environment(tmp_path, props, lambda text: text.replace("tok_SECRET_123", "****"))
    text = target.read_bytes().decode("ascii")
    assert "harness.version=0.1.0\n" in text and "world=bot directory\n" in text
    assert "mode=DRY_RUN=false PAPER_TRADING=true\n" in text and "account=DU****567\n" in text
    assert "note=**** \\u00e9\\nnext\n" in text and "tok_SECRET" not in text
    assert env_mode([]) == "(not read)"
