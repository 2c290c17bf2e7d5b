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
