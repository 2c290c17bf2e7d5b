"""`harness report`: the HTML report, the transition log and the board card from the latest run of each phase.

Everything comes from the recorded evidence (harness.evidence.runs) and the attestations; nothing here decides a
verdict. The order: the latest runs -> the paper-account picture (the operator's screenshot wins) -> the
transition log (at --transition-log and in the evidence) -> the board card -> the single-file HTML (Allure 3 on
Node; checked first, so a missing Node refuses before anything is written) -> optionally the card on GitHub.
One line per file written; a refusal is one line and exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.core.jsonfiles import same_file, write_bytes_atomic

HELP = ("Write the evidence a person opens: one self-contained HTML report, the transition log "
        "(docs/Task_4_3_Transition_Log.md) and the board card, from the latest run of each phase")
REPORT_DIR = "report"
HTML_FILE = "index.html"
CARD_FILE = "board-card.md"
LOG_FILE = "Task_4_3_Transition_Log.md"
PICTURE_FILE = "paper-account.png"
PICTURE_BESIDE_LOG = "Task_4_3_Paper_Account"  # + .png/.jpg, next to a transition log outside the evidence
SCREENSHOTS = (("screenshot.png", "image/png"), ("screenshot.jpg", "image/jpeg"), ("screenshot.jpeg", "image/jpeg"))
PICTURE_TITLE = "Paper account (as read from the gateway)"
SCREENSHOT_TITLE = "Paper account (the operator's screenshot)"
TOKEN_VARIABLE = "GITHUB_TOKEN"
DEFAULT_GITHUB_API = "https://api.github.com"
# Whose paper account is drawn: the seed's screenshot belongs to Step 4, the transition's own verification.
PICTURE_PHASES = ("transition", "first-hour", "first-day", "rollback", "preflight")
FIRST_RUN = ("no finished run is recorded in {where} yet: run `harness check --evidence-dir {evidence}` first (the "
             "embedded world, or add --live-gateway --bot-dir BOT for yours), then `harness report`")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's own options (the shared settings are added by harness.cli)."""
    parser.add_argument("--setup", action="store_true",
                        help="only install what the HTML report needs (Allure "
                        "3 into the per-user tools cache, $HARNESS_TOOLS_CACHE) and say which Node runs it")
    parser.add_argument("--no-html", action="store_true",
                        help="skip the HTML report (no Node needed): the transition log, picture and board card only")
    parser.add_argument("--github-issue", metavar="OWNER/REPO#N", default=None,
                        help="post the board card as a comment on this issue (token from $GITHUB_TOKEN only)")
    parser.add_argument("--open-remediation-issue", action="store_true",
                        help="with --github-issue: on NEEDS REMEDIATION, also open the remediation issue the rollback "
                        "plan asks for, in the same repository")
    parser.add_argument("--github-api", metavar="URL", default=DEFAULT_GITHUB_API,
                        help=f"GitHub's REST API (default {DEFAULT_GITHUB_API}; GitHub Enterprise: https://HOST/api/v3)")


# The HTML report's Node is an extra: the core install brings none (200 MB).
REPORT_EXTRA_INSTALL = 'pip install "ibkr-transition-harness[report]" (Node from pip), or install Node 20 or newer'


def _allure(say_install: bool = True, node=None):
    """(Node, Allure's cli.js), installing Allure into the tools cache on first use; Refused when either is missing.
    `node`: the one already found, else found here."""
    from harness.core.refusal import Refused
    from harness.report import node_tools

    try:
        node = node or node_tools.find_node()
        cache = node_tools.tools_cache()
        cli = node_tools.installed_allure(node_tools.allure_home(cache))
        if cli is None:
            if say_install:
                print(f"installing Allure {node_tools.ALLURE_VERSION} into {node_tools.allure_home(cache)} (first use; "
                      f"npm, at most {node_tools.INSTALL_TIMEOUT:g} s)...", flush=True)
            cli = node_tools.install_allure(node, cache)
    except node_tools.ToolError as exc:
        raise Refused(str(exc)) from None
    return node, cli


def _screenshot(evidence_dir: Path):
    """The operator's own screenshot (`harness confirm screenshot`), as (path, MIME), or None."""
    for name, mime in SCREENSHOTS:
        candidate = evidence_dir / name
        if candidate.is_file():
            return candidate, mime
    return None


def _paper_account(runs):
    """The facts the picture is drawn from: read as the transition log reads them (its Step 4 summarises the same
    account), from the first phase in PICTURE_PHASES that recorded any."""
    from harness.report.transition_log import paper_account

    for phase in PICTURE_PHASES:
        facts = paper_account(runs.get(phase))
        if facts:
            return facts
    return None


def _github_target(args):
    """(repo, number, token) when the card is to be posted, else None; Refused before anything is written."""
    from harness.core.refusal import Refused

    if args.open_remediation_issue and not args.github_issue:
        raise Refused("--open-remediation-issue needs --github-issue OWNER/REPO#N (the repository to open it in)")
    if not args.github_issue:
        return None
    from harness.report import github

    try:
        repo, number = github.parse_target(args.github_issue)
    except github.GitHubError as exc:
        raise Refused(f"--github-issue: {exc}") from None
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise Refused(f"--github-issue needs a token in ${TOKEN_VARIABLE} (it is read from there only, never from "
                      "the command line)")
    return repo, number, token


def _allure_or_none():
    """(Node, Allure's cli.js), or None when no Node is at hand: the transition log and the board card need none,
    so they are still written, and one line says how to get the HTML report too."""
    from harness.report import node_tools

    try:
        node = node_tools.find_node()
    except node_tools.ToolError as exc:
        print(f"harness report: no HTML report: {exc}. The transition log and the board card are written. To get "
              f"the HTML report too: {REPORT_EXTRA_INSTALL}", file=sys.stderr, flush=True)
        return None
    return _allure(node=node)


def run(settings, args: argparse.Namespace) -> int:
    from harness.core.refusal import Refused

    if getattr(args, "setup", False):
        node, cli = _allure()
        print(f"Allure ready: {cli} (run by {node.describe()})")
        return 0
    from harness.evidence import attestations as attestation_log
    from harness.evidence.runs import history, list_runs
    from harness.verdict.transition import judge_chain

    evidence_dir = Path(settings.evidence_dir)
    recorded = list_runs(evidence_dir)
    chain = judge_chain(recorded, *_incidents(evidence_dir, settings.env_file), history=history(evidence_dir))
    if not recorded:
        raise Refused(FIRST_RUN.format(where=evidence_dir / "runs", evidence=evidence_dir))
    github_target = _github_target(args)
    tools = None if args.no_html else _allure_or_none()
    attestations, problem = attestation_log.load(evidence_dir)
    if problem:
        raise Refused(problem)
    attestations = chain.attestations(attestations)
    try:
        return _write_all(settings, args, evidence_dir, chain, attestations, tools, github_target)
    except OSError as exc:
        raise Refused(f"cannot write the report: {exc.strerror or exc} ({getattr(exc, 'filename', '') or ''})") \
            from None


def _incidents(evidence_dir: Path, env_file: Path | None):
    """Every record of `harness halt` in the evidence directory and in the bot's own log (each once), and the first
    problem reading them."""
    from harness.evidence import incidents

    seen, problem = [], None
    for folder in incidents.places(evidence_dir, env_file if env_file is not None and env_file.exists() else None):
        records, trouble = incidents.history(folder)
        problem = problem or trouble
        seen += [record for record in records if record not in seen]
    return sorted(seen, key=lambda record: record.at), problem


def _write_all(settings, args, evidence_dir: Path, chain, attestations, tools, github_target) -> int:
    from harness.core.redact import redact_text
    from harness.core.refusal import Refused
    from harness.report import allure_html, board_card, transition_log
    from harness.world import known_secrets

    runs = chain.runs
    secrets = known_secrets(settings.env_file, settings.discord_token)
    if github_target is not None:  # the token the card is posted with is scrubbed from every file, like the .env's
        secrets.add(github_target[2])
    report_dir = evidence_dir / REPORT_DIR
    written = _Written()

    # The picture: the operator's screenshot wins over the one drawn from the recorded gateway facts.
    picture = None
    screenshot = _screenshot(evidence_dir)
    if screenshot is not None:
        source, mime = screenshot
        picture = allure_html.Picture(SCREENSHOT_TITLE, source.read_bytes(), mime)
    else:
        facts = _paper_account(runs)
        if facts is not None:
            from harness.report import paper_picture

            # Drawn from the facts scrubbed with the .env's secret values: pixels cannot be scrubbed afterwards.
            picture = allure_html.Picture(PICTURE_TITLE, paper_picture.render(allure_html.scrub(facts, secrets)),
                                          "image/png")
            written.add(write_bytes_atomic(report_dir / PICTURE_FILE, picture.data))
    suffix = ".jpg" if picture is not None and picture.mime == "image/jpeg" else ".png"

    # The transition log, where the bot keeps it and in the evidence; each refers to a picture beside it.
    log_targets = [Path(settings.transition_log_file), report_dir / LOG_FILE]
    for target in log_targets:
        if written.has(target):
            continue
        picture_name = None
        if picture is not None:
            if same_file(target.parent, report_dir) and screenshot is None:
                picture_name = PICTURE_FILE
            else:
                picture_name = PICTURE_BESIDE_LOG + suffix
                written.add(write_bytes_atomic(target.parent / picture_name, picture.data))
        # Scrubbed again with the .env's secret values, as the HTML's inputs are: the evidence was, when written.
        text = redact_text(transition_log.build(runs, attestations, picture=picture_name, chain=chain), secrets)
        written.add(*transition_log.write(text, [target]))

    html_target = report_dir / HTML_FILE
    links = {"Transition log": LOG_FILE}
    if tools is not None:
        links["HTML report"] = HTML_FILE
    if picture is not None:
        links["Paper account picture"] = PICTURE_FILE if screenshot is None else PICTURE_BESIDE_LOG + suffix
    card = redact_text(board_card.render(runs, attestations, links, chain), secrets)
    card_target = report_dir / CARD_FILE
    written.add(*transition_log.write(card, [card_target]))

    if tools is not None:
        from harness.report import node_tools

        node, cli = tools
        try:
            allure_html.build(runs, html_target, picture=picture, secrets=secrets, node=node, allure_cli=cli,
                              timeout=node_tools.GENERATE_TIMEOUT)
        except node_tools.ToolError as exc:
            raise Refused(f"the HTML report was not written: {exc}") from None
        written.add(html_target)
    if github_target is not None:
        _post(args, chain, attestations, card, github_target, settings.timeout)
    return 0


class _Written:
    """The files written so far, each printed once as it is written."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def has(self, path: Path) -> bool:
        return any(same_file(path, done) for done in self.paths)

    def add(self, *paths: Path) -> None:
        for path in paths:
            if not self.has(path):
                self.paths.append(path)
                print(f"wrote {path}", flush=True)


def _post(args, chain, attestations, card: str, target, timeout: float) -> None:
    from harness.core.refusal import Refused
    from harness.report import github, transition_log

    repo, number, token = target
    try:
        url = github.post_comment(args.github_api, repo, number, card, token, timeout)
        print(f"posted the board card: {url}")
        if args.open_remediation_issue:
            status = transition_log.outcome(chain.runs, attestations, chain).status
            if status == transition_log.NEEDS_REMEDIATION:
                issue = github.open_issue(args.github_api, repo, "Task 4.3 remediation: the paper-trading transition "
                                          "needs remediation", card, token, timeout)
                print(f"opened the remediation issue: {issue}")
            else:
                print(f"no remediation issue opened: the transition is {status}, not NEEDS REMEDIATION")
    except github.GitHubError as exc:
        raise Refused(f"GitHub: {exc}") from None
