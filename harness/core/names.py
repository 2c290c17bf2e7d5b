"""The names the evidence store is read back by, written once: the files of an evidence directory and of a run
(docs/evidence-layout.md), and the records the steps write and the report, the verdict and `harness confirm` read.

A step records facts under one of these names and the report finds them by the same constant, so renaming a record
is one edit here, never a silent miss in the transition log.
"""

from __future__ import annotations

# Files of the evidence directory.
RUNS_DIR = "runs"  # one folder per run
HISTORY_FILE = "history.jsonl"  # in runs/: one line per finished run, append-only
ATTESTATIONS_FILE = "attestations.json"
INCIDENTS_FILE = "incidents.json"
BASELINE_FILE = "baseline.json"  # the default --baseline

# Files of one run's folder.
RUN_FILE = "run.json"
VERDICT_FILE = "verdict.json"
EVIDENCE_FILE = "evidence.jsonl"  # a pytest-xdist worker writes evidence-gwN.jsonl
EVIDENCE_GLOB = "evidence*.jsonl"
PAPER_ACCOUNT_FILE = "paper-account.json"
LIVE_ACCOUNT_FILE = "live-account.json"
WATCH_ROUNDS_FILE = "watch-rounds.jsonl"
ALLURE_RESULTS_DIR = "allure-results"

# Records a step writes into evidence.jsonl that the report and the verdict read back.
NEWEST_STARTUP_BLOCK = "newest startup block"
PAPER_GATEWAY = "paper gateway"
LIVE_GATEWAY = "live gateway (read-only)"
FIRST_DAY = "first day"
CHANGES_SINCE_BASELINE = "changes since the baseline"
STARTUP_NOTIFICATION = "startup notification"
LAST_SHUTDOWN_LINE = "last shutdown line"
NYSE_SESSION_AT_SHUTDOWN = "NYSE session at shutdown"
