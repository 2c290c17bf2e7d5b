"""Version-control facts about the bot's project: is the .env ignored, did a secret get committed,
does the committed example show the new mode. Read-only `git` calls, each with a timeout."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.probes.envfile import NotReadable, read_regular_file

EXAMPLE_NAMES = (".env.example", ".env.sample", ".env.template", "example.env", ".env.dist")
MAX_FILE_BYTES = 5_000_000  # tracked files larger than this are not searched for secrets
MAX_TOTAL_BYTES = 200_000_000


@dataclass(frozen=True)
class RepoFacts:
    looked: bool
    problem: str | None = None
    env_tracked: bool = False
    env_ignored: bool = False
    secret_hits: tuple[tuple[str, str], ...] = ()  # (tracked file, key whose secret value it contains)
    files_searched: int = 0
    files_skipped: int = 0
    example_path: str | None = None
    example_values: Mapping[str, str | None] = field(default_factory=dict)  # as committed at HEAD
    example_committed: bool = False  # the working-tree example equals HEAD's


def _git(repo: Path, *args: str, timeout: float, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, timeout=timeout, check=False
    )


def git_facts(bot_dir: Path, env_path: Path, secrets: Mapping[str, str], timeout: float = 10.0) -> RepoFacts:
    """Never raises: no git, no repository or a timeout is a fact with a problem."""
    try:
        top = _git(bot_dir, "rev-parse", "--show-toplevel", timeout=timeout)
    except FileNotFoundError:
        return RepoFacts(False, "git is not installed here")
    except subprocess.TimeoutExpired:
        return RepoFacts(False, f"git did not answer within {timeout:g}s")
    if top.returncode != 0:
        return RepoFacts(False, f"{bot_dir} is not a git repository")
    root = Path(top.stdout.decode("utf-8", "replace").strip())
    try:
        return _facts(root, env_path, secrets, timeout)
    except subprocess.TimeoutExpired:
        return RepoFacts(False, f"git did not answer within {timeout:g}s")


def _facts(root: Path, env_path: Path, secrets: Mapping[str, str], timeout: float) -> RepoFacts:
    try:
        rel = env_path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return RepoFacts(False, f"{env_path} is outside the repository {root}")
    tracked = _git(root, "ls-files", "--error-unmatch", "--", rel, timeout=timeout).returncode == 0
    ignored = _git(root, "check-ignore", "-q", "--no-index", "--", rel, timeout=timeout).returncode == 0
    listing = _git(root, "ls-files", "-z", timeout=timeout).stdout.decode("utf-8", "replace")
    files = [name for name in listing.split("\0") if name]
    hits, searched, skipped = _search_secrets(root, files, secrets)
    example_path, example_values, committed = _example(root, files, timeout)
    return RepoFacts(True, None, tracked, ignored, hits, searched, skipped, example_path, example_values,
                     committed)


def _search_secrets(
    root: Path, files: list[str], secrets: Mapping[str, str]
) -> tuple[tuple[tuple[str, str], ...], int, int]:
    needles = {key: value.encode("utf-8") for key, value in secrets.items() if value and len(value) >= 6}
    hits: list[tuple[str, str]] = []
    searched = skipped = total = 0
    for name in files:
        path = root / name
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
            skipped += 1
            continue
        try:  # bounded and never blocking: a tracked name may be a FIFO or a link to a device in the work tree
            data = read_regular_file(path, MAX_FILE_BYTES, "a tracked")
        except NotReadable:
            skipped += 1
            continue
        total += size
        searched += 1
        hits.extend((name, key) for key, needle in needles.items() if needle in data)
    return tuple(hits), searched, skipped


def _example(root: Path, files: list[str], timeout: float) -> tuple[str | None, dict[str, str | None], bool]:
    from harness.probes.envfile import parse_env_bytes

    for name in files:
        if Path(name).name in EXAMPLE_NAMES:
            shown = _git(root, "show", f"HEAD:{name}", timeout=timeout)
            if shown.returncode != 0:
                return name, {}, False
            facts = parse_env_bytes(shown.stdout, name)
            try:
                committed = (root / name).read_bytes() == shown.stdout
            except OSError:
                committed = False
            return name, dict(facts.values), committed
    return None, {}, False
