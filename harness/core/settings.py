"""One typed object for everything the operator can set.

Every setting has one spec: its command-line option (accepted by `pytest` and by every `harness` command),
its ini key (pytest only) and its `HARNESS_*` environment variable. Precedence is CLI > environment > ini >
default, and the source that won is kept, so an error names where a bad value came from.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harness.core import clock
from harness.core.ibkr import GATEWAY_PAPER_PORT, PROBE_CLIENT_ID
from harness.core.log_texts import DEFAULT_TEXTS, check_marker
from harness.core.names import BASELINE_FILE

# The log patterns' defaults have one definition, in the log probe's table.
_LOG = DEFAULT_TEXTS
PHASES = ("preflight", "transition", "first-day", "rollback")


class SettingsError(ValueError):
    """A bad setting: the message names the value and where it came from."""


@dataclass(frozen=True, slots=True)
class GatewayAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def _parse_port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ValueError("is not a port number") from None
    if not 1 <= port <= 65535:
        raise ValueError("is not a port number (1-65535)")
    return port


def _parse_gateway(text: str) -> GatewayAddress:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host:
        raise ValueError("is not HOST:PORT (e.g. localhost:4002)")
    return GatewayAddress(host.strip("[]"), _parse_port(port))


def _parse_phase(text: str) -> str:
    phase = text.strip().lower().replace("_", "-")
    if phase not in PHASES:
        raise ValueError(f"is not a phase (one of {', '.join(PHASES)})")
    return phase


def _parse_dir(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_dir():
        raise ValueError("is not an existing directory")
    return path


def _parse_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError("is not an existing file")
    return path


def _parse_path(text: str) -> Path:
    return Path(text).expanduser()


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("is not true/false")


def _parse_client_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError("is not an integer client id") from None
    if not 0 <= value <= 2**31 - 1:
        raise ValueError("is not a client id (0 to 2147483647)")
    return value


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not an ISO date-time (e.g. 2026-02-10T16:45:00-05:00)") from None
    if instant.tzinfo is None:
        raise ValueError("has no UTC offset; add one (e.g. -05:00) so the instant is unambiguous")
    return instant


def _parse_zone(text: str) -> str:
    try:
        ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not an IANA time zone (e.g. America/New_York)") from None
    return text.strip()


def _parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number of seconds") from None
    if not 0 < value <= 600:
        raise ValueError("is not a timeout between 0 and 600 seconds")
    return value


def _parse_clock(text: str) -> time:
    """A wall-clock time of day in America/New_York, HH:MM (24 h)."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError("is not a time of day HH:MM (24 h, America/New_York)")
    return time(int(match[1]), int(match[2]))


def _parse_minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("is not a number of minutes") from None
    if not 0 < value <= 24 * 60:
        raise ValueError("is not a number of minutes between 0 and 1440")
    return value


def _parse_text(text: str) -> str:
    return text.strip()


def _parse_positions(text: str) -> tuple[tuple[str, float], ...]:
    """'SPY:10;AAPL:-5' -> (('SPY', 10.0), ('AAPL', -5.0)); an empty text declares none."""
    positions: list[tuple[str, float]] = []
    for item in re.split(r"[;,\n]", text):
        if not item.strip():
            continue
        symbol, sep, quantity = item.strip().partition(":")
        try:
            positions.append((symbol.strip().upper(), float(quantity)))
        except ValueError:
            raise ValueError(f"has {item.strip()!r}: write SYMBOL:QUANTITY, e.g. SPY:10") from None
        if not sep or not symbol.strip():
            raise ValueError(f"has {item.strip()!r}: write SYMBOL:QUANTITY, e.g. SPY:10")
    return tuple(positions)


def _parse_list(text: str) -> tuple[str, ...]:
    """Items separated by ';' or new lines (ini values may span lines). Inner spaces are kept: ' ERROR '."""
    items = tuple(item for item in re.split(r"[;\n]", text) if item.strip())
    if not items:
        raise ValueError("is empty")
    return items


def _parse_markers(text: str) -> tuple[str, ...]:
    """Markers separated by ';' (see harness.probes.logs.patterns); a bad `re:` regex is refused here."""
    items = tuple(item.strip() for item in _parse_list(text))
    _parse_marker_items(items)
    return items


def _parse_marker(text: str) -> str:
    item = _parse_text(text)
    _parse_marker_items((item,))
    return item


def _parse_marker_items(items: tuple[str, ...]) -> None:
    for item in items:
        check_marker(item)  # raises ValueError naming the marker


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    help: str
    parse: Callable[[str], object]
    default: str | None = None
    flag: bool = False  # a switch with no value (--live-gateway)
    option_name: str | None = None  # when the plain name would clash with another pytest plugin's option

    @property
    def option(self) -> str:
        return "--" + (self.option_name or self.name).replace("_", "-")

    @property
    def ini(self) -> str:
        return "harness_" + self.name

    @property
    def env(self) -> str:
        return "HARNESS_" + self.name.upper()


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("live_gateway", "Check the real world (IB Gateway, bot logs, Discord) instead of the embedded "
                "fake world", _parse_bool, flag=True),
    SettingSpec("phase", "Phase of the procedure to check: " + ", ".join(PHASES), _parse_phase,
                default="transition"),
    SettingSpec("bot_dir", "The bot's project root (holds its .env)", _parse_dir),
    SettingSpec("bot_env", "The bot's .env file (default: <bot-dir>/.env)", _parse_path),
    SettingSpec("baseline", "Baseline snapshot taken before the switch (default: <evidence-dir>/baseline.json)",
                _parse_path),
    SettingSpec("bot_log", "The bot's log file or glob; rotated and gzipped files included", _parse_text),
    SettingSpec("bot_log_tz", "Time zone of the bot's log timestamps (default: this machine's)", _parse_zone),
    SettingSpec("log_startup", "Text that starts each startup block in the bot's log", _parse_text,
                default=_LOG["startup"][0]),
    SettingSpec("log_expected", "Startup lines expected in order after the restart, separated by ';' (any case)",
                _parse_list, default=";".join(_LOG["expected_startup"])),
    SettingSpec("log_gateway_line", "Text before HOST:PORT in the bot's line naming the gateway it connects to "
                "(any case; reconnect lines count too)", _parse_text, default=_LOG["gateway_line"][0]),
    SettingSpec("log_paper_active", "The log line that confirms paper mode (a marker: see log_live_markers)",
                _parse_marker, default=_LOG["paper_active"][0]),
    SettingSpec("log_live_markers", "Log text that means live trading mode, separated by ';': phrases matched in any "
                "case as whole words with space/_/- between words, or 're:REGEX'; a negated mention ('not in live "
                "mode', 'live mode: off') does not count", _parse_markers, default=";".join(_LOG["live_mode"])),
    SettingSpec("log_dry_run_markers", "Log text that means dry-run mode, separated by ';' (markers, as "
                "log_live_markers)", _parse_markers, default=";".join(_LOG["dry_run"])),
    SettingSpec("log_error_markers", "Log text that means an error or crash, separated by ';' (markers, as "
                "log_live_markers; only a negation before counts: 'no error')", _parse_markers,
                default=";".join(_LOG["errors"])),
    SettingSpec("log_shutdown_markers", "Log text of a clean shutdown, separated by ';' (matched in any case)",
                _parse_list, default=";".join(_LOG["shutdown"])),
    SettingSpec("since", "Only log lines after this instant (ISO, with offset; default: the newest startup)",
                _parse_instant),
    SettingSpec("shutdown_time", "When the bot was stopped for the switch, if its log does not say (ISO, "
                "with offset)", _parse_instant),
    SettingSpec("bot_process", "Text in the bot's command line, to see whether it is running", _parse_text,
                default="src.main"),
    SettingSpec("gateway", "IB Gateway address HOST:PORT", _parse_gateway,
                default=f"localhost:{GATEWAY_PAPER_PORT}"),
    SettingSpec("client_id", "API client id the harness connects with (must differ from the bot's)",
                _parse_client_id, default=str(PROBE_CLIENT_ID)),
    SettingSpec("live_gateway_port", "Port of a gateway logged into the LIVE account, for the read-only "
                "'no live orders' check", _parse_port),
    SettingSpec("discord_channel", "Discord channel id to read the bot's notifications from (token only from "
                "DISCORD_BOT_TOKEN)", _parse_text),
    SettingSpec("discord_api", "Discord API base URL", _parse_text, default="https://discord.com/api/v10"),
    SettingSpec("bot_environ", "A dump of the bot's process environment (`env`, `set`, or PowerShell "
                "`Get-ChildItem Env:` output)", _parse_file),
    SettingSpec("scheduler_task", "The Task Scheduler task that starts the bot: its name (Windows, read with "
                "schtasks) or its exported XML (`schtasks /Query /TN NAME /XML > task.xml`)", _parse_text),
    SettingSpec("evidence_dir", "Where evidence, attestations and the transition log go", _parse_path,
                default="reports"),
    SettingSpec("transition_log", "Where the transition log is written (default: <bot-dir>/docs/"
                "Task_4_3_Transition_Log.md, else <evidence-dir>/Task_4_3_Transition_Log.md)", _parse_path),
    SettingSpec("autostart_at", "When the scheduler starts the bot on trading days (HH:MM, America/New_York)",
                _parse_clock, default="06:00"),
    SettingSpec("gateway_restart", "When IB Gateway restarts every day (HH:MM, America/New_York)", _parse_clock,
                default="16:30"),
    SettingSpec("reconnect_within", "Minutes the bot may take to reconnect after the gateway's daily restart",
                _parse_minutes, default="15"),
    SettingSpec("heartbeat_gap", "Minutes the bot's log may stay silent while it runs before it counts as a "
                "hang or an unseen exit", _parse_minutes, default="30"),
    # Not --timeout: pytest-timeout owns that option, and two plugins adding it end every pytest run of the
    # environment in an INTERNALERROR. The ini key and the variable keep the plain name (harness_timeout).
    SettingSpec("timeout", "Seconds any single network call may take", _parse_seconds, default="10",
                option_name="network_timeout"),
    SettingSpec("declared_positions", "Positions the operator declares may stay open over the switch, e.g. "
                "'SPY:10;AAPL:-5' (SYMBOL:QUANTITY); any other position or any open order fails preflight",
                _parse_positions),
    SettingSpec("expect_rejections", "Orders rejected by the paper account (error 201, insufficient funds) are "
                "expected: report them and pass", _parse_bool, flag=True),
    SettingSpec("place_test_order", "After proving paper, place one tiny far-from-market limit order on the "
                "paper gateway and cancel it", _parse_bool, flag=True),
    SettingSpec("rehearsal", "This run is part of a rehearsal (`harness rehearse` sets it): recorded as the world "
                "'rehearsal', never evidence of the transition", _parse_bool, flag=True),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; `sources` says where each value came from."""

    live_gateway: bool = False
    phase: str = "transition"
    bot_dir: Path | None = None
    bot_env: Path | None = None
    baseline: Path | None = None
    bot_log: str | None = None
    bot_log_tz: str | None = None
    log_startup: str = _LOG["startup"][0]
    log_expected: tuple[str, ...] = _LOG["expected_startup"]
    log_gateway_line: str = _LOG["gateway_line"][0]
    log_paper_active: str = _LOG["paper_active"][0]
    log_live_markers: tuple[str, ...] = _LOG["live_mode"]
    log_dry_run_markers: tuple[str, ...] = _LOG["dry_run"]
    log_error_markers: tuple[str, ...] = _LOG["errors"]
    log_shutdown_markers: tuple[str, ...] = _LOG["shutdown"]
    since: datetime | None = None
    shutdown_time: datetime | None = None
    bot_process: str = "src.main"
    gateway: GatewayAddress = GatewayAddress("localhost", GATEWAY_PAPER_PORT)
    client_id: int = PROBE_CLIENT_ID
    live_gateway_port: int | None = None
    discord_channel: str | None = None
    discord_api: str = "https://discord.com/api/v10"
    bot_environ: Path | None = None
    scheduler_task: str | None = None
    evidence_dir: Path = Path("reports")
    transition_log: Path | None = None
    autostart_at: time = time(6, 0)
    gateway_restart: time = time(16, 30)
    reconnect_within: float = 15.0
    heartbeat_gap: float = 30.0
    timeout: float = 10.0
    declared_positions: tuple[tuple[str, float], ...] = ()
    expect_rejections: bool = False
    place_test_order: bool = False
    rehearsal: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def world_kind(self) -> str:
        """Where the checks look: "live" (--live-gateway), "bot directory" (--bot-dir or --bot-env alone: the
        gateway and Discord are not contacted) or "embedded" (no flag: the fakes on loopback)."""
        if self.live_gateway:
            return "live"
        if self.bot_dir is not None or self.bot_env is not None:
            return "bot directory"
        return "embedded"

    @property
    def recorded_world(self) -> str:
        """The world a run records in its run.json and verdict: "rehearsal" for a run of `harness rehearse` (a copy
        of the bot against fakes, never evidence of the transition), else world_kind."""
        return "rehearsal" if self.rehearsal and self.world_kind != "embedded" else self.world_kind

    @property
    def bot_home(self) -> Path | None:
        """The bot's folder, where its process runs: --bot-dir, else the folder of --bot-env."""
        if self.bot_dir is not None:
            return self.bot_dir
        return self.bot_env.parent if self.bot_env is not None else None

    @property
    def env_file(self) -> Path | None:
        """The .env to check: --bot-env, else <bot-dir>/.env."""
        if self.bot_env is not None:
            return self.bot_env
        return self.bot_dir / ".env" if self.bot_dir is not None else None

    @property
    def baseline_file(self) -> Path:
        return self.baseline if self.baseline is not None else self.evidence_dir / BASELINE_FILE

    @property
    def transition_log_file(self) -> Path:
        """--transition-log, else the seed's docs/Task_4_3_Transition_Log.md in the bot's project, else beside the
        evidence (the embedded world's bot directory does not outlive the run)."""
        if self.transition_log is not None:
            return self.transition_log
        if self.bot_dir is not None and self.world_kind != "embedded":
            return self.bot_dir / "docs" / "Task_4_3_Transition_Log.md"
        return self.evidence_dir / "Task_4_3_Transition_Log.md"

    @property
    def alert_webhook(self) -> str | None:
        """The operator's Discord webhook for `harness watch` alerts: only from DISCORD_ALERT_WEBHOOK (a webhook
        URL is a credential)."""
        return os.environ.get("DISCORD_ALERT_WEBHOOK") or None

    @property
    def discord_token(self) -> str | None:
        """Only ever from the environment: a token on a command line ends up in shell history."""
        return os.environ.get("DISCORD_BOT_TOKEN") or None


def resolve(
    cli: Mapping[str, object | None],
    environ: Mapping[str, str],
    ini: Mapping[str, str | None] | None = None,
    ini_source: str = "ini",
) -> Settings:
    """Build Settings from the four sources. Raises SettingsError naming the bad value and its source."""
    ini = ini or {}
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for spec in SPECS:
        raw, source = _pick(spec, cli, environ, ini, ini_source)
        if raw is None:
            continue
        if isinstance(raw, bool) and spec.flag:
            values[spec.name], sources[spec.name] = raw, source
            continue
        try:
            values[spec.name] = spec.parse(str(raw))
        except ValueError as exc:
            raise SettingsError(f"{_where(spec, source)}={str(raw)!r} {exc}") from None
        sources[spec.name] = source
    settings = Settings(**values, sources=sources)  # type: ignore[arg-type]
    _cross_check(settings)
    _check_clock(settings, environ)
    return settings


def _pick(
    spec: SettingSpec,
    cli: Mapping[str, object | None],
    environ: Mapping[str, str],
    ini: Mapping[str, str | None],
    ini_source: str,
) -> tuple[object | None, str]:
    value = cli.get(spec.name)
    if value is not None and value is not False:
        return value, spec.option
    if spec.env in environ:
        return environ[spec.env], spec.env
    if ini.get(spec.ini) not in (None, ""):
        return ini[spec.ini], f"{spec.ini} in {ini_source}"
    if spec.default is not None:
        return spec.default, "default"
    return None, "default"


def _where(spec: SettingSpec, source: str) -> str:
    if source.startswith("--") or source.startswith("HARNESS_"):
        return source
    return f"{spec.name} ({source})"


def _cross_check(settings: Settings) -> None:
    """Checks that need two settings at once."""
    if settings.live_gateway_port is not None and settings.live_gateway_port == settings.gateway.port:
        raise SettingsError(
            f"--live-gateway-port {settings.live_gateway_port} is the same port as --gateway "
            f"{settings.gateway}: the live gateway must be a different one"
        )
    if settings.live_gateway and settings.bot_dir is None and settings.bot_env is None:
        raise SettingsError("--live-gateway checks the real bot: give --bot-dir (or --bot-env) too")
    if settings.bot_env is not None and settings.bot_env.exists() and settings.bot_env.is_dir():
        raise SettingsError(f"--bot-env={str(settings.bot_env)!r} is a directory, not a .env file")


def _check_clock(settings: Settings, environ: Mapping[str, str]) -> None:
    """A pinned clock moves the embedded world in time; beside a real bot or gateway it would date real evidence
    wrongly."""
    try:
        instant = clock.pinned(environ)
    except clock.ClockError as exc:
        raise SettingsError(str(exc)) from None
    if instant is not None and settings.world_kind != "embedded":
        raise SettingsError(f"{clock.VARIABLE} moves the embedded world's clock only; the real world has one clock: "
                            f"unset it to check a real bot (--live-gateway, --bot-dir, --bot-env)")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1."""
    if host.strip().lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[] ")).is_loopback
    except ValueError:
        return False
