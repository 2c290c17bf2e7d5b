"""The watch's alert to the operator's Discord webhook (DISCORD_ALERT_WEBHOOK): one POST, bounded, retried
only where a retry cannot post twice, and never echoing the URL (a webhook URL is a credential).

When to alert: on the first round with a failed check; once more, later, only if a CRITICAL failure (halt the
bot) comes after an alert that was not critical. Checks that could not look never alert: they are the
operator's to confirm, and the summary says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from harness.checks import advice
from harness.core.http import bounded_session, proxies_for

MAX_CONTENT_CHARS = 2000  # Discord's limit for a message's content
CONNECT_TIMEOUT_S = 5.0
USERNAME = "harness watch"
ALERT_HEAD = "harness watch"  # every alert's first words, after Markdown's bold


@dataclass(frozen=True, slots=True)
class AlertResult:
    sent: bool
    problem: str | None = None  # why it was not sent; never holds the URL


def post_alert(webhook_url: str, content: str, *, timeout: float, redact: Callable[[str], str] = str) -> AlertResult:
    """POST `content` to the webhook. Never raises for a fault of the world; the result says what happened.
    A 429 or 5xx answer and a refused connection are retried twice (nothing was posted); a read timeout is
    not (the message may have been posted)."""
    parts = urlsplit(webhook_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return AlertResult(False, "DISCORD_ALERT_WEBHOOK is not an http(s) URL (value not shown)")
    retry = Retry(total=2, connect=2, read=0, status=2, backoff_factor=0.5, backoff_max=4.0,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"POST"}),
                  respect_retry_after_header=True, raise_on_status=False, redirect=0, raise_on_redirect=False)
    payload = {"content": redact(content)[:MAX_CONTENT_CHARS], "username": USERNAME,
               "allowed_mentions": {"parse": []}}
    try:
        with bounded_session(retry) as session:
            response = session.post(webhook_url.strip(), json=payload, timeout=(min(CONNECT_TIMEOUT_S, timeout),
                                    timeout), allow_redirects=False, proxies=proxies_for(webhook_url))
    except requests.Timeout:
        return AlertResult(False, f"the webhook did not answer within {timeout:g} s")
    except (requests.RequestException, ValueError) as exc:
        # The exception's text quotes the URL: only its kind is told.
        return AlertResult(False, f"the webhook could not be reached ({type(exc).__name__})")
    if 200 <= response.status_code < 300:
        return AlertResult(True)
    return AlertResult(False, f"the webhook answered HTTP {response.status_code}")


def is_own_alert(author: str, content: str) -> bool:
    """A message the watch itself posted (its webhook name and its head): never read back as the bot's."""
    return author == USERNAME and content.lstrip().startswith(f"**{ALERT_HEAD}")


def alert_text(round_number: int, failures: Sequence, world: str) -> str:
    """What the alert says: the round, each failed check and its message (already redacted)."""
    critical = any(f.critical for f in failures)
    head = f"{ALERT_HEAD} ({world} world): round {round_number} FAILED"
    lines = [f"**{head}**" + (f" -- CRITICAL: {advice.halt()}" if critical else "")]
    lines += [f"- {f.name} ({f.item}): {f.message}" for f in failures]
    return "\n".join(lines)


class Alerter:
    """Decides when to alert and posts through `post` (post_alert by default)."""

    def __init__(self, webhook_url: str | None, world: str, timeout: float, redact: Callable[[str], str],
                 post: Callable[..., AlertResult] = post_alert) -> None:
        self._url = webhook_url
        self.world = world
        self.timeout = timeout
        self.redact = redact
        self._post = post
        self.sent: list[int] = []  # rounds an alert was sent for
        self.problems: list[str] = []
        self._alerted = False
        self._alerted_critical = False

    def consider(self, round_) -> str | None:
        """Alert for `round_` if it is due; returns a line for the terminal, or None when nothing was done."""
        failures = round_.failures
        if not failures or not self._url:
            return None
        critical = any(f.critical for f in failures)
        if self._alerted and (self._alerted_critical or not critical):
            return None
        self._alerted = True
        self._alerted_critical = critical
        result = self._post(self._url, alert_text(round_.number, failures, self.world), timeout=self.timeout,
                            redact=self.redact)
        if result.sent:
            self.sent.append(round_.number)
            return f"alert sent to the Discord webhook for round {round_.number}"
        problem = self.redact(result.problem or "not sent")
        self.problems.append(problem)
        return f"the alert for round {round_.number} could NOT be sent: {problem}"
