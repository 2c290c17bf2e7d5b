"""What every command shares: the exit statuses, the settings they read, where the bot's .env is."""

from __future__ import annotations

from pathlib import Path

from harness.core.refusal import Refused
from harness.core.settings import SPECS, Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

# The settings each command reads. Every other pytest harness option is accepted too (and ignored), so one
# command line or one set of HARNESS_* variables serves `harness` and `pytest` alike.
USES: dict[str, frozenset[str]] = {
    "snapshot": frozenset({"bot_dir", "bot_env", "baseline", "evidence_dir"}),
    "switch": frozenset({"bot_dir", "bot_env", "baseline", "evidence_dir", "bot_process"}),
    "confirm": frozenset({"evidence_dir", "bot_dir", "bot_env"}),
    "halt": frozenset({"bot_dir", "bot_env", "evidence_dir", "bot_process", "gateway", "client_id", "timeout",
                       "live_gateway_port"}),
    "demo": frozenset({"evidence_dir"}),
    "rehearse": frozenset({"bot_dir", "bot_env", "evidence_dir", "bot_log", "bot_process", "bot_log_tz", "log_startup",
                           "log_expected", "log_gateway_line", "log_paper_active", "log_live_markers",
                           "log_dry_run_markers", "log_error_markers", "log_shutdown_markers", "client_id", "timeout",
                           "reconnect_within", "heartbeat_gap", "expect_rejections"}),
    "report": frozenset({"bot_dir", "bot_env", "evidence_dir", "transition_log", "timeout"}),
    # The watch re-runs the monitoring checks: it reads what `pytest features/` reads.
    "watch": frozenset(spec.name for spec in SPECS) - {"phase", "place_test_order"},
}

def env_path_of(settings: Settings) -> Path:
    path = settings.env_file
    if path is None:
        raise Refused("which .env? give --bot-dir DIR or --bot-env FILE (or HARNESS_BOT_DIR)")
    return path

