"""Texts kept beside the evidence (the stand-in bot's output) are redacted and capped like every record."""

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
