"""One round of the watch: read the world once (the bot's log, one read-only connection per gateway, the
.env, Discord), run the monitoring checks on those facts, and return each check's outcome. No terminal.

The checks are the features' own (harness.checks); a round only feeds them, the way the steps do. What a
round remembers for the next one is the bot's newest startup block and how many error lines it held, so
"new errors since the previous round" is a difference of counts (a traceback's lines carry no time, so a time
window would miss them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from harness.checks import CheckFailed, CouldNotLook
from harness.checks import orders as order_checks
from harness.checks import startup as startup_checks
from harness.checks.catalog import (
    BOT_ALIVE,
    BOT_RESTARTED,
    BOT_SILENT,
    DRY_RUN_IN_LOG,
    ERRORS_IN_LOG,
    LIVE_MODE_IN_LOG,
    WATCH_ROUND,
)
from harness.core import clock
from harness.probes import bot_log, discord, logs
from harness.probes.envfile import read_env
from harness.probes.gateway import GatewayFacts
from harness.probes.gateway_session import executions_since, read_gateway_once
from harness.probes.processes import ProcessFacts, find_bot_processes
from harness.watch.alert import is_own_alert

PASSED, FAILED, TO_CONFIRM = "passed", "failed", "operator to confirm"
# Each check of a round, the checklist item (harness.core.dod) it speaks to, and what it looks at: from the one
# table of checks the steps use too (harness.checks.catalog).
CHECKS: tuple[tuple[str, str, str], ...] = tuple((check.name, check.item, check.looks_at) for check in WATCH_ROUND)
ITEM_OF = {name: item for name, item, _ in CHECKS}
# Discord and the machine's clock may disagree a little: messages from just before the start still count.
DISCORD_CLOCK_MARGIN = timedelta(seconds=30)
DISCORD_RETRIES = 1  # a round stays bounded: one retry of a 429/5xx


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    name: str
    item: str
    status: str  # passed, failed, operator to confirm
    message: str  # redacted
    critical: bool = False


@dataclass(frozen=True, slots=True)
class Round:
    number: int
    at: datetime  # when it started (UTC)
    checks: tuple[CheckOutcome, ...]
    facts: RoundFacts | None = field(default=None, compare=False, repr=False)  # what the checks were fed

    @property
    def status(self) -> str:
        statuses = {check.status for check in self.checks}
        if FAILED in statuses:
            return FAILED
        return TO_CONFIRM if TO_CONFIRM in statuses or not self.checks else PASSED

    @property
    def failures(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if check.status == FAILED)

    def row(self) -> dict:
        """The round as one line of watch-rounds.jsonl (docs/evidence-layout.md)."""
        return {"round": self.number, "at": self.at.isoformat(timespec="seconds"), "status": self.status,
                "checks": [{"name": c.name, "item": c.item, "status": c.status, "message": c.message}
                           for c in self.checks]}


@dataclass(frozen=True, slots=True)
class RoundFacts:
    """What one round read. Gateway facts are None when that gateway is not to be contacted."""

    start: bot_log.NewestStart
    scan: logs.ScanFacts | None
    env_client_id: int | None
    paper: GatewayFacts | None
    live: GatewayFacts | None
    notification: discord.NotificationFacts | None
    discord_problem: str | None
    processes: ProcessFacts | None = None  # None: the world names no bot process to look for
    last_line: logs.LogLine | None = None  # the log's last line, for its silence
    at: datetime | None = None  # when the round began (its clock: the silence is measured to it)


def _outcome(name: str, check: Callable[[], object], redact: Callable[[str], str]) -> CheckOutcome:
    """Run one check: its note when it passes, its failure, or why it could not look. A harness error is a
    failure (as in the verdict): it is never a pass."""
    item = ITEM_OF[name]
    try:
        note = check()
    except CheckFailed as exc:
        return CheckOutcome(name, item, FAILED, redact(f"{exc.title}: {exc.message}"), exc.critical)
    except CouldNotLook as exc:
        return CheckOutcome(name, item, TO_CONFIRM, redact(exc.reason))
    except Exception as exc:  # a bug in a check must show as a failure, never end the watch
        return CheckOutcome(name, item, FAILED, redact(f"harness error: {type(exc).__name__}: {exc}"))
    if isinstance(note, (list, tuple)):
        note = "; ".join(str(n) for n in note)
    return CheckOutcome(name, item, PASSED, redact(str(note or "passed")))


def _block_key(block: logs.StartupBlock) -> tuple:
    """A start as the bot logged it: its time and its first line. Not its file or line number: a log rotated
    (bot.log -> bot.log.1) moves the same start to another file, which is no restart."""
    first = block.lines[0].text if block.lines else ""
    return (block.started_at, first)


class Watcher:
    """The rounds of one watch over one world. `redact` is applied to every message before it leaves a round."""

    def __init__(self, world, redact: Callable[[str], str]) -> None:
        self.world = world
        self.settings = world.settings
        self.redact = redact
        self._previous_block: logs.StartupBlock | None = None
        self._previous_counts: Mapping[str, int] | None = None
        self.error_patterns = logs.error_markers(self.settings.log_error_markers)
        self.live_patterns = logs.markers(self.settings.log_live_markers)
        self.dry_run_patterns = logs.markers(self.settings.log_dry_run_markers)
        self.switched, _basis = world.switch_search_start()  # orders of earlier starts since then are the bot's

    # -- facts --------------------------------------------------------------------------------------------
    def read(self, at: datetime) -> RoundFacts:
        """Everything one round needs, each source read once, for the round that began `at`. Never raises for a
        fault of the world."""
        world, settings = self.world, self.settings
        start = bot_log.read_newest_start(world.bot_log_spec(), base_dir=world.bot_dir,
                                          startup_text=settings.log_startup, since=settings.since,
                                          tz=world.log_tz(), zone=world.log_zone())
        scan = None
        if start.block is not None:
            patterns = (*self.error_patterns, *self.live_patterns, *self.dry_run_patterns)
            scan = logs.scan(start.files, patterns, since=start.block, workers=1)
        client_id = None
        if world.env_file is not None:
            client_id = read_env(world.env_file).int_value("IBKR_CLIENT_ID")
        paper = self._gateway(world.gateway, "paper")
        live = self._gateway(world.live_gateway, "live")
        notification, problem = self._discord(start)
        processes = find_bot_processes(world.bot_process, world.process_dir) if world.bot_process else None
        last = logs.last_line(start.files, world.log_tz()) if start.files else None
        return RoundFacts(start, scan, client_id, paper, live, notification, problem, processes, last, at)

    def _gateway(self, address, role: str) -> GatewayFacts | None:
        if address is None:
            return None
        return read_gateway_once(address, role, client_id=self.settings.client_id, timeout=self.settings.timeout)

    def _discord(self, start: bot_log.NewestStart) -> tuple[discord.NotificationFacts | None, str | None]:
        world = self.world
        if world.discord_channel is None:
            return None, "no Discord channel to read (--discord-channel, token in DISCORD_BOT_TOKEN)"
        started = start.started_at
        if started is None:
            return None, "the bot's newest start has no readable time, so its Discord messages cannot be told " \
                         "from older ones"
        facts = discord.read_recent_messages(world.discord_api, world.discord_channel, world.discord_token,
                                             after=started - DISCORD_CLOCK_MARGIN, timeout=self.settings.timeout,
                                             retries=DISCORD_RETRIES)
        # The watch's own alerts, when DISCORD_ALERT_WEBHOOK posts into the bot's channel, are never the bot's.
        facts = replace(facts, messages=tuple(m for m in facts.messages if not is_own_alert(m.author, m.content)))
        return discord.find_startup_notification(facts), None

    # -- checks -------------------------------------------------------------------------------------------
    def run_round(self, number: int, now: Callable[[], datetime] = clock.now) -> Round:
        at = now()
        try:
            facts = self.read(at)
        except Exception as exc:  # probes never raise for the world: this is a harness bug, never a pass
            why = self.redact(f"harness error reading the world: {type(exc).__name__}: {exc}")
            return Round(number, at, tuple(CheckOutcome(name, item, FAILED, why) for name, item, _ in CHECKS))
        return Round(number, at, self.judge(facts), facts)

    def judge(self, facts: RoundFacts) -> tuple[CheckOutcome, ...]:
        """The round's outcomes from its facts; remembers the log's state for the next round."""
        start = facts.start
        activity = bot_log.bot_activity(start, self.switched, self.world.log_tz())
        paper = executions_since(facts.paper, activity.since) if facts.paper is not None else None
        why_no_gateway = self.world.why_no_gateway
        outcomes = (
            _outcome("log errors", lambda: self._new_errors(facts), self.redact),
            _outcome("bot alive", lambda: self._alive(facts), self.redact),
            _outcome("log mode", lambda: self._mode(facts), self.redact),
            _outcome("bot connection", lambda: self._connection(facts, activity, paper, why_no_gateway), self.redact),
            _outcome("paper orders", lambda: self._orders(facts, activity, paper, why_no_gateway), self.redact),
            _outcome("live account", lambda: order_checks.check_no_live_orders(
                facts.live, activity.since, facts.env_client_id,
                sorted({o.ref for o in activity.orders.orders})), self.redact),
            _outcome("discord", lambda: self._discord_check(facts), self.redact),
        )
        self._remember(facts)
        return outcomes

    def _remember(self, facts: RoundFacts) -> None:
        if facts.start.block is None or facts.scan is None:
            return
        self._previous_block = facts.start.block
        self._previous_counts = {p.pattern: p.count for p in facts.scan.patterns}

    def _group(self, scan: logs.ScanFacts, patterns) -> logs.ScanFacts:
        wanted = {str(p) for p in patterns}
        return replace(scan, patterns=tuple(p for p in scan.patterns if p.pattern in wanted))

    def _new_errors(self, facts: RoundFacts) -> str:
        block = startup_checks.check_startup_found(facts.start)
        assert facts.scan is not None  # scanned whenever there is a block
        errors = self._group(facts.scan, self.error_patterns)
        previous = self._previous_block
        if previous is not None and _block_key(block) != _block_key(previous):
            before = previous.started_at.isoformat() if previous.started_at else "an unreadable time"
            now = block.started_at.isoformat() if block.started_at else "an unreadable time"
            since_then = f"; {errors.total} error line(s) since that start" if errors.total else ""
            raise CheckFailed(BOT_RESTARTED.title,
                              f"its newest start is {block.path}:{block.first_lineno} at {now} (the previous round "
                              f"saw the start at {before}): a crash, a restart or an unexpected exit; read the log "
                              f"before it{since_then}", critical=False)
        window = "since the bot's newest start" if self._previous_counts is None else "since the previous round"
        if self._previous_counts is not None:
            errors = replace(errors, patterns=tuple(self._new_lines(p) for p in errors.patterns))
        startup_checks.check_absent(errors, f"{ERRORS_IN_LOG.title} ({window})", critical=ERRORS_IN_LOG.critical,
                                    advice=ERRORS_IN_LOG.advice, meaning=ERRORS_IN_LOG.meaning)
        return f"no new error or traceback {window} ({len(errors.files)} file(s) read)"

    def _new_lines(self, facts: logs.PatternFacts) -> logs.PatternFacts:
        """Only the lines of `facts` the previous round had not counted (the newest kept ones)."""
        assert self._previous_counts is not None
        new = max(facts.count - self._previous_counts.get(facts.pattern, 0), 0)
        kept = facts.last[-new:] if new else ()
        return replace(facts, count=new, first=kept, last=kept)

    def _alive(self, facts: RoundFacts) -> str:
        """The seed's "no crashes or unexpected shutdowns": a dead bot, or one silent longer than the heartbeat gap,
        fails the round it happens in."""
        notes = []
        processes = facts.processes
        if processes is not None:
            if not processes.looked:
                raise CouldNotLook(f"the bot's process cannot be looked for: {processes.problem}")
            if not processes.bots:
                if processes.hidden_python or processes.elsewhere:
                    seen = "; ".join(p.describe() for p in processes.elsewhere) or (
                        f"Python process(es) {', '.join(map(str, processes.hidden_python))} hide their command line")
                    raise CouldNotLook(f"no process of the bot is seen in {processes.bot_dir or 'any folder'}, but "
                                       f"{seen}: confirm the bot runs")
                where = f" in {processes.bot_dir}" if processes.bot_dir else ""
                raise CheckFailed(BOT_ALIVE.title,
                                  f"no process whose command line holds {processes.pattern!r} runs{where}: it crashed "
                                  f"or exited during the watch{self._last_words(facts)}; read the end of its log",
                                  critical=False)
            notes.append(f"running: {', '.join(f'pid {p.pid}' for p in processes.bots)}")
        gap = timedelta(minutes=self.settings.heartbeat_gap)
        last = facts.last_line
        if last is not None and last.timestamp is not None and facts.at is not None:
            silent = facts.at - last.timestamp
            if silent > gap:
                raise CheckFailed(BOT_SILENT.title,
                                  f"its log's last line ({last.where}) is {int(silent.total_seconds() // 60)} min old, "
                                  f"more than the heartbeat gap of {self.settings.heartbeat_gap:g} min "
                                  f"(--heartbeat-gap): it hung or exited unseen", critical=False)
            notes.append(f"last log line {int(max(silent.total_seconds(), 0))} s ago")
        elif processes is None:
            raise CouldNotLook("neither the bot's process (--bot-process) nor a dated log line could be looked at")
        return "; ".join(notes)

    @staticmethod
    def _last_words(facts: RoundFacts) -> str:
        last = facts.last_line
        return f" (its log's last line, {last.where}: {last.text[:200]})" if last is not None else ""

    def _mode(self, facts: RoundFacts) -> str:
        startup_checks.check_startup_found(facts.start)
        assert facts.scan is not None
        for check, patterns in ((LIVE_MODE_IN_LOG, self.live_patterns), (DRY_RUN_IN_LOG, self.dry_run_patterns)):
            startup_checks.check_absent(self._group(facts.scan, patterns), check.title, critical=check.critical,
                                        advice=check.advice, meaning=check.meaning)
        return "no line since the bot's start says live or dry-run mode"

    def _connection(self, facts: RoundFacts, activity: bot_log.BotActivity, paper: GatewayFacts | None,
                    why_no_gateway: str) -> str:
        order_checks.require_started(facts.start)
        return order_checks.check_bot_connected_since_start(activity, facts.env_client_id, paper, why_no_gateway)

    def _orders(self, facts: RoundFacts, activity: bot_log.BotActivity, paper: GatewayFacts | None,
                why_no_gateway: str) -> list[str]:
        order_checks.require_started(facts.start)
        result = order_checks.reconcile_with_paper(activity.orders, paper, why_no_gateway, facts.env_client_id,
                                                   activity.earlier)
        return order_checks.check_orders_in_paper(activity.orders, result, paper)

    def _discord_check(self, facts: RoundFacts) -> str:
        if facts.notification is None:
            raise CouldNotLook(facts.discord_problem or "Discord was not read")
        startup_checks.check_discord_no_wrong_mode(facts.notification)
        if facts.notification.problem:
            raise CouldNotLook(facts.notification.problem)
        return "no Discord message since the bot's start says dry-run or live"
