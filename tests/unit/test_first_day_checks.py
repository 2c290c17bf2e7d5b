"""The first-day checks on hand-written logs read by the real probe: a clean first day passes every check, and each
fault makes exactly its own check fail (the others pass, or could not look where nothing can be told)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from harness.checks import CheckFailed, CouldNotLook
from harness.checks import first_day as checks
from harness.checks import startup as startup_checks
from harness.probes import logs
from harness.probes.processes import BotProcess, ProcessFacts
from tests.unit.test_bot_day import (
    NEW_YORK,
    Line,
    at,
    block,
    clean_day,
    every,
    read,
    write_json,
    write_plain,
)

MONDAY = date(2026, 3, 9)
WITHIN = timedelta(minutes=15)
HEARTBEAT = timedelta(minutes=30)
CHECKS = ("autostart", "paper start", "reconnect", "no crashes", "weekly re-login")


def _paper_start(day) -> str:
    start = checks.require_scheduled_start(day)
    startup_checks.check_configuration_paper(logs.configuration_line(start.block), start.block)
    startup_checks.check_paper_line(start.block, logs.marker("Paper trading mode ACTIVE"))
    startup_checks.check_lines_in_order(logs.find_in_order(start.block), start.block)
    checks.check_no_wrong_mode(day)
    return "ok"


def outcomes(day, process: ProcessFacts | None = None) -> dict[str, str]:
    """Each check's outcome: 'pass', 'FAIL: <message>' or 'skip: <reason>'."""
    runs = {
        "autostart": lambda: checks.check_autostart(day),
        "paper start": lambda: _paper_start(day),
        "reconnect": lambda: checks.check_reconnected(day, WITHIN),
        "no crashes": lambda: checks.check_no_crashes(day, HEARTBEAT, process),
        "weekly re-login": lambda: checks.check_weekly_relogin(day, WITHIN),
    }
    found = {}
    for name, run in runs.items():
        try:
            run()
            found[name] = "pass"
        except CheckFailed as failure:
            found[name] = f"FAIL: {failure}"
        except CouldNotLook as skip:
            found[name] = f"skip: {skip.reason}"
    return found


def failing(found: dict[str, str]) -> set[str]:
    return {name for name, outcome in found.items() if outcome.startswith("FAIL")}


def test_a_clean_first_day_passes_every_check(tmp_path):
    found = outcomes(read(write_plain(tmp_path / "bot.log", clean_day())))
    assert found == dict.fromkeys(CHECKS, "pass")


def test_a_clean_first_day_in_cp1252_with_crlf_passes_every_check(tmp_path):
    lines = [*clean_day(), Line(at(MONDAY, "09:31"), "INFO", "Order filled: 1 SPY @ 1.00 € fee, Zürich desk")]
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines, encoding="cp1252", newline="\r\n")))
    assert found == dict.fromkeys(CHECKS, "pass")


def test_a_clean_first_day_in_json_lines_passes_every_check(tmp_path):
    found = outcomes(read(write_json(tmp_path / "bot.jsonl", clean_day())))
    assert found == dict.fromkeys(CHECKS, "pass")


@pytest.mark.parametrize(("message", "critical"), [("Live trading mode ACTIVE", True),
                                                   ("DRY_RUN mode active: signals are logged", False)])
def test_a_wrong_mode_line_during_the_day_fails_the_paper_start_only(tmp_path, message, critical):
    lines = [*clean_day(), Line(at(MONDAY, "13:00"), "WARNING", message)]
    day = read(write_plain(tmp_path / "bot.log", lines))
    found = outcomes(day)
    assert failing(found) == {"paper start"}
    assert "2026-03-09 13:00:00 EDT" in found["paper start"]
    with pytest.raises(CheckFailed) as failure:
        checks.check_no_wrong_mode(day)
    assert failure.value.critical is critical


def test_negated_mode_mentions_are_not_a_wrong_mode(tmp_path):
    lines = [*clean_day(), Line(at(MONDAY, "13:00"), "INFO", "Not in live mode; dry run mode: off")]
    assert outcomes(read(write_plain(tmp_path / "bot.log", lines))) == dict.fromkeys(CHECKS, "pass")


def test_no_start_at_06_00_fails_the_autostart_only(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day(start="08:12:00")))  # started by hand
    found = outcomes(day)
    assert failing(found) == {"autostart"}
    assert "between 2026-03-09 05:58:00 EDT and 2026-03-09 06:10:00 EDT" in found["autostart"]
    assert "2026-03-09 08:12:00 EDT" in found["autostart"]
    assert found["paper start"].startswith("skip")  # nothing to check: the auto-start fails for it


def test_no_start_at_all_on_the_first_day_fails_the_autostart(tmp_path):
    lines = [line for line in clean_day() if line.at < at(MONDAY, "00:00")]
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert "found no startup that day" in found["autostart"]
    assert found["no crashes"].startswith("skip")  # nothing ran: no crash, and no proof of none either


def test_a_start_at_07_00_in_summer_fails_the_autostart_with_the_dst_hint(tmp_path):
    lines = clean_day(date(2026, 7, 10), date(2026, 7, 13), start="07:00:03")
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert failing(found) == {"autostart"}
    assert "2026-07-13 07:00:03 EDT" in found["autostart"] and "exactly one hour off" in found["autostart"]


def test_the_same_06_00_start_passes_in_winter_and_in_summer(tmp_path):
    winter = clean_day(date(2026, 1, 9), date(2026, 1, 12))
    summer = clean_day(date(2026, 7, 10), date(2026, 7, 13))
    for name, lines in (("winter", winter), ("summer", summer)):
        assert outcomes(read(write_plain(tmp_path / name / "bot.log", lines))) == dict.fromkeys(CHECKS, "pass")


def test_a_crash_at_noon_and_a_restart_fail_no_crashes_with_both_times(tmp_path):
    lines = [*clean_day(),
             Line(at(MONDAY, "12:00:00"), "ERROR", "Traceback (most recent call last):"),
             *block(at(MONDAY, "12:00:30"))]
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert failing(found) == {"no crashes"}
    assert "2026-03-09 12:00:00 EDT" in found["no crashes"] and "2026-03-09 12:00:30 EDT" in found["no crashes"]
    assert "after the error at 2026-03-09 12:00:00 EDT" in found["no crashes"]


def test_a_restart_without_an_error_line_still_fails_no_crashes(tmp_path):
    found = outcomes(read(write_plain(tmp_path / "bot.log", [*clean_day(), *block(at(MONDAY, "12:00:30"))])))
    assert failing(found) == {"no crashes"}
    assert "1 start(s) other than the scheduled one" in found["no crashes"]


def test_no_reconnection_after_the_restart_fails_the_reconnect_only(tmp_path):
    lines = [line for line in clean_day() if line.message != "Gateway connection re-established"]
    lines += every(at(MONDAY, "16:35"), at(MONDAY, "17:00"), timedelta(minutes=5),
                   "Reconnecting to IBKR Gateway at 127.0.0.1:4002")
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert failing(found) == {"reconnect"}
    assert "disconnected at 2026-03-09 16:30:02 EDT" in found["reconnect"]
    assert "the last at 2026-03-09 17:00:00 EDT" in found["reconnect"]


def test_a_reconnection_too_late_fails_the_reconnect_only(tmp_path):
    found = outcomes(read(write_plain(tmp_path / "bot.log", clean_day(reconnect_after=timedelta(minutes=22)))))
    assert failing(found) == {"reconnect"}
    assert "22 min later" in found["reconnect"] and "2026-03-09 16:52:02 EDT" in found["reconnect"]


def test_a_reconnection_within_the_bound_passes(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day(reconnect_after=timedelta(minutes=14))))
    assert "14 min later" in checks.check_reconnected(day, WITHIN)


def test_a_bot_stopped_after_the_close_but_before_the_restart_fails_the_reconnect_only(tmp_path):
    lines = [line for line in clean_day() if line.at < at(MONDAY, "16:10")]
    lines.append(Line(at(MONDAY, "16:10"), "INFO", "Shutting down: clean shutdown complete"))
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert failing(found) == {"reconnect"}  # a clean stop after the close is no crash
    assert "shutdown at 2026-03-09 16:10:00 EDT" in found["reconnect"]


def test_a_bot_that_ran_through_the_restart_without_a_word_could_not_be_judged(tmp_path):
    lines = [line for line in clean_day() if "Gateway" not in line.message or line.at < at(MONDAY, "16:00")]
    lines += every(at(MONDAY, "16:25"), at(MONDAY, "17:00"), timedelta(minutes=5))
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert found["reconnect"].startswith("skip") and "cannot be told" in found["reconnect"]


def test_a_heartbeat_gap_fails_no_crashes_only(tmp_path):
    lines = [line for line in clean_day() if not (at(MONDAY, "11:01") <= line.at <= at(MONDAY, "11:44"))]
    lines.append(Line(at(MONDAY, "11:45"), "INFO", "Heartbeat: alive"))
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert failing(found) == {"no crashes"}
    assert "silent from 2026-03-09 11:00:03 EDT to 2026-03-09 11:45:00 EDT (44 min" in found["no crashes"]


def test_a_log_that_stops_says_whether_the_process_still_runs(tmp_path):
    lines = [line for line in clean_day() if line.at <= at(MONDAY, "13:05")]
    day = read(write_plain(tmp_path / "bot.log", lines))
    gone = outcomes(day, ProcessFacts(True, None, "src.main", ()))
    assert "the bot exited without logging a shutdown" in gone["no crashes"]
    hung = outcomes(day, ProcessFacts(True, None, "src.main", (BotProcess(4242, "python -m src.main"),)))
    assert "pid 4242: it hung" in hung["no crashes"]


def test_a_shutdown_while_the_market_is_open_fails_no_crashes_only(tmp_path):
    lines = [line for line in clean_day() if line.at <= at(MONDAY, "11:00:03")]
    lines.append(Line(at(MONDAY, "11:05"), "INFO", "Shutting down: clean shutdown complete"))
    lines += [*block(at(MONDAY, "16:20")), *clean_day()[-6:]]  # back before the restart: only the stop is wrong
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert "shut down while the market was open (09:30-16:00 ET): 2026-03-09 11:05:00 EDT" in found["no crashes"]
    assert failing(found) == {"no crashes"}


def test_an_error_line_fails_no_crashes_only(tmp_path):
    lines = [*clean_day(), Line(at(MONDAY, "10:00"), "ERROR", "Order rejected by strategy B: invalid price")]
    found = outcomes(read(write_json(tmp_path / "bot.jsonl", lines)))
    assert failing(found) == {"no crashes"}
    assert "1 error or crash line(s): 2026-03-09 10:00:00 EDT" in found["no crashes"]


def test_the_sunday_relogin_missed_fails_the_weekly_relogin_only(tmp_path):
    start = at(MONDAY, "06:00:03")
    connected = at(MONDAY, "09:02")
    logged_out = [*block(start, ("Configuration loaded: DRY_RUN=false, PAPER_TRADING=true",
                                 "Connecting to IBKR Gateway at 127.0.0.1:4002")),
                  *every(start + timedelta(seconds=5), at(MONDAY, "09:00"), timedelta(minutes=5),
                         "Connect attempt failed: ConnectionRefusedError"),
                  *block(connected, ("Gateway connection established", "Paper trading mode ACTIVE",
                                     "Bot initialized successfully"))]
    day_lines = [line for line in clean_day() if line.at < at(MONDAY, "00:00") or line.at > at(MONDAY, "09:10")]
    found = outcomes(read(write_plain(tmp_path / "bot.log", [*day_lines, *logged_out])))
    assert failing(found) == {"weekly re-login"}
    assert "from 2026-03-09 06:00:03 EDT" in found["weekly re-login"]
    assert "connected only at 2026-03-09 09:02:00 EDT" in found["weekly re-login"]


def test_without_a_sunday_before_the_first_day_the_weekly_relogin_is_for_the_operator(tmp_path):
    lines = clean_day(date(2026, 3, 9), date(2026, 3, 10))  # Monday's switch, Tuesday's first day
    found = outcomes(read(write_plain(tmp_path / "bot.log", lines)))
    assert found["weekly re-login"].startswith("skip") and "no Sunday" in found["weekly re-login"]
    assert failing(found) == set()


def test_before_the_window_ends_every_check_is_for_the_operator(tmp_path):
    day = read(write_plain(tmp_path / "bot.log", clean_day()), now=datetime(2026, 3, 9, 18, tzinfo=NEW_YORK))
    found = outcomes(day)
    assert all(outcome.startswith("skip") for outcome in found.values())
    assert "ends at 2026-03-10 06:00:00 EDT: run again after" in found["autostart"]


def test_an_unreadable_log_is_for_the_operator(tmp_path):
    found = outcomes(read(tmp_path / "missing.log"))
    assert all(outcome.startswith("skip") for outcome in found.values())


@pytest.mark.parametrize(("length", "text"), [(timedelta(seconds=42), "42 s"), (timedelta(minutes=22), "22 min"),
                                              (timedelta(hours=2, minutes=5), "2 h 05 min")])
def test_minutes_are_written_for_an_operator(length, text):
    assert checks.minutes(length) == text


def test_times_in_messages_are_new_york_times():
    assert checks.et(datetime(2026, 7, 13, 11, 0, 3, tzinfo=timezone.utc)) == "2026-07-13 07:00:03 EDT"


def test_the_gateway_note_names_clients_seen_after_the_restart_and_never_decides():
    from harness.probes.gateway import ExecutionFact, GatewayFacts

    restart, end = at(MONDAY, "16:30"), datetime(2026, 3, 10, 6, tzinfo=NEW_YORK)
    seen = GatewayFacts(handshake_ok=True, executions=(
        ExecutionFact(client_id=1, time=at(MONDAY, "09:31")), ExecutionFact(client_id=1, time=at(MONDAY, "16:45"))))
    assert "1 execution(s) after the restart by client id(s) 1, the last at 2026-03-09 16:45:00 EDT" in \
        checks.gateway_after_restart(seen, restart, end)
    assert "judged from the log only" in checks.gateway_after_restart(GatewayFacts(handshake_ok=True), restart, end)
    assert "could not be read" in checks.gateway_after_restart(GatewayFacts(problem="refused"), restart, end)
    assert "not read" in checks.gateway_after_restart(None, restart, end)


# -- the first day's orders at the paper gateway ------------------------------------------------------------------
def _day_with_orders(tmp_path):
    lines = [*clean_day(),
             Line(at(MONDAY, "06:00:05"), "INFO", "Order submitted: id=7 ref=strategy-A BUY 1 SPY @ 1.00"),
             Line(at(MONDAY, "06:00:06"), "INFO", "Order submitted: id=9 ref=strategy-B BUY 2 IWM @ 1.00")]
    return read(write_plain(tmp_path / "bot.log", lines))


def _paper(*, open_orders=(), executions=(), completed=()):
    from harness.probes.gateway import GatewayFacts

    return GatewayFacts(host="127.0.0.1", port=4002, handshake_ok=True, accounts=("DU1234567",),
                        open_orders=tuple(open_orders), executions=tuple(executions),
                        completed_orders=tuple(completed))


def _order(order_id, symbol="SPY", quantity=1.0, client_id=1, account="DU1234567"):
    from harness.probes.gateway import OrderFact

    return OrderFact(order_id=order_id, perm_id=100 + order_id, client_id=client_id, account=account, symbol=symbol,
                     action="BUY", quantity=quantity, limit_price=1.0, order_ref="strategy-A", status="Submitted")


def _execution(order_id, when, symbol="SPY", shares=1.0, client_id=1):
    from harness.probes.gateway import ExecutionFact

    return ExecutionFact(exec_id=f"e{order_id}", order_id=order_id, perm_id=100 + order_id, client_id=client_id,
                         account="DU1234567", symbol=symbol, side="BOT", shares=shares, price=1.0, time=when)


def day_orders(day, facts, client_id=1):
    from harness.probes import reconcile

    shown = checks.day_records(day, facts, client_id)
    result = reconcile.reconcile(day.orders.orders, reconcile.broker_orders(shown), client_id, day.orders.rejections)
    return checks.check_day_orders_in_paper(day, facts, result)


def test_the_days_orders_open_or_executed_at_the_paper_gateway_pass(tmp_path):
    day = _day_with_orders(tmp_path)
    notes = day_orders(day, _paper(open_orders=[_order(7)], executions=[_execution(9, at(MONDAY, "09:30"), "IWM", 2)]))
    assert notes[0] == "id=7 ref=strategy-A BUY 1 SPY @ 1.00 at 2026-03-09 06:00:05 EDT: submitted in DU****567"
    assert "id=9" in notes[1] and "filled" in notes[1]


def test_orders_the_gateway_no_longer_shows_are_for_the_operator_never_a_pass(tmp_path):
    from harness.probes.gateway import CompletedOrderFact

    day = _day_with_orders(tmp_path)
    for facts in (_paper(), _paper(open_orders=[_order(7)]),
                  _paper(completed=[CompletedOrderFact(perm_id=5, account="DU1234567", symbol="IWM", action="BUY",
                                                       quantity=2.0, order_ref="strategy-B", status="Filled")])):
        with pytest.raises(CouldNotLook, match=r"current session only.*confirm them in the paper account"):
            day_orders(day, facts)  # a completed order carries no time: never taken for the first day's


def test_an_order_of_the_day_the_bot_never_logged_fails(tmp_path):
    day = _day_with_orders(tmp_path)
    facts = _paper(open_orders=[_order(7), _order(8, "DIA"), _order(9, "IWM", 2.0)])
    with pytest.raises(CheckFailed, match=r"never logged: client 1 id=8 .*DIA"):
        day_orders(day, facts)
    # The bot's orders outside the day's ids (an older day's, today's) and other clients' are not the first day's.
    assert len(day_orders(day, _paper(open_orders=[_order(7), _order(9, "IWM", 2.0), _order(3, "QQQ"),
                                                   _order(12, "QQQ"), _order(8, "DIA", client_id=5)]))) == 2


def test_an_execution_in_the_window_the_bot_never_logged_fails(tmp_path):
    day = _day_with_orders(tmp_path)
    facts = _paper(open_orders=[_order(7), _order(9, "IWM", 2.0)], executions=[_execution(40, at(MONDAY, "11:00"))])
    with pytest.raises(CheckFailed, match="never logged"):
        day_orders(day, facts)


def test_a_different_quantity_fails_and_a_live_account_is_critical(tmp_path):
    day = _day_with_orders(tmp_path)
    with pytest.raises(CheckFailed, match="quantity logged 2, account 5"):
        day_orders(day, _paper(open_orders=[_order(7), _order(9, "IWM", 5.0)]))
    with pytest.raises(CheckFailed, match="LIVE account") as failure:
        day_orders(day, _paper(open_orders=[_order(7, account="U7654321"), _order(9, "IWM", 2.0)]))
    assert failure.value.critical and "U7654321" not in str(failure.value)


def test_a_day_without_orders_or_not_over_is_for_the_operator(tmp_path):
    quiet = read(write_plain(tmp_path / "bot.log", clean_day()))
    with pytest.raises(CouldNotLook, match="logged no 'Order submitted' line"):
        day_orders(quiet, _paper())
    early = read(write_plain(tmp_path / "early.log", clean_day()), now=at(MONDAY, "12:00"))
    with pytest.raises(CouldNotLook, match="run again after"):
        day_orders(early, _paper())


def test_the_notification_window_reaches_the_start_s_late_connection(tmp_path):
    clean = read(write_plain(tmp_path / "bot.log", clean_day()))
    # The stand-in's connection line comes 0.2 s after its startup line.
    assert checks.notification_window(clean, clean.scheduled_start) == checks.NOTIFICATION_WINDOW + timedelta(
        milliseconds=200)
    late = clean_day()
    index = next(n for n, line in enumerate(late) if line.message == "Gateway connection established"
                 and line.at.date() == MONDAY)
    late[index] = Line(at(MONDAY, "08:40"), "INFO", "Gateway connection established")  # connected only at 08:40
    day = read(write_plain(tmp_path / "late.log", late))
    assert checks.notification_window(day, day.scheduled_start) == checks.NOTIFICATION_WINDOW + (
        at(MONDAY, "08:40") - at(MONDAY, "06:00:03"))


def test_a_switch_on_the_sunday_itself_is_judged_from_the_switch_not_from_the_dry_run_bots_morning(tmp_path):
    """The dry-run bot tried the logged-out gateway all Sunday morning; the operator logged it in, switched at 15:00
    and the paper start connected at once: the weekly re-login was handled for this transition."""
    sunday = date(2026, 3, 8)
    tried = every(at(sunday, "09:00"), at(sunday, "12:00"), timedelta(minutes=30),
                  "Connect attempt failed: ConnectionRefusedError")
    switch = at(sunday, "15:00")
    lines = [*tried, *block(switch), Line(switch + timedelta(minutes=65), "INFO", "Shutting down: clean shutdown"),
             *[line for line in clean_day() if line.at >= at(MONDAY, "00:00")]]
    day = read(write_plain(tmp_path / "bot.log", lines), since=at(sunday, "14:30"))
    assert day.weekly_relogin_sunday == sunday
    found = outcomes(day)
    assert "weekly re-login" not in failing(found), found["weekly re-login"]


def test_a_log_file_read_only_in_part_leaves_the_absences_to_the_operator(tmp_path):
    """A rotated file that cannot be read (a corrupt .gz) may hold the crash or the LIVE line looked for: "no crash"
    and "no wrong mode" are operator to confirm, never passed; what was found (the start, the reconnection)
    stands."""
    path = write_plain(tmp_path / "bot.log", clean_day())
    (tmp_path / "bot.log.1.gz").write_bytes(b"\x1f\x8b\x08\x00not really gzip at all")
    day = read(path)
    assert [problem.kind for problem in day.log.problems] == ["corrupt"]
    found = outcomes(day)
    assert found["no crashes"].startswith("skip") and "could not be read" in found["no crashes"]
    assert failing(found) == set() and not found["autostart"].startswith("skip")
