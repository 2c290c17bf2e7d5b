"""The bot's log read once: its newest start, what it logged since, its last clean shutdown."""

from __future__ import annotations

from harness.probes.bot_log import bot_activity, read_last_shutdown, read_newest_start

ZONE = "UTC (test)"
OLD = "2026-11-23 06:00:00,000 INFO bot: "
NEW = "2026-11-25 06:00:00,000 INFO bot: "


def write_log(tmp_path, lines: list[str]):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "bot.log").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(folder / "*.log*")


def newest(spec, **kw):
    return read_newest_start(spec, base_dir=None, startup_text="Configuration loaded", since=kw.get("since"),
                             tz=None, zone=ZONE)


def test_the_newest_start_is_the_last_startup_block_and_its_orders_are_its_own(tmp_path):
    spec = write_log(tmp_path, [
        OLD + "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
        OLD + "Gateway connection established",
        OLD + "Order submitted: id=1 ref=strategy-A BUY 1 SPY @ 1.00",
        NEW + "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
        NEW + "Order submitted: id=7 ref=strategy-B SELL 2 QQQ @ 2.00",
    ])
    start = newest(spec)
    assert start.problem is None and start.where.endswith("bot.log:4")
    assert start.started_at is not None and start.started_at.day == 25
    activity = bot_activity(start)
    assert [o.order_id for o in activity.orders.orders] == [7]
    assert activity.connected_claim is None  # the older start's claim never counts for the newest one


def test_no_log_given_and_an_unreadable_log_are_problems_not_exceptions(tmp_path):
    assert "give --bot-log" in newest(None).problem
    missing = newest(str(tmp_path / "nowhere" / "*.log"))
    assert missing.problem is not None and missing.block is None and bot_activity(missing).orders.orders == ()


def test_with_since_after_the_newest_start_the_newest_one_is_still_told(tmp_path):
    from datetime import datetime, timezone

    spec = write_log(tmp_path, [NEW + "Configuration loaded: DRY_RUN=false, PAPER_TRADING=true"])
    start = newest(spec, since=datetime(2026, 11, 26, tzinfo=timezone.utc))
    assert start.block is None and start.newest_any is not None and start.problem is None


def test_the_last_clean_shutdown_and_its_source(tmp_path):
    spec = write_log(tmp_path, [OLD + "Shutting down: clean shutdown complete", NEW + "Bot initialized successfully"])
    found = read_last_shutdown(spec, base_dir=None, markers=("clean shutdown",), tz=None, zone=ZONE)
    assert found.at is not None and found.at.day == 23 and "bot.log:1" in found.source and ZONE in found.source
    none = read_last_shutdown(spec, base_dir=None, markers=("never said",), tz=None, zone=ZONE)
    assert none.at is None and "no shutdown line" in none.source
    assert "--bot-log" in read_last_shutdown(None, base_dir=None, markers=(), tz=None, zone=ZONE).source
