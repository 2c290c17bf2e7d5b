"""The board card: the overall status by the transition log's rule, each phase's verdict, the failing and the
unconfirmed items, the links; the same evidence gives the same text, and nothing unmasked."""

from __future__ import annotations

from harness.evidence import runs as run_files
from harness.evidence.attestations import Attestation
from harness.report import board_card
from tests.unit.test_transition_log import PHASE_ITEMS, item, make_run, verified_world

LINKS = {"Transition log": "docs/Task_4_3_Transition_Log.md", "HTML report": "report/index.html"}


def card(evidence, attestations=None, links=LINKS) -> str:
    return board_card.render(run_files.latest_runs(evidence), attestations or {}, links)


def test_a_verified_transition_says_success_with_every_phase_and_the_links(tmp_path):
    verified_world(tmp_path)
    text = card(tmp_path)
    assert text.splitlines()[0] == "### Task 4.3 — Transition to Paper Trading: ✅ SUCCESS"
    for phase in ("preflight", "transition", "first-hour", "first-day"):
        assert f"| {phase} | ✅ TRANSITION VERIFIED |" in text
    assert "| rollback | not run yet" in text
    assert "**Failing:**" not in text and "**Still to run or confirm:**" not in text
    links = [line for line in text.splitlines() if line.startswith("- [")]
    assert links == ["- [HTML report](report/index.html)", "- [Transition log](docs/Task_4_3_Transition_Log.md)"]
    assert card(tmp_path) == text


def test_a_failure_is_listed_with_its_phase_and_the_card_needs_remediation(tmp_path):
    verified_world(tmp_path, skip=("transition",))
    items = [item(i) for i in PHASE_ITEMS["transition"] if i != "dod_discord_paper"]
    items.append(item("dod_discord_paper", "FAILED", "Discord says 'Bot started in LIVE mode' for U1234567"))
    make_run(tmp_path, "transition", "NEEDS REMEDIATION", items)
    text = card(tmp_path)
    assert "❌ NEEDS REMEDIATION" in text.splitlines()[0]
    assert "- ❌ `dod_discord_paper` (transition): Discord says 'Bot started in LIVE mode'" in text
    assert "U1234567" not in text and "U****567" in text


def test_phases_not_run_and_items_to_confirm_are_listed(tmp_path):
    items = [item(i) for i in PHASE_ITEMS["preflight"] if i != "pre_stability_criteria"]
    items.append(item("pre_stability_criteria", "OPERATOR TO CONFIRM", "operator to confirm: All 6 criteria"))
    make_run(tmp_path, "preflight", "INCOMPLETE", items)
    text = card(tmp_path, links={})
    assert "⏳ INCOMPLETE" in text.splitlines()[0]
    assert "- preflight: pre_stability_criteria: All 6 criteria" in text
    assert "- transition: not run yet (`harness check --phase transition`)" in text
    assert "**Evidence:**" not in text


def test_the_declaration_is_shown_when_recorded(tmp_path):
    verified_world(tmp_path)
    declared = Attestation("dod_operator_declared", "Ana", "2026-11-26T09:00:00+00:00")
    assert "**Operator declaration:** Ana, 2026-11-26T09:00:00+00:00" in card(tmp_path, {"dod_operator_declared":
                                                                                          declared})


def test_a_card_of_the_embedded_world_says_it_is_a_demonstration(tmp_path):
    from harness.report.transition_log import EMBEDDED_BANNER

    verified_world(tmp_path)
    assert EMBEDDED_BANNER not in card(tmp_path)
    verified_world(tmp_path / "demo", world="embedded")
    text = card(tmp_path / "demo")
    assert text.splitlines()[2] == EMBEDDED_BANNER and "✅ SUCCESS" in text.splitlines()[0]
