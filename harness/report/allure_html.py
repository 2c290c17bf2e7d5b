"""The HTML report: one self-contained `index.html` from the Allure results of the latest run of each phase.

Allure 3's awesome report with `singleFile: true` embeds everything (scripts, results, attachments) in one file
that opens offline. Its inputs are made here, in a scratch folder, from the recorded evidence only:
- each run's results in a folder of their own (no two runs' files can clash), every text scrubbed again with the
  secrets known to the report (the bot's .env); what the scrub leaves unchanged is hard-linked, not copied. With
  several phases each result is labelled with its phase, which the tree groups by. Results in a folder shared by
  several runs (`--alluredir`) are kept only within the run's times;
- one `environment.properties` for all runs (a key whose value differs between runs is shown per phase), and the
  runs' categories in Allure's configuration (the only place the awesome report reads them from);
- Allure's "global" attachments and errors: the paper-account picture, and each item a verdict failed.
The report's name carries each phase's recorded verdict; nothing here decides one. Node is started first and
loads Allure while the inputs are made (node_tools.EarlyAllure). The awesome template's Google Analytics tag is
removed from the page: the report must not call anything when it is opened.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from harness.core.jsonfiles import write_bytes_atomic
from harness.core.redact import SecretSet, redact_text
from harness.report import node_tools

TITLE = "Task 4.3 paper-trading transition"
DEMO_MARK = " [DEMO: the embedded world, not evidence of a transition]"
REHEARSAL_MARK = " [REHEARSAL — not evidence of a live transition]"
PHASE_LABEL = "phase"
PHASE_ORDER = ("preflight", "transition", "first-hour", "first-day", "rollback")
GROUP_BY = (PHASE_LABEL, "feature")  # several phases in the report; one phase: by feature only
ONE_PHASE_GROUP_BY = ("feature",)
HIDDEN_LABELS = ("thread",)
COPY_THREADS = 2  # a second thread overlaps the disk waits; more only contend for the GIL (measured)
WINDOW_END_SLACK = timedelta(seconds=1)  # run.json's times are cut to whole seconds
TEXT_SUFFIXES = frozenset({".json", ".txt", ".properties", ".xml", ".csv", ".log", ".md", ".html", ".htm", ".yaml",
                           ".yml", ".uri", ".tsv"})
ANALYTICS = re.compile(r'<script async src="https://www\.googletagmanager\.com/[^"]*"></script>\s*'
                       r"<script>\s*window\.dataLayer.*?</script>", re.DOTALL)
ANALYTICS_HOST = "googletagmanager.com"
ANALYTICS_WINDOW = 4096  # the tag and its script are a few hundred characters


@dataclass(frozen=True, slots=True)
class Picture:
    """The paper account as an image: what it shows (the attachment's name), its bytes and MIME type."""

    title: str
    data: bytes
    mime: str  # image/png or image/jpeg


def _ordered(runs: Mapping[str, Any]) -> list[tuple[str, Any]]:
    rank = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    return sorted(((phase, run) for phase, run in runs.items() if run is not None),
                  key=lambda pair: (rank.get(pair[0], len(rank)), pair[0]))


def _instant(text: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _window(run: Any) -> tuple[float, float] | None:
    """The run's start and end in epoch milliseconds, or None when run.json cannot say. Its times are cut to the
    second: the start is no later than the run's, the end is a second later."""
    start, end = _instant(run.started_at), _instant(run.finished_at)
    if start is None or end is None:
        return None
    return start.timestamp() * 1000, (end + WINDOW_END_SLACK).timestamp() * 1000


def _inside(folder: Path, parent: Path) -> bool:
    try:
        folder.resolve().relative_to(parent.resolve())
    except (OSError, ValueError):
        return False
    return True


def scrub(value: Any, secrets: SecretSet) -> Any:
    """`value` (JSON-like) with every string, keys too, scrubbed of `secrets` and the patterns redact_text knows."""
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {scrub(key, secrets): scrub(item, secrets) for key, item in value.items()}
    return value


def _scrubbed_json(body: Any, secrets: SecretSet) -> str:
    """`body` as JSON with every string scrubbed: the text at once (fast), each string when that broke the JSON."""
    text = redact_text(json.dumps(body, ensure_ascii=False), secrets)
    try:
        json.loads(text)
    except json.JSONDecodeError:
        text = json.dumps(scrub(body, secrets), ensure_ascii=False)
    return text


def _write_text(target: Path, text: str) -> None:
    with open(target, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _read_json(source: Path) -> Any:
    try:
        return _json_of(source.read_bytes())
    except OSError:
        return None


def _place(source: Path, target: Path, data: bytes | None) -> None:
    """`target` with `data`, or (None: unchanged) the source itself: a hard link, which costs no copy (creating
    thousands of files is what a busy disk is slowest at), else a copy."""
    if data is not None:
        target.write_bytes(data)
        return
    try:
        os.link(source, target)
    except OSError:  # another file system, or one without links
        shutil.copyfile(source, target)


def _shifted(body: dict, shift_ms: float) -> None:
    """Move a result's times, and its steps', by `shift_ms` (Allure stamps the system's time; a run on a pinned
    clock tells its own)."""
    for key in ("start", "stop"):
        if isinstance(body.get(key), (int, float)):
            body[key] = int(body[key] + shift_ms)
    for step in body.get("steps") or ():
        if isinstance(step, dict):
            _shifted(step, shift_ms)


def _copy_result(source: Path, target: Path, phase: str | None, window: tuple[float, float] | None,
                 secrets: SecretSet, shift_ms: float = 0.0) -> bool:
    """One test result, when it belongs to the run; labelled with `phase` (None: no label needed); its times moved
    by `shift_ms` onto the run's clock. A result that needs neither is linked like an attachment (writing a
    thousand files costs more than Allure). The file is read once: its bytes are parsed, and scrubbed when they
    are placed as they are."""
    try:
        data = source.read_bytes()
    except OSError:
        return False
    body = _json_of(data)
    if not isinstance(body, dict):
        return False
    if window is not None:
        start = body.get("start")
        if not isinstance(start, (int, float)) or not window[0] <= start + shift_ms <= window[1]:
            return False
    labels = [label for label in body.get("labels") or () if isinstance(label, dict)]
    if not shift_ms and (phase is None or
                         [label.get("value") for label in labels if label.get("name") == PHASE_LABEL] == [phase]):
        _place(source, target, _scrubbed(source.suffix, data, secrets))
        return True
    _shifted(body, shift_ms)
    if phase is None:
        _place(source, target, _scrubbed_json(body, secrets).encode("utf-8"))
        return True
    body["labels"] = [*(label for label in labels if label.get("name") != PHASE_LABEL),
                      {"name": PHASE_LABEL, "value": phase}]
    _place(source, target, _scrubbed_json(body, secrets).encode("utf-8"))
    return True


def _json_of(data: bytes | str) -> Any:
    try:
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _scrubbed(suffix: str, data: bytes, secrets: SecretSet) -> bytes | None:
    """A file's bytes (an attachment, a container, a result) with their text scrubbed again; None when nothing
    changed (or it is not text: an image is copied as it is). A text file not in UTF-8 (a log in cp1252) is
    scrubbed too: its bytes that are not UTF-8 are carried through as they are."""
    textual = suffix.lower() in TEXT_SUFFIXES
    if not textual and b"\0" in data[:4096]:
        return None
    errors = "strict"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        if not textual:  # binary: copied as it is
            return None
        errors = "surrogateescape"
        text = data.decode("utf-8", errors)
    cleaned = redact_text(text, secrets)
    if cleaned == text:
        return None
    if suffix.lower() == ".json":
        try:
            json.loads(cleaned)
        except json.JSONDecodeError:  # a removal broke the JSON: scrub each string instead
            body = _json_of(text)
            if body is not None:
                cleaned = json.dumps(scrub(body, secrets), ensure_ascii=False)
    return cleaned.encode("utf-8", errors)


def _copy_other(source: Path, target: Path, secrets: SecretSet) -> None:
    _place(source, target, _scrubbed(source.suffix, source.read_bytes(), secrets))


def _read_properties(source: Path) -> list[tuple[str, str]]:
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if sep:
            pairs.append((key.strip(), value.strip()))
    return pairs


def _submit_runs(runs: Mapping[str, Any], target: Path, secrets: SecretSet, pool: ThreadPoolExecutor,
                 results: list[Future[bool]], others: list[Future[None]],
                 environment: dict[str, dict[str, str]]) -> None:
    labelled = len(phases_with_results(runs)) > 1
    for index, (phase, run) in enumerate(_ordered(runs), start=1):
        source = run.allure_results()
        if source is None:
            continue
        folder = target / f"{index}-{re.sub(r'[^a-z0-9-]+', '-', phase.lower())}"
        folder.mkdir()
        # A folder of the run's own holds only its results; one named by --alluredir may hold other runs' too.
        window = None if _inside(source, run.path) else _window(run)
        with os.scandir(source) as listing:  # file types from the listing itself: no stat per file
            entries = sorted((item.name, item.is_file()) for item in listing)
        for name, is_file in entries:
            entry = source / name
            if name == "environment.properties":
                for key, value in _read_properties(entry):
                    environment.setdefault(key, {})[phase] = value
            elif name == "categories.json":  # read by categories_of, for the configuration
                continue
            elif name.endswith("-result.json"):
                results.append(pool.submit(_copy_result, entry, folder / name, phase if labelled else None, window,
                                           secrets, getattr(run, "clock_offset_ms", 0.0)))
            elif is_file:
                others.append(pool.submit(_copy_other, entry, folder / name, secrets))


def phases_with_results(runs: Mapping[str, Any]) -> list[str]:
    return [phase for phase, run in _ordered(runs) if run.allure_results() is not None]


def merge_results(runs: Mapping[str, Any], target: Path, secrets: SecretSet) -> int:
    """Copy each run's Allure results into `target/<n>-<phase>/`; the shared environment into
    `target/harness/`. The number of test results copied. With several phases each result gets a `phase` label
    (unless it has it), which the tree groups by. The files are handled by a few threads: most of the
    time goes in waiting for the disk or scrubbing text."""
    shared = target / "harness"
    shared.mkdir(parents=True, exist_ok=True)
    environment: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="report-copy") as pool:
        results: list[Future[bool]] = []
        others: list[Future[None]] = []
        _submit_runs(runs, target, secrets, pool, results, others, environment)
        copied = sum(future.result() for future in results)
        for future in others:
            future.result()
    lines = []
    for key in sorted(environment):
        values = environment[key]
        if len(set(values.values())) == 1:
            lines.append(f"{key}={next(iter(values.values()))}")
        else:
            lines.extend(f"{key}.{phase}={value}" for phase, value in values.items())  # a key ends at a space
    _write_text(shared / "environment.properties", redact_text("\n".join(lines) + "\n", secrets))
    return copied


def categories_of(runs: Mapping[str, Any], secrets: SecretSet) -> list[dict[str, Any]]:
    """The runs' categories.json rules, each once (Allure 3's awesome report takes them from its configuration
    only); a rule without a name is left out, as Allure would refuse the whole configuration for it."""
    rules: list[dict[str, Any]] = []
    for _, run in _ordered(runs):
        source = run.allure_results()
        body = _read_json(source / "categories.json") if source is not None else None
        for rule in body if isinstance(body, list) else ():
            if isinstance(rule, dict) and isinstance(rule.get("name"), str) and rule["name"].strip():
                rule = scrub(rule, secrets)
                if all(rule["name"] != known["name"] for known in rules):
                    rules.append(rule)
    return rules


def report_name(runs: Mapping[str, Any]) -> str:
    """The title with each phase's verdict as its recorded items say it: `Task 4.3 ... — preflight: TRANSITION
    VERIFIED; ...`; a report of the embedded world says it is a demonstration, first."""
    from harness.verdict.transition import EMBEDDED_WORLD, REHEARSAL_WORLD, run_overall

    parts = [f"{phase}: {run_overall(run) or 'no verdict recorded'}" for phase, run in _ordered(runs)]
    title = TITLE + (DEMO_MARK if any(run.world == EMBEDDED_WORLD for run in runs.values()) else "")
    title += REHEARSAL_MARK if any(run.world == REHEARSAL_WORLD for run in runs.values()) else ""
    return f"{title} — {'; '.join(parts)}" if parts else title


def failed_items(runs: Mapping[str, Any]) -> list[str]:
    """`phase: item: why` for every item a recorded verdict FAILED, in phase order."""
    found = []
    for phase, run in _ordered(runs):
        verdict = run.verdict() or {}
        for item in verdict.get("items") or ():
            if isinstance(item, dict) and item.get("status") == "FAILED":
                found.append(f"{phase}: {item.get('item')}: {' '.join(str(item.get('why', '')).split())}")
    return found


def write_globals(folder: Path, picture: Picture | None, errors: Sequence[str], secrets: SecretSet) -> None:
    """Allure's global attachments and errors (a `*-globals.json` and its attachment) into `folder`."""
    attachments = []
    if picture is not None:
        name = "paper-account-attachment" + (".jpg" if picture.mime == "image/jpeg" else ".png")
        (folder / name).write_bytes(picture.data)
        attachments.append({"name": picture.title, "source": name, "type": picture.mime, "timestamp": 0})
    body = {"attachments": attachments,
            "errors": [{"message": f"NEEDS REMEDIATION: {error}", "timestamp": 0} for error in errors]}
    _write_text(folder / "harness-globals.json", _scrubbed_json(body, secrets))


def allure_config(name: str, output: Path, group_by: Sequence[str] = GROUP_BY,
                  categories: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    return {
        "name": name,
        "output": str(output),
        "hideLabels": list(HIDDEN_LABELS),
        **({"categories": list(categories)} if categories else {}),
        "plugins": {"awesome": {"options": {"singleFile": True, "reportName": name, "reportLanguage": "en",
                                            "groupBy": list(group_by)}}},
    }


def without_analytics(html: str) -> str:
    """The page without the awesome template's Google Analytics tag (the report calls nothing when opened)."""
    at = html.find('<script async src="https://www.' + ANALYTICS_HOST)
    cleaned = html
    if at >= 0:  # the pattern only where the tag is: a regex over the whole page costs as much as Allure's work
        head, tail = html[:at], html[at:at + ANALYTICS_WINDOW]
        cleaned = head.rstrip() + ANALYTICS.sub("", tail, count=1) + html[at + ANALYTICS_WINDOW:]
    if ANALYTICS_HOST in cleaned:
        raise node_tools.ToolError(f"the Allure {node_tools.ALLURE_VERSION} report still loads a script from "
                                   f"{ANALYTICS_HOST} after cleaning; not writing it")
    return cleaned


def _subfolders(folder: Path) -> Iterable[Path]:
    return sorted(entry for entry in folder.iterdir() if entry.is_dir())


def build(runs: Mapping[str, Any], target: Path, *, picture: Picture | None, secrets: SecretSet,
          node: node_tools.Node, allure_cli: Path, timeout: float = node_tools.GENERATE_TIMEOUT) -> int:
    """Write the single-file report to `target` (atomically); the number of test results in it. ToolError when
    Allure fails; OSError when a file cannot be written."""
    with tempfile.TemporaryDirectory(prefix="harness-report-", ignore_cleanup_errors=True) as scratch:
        scratch_dir = Path(scratch)
        results = scratch_dir / "results"
        output = scratch_dir / "out"
        config = scratch_dir / "allurerc.json"
        # Node loads Allure while the inputs are made: half of a small report's time.
        with node_tools.EarlyAllure(node, allure_cli, scratch_dir) as allure:
            count = merge_results(runs, results, secrets)
            write_globals(results / "harness", picture, failed_items(runs), secrets)
            name = redact_text(report_name(runs), secrets)
            group_by = GROUP_BY if len(phases_with_results(runs)) > 1 else ONE_PHASE_GROUP_BY
            body = allure_config(name, output, group_by, categories_of(runs, secrets))
            _write_text(config, json.dumps(body, ensure_ascii=False, indent=2))
            allure.run(["generate", "--config", str(config), "--output", str(output),
                        *map(str, _subfolders(results))], timeout=timeout)
        page = output / "index.html"
        if not page.is_file():
            raise node_tools.ToolError(f"allure generate wrote no index.html (Allure {node_tools.ALLURE_VERSION})")
        html = without_analytics(page.read_text(encoding="utf-8"))
        write_bytes_atomic(target, html.encode("utf-8"))
        shutil.rmtree(output, ignore_errors=True)
    return count
