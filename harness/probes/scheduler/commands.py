"""What an action's command line runs, followed through cmd, PowerShell and POSIX shells and the wrappers they
call: the environment they set, the directory they `cd` to, the virtual environment they activate, the python."""

from __future__ import annotations

import re
import shlex
from datetime import timedelta
from pathlib import Path

from harness.probes.scheduler.trace import ActionTrace, is_absolute, join_path
from harness.probes.scheduler.words import ASSIGNMENT, outside_quotes, program_name, split_words, unquote_whole
from harness.probes.scheduler.wrappers import read_environment_file, read_wrapper

_PYTHON = re.compile(r"^(python(\d+(\.\d+)*)?w?|pyw?)(\.exe)?$", re.I)
_RUNNERS = {"poetry", "uv", "pipenv", "hatch", "pdm"}  # `poetry run python ...`: the project's environment
_CMD = {"cmd", "cmd.exe"}
_POWERSHELL = {"powershell", "powershell.exe", "pwsh", "pwsh.exe"}
_SH = {"sh", "bash", "dash", "zsh", "/bin/sh", "/bin/bash"}
_WRAPPERS = {".bat", ".cmd", ".ps1", ".sh"}


def follow_windows_action(command: str, arguments: str, trace: ActionTrace, depth: int = 0) -> None:
    """Follow a Task Scheduler Exec action: Command with its raw Arguments (Windows quoting)."""
    name = program_name(command)
    if name in _CMD:
        match = re.match(r"^\s*(?:/[a-bd-jl-z]\S*\s+)*/[ck]\s+(.*)$", arguments, re.I | re.S)
        if match:
            _cmd_script(unquote_whole(match.group(1)), trace, depth)
        return
    if name in _POWERSHELL:
        _powershell_arguments(arguments, trace, depth)
        return
    follow_program([command, *split_words(arguments, windows=True)], trace, depth, windows=True)


def _powershell_arguments(arguments: str, trace: ActionTrace, depth: int) -> None:
    script = re.search(r"(?:^|\s)-(?:c|command)\s+(.*)$", arguments, re.I | re.S)
    file = re.search(r"(?:^|\s)-(?:f|file)\s+(\"[^\"]*\"|'[^']*'|\S+)", arguments, re.I)
    if file:
        _follow_wrapper(file.group(1).strip("\"'"), trace, depth)
    elif script:
        _powershell_script(unquote_whole(script.group(1)), trace, depth)


def _cmd_script(text: str, trace: ActionTrace, depth: int) -> None:
    """cmd.exe: lines, then commands joined by & && | ||. `set X=v && ...` keeps the space before && in the
    value, as cmd does."""
    for line in text.splitlines():
        for segment in outside_quotes(line, "&|", quotes='"'):  # cmd has no single quotes
            _cmd_command(segment.lstrip().lstrip("@"), trace, depth)


def _cmd_command(segment: str, trace: ActionTrace, depth: int) -> None:
    word = segment.split(None, 1)[0].lower() if segment.strip() else ""
    rest = segment.split(None, 1)[1] if len(segment.split(None, 1)) > 1 else ""
    if not word or word in {"rem", "echo", "setlocal", "endlocal", "title", "exit", "goto", "pause", "timeout",
                            "for", "cls", "chcp"} or word.startswith((":", "rem.", "echo.")):
        return
    if word == "if":  # `if not defined DRY_RUN set DRY_RUN=true`: what it may do counts
        then = _CMD_IF.match(segment.strip())
        if then:
            _cmd_command(then.group(1), trace, depth)
        return
    if word == "set":
        body = rest.rstrip("\r\n")
        if body.lstrip().startswith("/"):  # set /a, set /p: arithmetic, prompt
            return
        body = body.lstrip()
        if body.startswith('"'):
            body = body[1:body.rfind('"')] if body.count('"') > 1 else body[1:]
        name, equals, value = body.partition("=")
        if equals and name.strip():
            trace.set(name.strip(), value)
        return
    if word in {"cd", "chdir", "pushd"}:
        target = re.sub(r"^/d\s+", "", rest.strip(), flags=re.I)
        trace.cd(target)
        return
    if word == "call":
        follow_program(split_words(rest, windows=True), trace, depth, windows=True)
        return
    if word == "start":  # start "title" /b program ...
        words = split_words(rest, windows=True)
        if rest.lstrip().startswith('"'):  # the window title
            words = words[1:]
        while words and words[0].startswith("/"):
            words = words[1:]
        follow_program(words, trace, depth, windows=True)
        return
    follow_program(split_words(segment, windows=True), trace, depth, windows=True)


_CMD_IF = re.compile(r"^if\s+(?:/i\s+)?(?:not\s+)?(?:defined\s+\S+|exist\s+(?:\"[^\"]*\"|\S+)|errorlevel\s+\d+|"
                     r"\S+\s*==\s*\S+|\S+\s+(?:equ|neq|lss|leq|gtr|geq)\s+\S+)\s+\(?\s*(.*?)\)?\s*$", re.I)
_PS_ENV = re.compile(r"^\$env:([A-Za-z_][\w.]*)\s*=\s*(.*)$", re.I | re.S)
_PS_SET_VARIABLE = re.compile(r"\[(?:System\.)?Environment\]::SetEnvironmentVariable\(\s*['\"]([A-Za-z_][\w.]*)['\"]"
                              r"\s*,\s*(['\"][^'\"]*['\"]|[^,)]*)", re.I)
_PS_SET_ITEM = re.compile(r"^(?:Set-Item|si)\s+(?:-Path\s+)?env:([A-Za-z_][\w.]*)\s+(?:-Value\s+)?(.*)$", re.I | re.S)


def _powershell_script(text: str, trace: ActionTrace, depth: int) -> None:
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for statement in outside_quotes(line, ";"):
            _powershell_statement(statement.strip(), trace, depth)


def _powershell_statement(statement: str, trace: ActionTrace, depth: int) -> None:
    if not statement:
        return
    found = _PS_ENV.match(statement) or _PS_SET_ITEM.match(statement) or _PS_SET_VARIABLE.search(statement)
    if found:
        value = found.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        trace.set(found.group(1), value)
        return
    words = split_words(statement, windows=True)
    if words and words[0] in {"&", "."}:
        words = words[1:]
    if not words:
        return
    if words[0].lower() in {"set-location", "cd", "sl", "push-location", "pushd", "chdir"}:
        rest = [w for w in words[1:] if not w.startswith("-")]
        if rest:
            trace.cd(rest[0])
        return
    follow_program(words, trace, depth, windows=True)


def follow_shell_script(text: str, trace: ActionTrace, depth: int = 0) -> None:
    """POSIX shell: commands joined by ; && || | and newlines; `VAR=v prog` and `export VAR=v` set the
    environment (a bare `VAR=v` line does not export it)."""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        command: list[str] = []
        for token in [*tokens, ";"]:
            if token and set(token) <= set(";&|"):
                _sh_command(command, trace, depth)
                command = []
            else:
                command.append(token)


def _sh_command(words: list[str], trace: ActionTrace, depth: int) -> None:
    if not words:
        return
    assignments = []
    while words and ASSIGNMENT.match(words[0]):
        assignments.append(ASSIGNMENT.match(words[0]).groups())  # type: ignore[union-attr]
        words = words[1:]
    if not words:
        for name, value in assignments:  # a shell variable: exported only by a later `export NAME` (or `set -a`)
            trace.shell_vars[name] = value
            if trace.allexport:
                trace.set(name, value)
        return
    for name, value in assignments:
        trace.set(name, value)
    head = words[0]
    if head == "export":
        for word in words[1:]:
            match = ASSIGNMENT.match(word)
            if match:
                trace.set(*match.groups())
            elif word in trace.shell_vars:  # `DRY_RUN=true; export DRY_RUN`
                trace.set(word, trace.shell_vars[word])
        return
    if head == "set" and any(re.fullmatch(r"-\w*a\w*", word) for word in words[1:]):
        trace.allexport = True
        return
    if head == "cd":
        if len(words) > 1:
            trace.cd(words[1])
        return
    if head in {"source", "."}:
        if len(words) > 1 and program_name(words[1]).startswith("activate"):
            trace.activate(words[1])
        elif len(words) > 1:  # `set -a; . ./live.env`: what it assigns is the bot's environment
            where = words[1] if is_absolute(words[1]) or not trace.directory else join_path(trace.directory, words[1])
            read_environment_file(where, trace, "the file it sources,")
        return
    while words and words[0] in {"exec", "nohup", "setsid", "time", "command", "timeout"}:
        if words[0] == "timeout":
            words = _timeout(words[1:], trace)
            continue
        words = words[1:]
    follow_program(words, trace, depth, windows=False)


_TIMEOUT_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _timeout(words: list[str], trace: ActionTrace) -> list[str]:
    """`timeout [-k 10] [-s TERM] 4h python ...`: the limit it sets on what it runs, and the rest of the line."""
    while words and words[0].startswith("-"):
        takes_value = words[0] in {"-k", "-s", "--kill-after", "--signal"}
        words = words[2:] if takes_value else words[1:]
    if not words:
        return words
    found = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd]?)", words[0])
    if found is None:
        trace.time_limit_unread = f"timeout {words[0]}"
    else:
        limit = timedelta(seconds=float(found.group(1)) * _TIMEOUT_UNITS[found.group(2)])
        if limit > timedelta(0):  # timeout 0 is no limit
            trace.time_limit = min(limit, trace.time_limit) if trace.time_limit else limit
    return words[1:]


def follow_program(words: list[str], trace: ActionTrace, depth: int, *, windows: bool) -> None:
    """One program with its arguments: python, a runner, a shell, or a wrapper script."""
    while words and words[0] == "env":  # env VAR=v program
        words = words[1:]
        while words and ASSIGNMENT.match(words[0]):
            trace.set(*ASSIGNMENT.match(words[0]).groups())  # type: ignore[union-attr]
            words = words[1:]
    if not words:
        return
    name = program_name(words[0])
    if _PYTHON.match(name):
        trace.python(words[0])
        return
    if name in _RUNNERS and len(words) > 1 and words[1] == "run":
        trace.python(f"{words[0]} run")
        return
    if name.startswith("activate") and ("scripts" in words[0].lower() or "bin" in words[0].lower()):
        trace.activate(words[0])
        return
    if name in _CMD:
        rest = " ".join(words[1:])
        follow_windows_action(words[0], rest, trace, depth)
        return
    if name in _POWERSHELL:
        _powershell_arguments(" ".join(f'"{w}"' if " " in w else w for w in words[1:]), trace, depth)
        return
    if name in _SH or program_name(name) in _SH:
        if "-c" in words[1:]:
            at = words.index("-c")
            if at + 1 < len(words):
                follow_shell_script(words[at + 1], trace, depth)
        elif len(words) > 1:
            _follow_wrapper(words[1], trace, depth)
        return
    if Path(name).suffix in _WRAPPERS:
        _follow_wrapper(words[0], trace, depth)


def _follow_wrapper(path_text: str, trace: ActionTrace, depth: int) -> None:
    """Read the script the action runs (bounded) and follow it: its `set`s, `cd`s and the python it starts."""
    found = read_wrapper(path_text, trace, depth)
    if found is None:
        return
    path, text = found
    suffix = path.suffix.lower()
    if suffix in {".bat", ".cmd"}:
        _cmd_script(text, trace, depth + 1)
    elif suffix == ".ps1":
        _powershell_script(text, trace, depth + 1)
    else:
        follow_shell_script(text, trace, depth + 1)
