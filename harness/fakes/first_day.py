"""The embedded world's first day after the switch, lived in a few seconds.

The world owns a clock (a file holding an instant) and moves it; the stand-in bot runs for real against the fake
paper gateway and stamps its log with that clock (`python -m harness.fakes.bot --clock-file`). The day is placed
in the past, already over, so the probes see the first NYSE trading day after the switch as an operator would the
morning after:

* the switch on the evening of the previous trading day: the dry-run bot's clean shutdown 45 minutes after that
  day's close, the operator's hour of paper trading by hand (Step 3) from 20 minutes later, then a clean stop;
* the first day is the most recent trading day that follows a weekend (a Sunday lies between it and the trading
  day before) and whose 24 hours ended at least an hour ago: in every first-day world, so the weekly re-login
  question is always asked, and answered "handled" in the clean world;
* 06:00 ET (`--autostart-at`): the scheduled start (the bot connects at once: the gateway was logged in again after
  its Sunday restart), the seed's startup lines, the Discord notification (dated on the world's clock: the fake
  Discord's `clock`), the gameplan's orders through the fake gateway (good-till-cancelled limits far below the
  market: they rest, so the run the morning after still sees them open at the paper gateway);
* a heartbeat line every 10 minutes of the clock while the bot runs;
* 16:30 ET (`--gateway-restart`): the gateway drops its clients and refuses connections (`FakeGateway.go_down`);
  the bot logs the loss and retries; two minutes later the gateway accepts again and the bot logs the reconnection;
* the clock stops at 06:00 the next day; the bot is still running and connected.

How the clock moves: in steps of 10 minutes, each one only once the bot has acted on the last (the bot writes the
instant it acted on to `<clock>.seen`), so heartbeats never skip however busy the machine is; the clock holds
while the bot starts and while it reconnects, so a start's lines carry its start time and a reconnection is
logged two minutes after the restart, not after however long a loaded machine takes.

The machine is a desk in New York: naive times in the bot's log and in the task's trigger are America/New_York.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time as clock_time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from harness.fakes.bot import HEARTBEAT_TEXT, SEED_PAPER_STARTUP, replace_shared_file
from harness.fakes.botdir import BotDir, append_log
from harness.probes.market import NEW_YORK, trading_day

MACHINE_ZONE = "America/New_York"
STEP = timedelta(minutes=10)  # the clock's step, and the bot's heartbeat
RESTART_DOWN = timedelta(minutes=2)  # of the world's clock: how long the gateway's daily restart refuses clients
RELOGIN_AT = time(8, 40)  # first-day-relogin-missed: when the operator finally logs the gateway in again
CRASH_AT, RESTARTED_AT = time(12, 0), time(12, 3)  # first-day-crash-at-noon
STARTED_BY_HAND_AT = time(9, 12)  # first-day-no-autostart
MANUAL_START_AFTER_CLOSE = timedelta(minutes=65)  # the operator's start by hand on the evening of the switch
REAL_PAUSE = 0.02  # real seconds per step while no bot acts on the clock (it is down, or connecting)
WAIT_SECONDS = 30.0  # the longest real wait for the bot to act on the clock, start, or see the gateway go
BOT_KNOBS = (  # (world fault, the stand-in bot's knob that makes it)
    ("first-day-no-reconnect", "no-reconnect"), ("first-day-crash-at-noon", "crash-at-noon"),
    ("first-day-discord-dry-run", "discord-dry-run"), ("first-day-no-discord", "no-discord"),
    ("first-day-unlogged-order", "unlogged-order"),
)
READY_MARKERS = ("Gameplan complete", "Waiting for a gameplan", "Gateway connection failed", "Unhandled error",
                 "Signal (dry-run")


class FirstDayError(RuntimeError):
    """The simulated day could not be lived; the message says where it stuck."""


@dataclass(frozen=True)
class FirstDayDates:
    switch_day: date  # the previous trading day: the switch was made on its evening
    first_day: date
    switch_close: datetime  # that day's close (America/New_York)

    def at(self, moment: time, day: date | None = None) -> datetime:
        return datetime.combine(day or self.first_day, moment, tzinfo=NEW_YORK)

    @property
    def day_ends(self) -> datetime:
        return self.at(time(6, 0), self.first_day + timedelta(days=1))


def first_day_dates(now: datetime, autostart_at: time = time(6, 0)) -> FirstDayDates:
    """The most recent NYSE trading day that follows a weekend and whose 24 hours from `autostart_at` ended at
    least an hour before `now`, and the trading day before it."""
    day = now.astimezone(NEW_YORK).date()
    for _ in range(60):
        day -= timedelta(days=1)
        ends = datetime.combine(day + timedelta(days=1), autostart_at, tzinfo=NEW_YORK)
        if ends > now - timedelta(hours=1) or not _is_trading_day(day):
            continue
        before = _previous_trading_day(day)
        sunday = day - timedelta(days=(day.weekday() + 1) % 7 or 7)
        if before < sunday:
            return FirstDayDates(before, day, trading_day(before).close_at)  # type: ignore[union-attr]
    raise FirstDayError(f"no trading day after a weekend in the 60 days before {now:%Y-%m-%d}")


def _is_trading_day(day: date) -> bool:
    return trading_day(day) is not None


def _previous_trading_day(day: date) -> date:
    for back in range(1, 15):
        if _is_trading_day(day - timedelta(days=back)):
            return day - timedelta(days=back)
    raise FirstDayError(f"no trading day in the two weeks before {day}")


def append_manual_paper_hour(bot: BotDir, dates: FirstDayDates, host: str, port: int) -> None:
    """The evening of the switch: the operator's paper start by hand (Step 3), an hour of it, a clean stop."""
    started = dates.switch_close + MANUAL_START_AFTER_CLOSE
    lines = [(started, "INFO", text.format(host=host, port=port)) for text in SEED_PAPER_STARTUP]
    lines += [(started + STEP * n, "INFO", f"{HEARTBEAT_TEXT}, gateway connected") for n in range(1, 7)]
    stopped = started + timedelta(minutes=65)
    lines += [(stopped, "INFO", "Received stop request"), (stopped, "INFO", "Shutting down: clean shutdown complete")]
    append_log(bot, lines, NEW_YORK)


class FirstDay:
    """Lives the first day: moves the world's clock, starts the bot when the day says, restarts the gateway."""

    def __init__(self, root: Path, bot: BotDir, gateway, env: Mapping[str, str], stdout: Path,
                 dates: FirstDayDates) -> None:
        self.bot, self.gateway, self.env, self.stdout, self.dates = bot, gateway, dict(env), stdout, dates
        self.clock_file = root / "world-clock.txt"
        self.seen_file = root / "world-clock.txt.seen"
        self.processes: list[subprocess.Popen] = []
        self.now = dates.at(time(6, 0))

    # -- the clock -------------------------------------------------------------------------------------------
    def set(self, instant: datetime) -> None:
        self.now = instant
        if not replace_shared_file(self.clock_file, instant.isoformat() + "\n"):
            raise FirstDayError(f"cannot move the world's clock ({self.clock_file})")

    def seen(self) -> tuple[datetime, str] | None:
        try:
            instant, state = self.seen_file.read_text(encoding="utf-8").split()
            return datetime.fromisoformat(instant), state
        except (OSError, ValueError):
            return None

    def await_seen(self, process: subprocess.Popen, states: tuple[str, ...] = ()) -> bool:
        """Until the bot acted on the clock's instant (in one of `states`, when given); False if it exited."""
        deadline = clock_time.monotonic() + WAIT_SECONDS
        while clock_time.monotonic() < deadline:
            seen = self.seen()
            if seen is not None and seen[0] >= self.now and (not states or seen[1] in states):
                return True
            if process.poll() is not None:
                return False
            clock_time.sleep(0.001)
        raise FirstDayError(f"the stand-in bot (pid {process.pid}) did not act on the world's clock at "
                            f"{self.now:%H:%M} within {WAIT_SECONDS:.0f} s; it last said {self.seen()}")

    def step_to(self, until: datetime, process: subprocess.Popen | None, step: timedelta = STEP) -> None:
        """Move the clock to `until` on the grid of `step` (16:32 -> 16:40 -> 16:50); in step with a running bot,
        else at REAL_PAUSE a step."""
        while self.now < until:
            since_midnight = self.now - self.now.replace(hour=0, minute=0, second=0, microsecond=0)
            self.set(min(self.now + step - since_midnight % step, until))
            if process is not None and process.poll() is None:
                self.await_seen(process)
            else:
                clock_time.sleep(REAL_PAUSE)


    # -- the bot ---------------------------------------------------------------------------------------------
    def start_bot(self, bot_faults: set[str]) -> subprocess.Popen:
        env = dict(self.env)
        knobs = {f for f in env.get("BOT_FAULTS", "").split(",") if f} | bot_faults
        env["BOT_FAULTS"] = ",".join(sorted(knobs))
        with self.stdout.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "harness.fakes.bot", "--bot-dir", str(self.bot.root), "--clock-file",
                 str(self.clock_file), "--log-zone", MACHINE_ZONE, "--heartbeat-minutes",
                 f"{STEP.total_seconds() / 60:g}"],
                cwd=self.bot.root, env=env, stdout=out, stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def log_size(self) -> int:
        return self.bot.log_file.stat().st_size if self.bot.log_file.exists() else 0

    def await_log(self, process: subprocess.Popen, since: int, markers: tuple[str, ...]) -> None:
        """Until the log, after byte `since`, holds one of `markers` (or the bot exited)."""
        deadline = clock_time.monotonic() + WAIT_SECONDS
        while clock_time.monotonic() < deadline:
            with self.bot.log_file.open("rb") if self.bot.log_file.exists() else open(os.devnull, "rb") as log:
                log.seek(since)
                text = log.read().decode("utf-8", errors="replace")
            if any(marker in text for marker in markers) or process.poll() is not None:
                return
            clock_time.sleep(0.02)
        tail = self.stdout.read_text(encoding="utf-8", errors="replace")[-1500:] if self.stdout.exists() else ""
        raise FirstDayError(f"the stand-in bot (pid {process.pid}) wrote none of {', '.join(map(repr, markers))} "
                            f"to {self.bot.log_file} within {WAIT_SECONDS:.0f} s; its output ends:\n{tail}")

    # -- the day ---------------------------------------------------------------------------------------------
    def live(self, faults: set[str], autostart_at: time, gateway_restart: time) -> subprocess.Popen:
        """The whole day, from the first start to 24 hours after the scheduled one. Returns the running bot."""
        dates = self.dates
        start = dates.at(STARTED_BY_HAND_AT if "first-day-no-autostart" in faults else autostart_at)
        self.set(dates.at(autostart_at))
        self.step_to(start, None)
        bot_faults = {knob for fault, knob in BOT_KNOBS if fault in faults}
        relogin_missed = "first-day-relogin-missed" in faults
        if relogin_missed:
            self.gateway.go_down()  # restarted on Sunday, waiting for a re-login nobody did
        since = self.log_size()
        process = self.start_bot(bot_faults)
        if relogin_missed:
            self.await_log(process, since, ("Connect attempt 1 failed",))
            self.step_to(dates.at(RELOGIN_AT), process)
            self.gateway.come_up()
        self.await_log(process, since, READY_MARKERS)
        if "first-day-crash-at-noon" in faults:
            self.step_to(dates.at(CRASH_AT), process)
            process.wait(timeout=WAIT_SECONDS)  # the bot raised at noon: its traceback is in the log
            self.step_to(dates.at(RESTARTED_AT), None, timedelta(minutes=1))
            since = self.log_size()
            process = self.start_bot(bot_faults - {"crash-at-noon"})  # started again (by hand or a watchdog)
            self.await_log(process, since, READY_MARKERS)
        restart = dates.at(gateway_restart)
        if restart > self.now:
            self.step_to(restart, process)
            self.gateway.go_down()
            if process.poll() is None:
                self.await_seen(process, ("disconnected", "connecting"))
            self.step_to(restart + RESTART_DOWN, process, timedelta(minutes=1))
            self.gateway.come_up()
            if process.poll() is None and "first-day-no-reconnect" not in faults:
                self.await_seen(process, ("connected",))  # the clock holds while the bot reconnects
        self.step_to(dates.day_ends, process)
        return process
