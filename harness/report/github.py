"""Post the board card to GitHub through its REST API: a comment on an issue, or a new (remediation) issue.

The token comes from the caller (GITHUB_TOKEN), travels only in the Authorization header, and is removed from
every text this module returns or raises. Every call is bounded: a connect and a read timeout, and a retry only
where GitHub has surely not acted (the connection could not be made); a POST that may have been received is
never repeated, so a comment is never posted twice. A failure is one line in `GitHubError`.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from harness import __version__
from harness.core.http import bounded_session, proxies_for
from harness.core.redact import Secret, SecretSet, redact_text
from harness.core.settings import is_loopback_host

DEFAULT_API_BASE = "https://api.github.com"
API_VERSION = "2022-11-28"
USER_AGENT = f"ibkr-transition-harness/{__version__}"
CONNECT_RETRIES = 2
BACKOFF_FACTOR_S = 0.5
MAX_BODY_CHARS = 65_536  # GitHub's limit for an issue or comment body
MAX_DETAIL_CHARS = 200
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}/[A-Za-z0-9_.-]{1,100}")
_TARGET = re.compile(r"(?P<repo>[^#\s]+)#(?P<number>\d{1,10})")
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # printable ASCII: a header value that cannot smuggle a line


class GitHubError(Exception):
    """One line saying what went wrong; never the token."""


def parse_target(text: str) -> tuple[str, int]:
    """`OWNER/REPO#N` -> ("OWNER/REPO", N); GitHubError when it is not one."""
    match = _TARGET.fullmatch(text.strip())
    if not match or not _REPO.fullmatch(match.group("repo")) or int(match.group("number")) < 1:
        raise GitHubError(f"{text.strip()[:100]!r} is not OWNER/REPO#NUMBER")
    return match.group("repo"), int(match.group("number"))


def post_comment(api_base: str, repo: str, number: int, body: str, token: str | Secret, timeout: float) -> str:
    """Post `body` as a comment on issue or pull request `number` of `repo`; the comment's URL."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise GitHubError(f"{number!r} is not an issue number")
    reply = _post(api_base, f"/repos/{_repo(repo)}/issues/{number}/comments", {"body": _body(body)}, token, timeout,
                  f"commenting on {repo}#{number}")
    return _url(reply, "comment")


def open_issue(api_base: str, repo: str, title: str, body: str, token: str | Secret, timeout: float) -> str:
    """Open an issue in `repo`; its URL."""
    title = " ".join(str(title).split())
    if not title:
        raise GitHubError("an issue needs a title")
    reply = _post(api_base, f"/repos/{_repo(repo)}/issues", {"title": title[:256], "body": _body(body)}, token,
                  timeout, f"opening an issue in {repo}")
    return _url(reply, "issue")


def _repo(repo: str) -> str:
    if not isinstance(repo, str) or not _REPO.fullmatch(repo) or ".." in repo:
        raise GitHubError(f"{str(repo)[:100]!r} is not OWNER/REPO")
    return repo


def _body(body: str) -> str:
    if len(body) > MAX_BODY_CHARS:
        raise GitHubError(f"the text is {len(body)} characters; GitHub takes at most {MAX_BODY_CHARS}")
    return body


def _url(reply: dict[str, Any], what: str) -> str:
    url = reply.get("html_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise GitHubError(f"GitHub answered without the new {what}'s address")
    return url


def _post(api_base: str, path: str, payload: dict[str, Any], token: str | Secret, timeout: float,
          doing: str) -> dict[str, Any]:
    secret = Secret.of(token, "GITHUB_TOKEN")
    if secret is None:
        raise GitHubError(f"{doing}: no token (set GITHUB_TOKEN)")
    secrets = SecretSet([secret])

    def say(text: str) -> str:
        return " ".join(redact_text(text, secrets).split())[:MAX_DETAIL_CHARS]

    if not _TOKEN_CHARS.fullmatch(secret.reveal()):
        raise GitHubError(f"{doing}: the token holds a character a header cannot carry (a space, a line break or a "
                          "non-ASCII character)")
    if not (isinstance(timeout, (int, float)) and 0 < timeout <= 600):
        raise GitHubError(f"{doing}: a timeout between 0 and 600 s is required")
    base = str(api_base).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise GitHubError(f"{doing}: {say(base)!r} is not an http(s) API address")
    if base.startswith("http://") and not is_loopback_host(urlsplit(base).hostname or ""):
        raise GitHubError(f"{doing}: {say(base)!r} is plain http: the token is sent over https only (http only to "
                          "this machine)")
    # Only failures to connect are retried: GitHub cannot have acted on a request it never received.
    retry = Retry(total=CONNECT_RETRIES, connect=CONNECT_RETRIES, read=0, status=0, other=0, redirect=0,
                  backoff_factor=BACKOFF_FACTOR_S, allowed_methods=frozenset({"POST"}), raise_on_status=False)
    headers = {"Authorization": f"Bearer {secret.reveal()}", "Accept": "application/vnd.github+json",
               "X-GitHub-Api-Version": API_VERSION, "User-Agent": USER_AGENT}
    try:
        with bounded_session(retry) as session:
            response = session.post(base + path, json=payload, headers=headers, timeout=(min(5.0, timeout), timeout),
                                    allow_redirects=False, proxies=proxies_for(base))
            status = response.status_code
            try:
                reply = response.json()
            except ValueError:
                reply = None
    except requests.exceptions.RequestException as exc:
        raise GitHubError(f"{doing}: {_network_reason(exc, say(base), timeout, say)}") from None
    if status in (200, 201) and isinstance(reply, dict):
        return reply
    message = say(str(reply.get("message", ""))) if isinstance(reply, dict) else ""
    hint = {401: "the token was refused (GITHUB_TOKEN expired or wrong)",
            403: "the token may not do this (it needs Issues: write on the repository) or a rate limit was hit",
            404: "no such repository or issue, or the token cannot see it",
            410: "issues are disabled on the repository",
            422: "GitHub refused the content",
            429: "rate limited; try again later"}.get(status, "unexpected answer")
    detail = f" ({message})" if message else ""
    raise GitHubError(f"{doing}: HTTP {status}: {hint}{detail}")


def _network_reason(error: Exception, base: str, timeout: float, say: Any) -> str:
    # With retries mounted, a timeout arrives wrapped (ConnectionError <- MaxRetryError <- ...TimeoutError).
    text = str(error)  # looked at only; what is shown of it passes through `say`
    if isinstance(error, requests.exceptions.ConnectTimeout) or "ConnectTimeoutError" in text:
        return f"cannot reach {base}: connect timed out (limit {min(5.0, timeout):g} s)"
    if isinstance(error, requests.exceptions.ReadTimeout) or "Read timed out" in text:
        return f"no answer from {base} within {timeout:g} s"
    for reason in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "Network is unreachable", "Connection reset", "certificate verify failed"):
        if reason in text:
            return f"cannot reach {base}: {reason}"
    if isinstance(error, requests.exceptions.ConnectionError):
        return f"cannot reach {base} ({type(error).__name__})"
    return f"{type(error).__name__}: {say(text)}"
