"""One table of checks (harness.checks.catalog) for the two runners: the steps and the watch's rounds take each
check's title, item and advice from it and never spell them themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks import catalog
from harness.core import dod
from harness.watch.rounds import CHECKS

REPO = Path(__file__).resolve().parents[2]
RUNNERS = sorted([*REPO.joinpath("steps").glob("*.py"), *REPO.joinpath("harness", "watch").glob("*.py")])
ENTRIES = [value for value in vars(catalog).values() if isinstance(value, catalog.Check)]


def test_the_watch_rounds_are_the_catalogs_rows_in_order():
    assert tuple((check.name, check.item, check.looks_at) for check in catalog.WATCH_ROUND) == CHECKS
    assert len({name for name, _, _ in CHECKS}) == len(CHECKS)


@pytest.mark.parametrize("check", ENTRIES, ids=lambda check: check.name)
def test_every_check_speaks_to_a_checklist_item_and_says_what_to_do_when_it_is_critical(check):
    assert check.item in dod.BY_ID, f"{check.name}: {check.item} is not a checklist item"
    assert check.title and check.looks_at
    assert not check.critical or "HALT" in check.advice


@pytest.mark.parametrize("check", ENTRIES, ids=lambda check: check.name)
def test_no_runner_spells_a_checks_title_or_advice_itself(check):
    for runner in RUNNERS:
        text = runner.read_text(encoding="utf-8")
        for words in (check.title, check.advice):
            assert not words or f'"{words}' not in text, f"{runner.name} spells {words!r}: take it from the catalog"
