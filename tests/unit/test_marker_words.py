"""A log marker is shown to a person in words, never as a regular expression: the defaults' regexes by what they
mean (and the examples those words give really match), a phrase quoted with how it matches, the operator's own
regex as they wrote it; a failed check on a line a regex marker found names the marker so."""

from __future__ import annotations

import re

import pytest

from harness.checks import CheckFailed
from harness.checks import startup as checks
from harness.core.log_texts import DEFAULT_TEXTS, MARKER_WORDS, describe_marker
from harness.probes.logs import DEFAULT_FORBIDDEN, DEFAULT_PATTERNS, Pattern, error_markers, marker, markers, scan

# What only a regex's source holds: lookarounds, classes, escapes, the prefix.
REGEX_SYNTAX = re.compile(r"\(\?|\[\\|\\[sbwWd]|\bre:|\[\^")
DEFAULT_REGEXES = [text for texts in DEFAULT_TEXTS.values() for text in texts if text.startswith("re:")]


def test_every_default_regex_has_words():
    assert DEFAULT_REGEXES and set(DEFAULT_REGEXES) == set(MARKER_WORDS)


@pytest.mark.parametrize("pattern", [p for group in DEFAULT_PATTERNS.values() for p in group], ids=str)
def test_no_default_pattern_is_described_by_its_regex(pattern: Pattern):
    words = pattern.describe()
    assert words and not REGEX_SYNTAX.search(words), words
    assert pattern.text not in words or not pattern.regex


@pytest.mark.parametrize("text", DEFAULT_REGEXES)
def test_the_examples_a_default_regex_is_described_by_are_true(text: str):
    """Words that promise "DRY_RUN=true" must be words of a marker that finds "DRY_RUN=true"; the ones it says
    it does not find ("not ...") it must not."""
    words = MARKER_WORDS[text]
    found = marker(text)
    said = re.findall(r'(not )?"([^"]+)"', words)
    examples = [example for negative, example in said if not negative and example != "trading_mode"]
    assert examples, words
    for example in examples:
        line = f'2026-01-05 09:00:00 INFO bot: {example}' if example != "live" else '{"trading_mode": "live"}'
        assert found.matches(line), (text, example)
    for negative, example in said:
        if negative:
            assert not found.matches(f"{example} changed to live"), (text, example)


def test_a_phrase_is_quoted_with_how_it_matches():
    assert marker("dry run mode").describe() == '"dry run mode" (any case, spaces, _ or - between the words)'
    assert marker("error").describe() == '"error" (any case, as a whole word)'
    assert Pattern("Configuration loaded:").describe() == '"Configuration loaded:"'
    assert Pattern("Bot initialized successfully", ignore_case=True).describe() == \
        '"Bot initialized successfully" (any case)'


def test_the_operators_own_regex_is_shown_as_they_wrote_it():
    own = r"re:\bmode=sim\b"
    assert marker(own).describe() == 'your own marker "re:\\bmode=sim\\b" (a regular expression, any case)'
    assert describe_marker(own) == marker(own).describe()
    # Written like a default, it reads as the default does.
    assert marker(DEFAULT_TEXTS["dry_run"][3]).describe() == MARKER_WORDS[DEFAULT_TEXTS["dry_run"][3]]


def test_a_scan_carries_each_patterns_words(tmp_path):
    log = tmp_path / "bot.log"
    log.write_text("2026-01-05 09:00:00 INFO bot: Configuration loaded: DRY_RUN=true, PAPER_TRADING=false\n",
                   encoding="utf-8")
    facts = scan([log], DEFAULT_FORBIDDEN)
    assert [fact.words for fact in facts.patterns] == [p.describe() for p in DEFAULT_FORBIDDEN]
    assert facts.facts_for(DEFAULT_TEXTS["dry_run"][3]).count == 1


def test_a_line_a_regex_marker_found_is_named_in_words(tmp_path):
    """The world is wrong (the bot loaded DRY_RUN=true); the failure an operator reads names the marker in words."""
    log = tmp_path / "bot.log"
    log.write_text("2026-01-05 09:00:00 INFO bot: Configuration loaded: DRY_RUN=true, PAPER_TRADING=false\n"
                   "2026-01-05 09:00:01 ERROR bot: order book stale\n", encoding="utf-8")
    for found, meaning, says in (
            (scan([log], markers(DEFAULT_TEXTS["dry_run"])), "dry-run mode", MARKER_WORDS[DEFAULT_TEXTS["dry_run"][3]]),
            (scan([log], error_markers(DEFAULT_TEXTS["errors"])), "an error", 'the word "error" (any case)')):
        with pytest.raises(CheckFailed) as failure:
            checks.check_absent(found, "Still in dry-run mode", critical=False, advice="re-check", meaning=meaning)
        message = failure.value.message
        assert f"the log says {meaning}: 1 line(s) match {says}, first " in message, message
        assert not REGEX_SYNTAX.search(message), message


def test_the_paper_line_names_the_marker_in_words():
    from tests.unit.test_logs_checks import BLOCK

    with pytest.raises(CheckFailed) as failure:
        checks.check_paper_line(BLOCK, marker(r"re:paper\s+mode\s+on"))
    assert 'your own marker "re:paper\\s+mode\\s+on"' in failure.value.message
    with pytest.raises(CheckFailed) as failure:
        checks.check_paper_line(BLOCK, marker("Paper trading mode ACTIVE"))
    assert '"Paper trading mode ACTIVE" (any case, spaces, _ or - between the words)' in failure.value.message
    assert not REGEX_SYNTAX.search(str(failure.value))
