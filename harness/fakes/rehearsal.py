"""A rehearsal's world: the operator's real bot, copied, against the harness's fakes on loopback.

`harness rehearse` (harness/cli/rehearse.py) runs the whole procedure on a COPY of the bot's directory, never on the
operator's own files, and points the copy at fakes it starts for the rehearsal, so IB and Discord never see it:

* `copy_bot_dir`: the bot's directory copied (its virtual environments, caches, backups and log files left out: what
  the checks read of the copy's log is the rehearsal's own), with a git repository that mirrors the real one's
  tracked state (its HEAD, index as HEAD, the working tree as it is), so the commit checks look at what they would;
* `point_env_at`: the copy's `.env` pointed at the fakes (gateway host and ports, Discord webhook, channel and token;
  absolute paths inside the bot's directory moved into the copy), byte-exact, every other line kept; what changed is
  told by key, a secret never by value;
* `rehearsal_world`: a fake paper gateway (a strategy bot's market: paper-market.toml) and a fake live gateway
  (a LIVE account on the same market, which accepts orders as a real one would, so an order sent there shows) on a
  loopback address of their own, and a fake Discord, started with the embedded world's own machinery.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.core.ibkr import LIVE_PORTS, PAPER_PORTS
from harness.core.redact import MIN_SECRET_CHARS, is_secret_key, is_secret_setting, is_secret_value
from harness.probes.envfile import BACKUP_DIR, load_env_bytes, plan_edit, read_env

# Folders never copied: version control (mirrored apart), caches, the harness's own .env backups (real secrets).
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".mypy_cache", ".pytest_cache",
                          ".ruff_cache", ".tox", ".nox", ".ipynb_checkpoints", BACKUP_DIR})
MIRRORED = "version control, mirrored apart (mirror_git)"
VENV_MARKER = "pyvenv.cfg"  # a folder holding one is a virtual environment: not the bot's, never copied
LOG_FILE = re.compile(r"\.log(?:\.\d+)?(?:\.gz)?$", re.IGNORECASE)  # bot.log, bot.log.1, bot.log.2.gz
MAX_SKIPPED_SHOWN = 12
GIT_TIMEOUT = 120.0
GIT_IDENTITY = ("-c", "user.name=harness rehearse", "-c", "user.email=rehearse@localhost", "-c",
                "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null" if os.name != "nt" else "core.hooksPath=NUL")

# Keys of the gateway's address, in the names bots give them (IBKR_HOST, IB_HOST, TWS_PORT, GATEWAY_PORT, ...).
HOST_KEY = re.compile(r"^(?:IBKR|IB|TWS|GATEWAY|IB_GATEWAY)_?HOST$", re.IGNORECASE)
PORT_KEY = re.compile(r"^(?:IBKR|IB|TWS|GATEWAY|IB_GATEWAY)_?PORT$", re.IGNORECASE)
DISCORD_WEBHOOK = re.compile(r"^https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api(?:/v\d+)?/webhooks/",
                             re.IGNORECASE)
DISCORD_TOKEN_KEY = re.compile(r"^DISCORD_(?:BOT_)?TOKEN$", re.IGNORECASE)
DISCORD_CHANNEL_KEY = re.compile(r"^DISCORD_(?:\w+_)?CHANNEL(?:_ID)?$", re.IGNORECASE)
DISCORD_API_KEY = re.compile(r"^DISCORD_API(?:_BASE|_URL)?$", re.IGNORECASE)


class RehearsalError(RuntimeError):
    """The rehearsal's world or copy could not be made; the message says what to do."""


# -- the copy ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BotCopy:
    source: Path
    root: Path
    files: int
    skipped: tuple[str, ...]  # what was left out, and why (relative paths)
    git: str  # how the copy's version control was made

    @property
    def env_file(self) -> Path:
        return self.root / ".env"


def copy_bot_dir(source: Path, target: Path, exclude: Sequence[Path] = ()) -> BotCopy:
    """Copy the bot's directory `source` to `target` (which must not exist), leaving out `exclude` (the evidence
    directory, when it lies inside the bot's), virtual environments, caches, .env backups and log files (their
    folders are kept, empty, for a bot that expects them). Symbolic links stay links. Reads `source` only."""
    source, target = Path(source).resolve(), Path(target)
    excluded = {Path(path).resolve() for path in exclude}
    if target.resolve() == source or source in target.resolve().parents:
        excluded.add(target.resolve())
    skipped: list[str] = []
    files = 0
    target.mkdir(parents=True)
    for folder, dirs, names in os.walk(source):
        here = Path(folder)
        relative = here.relative_to(source)
        kept_dirs = []
        for name in sorted(dirs):
            path = here / name
            why = _why_skipped_dir(path, name, excluded)
            if why == MIRRORED:
                continue
            if why:
                skipped.append(f"{(relative / name).as_posix()}/ ({why})")
            elif path.is_symlink():
                _copy_link(path, target / relative / name, skipped, relative / name)
            else:
                (target / relative / name).mkdir()
                kept_dirs.append(name)
        dirs[:] = kept_dirs
        for name in sorted(names):
            path = here / name
            if LOG_FILE.search(name):
                skipped.append(f"{(relative / name).as_posix()} (a log of the real bot)")
                continue
            if path.is_symlink():
                _copy_link(path, target / relative / name, skipped, relative / name)
                continue
            shutil.copy2(path, target / relative / name)
            files += 1
    git = mirror_git(source, target)
    return BotCopy(source, target.resolve(), files, tuple(skipped), git)


def _why_skipped_dir(path: Path, name: str, excluded: set[Path]) -> str | None:
    if path.resolve() in excluded:
        return "the evidence directory"
    if name in SKIPPED_DIRS:
        return MIRRORED if name == ".git" else "a cache or the harness's .env backups"
    if (path / VENV_MARKER).is_file():
        return "a virtual environment: give its interpreter in --bot-command"
    return None


def _copy_link(path: Path, destination: Path, skipped: list[str], relative: Path) -> None:
    try:
        os.symlink(os.readlink(path), destination, target_is_directory=path.is_dir())
    except OSError as exc:  # Windows without the privilege to make links
        skipped.append(f"{relative.as_posix()} (a symbolic link that could not be made: {exc.strerror})")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *GIT_IDENTITY, *args], capture_output=True, timeout=GIT_TIMEOUT,
                          check=False)


def mirror_git(source: Path, target: Path) -> str:
    """Give the copy a repository with the real one's tracked state: its HEAD commit fetched (one commit deep), the
    index reset to it and the copied working tree as it was (uncommitted changes stay uncommitted). When the bot's
    directory is a folder inside a larger repository, its tracked files are committed as they are in a new one.
    Reads the real repository only. Returns how it was made, for the rehearsal's log."""
    try:
        top = subprocess.run(["git", "-C", str(source), "rev-parse", "--show-toplevel"], capture_output=True,
                             timeout=GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        return "none: git is not installed (the commit checks will say so)"
    except subprocess.TimeoutExpired:
        return "none: git did not answer (the commit checks will say so)"
    if top.returncode != 0:
        return "none: the bot's directory is not a git repository (the commit checks will say so)"
    root = Path(top.stdout.decode("utf-8", "replace").strip()).resolve()
    if _git(target, "init", "-q").returncode != 0:
        return "none: git init failed in the copy"
    if root == source:
        head = subprocess.run(["git", "-C", str(source), "rev-parse", "--verify", "-q", "HEAD"], capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
        if head.returncode != 0:
            return "a new repository: the real one has no commit yet (nothing is tracked)"
        fetched = _git(target, "fetch", "-q", "--depth", "1", "--no-tags", source.as_uri(), "HEAD")
        if fetched.returncode != 0:
            said = fetched.stderr.decode("utf-8", "replace").strip().splitlines()
            return (f"a new repository, nothing tracked: the real HEAD could not be fetched ("
                    f"{said[-1] if said else 'git fetch failed'}); the commit checks look at an empty history")
        if _git(target, "reset", "-q", "FETCH_HEAD").returncode != 0:
            return "a new repository: the real HEAD could not be set in the copy"
        return "the real repository's HEAD, its index and working tree as they are (mirrored)"
    listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z"], capture_output=True, timeout=GIT_TIMEOUT,
                            check=False)
    tracked = [name for name in listed.stdout.decode("utf-8", "replace").split("\0")
               if name and (target / name).exists()]
    for start in range(0, len(tracked), 200):
        _git(target, "add", "-f", "--", *tracked[start:start + 200])
    _git(target, "commit", "-q", "--allow-empty", "-m", "harness rehearse: the tracked files of the bot's folder")
    return (f"a new repository holding the {len(tracked)} tracked file(s) of the bot's folder as they are (the "
            f"repository's root is {root}): uncommitted changes read as committed")


def commit_in_copy(copy_root: Path, path: Path, message: str) -> bool:
    """Commit `path` in the copy's repository (what the operator commits by hand); False when it could not."""
    relative = Path(path).resolve().relative_to(Path(copy_root).resolve()).as_posix()
    return (_git(copy_root, "add", "--", relative).returncode == 0
            and _git(copy_root, "commit", "-q", "-m", message, "--", relative).returncode == 0)


def tracked_in_copy(copy_root: Path, path: Path) -> bool:
    relative = Path(path).resolve().relative_to(Path(copy_root).resolve()).as_posix()
    try:
        return _git(copy_root, "ls-files", "--error-unmatch", "--", relative).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


# -- the copy's .env, pointed at the fakes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Rewrite:
    """One value of the copy's .env changed: `before`/`after` as they may be shown (a secret never is)."""

    key: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.key}: {self.before} -> {self.after}"


@dataclass(frozen=True)
class Pointed:
    rewrites: tuple[Rewrite, ...]
    warnings: tuple[str, ...] = ()  # what the live run will see differently (a remote gateway host, ...)


def point_env_at(env_file: Path, world: RehearsalWorld, source_dir: Path, copy_dir: Path) -> Pointed:
    """Point the copy's .env at the rehearsal's world: every gateway host key at the fakes' address, every gateway
    port at the fake of its kind (paper 4002/7497 -> the fake paper gateway, live 4001/7496 -> the fake live one),
    every Discord webhook URL at the fake Discord's, a Discord token, channel or API base at the fake's, and every
    absolute path inside the real bot's directory into the copy. Byte-exact otherwise. Raises RehearsalError."""
    data, failed = load_env_bytes(env_file)
    if data is None:
        raise RehearsalError(f"the copy's .env cannot be read: {failed.problem if failed else env_file}")
    facts = read_env(env_file)
    updates: dict[str, str] = {}
    rewrites: list[Rewrite] = []
    warnings: list[str] = []
    source_dir, copy_dir = Path(source_dir).resolve(), Path(copy_dir).resolve()
    for key, value in facts.values.items():
        if value is None:
            continue
        new, before, after = _pointed(key, value, world, source_dir, copy_dir, warnings)
        if new is not None and new != value:
            updates[key] = new
            rewrites.append(Rewrite(key, before, after))
    if updates:
        try:
            plan = plan_edit(env_file, data, updates)
        except Exception as exc:  # EnvEditError: duplicated keys, unparseable lines
            raise RehearsalError(f"the copy's .env cannot be pointed at the rehearsal's fakes: {exc}") from None
        Path(env_file).write_bytes(plan.after.encode("utf-8"))
    return Pointed(tuple(rewrites), tuple(warnings))


def _pointed(key: str, value: str, world: RehearsalWorld, source_dir: Path, copy_dir: Path,
             warnings: list[str]) -> tuple[str | None, str, str]:
    """(the new value or None, what the old one may be shown as, what the new one may be shown as)."""
    secret = is_secret_setting(key, value)
    shown = "(secret)" if secret else value
    if HOST_KEY.match(key):
        from harness.core.settings import is_loopback_host

        if not is_loopback_host(value):
            warnings.append(f"{key}={shown} is not this machine: the live run's 'IBKR_HOST is this machine' fails "
                            "(the rehearsal points the copy at its fakes whatever it says)")
        return world.host, shown, f"{world.host} (the rehearsal's fakes)"
    if PORT_KEY.match(key):
        try:
            port = int(value.strip())
        except ValueError:
            return None, shown, shown
        if port in PAPER_PORTS:
            return str(world.paper_port), shown, f"{world.paper_port} (the fake paper gateway)"
        if port in LIVE_PORTS:
            return str(world.live_port), shown, f"{world.live_port} (the fake LIVE gateway, as {port} is live)"
        return None, shown, shown
    if DISCORD_WEBHOOK.match(value.strip()):
        return world.discord.webhook_url, "(a Discord webhook)", "the fake Discord's webhook"
    if DISCORD_TOKEN_KEY.match(key):
        return world.discord.bot_token, "(secret)", "the fake Discord's token"
    if DISCORD_CHANNEL_KEY.match(key) and value.strip().isdigit():
        return str(world.discord.channel_id), shown, f"{world.discord.channel_id} (the fake Discord's channel)"
    if DISCORD_API_KEY.match(key):
        return world.discord.api_base, shown, f"{world.discord.api_base} (the fake Discord)"
    moved = _moved_path(value, source_dir, copy_dir)
    if moved is not None:
        return moved, shown, "the same path in the copy"
    return None, shown, shown


def _moved_path(value: str, source_dir: Path, copy_dir: Path) -> str | None:
    text = value.strip()
    if not text or not os.path.isabs(text):
        return None
    try:
        relative = Path(text).resolve().relative_to(source_dir)
    except (OSError, ValueError):
        return None
    return str(copy_dir / relative)


def translated_path(text: str, source_dir: Path, copy_dir: Path) -> str:
    """A path or glob the operator gave for the real bot (--bot-log), as it is in the copy: an absolute one inside
    the bot's directory moved into the copy, a relative one read from the copy."""
    if not os.path.isabs(text):
        return str(Path(copy_dir) / text)
    source = Path(source_dir).resolve()
    for base in (source, Path(os.path.abspath(source_dir))):
        try:
            return str(Path(copy_dir) / Path(text).relative_to(base))
        except ValueError:
            continue
    return text


def secrets_of(env_file: Path | None) -> dict[str, str]:
    """The secrets (key -> value) of a .env: a key that names one (token, password, webhook, ...) or a value that
    carries one (a webhook, credentials in a URL). What must never reach the rehearsal's processes from the
    operator's shell."""
    if env_file is None or not Path(env_file).is_file():
        return {}
    return {key: value for key, value in read_env(env_file).values.items()
            if value and (is_secret_key(key) or is_secret_value(value))}


# Variables of the operator's shell no rehearsal process inherits: the real Discord and IBKR settings and secrets,
# the harness's own settings (the rehearsal gives its own), the GitHub token of `harness report`.
NOT_INHERITED_PREFIXES = ("DISCORD_", "IBKR_", "IB_", "TWS_", "HARNESS_")
NOT_INHERITED = frozenset({"GITHUB_TOKEN"})


def inherited_environ(environ: Mapping[str, str], real_secrets: Mapping[str, str]) -> dict[str, str]:
    """The operator's environment without the real Discord/IBKR settings and secrets: no variable named like them,
    none named as a secret of the real .env, none holding one of its secret values."""
    values = {value for value in real_secrets.values() if value and len(value) >= MIN_SECRET_CHARS}
    return {name: value for name, value in environ.items()
            if not name.upper().startswith(NOT_INHERITED_PREFIXES) and name.upper() not in NOT_INHERITED
            and name not in real_secrets and value not in values}


# -- the world ----------------------------------------------------------------------------------------------------
@dataclass
class RehearsalWorld:
    host: str
    paper: object  # harness.fakes.tws.FakeGateway (the paper account)
    live: object  # harness.fakes.tws.FakeGateway (a LIVE account)
    discord: object  # harness.fakes.discord.FakeDiscord
    closed: list[str] = field(default_factory=list)

    @property
    def paper_port(self) -> int:
        return self.paper.port

    @property
    def live_port(self) -> int:
        return self.live.port

    def close_paper_positions(self) -> list[str]:
        """What the operator does by hand in the portal after the halt (the rollback plan's "close all paper
        positions"), done on the fake paper account: every position removed. Returns them, as text."""
        def close(world) -> list[str]:
            held = [f"{p.symbol} {p.quantity:g} @ {p.avg_cost:.2f}" for p in world.positions]
            world.positions.clear()
            return held

        closed = self.paper.update_world(close)
        self.closed.extend(closed)
        return closed


def rehearsal_worlds():
    """(paper, live) worlds: the paper account on paper-market.toml's market (every symbol on its seeded path, the
    NYSE calendar); a LIVE account on the same market that accepts orders (not read-only), with its position."""
    from harness.fakes.tws import example_world_path, load_world

    paper = load_world(example_world_path("paper-market"))
    live = load_world(example_world_path("paper-market"))
    live_account = load_world(example_world_path("live"))
    live.accounts, live.positions = live_account.accounts, live_account.positions
    live.trading_mode, live.read_only = "live", False
    return paper, live


@contextmanager
def rehearsal_world() -> Iterator[RehearsalWorld]:
    """The fakes of a rehearsal on one loopback address of their own, stopped on the way out whatever happened."""
    from harness.fakes.discord import FakeDiscord
    from harness.fakes.embedded import EmbeddedWorldError, start_gateways

    with ExitStack() as stack:
        paper_world, live_world = rehearsal_worlds()
        try:
            host, paper, live = start_gateways(paper_world, live_world)
        except EmbeddedWorldError as exc:
            raise RehearsalError(str(exc)) from None
        stack.callback(live.stop)
        stack.callback(paper.stop)
        discord = FakeDiscord(host).start()
        stack.callback(discord.stop)
        yield RehearsalWorld(host, paper, live, discord)
