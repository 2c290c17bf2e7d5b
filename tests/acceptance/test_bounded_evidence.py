"""Evidence is bounded: a bot log whose newest startup block holds one enormous line (a base64 blob with no
space, as a bot that logs a payload writes it) leaves an evidence.jsonl and Allure attachments of a few KB,
each excerpt cut with a "… [N more characters]" marker, not a copy of the line."""

from __future__ import annotations

from harness.core import clock
from harness.fakes.botdir import make_bot_dir
from tests.acceptance.matrix import Fault
from tests.acceptance.runner import run_features

NO_ERRORS = "test_no_error_or_traceback_since_the_startup"
MATRIX = [Fault("a 10 MB log line", "the newest startup block holds an ERROR line of 10 MB without a space",
                {NO_ERRORS}, "test_bounded_evidence.py::test_an_enormous_log_line_leaves_small_evidence",
                others_may_fail=True)]
BLOB_CHARS = 10_000_000  # the 100 MB line scaled down: before the fix evidence.jsonl grew with it
MAX_EVIDENCE_BYTES = 300_000


def test_an_enormous_log_line_leaves_small_evidence(tmp_path):
    bot = make_bot_dir(tmp_path / "bot")
    stamp = clock.local_now().strftime("%Y-%m-%d %H:%M:%S")
    lines = ["Configuration loaded: DRY_RUN=false, PAPER_TRADING=true", "Connecting to IBKR Gateway at localhost:4002",
             "Gateway connection established", "Paper trading mode ACTIVE",
             "ERROR bot: unexpected payload " + "QUJD" * (BLOB_CHARS // 4), "Bot initialized successfully"]
    with bot.log_file.open("a", encoding="utf-8") as log:
        log.write("".join(f"{stamp},{n:03d} INFO bot: {text}\n" for n, text in enumerate(lines)))
    allure, evidence = tmp_path / "allure", tmp_path / "evidence"
    run = run_features(tmp_path, "--bot-dir", str(bot.root), "--baseline", str(bot.baseline_file),
                       "--alluredir", str(allure), "--evidence-dir", str(evidence),
                       paths=("features/02_startup.feature",), timeout=120)
    assert MATRIX[0].fails <= run.failed(), run.output[-3000:]
    jsonl = evidence / "evidence.jsonl"
    assert jsonl.is_file(), run.output[-3000:]
    text = jsonl.read_text(encoding="utf-8")
    assert "QUJD" in text and "more characters]" in text, "the line must be in the evidence, as an excerpt"
    assert jsonl.stat().st_size < MAX_EVIDENCE_BYTES, f"evidence.jsonl is {jsonl.stat().st_size} bytes"
    attachments = [p for p in allure.glob("*-attachment.*")]
    assert attachments
    largest = max(p.stat().st_size for p in attachments)
    assert largest < MAX_EVIDENCE_BYTES, f"an Allure attachment is {largest} bytes"
    assert max(len(line) for line in run.output.splitlines()) < 20_000, "the terminal printed the whole line"
