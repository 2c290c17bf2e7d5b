"""`harness watch --for 1h --every 5m`: rounds of the monitoring checks over the first hour.

A round every --every (the first at once, the last at --for): new errors in the bot's log, mode lines, the
bot's connection and orders at the paper gateway against its log, the live account, Discord (harness.watch.rounds).
A live table on a terminal, one line per round elsewhere; an alert to DISCORD_ALERT_WEBHOOK on the first failure;
each round into the evidence as it ends; Ctrl-C stops cleanly with the summary. The exit status is the verdict's:
0 every check of every round passed, 1 one failed, 6 one could not look or the watch was stopped early.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from harness.core import clock

HELP = ("Watch the first hour: re-run the monitoring checks every few minutes (log errors, the bot's connection, "
        "paper orders against the log, the live account, Discord), with a live table and an optional Discord alert")
MIN_EVERY_S = 1.0
MAX_FOR_S = 24 * 3600.0
TICK_S = 0.25  # how often the countdown to the next round is redrawn
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """'1h', '5m', '30s', '1.5m' or '90' (seconds) -> seconds; argparse shows the error in one line."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhSMH]?)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 1h, 5m, 30s, or 90 for seconds)")
    seconds = float(match[1]) * _UNITS[match[2].lower()]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return seconds


def _shown(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's own options (the shared settings are added by harness.cli)."""
    parser.add_argument("--for", dest="watch_for", type=parse_duration, default=3600.0, metavar="DURATION",
                        help="how long to watch: 1h, 45m, 30s or 90 (seconds); default 1h")
    parser.add_argument("--every", dest="every", type=parse_duration, default=300.0, metavar="DURATION",
                        help="time between rounds (the first is at once, the last at --for); default 5m")


def planned_rounds(watch_for: float, every: float) -> int:
    """Rounds at 0, every, 2*every, ... up to and including --for."""
    return int(watch_for // every + 1e-9) + 1


def _interactive() -> bool:
    return sys.stdout.isatty() and not os.environ.get("CI")


@contextmanager
def _world(settings, say) -> Iterator:
    """The operator's world (--live-gateway / --bot-dir), or an embedded world started for the watch."""
    from harness.core.refusal import Refused
    from harness.world import build_world

    if settings.world_kind == "bot directory":
        say("harness: --bot-dir without --live-gateway: only the bot's log is watched; the gateway and Discord are "
            "not contacted, so their checks are 'operator to confirm'")
    embedded = settings.world_kind == "embedded"
    if embedded:
        say("harness: no --live-gateway or --bot-dir: watching an EMBEDDED world started for the watch (fakes and "
            "the stand-in bot, not your bot)...")
        settings = replace(settings, phase="transition")
    # The stand-in bot may still hold a file when the folder goes (Windows): that must not fail the watch.
    with tempfile.TemporaryDirectory(prefix="harness-watch-", ignore_cleanup_errors=True) as scratch, \
            contextlib.ExitStack() as stack:
        try:
            world = stack.enter_context(build_world(settings, Path(scratch)))
        except RuntimeError as exc:  # the embedded world could not start; its message says why
            if not embedded:
                raise
            raise Refused(f"the watch's embedded world could not start: {exc}") from None
        yield world


def _replace_unprintable() -> None:
    """A log line may hold characters the terminal's encoding lacks (cp1252 on Windows, a pipe in ASCII): they
    are shown as '?' rather than ending the watch with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="replace")


def run(settings, args: argparse.Namespace) -> int:
    from harness.core.refusal import Refused

    watch_for, every = args.watch_for, args.every
    if every < MIN_EVERY_S:
        raise Refused(f"--every {_shown(every)} is too short: at least {MIN_EVERY_S:g} s between rounds")
    if watch_for > MAX_FOR_S:
        raise Refused(f"--for {_shown(watch_for)} is longer than 24h: the first day is `pytest features/ --phase "
                      "first-day`")
    if every > watch_for:
        raise Refused(f"--every {_shown(every)} is longer than --for {_shown(watch_for)}")
    interactive = _interactive()
    _replace_unprintable()
    handler = signal.getsignal(signal.SIGINT)
    try:
        with _world(settings, lambda line: print(line, flush=True)) as world:
            return _watch(settings, world, watch_for, every, interactive)
    finally:
        # _watch ignores Ctrl-C once the rounds end, so the summary, the evidence and the embedded world's
        # teardown (the stand-in bot stopped) all happen; the operator's Ctrl-C works again afterwards.
        signal.signal(signal.SIGINT, handler)


def _watch(settings, world, watch_for: float, every: float, interactive: bool) -> int:
    from harness.core.refusal import Refused
    from harness.evidence import runs
    from harness.evidence.records import Redactor
    from harness.watch.alert import Alerter
    from harness.watch.display import make_display, print_summary, summary_table
    from harness.watch.evidence import WatchEvidence, decide_watch
    from harness.watch.rounds import Watcher

    redactor = Redactor()
    redactor.add(world.secrets())
    webhook = settings.alert_webhook
    redactor.add([webhook])
    planned = planned_rounds(watch_for, every)
    started = clock.now()
    try:
        evidence = WatchEvidence(settings.evidence_dir, world.kind, redactor, started, watch_for=_shown(watch_for),
                                 every=_shown(every), rounds_planned=planned,
                                 bot_dir=runs.bot_dir_info(world.bot_dir))
    except OSError as exc:
        raise Refused(f"cannot write the evidence in {settings.evidence_dir}: {exc}") from None
    for note in world.notes:
        print(redactor.text(f"harness: {note}"), flush=True)
    alerts = ("alerts to the Discord webhook in DISCORD_ALERT_WEBHOOK" if webhook
              else "no alert webhook (set DISCORD_ALERT_WEBHOOK)")
    print(f"harness: watching for {_shown(watch_for)}, a round every {_shown(every)} ({planned} rounds); {alerts}; "
          f"Ctrl-C stops with a summary; evidence -> {evidence.run_dir}", flush=True)
    watcher = Watcher(world, redactor.text)
    alerter = Alerter(webhook, world.kind, settings.timeout, redactor.text)
    rounds = []
    stopped_early = False
    under_way = 0  # the round being read when Ctrl-C came, 0 while waiting
    evidence_problems: list[str] = []
    display = make_display(interactive)
    begin = time.monotonic()
    try:
        with display:
            for number in range(1, planned + 1):
                slot = begin + (number - 1) * every
                while (left := slot - time.monotonic()) > 0:
                    display.waiting(number, left)
                    time.sleep(min(TICK_S, left))
                display.round_started(number, planned)
                under_way = number
                round_ = watcher.run_round(number)
                under_way = 0
                rounds.append(round_)
                try:
                    evidence.add_round(round_)
                    evidence.keep_accounts(round_)
                except OSError as exc:
                    evidence_problems.append(f"round {number}: {exc}")
                    display.say(f"harness: round {number} could NOT be written to the evidence: {exc}")
                display.round_done(round_, planned)
                line = alerter.consider(round_)
                if line:
                    display.say(f"harness: {line}")
    except KeyboardInterrupt:
        stopped_early = True
    # From here the summary and the evidence are written whatever the operator presses (run() restores Ctrl-C).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if stopped_early:
        during = f"round {under_way} was abandoned" if under_way else "no round was under way"
        print(f"harness: stopped by Ctrl-C after {len(rounds)} of {planned} round(s); {during}", flush=True)
    verdict = decide_watch(rounds, planned, clock.now())
    print_summary(summary_table(rounds, planned, stopped_early, redactor.text(verdict.headline), interactive),
                  interactive)
    try:
        written = evidence.finish(verdict, stopped_early=stopped_early, rounds_run=len(rounds),
                                  alerts_sent=alerter.sent, alert_problems=alerter.problems)
    except OSError as exc:
        written = None
        evidence_problems.append(str(exc))
    if written is None or evidence_problems:
        print(f"harness: the evidence in {evidence.run_dir} is incomplete: "
              f"{'; '.join(evidence_problems) or 'the verdict could not be written'}", flush=True)
    else:
        print(f"harness: evidence -> {evidence.run_dir}", flush=True)
    return verdict.exit_status  # a failure seen before Ctrl-C stays NEEDS REMEDIATION (1)
