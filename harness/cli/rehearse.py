"""`harness rehearse --bot-dir DIR --bot-command "poetry run python -m src.main"`: the whole transition on a copy of
the operator's real bot, against the harness's fakes, before IB sees it.

Nothing of the operator's is changed: the bot's directory is copied into `<evidence-dir>/rehearsals/<time>/bot/`
(harness.fakes.rehearsal: no virtual environments, caches or logs; a git repository mirroring the real one's
tracked state) and the copy's `.env` is pointed at a fake paper gateway, a fake live gateway and a fake Discord on
a loopback address of their own. Then the procedure runs on the copy, each step the operator's own command in its
own process, recorded in the rehearsal's own evidence directory as the world "rehearsal" (never evidence of the
transition, harness.verdict.transition):

    harness snapshot                               the baseline of the copy's dry-run .env
    (attestations by "rehearsal")                  Step 0's three, and what only the live machine can show
    harness check --phase preflight                Step 0 and Step 1
    harness switch paper                           Step 2 (and the committed .env.example, as the operator commits it)
    the bot, with its own command                  Step 3: cwd the copy, output to a file, bounded
    harness check --phase transition               Steps 2-4
    harness watch --for ...                        the first hour, short
    harness halt --drill                           the emergency halt, rehearsed (it stops the bot)
    harness switch dry-run, the bot again          the rollback plan
    harness check --phase rollback
    harness report                                 the transition log and board card, marked REHEARSAL

The first day is left to the live run (a real bot lives on real time). The exit status is the verdict's over the
rehearsal's runs: 0 verified, 1 needs remediation, 6 incomplete.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timezone
from pathlib import Path

from harness.cli.report import CARD_FILE, HTML_FILE, LOG_FILE, REPORT_DIR
from harness.core import clock
from harness.core.refusal import Refused

HELP = ("Rehearse the whole transition on a copy of your real bot against fakes (paper and live gateways, Discord) "
        "before IB sees it: the same checks, marked REHEARSAL, never evidence of the transition")
REHEARSALS_DIR = "rehearsals"  # under the evidence directory
SUMMARY_FILE = "rehearsal.json"
BY = "rehearsal"
STEP_TIMEOUT = 300.0  # seconds one harness step may take (a healthy one takes seconds)
MAX_OUTPUT_BYTES = 20_000_000  # of the bot's output, redacted at the end
PRE_TRANSITION = ("pre_task_4_2_approved", "pre_stability_criteria", "pre_operator_authorized")
# What only the live machine can show: attested by the rehearsal as left to the live run (they count only where the
# check could not look: a log of the real bot's last shutdown copied along is judged as usual).
LEFT_TO_THE_LIVE_RUN = {
    "step1_shutdown": "left to the live run: when the real bot is stopped (outside the NYSE regular session) is the "
                      "live switch's; a rehearsal stops no real bot",
    "rollback_scheduler": "left to the live run: the scheduler that starts the real bot is the live machine's; the "
                          "rehearsal's copy has none",
}
# The operator's settings about the bot's log and texts, given to every step as they were given to this command.
FORWARDED = ("bot_log_tz", "log_startup", "log_expected", "log_gateway_line", "log_paper_active", "log_live_markers",
             "log_dry_run_markers", "log_error_markers", "log_shutdown_markers", "client_id", "timeout",
             "reconnect_within", "heartbeat_gap", "expect_rejections")
DEFAULT_FOR, DEFAULT_EVERY = "6s", "2s"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's own options (the shared settings are added by harness.cli)."""
    from harness.cli.watch import parse_duration

    parser.add_argument("--bot-command", required=True, metavar="COMMAND",
                        help='how the bot is started, run in the copy\'s folder: "poetry run python -m src.main", '
                        '"C:\\bots\\mybot\\.venv\\Scripts\\python.exe -m src.main"')
    parser.add_argument("--for", dest="watch_for", type=parse_duration, default=parse_duration(DEFAULT_FOR),
                        metavar="DURATION", help=f"how long the first hour's watch runs (default {DEFAULT_FOR})")
    parser.add_argument("--every", dest="every", type=parse_duration, default=None, metavar="DURATION",
                        help=f"time between the watch's rounds (default {DEFAULT_EVERY}, at most --for)")
    parser.add_argument("--keep", action="store_true", help="keep the bot's copy (removed by default)")
    parser.add_argument("--no-html", action="store_true", help="no HTML report (it is written only when Node is at "
                        "hand anyway)")
    parser.add_argument("--ready-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long the bot may take to log its last startup line (default 60)")
    parser.add_argument("--settle", type=float, default=10.0, metavar="SECONDS",
                        help="after that line, how long the bot may work (its first orders) before the checks look; "
                        "they look earlier once its log is quiet (default 10)")


@dataclass
class Step:
    title: str
    status: int | None = None  # exit status; None: not a command (what the rehearsal did itself)
    note: str = ""
    seconds: float | None = None


@dataclass
class Rehearsal:
    settings: object
    args: argparse.Namespace
    root: Path  # <evidence-dir>/rehearsals/<time>/
    steps: list[Step] = field(default_factory=list)

    @property
    def copy_dir(self) -> Path:
        return self.root / "bot"

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    @property
    def work_dir(self) -> Path:
        return self.root / "work"  # the bot's environment dump: removed with the copy


def run(settings, args: argparse.Namespace) -> int:
    from harness.fakes.rehearsal import RehearsalError

    bot_dir = _bot_dir(settings)
    argv = _command(args.bot_command, bot_dir)
    every = args.every if args.every is not None else min(args.watch_for, 2.0)
    if every > args.watch_for:
        raise Refused(f"--every ({every:g} s) is longer than --for ({args.watch_for:g} s)")
    if not 0 < args.ready_timeout <= 600 or not 0 < args.settle <= 600:
        raise Refused("--ready-timeout and --settle are seconds between 0 and 600")
    root = _new_root(Path(settings.evidence_dir))
    rehearsal = Rehearsal(settings, args, root)
    print(f"harness rehearse: a rehearsal of {bot_dir} in {root} (REHEARSAL — not evidence of a live transition)",
          flush=True)
    try:
        return _rehearse(rehearsal, bot_dir, argv, every)
    except RehearsalError as exc:
        raise Refused(f"the rehearsal could not start: {exc}") from None
    finally:
        _tidy(rehearsal)


def _bot_dir(settings) -> Path:
    if settings.bot_dir is None:
        raise Refused("which bot? give --bot-dir DIR: its folder is copied and the copy rehearsed (nothing of yours "
                      "is changed)")
    bot_dir = Path(settings.bot_dir).resolve()
    env_file = Path(settings.env_file).resolve() if settings.env_file is not None else bot_dir / ".env"
    if env_file != bot_dir / ".env":
        raise Refused(f"the rehearsal copies the bot's folder and reads its .env there ({bot_dir / '.env'}); "
                      f"--bot-env {settings.bot_env} is elsewhere")
    if not env_file.is_file():
        raise Refused(f"{env_file} is not a file: the rehearsal needs the bot's dry-run .env")
    from harness.core.redact import mask_value
    from harness.probes.envfile import read_bool, read_env

    facts = read_env(env_file)
    if facts.problem:
        raise Refused(f"the bot's .env cannot be read: {facts.problem}")
    mode = (read_bool(facts, "DRY_RUN").value, read_bool(facts, "PAPER_TRADING").value)
    if mode != (True, False):
        said = ", ".join(f"{key}={mask_value(key, facts.values.get(key))}" for key in ("DRY_RUN", "PAPER_TRADING"))
        raise Refused(f"the rehearsal starts where Task 4.3 starts, from the dry-run .env (DRY_RUN=true, "
                      f"PAPER_TRADING=false); {env_file} says {said}")
    return bot_dir


def _command(text: str, bot_dir: Path) -> list[str]:
    """The bot's command as a list, its program found: a relative path (.venv/bin/python, ./run.sh) as the copy will
    hold it, else from the bot's own folder (a virtual environment is not copied); a bare name on PATH; a .bat/.cmd
    on Windows runs through cmd. Relative paths are made absolute once the copy exists (`_in_copy`)."""
    try:
        argv = shlex.split(text, posix=os.name != "nt")
    except ValueError as exc:
        raise Refused(f"--bot-command {text!r} cannot be read: {exc}") from None
    if not argv:
        raise Refused("--bot-command is empty: give the command that starts the bot")
    if os.name == "nt":
        argv = [part[1:-1] if len(part) > 1 and part[0] == part[-1] == '"' else part for part in argv]
    first = argv[0]
    if os.path.isabs(first) or os.sep in first or "/" in first:
        if not os.path.isabs(first) and not (bot_dir / first).exists():
            raise Refused(f"--bot-command: {first!r} is not in the bot's folder {bot_dir}")
    else:
        found = shutil.which(first)
        if found is None:
            raise Refused(f"--bot-command: {first!r} is not a program on PATH")
        argv[0] = found
    if os.name == "nt" and argv[0].lower().endswith((".bat", ".cmd")):
        argv = ["cmd", "/c", *argv]
    return argv


def _in_copy(argv: list[str], bot_dir: Path, copy_dir: Path) -> list[str]:
    """A relative program path resolved: the copy's file when it was copied, else the bot's own (its virtual
    environment's interpreter, which the copy leaves out)."""
    first = argv[0]
    if os.path.isabs(first) or not (os.sep in first or "/" in first):
        return argv
    where = copy_dir if (copy_dir / first).exists() else bot_dir
    return [str(where / first), *argv[1:]]


def _new_root(evidence_dir: Path) -> Path:
    stamp = f"{clock.now().astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    base = evidence_dir / REHEARSALS_DIR
    for attempt in range(1, 1000):
        root = base / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            root.mkdir(parents=True)
            return root.resolve()
        except FileExistsError:
            continue
        except OSError as exc:
            raise Refused(f"cannot make the rehearsal's folder in {base}: {exc}") from None
    raise Refused(f"no free rehearsal folder in {base}")


def _rehearse(rehearsal: Rehearsal, bot_dir: Path, argv: list[str], every: float) -> int:
    from harness.fakes.rehearsal import copy_bot_dir, point_env_at, rehearsal_world, secrets_of

    settings = rehearsal.settings
    real_secrets = secrets_of(bot_dir / ".env")
    _say("copy the bot's folder")
    evidence_root = Path(settings.evidence_dir).resolve()
    copy = copy_bot_dir(bot_dir, rehearsal.copy_dir, exclude=[evidence_root])
    print(f"copied {copy.files} file(s) to {copy.root}; version control: {copy.git}")
    for line in copy.skipped[:12]:
        print(f"  not copied: {line}")
    if len(copy.skipped) > 12:
        print(f"  not copied: ... and {len(copy.skipped) - 12} more")
    rehearsal.steps.append(Step("copy the bot's folder", note=copy.git))
    rehearsal.work_dir.mkdir(mode=0o700)
    # It holds the bot's environment dump: owner-only on Windows too (mkdir's mode is POSIX's only).
    from harness.core.files import OwnerOnly

    problem = OwnerOnly().folder(rehearsal.work_dir)
    if problem:
        print(f"warning: {problem}", file=sys.stderr, flush=True)
    with rehearsal_world() as world:
        _say("point the copy at the rehearsal's fakes")
        pointed = point_env_at(copy.env_file, world, bot_dir, copy.root)
        print(f"fakes on {world.host}: paper gateway :{world.paper_port}, LIVE gateway :{world.live_port}, Discord "
              f":{world.discord.port}")
        for rewrite in pointed.rewrites:
            print(f"  the copy's .env: {rewrite}")
        for warning in pointed.warnings:
            print(f"  note: {warning}")
        if not pointed.rewrites:
            print("  note: the copy's .env names no gateway or Discord setting the rehearsal knows: the bot may reach "
                  "for a real gateway")
        rehearsal.steps.append(Step("point the copy's .env at the fakes",
                                    note=", ".join(r.key for r in pointed.rewrites)))
        context = _Context(rehearsal, world, bot_dir, _in_copy(argv, bot_dir, copy.root), real_secrets)
        return context.procedure(every)


class _Context:
    """One rehearsal under way: its world, the bot's processes, the harness's steps."""

    def __init__(self, rehearsal: Rehearsal, world, bot_dir: Path, argv: list[str], real_secrets: dict) -> None:
        from harness.fakes.rehearsal import inherited_environ, translated_path

        self.rehearsal, self.world, self.bot_dir, self.argv = rehearsal, world, bot_dir, argv
        settings = rehearsal.settings
        self.copy = rehearsal.copy_dir.resolve()
        self.evidence = rehearsal.evidence_dir
        self.pattern = _process_pattern(settings, argv)
        self.log_spec = (translated_path(settings.bot_log, bot_dir, self.copy) if settings.bot_log
                         else str(self.copy / "logs" / "*.log*"))
        base = inherited_environ(os.environ, real_secrets)
        self.bot_environ, said = _poetry_environment(argv, bot_dir, _bot_environ(base))
        if said:
            print(said, flush=True)
        # --bot-process goes by its variable: on the command lines of the harness's own processes it would make
        # each of them look like the bot to the process checks.
        self.harness_environ = {**base, **_forwarded(settings, rehearsal.args), "HARNESS_REHEARSAL": "1",
                                "HARNESS_BOT_PROCESS": self.pattern, "DISCORD_BOT_TOKEN": world.discord.bot_token,
                                "PYTHONIOENCODING": "utf-8"}
        self.environ_dump = rehearsal.work_dir / "bot-environ.txt"
        self.ready_marker = settings.log_expected[-1]
        self.secrets = [*real_secrets.values()]

    # -- the harness's own commands ---------------------------------------------------------------------------------
    def world_options(self, with_environ: bool = True) -> list[str]:
        world = self.world
        options = ["--live-gateway", "--bot-dir", str(self.copy), "--gateway", f"{world.host}:{world.paper_port}",
                   "--live-gateway-port", str(world.live_port), "--discord-api", world.discord.api_base,
                   "--discord-channel", str(world.discord.channel_id), "--evidence-dir", str(self.evidence)]
        if self.rehearsal.settings.bot_log:
            options += ["--bot-log", self.log_spec]
        if with_environ and self.environ_dump.is_file():
            options += ["--bot-environ", str(self.environ_dump)]
        return options

    def harness(self, title: str, *argv: str) -> int:
        _say(title)
        began = time.monotonic()
        try:
            done = subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=self.rehearsal.root,
                                  env=self.harness_environ, timeout=STEP_TIMEOUT, check=False)
            status = done.returncode
        except subprocess.TimeoutExpired:
            print(f"harness rehearse: {title} did not finish within {STEP_TIMEOUT:g} s", flush=True)
            status = 3
        self.rehearsal.steps.append(Step(title, status, seconds=time.monotonic() - began))
        return status

    def check(self, title: str, phase: str) -> int:
        return self.harness(title, "check", "-p", "no:xdist", "--phase", phase, *self.world_options())

    # -- the procedure -----------------------------------------------------------------------------------------------
    def procedure(self, every: float) -> int:
        rehearsal, args, copy = self.rehearsal, self.rehearsal.args, self.copy
        evidence = ["--evidence-dir", str(self.evidence)]
        self.harness("snapshot: the baseline of the copy's dry-run .env", "snapshot", "--bot-dir", str(copy),
                     *evidence)
        self.attest()
        self.check("preflight (seed Step 0 and Step 1)", "preflight")
        self.harness("switch the copy to paper (seed Step 2)", "switch", "paper", "--bot-dir", str(copy),
                     "--force-market-hours", *evidence)
        self.commit_example()
        with contextlib.ExitStack() as stack:
            bot = stack.enter_context(self.bot("start the bot in paper mode (seed Step 3)", "transition"))
            self.check("transition (seed Steps 2-4)", "transition")
            self.harness("first hour (harness watch, short)", "watch", *self.world_options(), "--for",
                         f"{args.watch_for:g}s", "--every", f"{every:g}s")
            self.harness("halt drill (harness halt --drill)", "halt", "--drill", "--bot-dir", str(copy), "--gateway",
                         f"{self.world.host}:{self.world.paper_port}", "--reason",
                         "rehearsal: the emergency halt, rehearsed", *evidence)
            _say("stop the bot")
            print(bot.stop(), flush=True)
        self.close_positions()
        self.harness("rollback: switch the copy back to dry-run", "switch", "dry-run", "--bot-dir", str(copy),
                     "--force-market-hours", *evidence)
        # A live rollback comes hours after the paper start, a rehearsal's within a minute: the Discord checks take
        # a post from two minutes before a start as that start's, so the rollback's start finds the channel empty.
        self.world.discord.reset()
        with self.bot("restart the bot in dry-run mode (rollback plan)", "rollback") as bot:
            self.check("rollback (the seed's Rollback Plan)", "rollback")
            _say("stop the bot")
            print(bot.stop(), flush=True)
        report = ["report", "--bot-dir", str(copy), "--transition-log", str(rehearsal.root / LOG_FILE), *evidence]
        if args.no_html:  # without Node, `harness report` leaves the HTML out itself and says so
            report.append("--no-html")
        self.harness("report (transition log and board card, marked REHEARSAL)", "report", *report[1:])
        return self.verdict()

    def attest(self) -> None:
        """Step 0's three attestations, by "rehearsal", and what only the live machine can show, left to it."""
        from harness.evidence import attestations

        note = "harness rehearse: a rehearsal on a copy of the bot; the live transition needs the operator's own"
        for item in PRE_TRANSITION:
            attestations.record(self.evidence, item, BY, note)
        for item, why in LEFT_TO_THE_LIVE_RUN.items():
            attestations.record(self.evidence, item, BY, why)
        items = ", ".join((*PRE_TRANSITION, *LEFT_TO_THE_LIVE_RUN))
        print(f"recorded by {BY!r} in the rehearsal's evidence: {items}", flush=True)
        self.rehearsal.steps.append(Step("attestations by 'rehearsal'", note=items))

    def commit_example(self) -> None:
        """The configuration change committed as the seed asks, in the copy's repository: the committed .env
        example switched with the same edit (what the operator does by hand, then `git commit`)."""
        from harness.actions.switch import apply_switch, plan_switch
        from harness.fakes.rehearsal import commit_in_copy, tracked_in_copy
        from harness.probes.envfile import BACKUP_DIR, read_env
        from harness.probes.vcs import EXAMPLE_NAMES

        for name in EXAMPLE_NAMES:
            example = self.copy / name
            if not example.is_file() or not tracked_in_copy(self.copy, example):
                continue
            values = read_env(example).values
            if "DRY_RUN" not in values and "PAPER_TRADING" not in values:
                return
            try:
                apply_switch(plan_switch(example, "paper"))
            except Exception as exc:  # EnvEditError: the example cannot be edited as the .env is
                print(f"harness rehearse: {name} cannot be switched: {exc}", flush=True)
                return
            for backup in (self.copy / BACKUP_DIR).glob(f"{name}.bak-*"):
                backup.unlink()
            done = commit_in_copy(self.copy, example, "Task 4.3: paper trading mode (harness rehearse)")
            print(f"{name} switched to paper and {'committed' if done else 'NOT committed'} in the copy "
                  "(the seed's 'configuration change committed to version control')", flush=True)
            self.rehearsal.steps.append(Step(f"commit {name} in paper mode", note="committed" if done else "failed"))
            return

    def close_positions(self) -> None:
        closed = self.world.close_paper_positions()
        if closed:
            print(f"closed by hand on the fake paper account (the rollback plan): {'; '.join(closed)}", flush=True)
        self.rehearsal.steps.append(Step("close the paper positions by hand", note="; ".join(closed) or "none"))

    @contextlib.contextmanager
    def bot(self, title: str, phase: str):
        from harness.cli.rehearse_bot import BotProcess
        from harness.core.redact import SecretSet, redact_text

        _say(title)
        output = self.rehearsal.root / f"bot-output-{phase}.txt"
        _write_private(self.environ_dump, "".join(f"{k}={v}\n" for k, v in self.bot_environ.items()
                                                  if "\n" not in v))
        process = BotProcess(self.argv, self.copy, self.bot_environ, output)
        process.start()
        try:
            shown = redact_text(shlex.join(self.argv), SecretSet(self.secrets))
            print(f"started: {shown} (pid {process.pid}, in {self.copy}; output -> {output})", flush=True)
            said = process.wait_ready(self.log_spec, self.ready_marker, self.rehearsal.args.ready_timeout,
                                      self.rehearsal.args.settle)
            print(said, flush=True)
            self.rehearsal.steps.append(Step(title, note=said))
            yield process
        finally:
            process.stop()

    def verdict(self) -> int:
        from harness.evidence import attestations, incidents, runs
        from harness.verdict.decide import EXIT_INCOMPLETE, EXIT_NEEDS_REMEDIATION, EXIT_VERIFIED
        from harness.verdict.outcome import INCOMPLETE, NEEDS_REMEDIATION, SUCCESS, outcome
        from harness.verdict.transition import judge_chain

        records, problem = incidents.history(self.evidence)
        chain = judge_chain(runs.list_runs(self.evidence), records, problem, runs.history(self.evidence))
        recorded, _problem = attestations.load(self.evidence)
        result = outcome(chain.runs, chain.attestations(recorded), chain)
        failed, still_open = list(result.failed), list(result.open)
        drill = next((step for step in self.rehearsal.steps if step.title.startswith("halt drill")), None)
        if drill is not None and drill.status not in (0, None):
            failed.append("halt drill: `harness halt --drill` did not complete (see its lines above)")
        status = NEEDS_REMEDIATION if failed else result.status
        verdicts = {SUCCESS: EXIT_VERIFIED, NEEDS_REMEDIATION: EXIT_NEEDS_REMEDIATION, INCOMPLETE: EXIT_INCOMPLETE}
        broken = [step for step in self.rehearsal.steps if step.status not in (None, *verdicts.values())]
        code = broken[0].status if broken else verdicts[status]
        _say("summary (REHEARSAL — not evidence of a live transition)")
        for step in self.rehearsal.steps:
            shown = f"exit {step.status:>3}" if step.status is not None else "        "
            took = f"{step.seconds:5.1f} s" if step.seconds is not None else "       "
            print(f"  {shown}  {took}  {step.title}")
        print(f"\nREHEARSAL: {status} (exit {code})")
        for line in failed:
            print(f"  FAILED  {line}")
        for line in still_open:
            print(f"  open    {line}")
        print("  the first day is left to the live run: a real bot lives on real time (`harness check --phase "
              "first-day` after the live transition's first day)")
        log = self.rehearsal.root / LOG_FILE
        card = self.evidence / REPORT_DIR / CARD_FILE
        html = self.evidence / REPORT_DIR / HTML_FILE
        print(f"Transition log (REHEARSAL): {log if log.exists() else '(not written)'}")
        print(f"Board card:                 {card if card.exists() else '(not written)'}")
        if html.exists():
            print(f"HTML report:                {html}")
        print(f"Evidence of the rehearsal:  {self.evidence}")
        _write_summary(self.rehearsal, self.bot_dir, status, code, failed, still_open, self.secrets)
        return code


def _say(title: str) -> None:
    print(f"\n=== harness rehearse: {title} ===", flush=True)


def _process_pattern(settings, argv: list[str]) -> str:
    """What the bot's command line holds, for `harness halt` and the process checks: --bot-process when given,
    else the command's last word (src.main, bot.py), which the checks look for in the copy's folder only."""
    if settings.sources.get("bot_process", "default") != "default":
        return settings.bot_process
    return Path(argv[-1]).name if len(argv) > 1 else Path(argv[0]).name


def _bot_environ(base: dict[str, str]) -> dict[str, str]:
    """The bot's environment: the operator's without the real Discord/IBKR settings and secrets, and without the
    harness's virtual environment (a `poetry run` there would take it for the bot's)."""
    environ = dict(base)
    if sys.prefix != sys.base_prefix:
        environ.pop("VIRTUAL_ENV", None)
        ours = str(Path(sys.executable).parent)
        environ["PATH"] = os.pathsep.join(part for part in environ.get("PATH", "").split(os.pathsep)
                                          if part and os.path.normcase(part) != os.path.normcase(ours))
    return environ


def _poetry_environment(argv: list[str], bot_dir: Path, environ: dict[str, str]) -> tuple[dict[str, str], str]:
    """`poetry run ...`: Poetry finds a project's environment by the project's folder, so in the copy it would make
    a new, empty one. The bot's own (`poetry env info --path`, asked in the bot's folder) is made the active one
    (VIRTUAL_ENV, its scripts first on PATH), which `poetry run` then uses. Returns the environment and what to say."""
    poetry = next((part for part in argv[:3] if Path(part).stem.lower() == "poetry"), None)
    if poetry is None:
        return environ, ""
    advice = ("give the bot's interpreter instead: --bot-command \"<the output of `poetry env info --executable` in "
              "the bot's folder> -m src.main\" (docs/rehearse.md)")
    try:
        done = subprocess.run([poetry, "env", "info", "--path"], cwd=bot_dir, env=environ, capture_output=True,
                              text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return environ, f"harness rehearse: `poetry env info --path` failed ({exc}); {advice}"
    lines = done.stdout.strip().splitlines()
    venv = Path(lines[-1].strip()) if done.returncode == 0 and lines else None
    if venv is None or not venv.is_dir():
        return environ, (f"harness rehearse: Poetry names no environment of the bot in {bot_dir} (`poetry install` "
                         f"there first?); `poetry run` in the copy would make an empty one: {advice}")
    scripts = venv / ("Scripts" if os.name == "nt" else "bin")
    found = {**environ, "VIRTUAL_ENV": str(venv), "PATH": os.pathsep.join([str(scripts), environ.get("PATH", "")])}
    return found, (f"harness rehearse: the bot's Poetry environment {venv} (`poetry env info --path` in its folder) "
                   "is the active one for `poetry run` in the copy")


def _forwarded(settings, args: argparse.Namespace) -> dict[str, str]:
    """The operator's settings about the bot's log and texts, as HARNESS_* variables for every step."""
    from harness.core.settings import SPEC_BY_NAME

    found = {}
    for name in FORWARDED:
        spec = SPEC_BY_NAME[name]
        source = settings.sources.get(name, "default")
        if source.startswith("--"):
            raw = getattr(args, name, None)
        elif source == spec.env:
            raw = os.environ.get(spec.env)
        else:
            continue
        if raw is not None:
            found[spec.env] = "1" if raw is True else str(raw)
    return found


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(text.encode("utf-8"))


def _write_summary(rehearsal: Rehearsal, bot_dir: Path, status: str, code: int, failed: list[str],
                   still_open: list[str], secrets: list[str]) -> None:
    from harness.core.jsonfiles import write_json_atomic
    from harness.core.redact import SecretSet, redact_text

    known = SecretSet(secrets)
    body = {"rehearsal": "REHEARSAL — not evidence of a live transition", "bot_dir": str(bot_dir),
            "bot_command": redact_text(rehearsal.args.bot_command, known), "finished_at": clock.now().isoformat(),
            "status": status, "exit_status": code, "failed": [redact_text(line, known) for line in failed],
            "open": [redact_text(line, known) for line in still_open],
            "first_day": "left to the live run",
            "steps": [{"title": s.title, "exit_status": s.status, "note": redact_text(s.note, known)}
                      for s in rehearsal.steps],
            "copy": str(rehearsal.copy_dir) if rehearsal.args.keep else None}
    with contextlib.suppress(OSError):
        write_json_atomic(rehearsal.root / SUMMARY_FILE, body)


def _tidy(rehearsal: Rehearsal) -> None:
    """Redact the bot's output with the real .env's secrets; remove the copy (unless --keep) and the environment
    dump."""
    from harness.core.redact import SecretSet, redact_text
    from harness.fakes.rehearsal import secrets_of

    known = SecretSet([*secrets_of(Path(rehearsal.settings.bot_dir) / ".env").values(),
                       *secrets_of(rehearsal.copy_dir / ".env").values()])
    for output in rehearsal.root.glob("bot-output-*.txt"):
        with contextlib.suppress(OSError):
            data = output.read_bytes()[-MAX_OUTPUT_BYTES:]
            output.write_text(redact_text(data.decode("utf-8", errors="replace"), known), encoding="utf-8")
    shutil.rmtree(rehearsal.work_dir, ignore_errors=True)
    if rehearsal.args.keep:
        print(f"the bot's copy is kept: {rehearsal.copy_dir}")
    else:
        shutil.rmtree(rehearsal.copy_dir, ignore_errors=True)
