"""Read back the bot's Discord notifications through the Discord REST API, and judge nothing.

`read_recent_messages` reads a channel with a bot token and returns `DiscordFacts`; it never raises for a
fault in the world (no token, refused token, missing permission, network down, rate limited) but says what
happened in `problem`. `find_startup_notification` is pure: it finds the startup notification among those
facts and lists any message that claims a forbidden mode. Steps assert; this module only reports.

The same code runs against discord.com and against `harness.fakes.discord` (it is given an API base URL).
No secret reaches a fact: the token travels as an opaque `harness.core.redact.Secret`, is revealed only into the
Authorization header, and only after it is known to be a valid header value (a token with a newline or a
non-ASCII character is reported as such, never sent: requests would quote it escaped in its exception
text). Every text that leaves this module passes through `harness.core.redact.redact_text` with the token as a
known secret, redacted before it is cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from harness import __version__
from harness.core.http import bounded_session, proxies_for
from harness.core.redact import Secret, SecretSet, redact_text

__all__ = [
    "CONTENT_INTENT_FIX",
    "DEFAULT_API_BASE",
    "MAX_RETRY_AFTER_S",
    "NO_TOKEN_PROBLEM",
    "DiscordFacts",
    "DiscordMessage",
    "ModeMention",
    "NotificationFacts",
    "find_startup_notification",
    "read_recent_messages",
    "snowflake_from_datetime",
]

DEFAULT_API_BASE = "https://discord.com/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z, the origin of snowflake timestamps
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After is cut to this so a run stays bounded
CONNECT_TIMEOUT_S = 5.0  # at most this much of `timeout` is spent connecting
BACKOFF_FACTOR_S = 0.5  # 0, 1, 2, ... s between retries of errors that carry no Retry-After
BACKOFF_MAX_S = 8.0
MAX_PROBLEM_DETAIL_CHARS = 300
NO_TOKEN_PROBLEM = "no Discord bot token (set DISCORD_BOT_TOKEN) — operator to confirm the startup notification"
CONTENT_INTENT_FIX = "enable the Message Content intent for the reading bot in the Discord developer portal"
USER_AGENT = f"DiscordBot (https://github.com/ibkr-transition-harness, {__version__})"
# A bot token is base64url parts joined by dots; anything else cannot be one (and may not be a header value).
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.=]+")
# Message types whose text is the author's: default and reply. System messages (pins, joins) are empty by design.
_USER_MESSAGE_TYPES = frozenset({0, 19})


@dataclass(frozen=True, slots=True)
class DiscordMessage:
    """One channel message as the reader saw it; `content` is redacted and falls back to embed text."""

    id: str
    timestamp: datetime  # aware, UTC
    author: str  # username (for webhook posts: the webhook's name)
    content: str
    content_missing: bool  # empty text with nothing else: hidden by a missing Message Content intent


@dataclass(frozen=True, slots=True)
class DiscordFacts:
    """What reading the channel showed. `looked` is False whenever no message list was obtained."""

    looked: bool
    problem: str | None
    channel_id: str
    messages: tuple[DiscordMessage, ...] = ()  # newest first
    status_code: int | None = None  # of the last HTTP answer, None when none came
    content_intent_missing: bool = False
    retry_after_capped: bool = False  # Discord asked to wait longer than max_retry_after; we waited less


@dataclass(frozen=True, slots=True)
class ModeMention:
    """A message that names a forbidden mode (e.g. LIVE, DRY-RUN)."""

    mode: str  # the forbidden phrase as given, e.g. "LIVE"
    message: DiscordMessage


@dataclass(frozen=True, slots=True)
class NotificationFacts:
    """The startup notification among the read messages, and what else claims a mode."""

    looked: bool
    problem: str | None  # carried from DiscordFacts (no token, intent missing, ...)
    expected: str
    match: DiscordMessage | None  # the message with the expected phrase (closest to `near`, else newest)
    delta: timedelta | None  # match.timestamp - near; None without `near` or without a match
    forbidden: tuple[ModeMention, ...] = ()  # within the window when `near` is given, else anywhere
    outside_window: tuple[DiscordMessage, ...] = ()  # had the expected phrase but too far from `near`
    content_intent_missing: bool = False
    earlier_start: tuple[ModeMention, ...] = ()  # mode mentions from before the start: an earlier start's, not judged


def snowflake_from_datetime(instant: datetime) -> int:
    """The lowest snowflake at `instant`: `after=` this id returns messages from `instant` on."""
    if instant.tzinfo is None:
        raise ValueError("a snowflake needs an aware datetime")
    return max(int(instant.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22


def _snowflake_time(snowflake: str) -> datetime | None:
    try:
        millis = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    except ValueError:
        return None
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


class _RetryLog:
    """Shared by every Retry copy of one call (urllib3 makes a new Retry per attempt)."""

    __slots__ = ("asked_retry_after", "capped")

    def __init__(self) -> None:
        self.capped = False
        self.asked_retry_after: float | None = None


class _DiscordRetry(Retry):
    """urllib3 Retry that reads Discord's exact wait and caps it.

    Discord rounds `Retry-After` up to whole seconds and puts the exact float in `X-RateLimit-Reset-After`
    (and the body's `retry_after`, which urllib3 cannot see before it drains the body). A float
    `Retry-After` is accepted too, where stock urllib3 would raise InvalidHeader.
    """

    def __init__(self, *args: Any, log: _RetryLog | None = None, cap: float = MAX_RETRY_AFTER_S,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = log or _RetryLog()
        self.cap = cap

    def new(self, **kw: Any) -> _DiscordRetry:
        kw.setdefault("log", self.log)
        kw.setdefault("cap", self.cap)
        return super().new(**kw)

    def get_retry_after(self, response: Any) -> float | None:
        if response.status not in self.RETRY_AFTER_STATUS_CODES:
            return None
        asked: float | None = None
        for name in ("X-RateLimit-Reset-After", "Retry-After"):
            value = response.headers.get(name)
            if value is None:
                continue
            try:
                asked = float(value)
                break
            except ValueError:
                pass
        if asked is None and response.headers.get("Retry-After"):
            try:
                asked = super().get_retry_after(response)  # an HTTP date
            except InvalidHeader:
                asked = None  # garbage: fall back to our own backoff rather than fail
        if asked is None:
            return None
        asked = max(asked, 0.0)
        self.log.asked_retry_after = asked
        if asked > self.cap:
            self.log.capped = True
            return self.cap
        return asked


def read_recent_messages(
    api_base: str | None,
    channel_id: str,
    token: Secret | str | None,
    *,
    limit: int = 50,
    after: datetime | None = None,
    timeout: float = 10.0,
    retries: int = 3,
    max_retry_after: float = MAX_RETRY_AFTER_S,
) -> DiscordFacts:
    """Read up to `limit` recent messages of a channel (newest first) with a bot token.

    `api_base` is e.g. `https://discord.com/api/v10` (None means that). `after` keeps messages from that
    instant on. Each HTTP attempt is bounded by `timeout` (connect at most CONNECT_TIMEOUT_S); at most
    `retries` retries on 429/5xx/connection errors, each waiting Discord's Retry-After capped at
    `max_retry_after`, or a backoff of at most BACKOFF_MAX_S. So the call ends within about
    (retries + 1) * timeout + retries * max(max_retry_after, BACKOFF_MAX_S).
    Never raises for a fault in the world; raises ValueError only for a caller mistake (limit, naive after).
    `token` is best given as a `Secret`; a str is wrapped at once.
    """
    if not 1 <= limit <= 100:
        raise ValueError("limit must be 1..100 (Discord's range)")
    if after is not None and after.tzinfo is None:
        raise ValueError("after must be an aware datetime")
    if retries < 0 or timeout <= 0 or max_retry_after < 0:
        raise ValueError("retries >= 0, timeout > 0 and max_retry_after >= 0 are required")
    channel_id = str(channel_id).strip()
    given = Secret.of(token, "DISCORD_BOT_TOKEN")
    secret = _bare_token(given)
    secrets = SecretSet([given, secret])
    del token, given  # from here on only the opaque holders exist in this frame

    def facts(looked: bool, problem: str | None, **fields: Any) -> DiscordFacts:
        safe_problem = None if problem is None else redact_text(problem, secrets)
        return DiscordFacts(looked, safe_problem, redact_text(channel_id, secrets), **fields)

    if secret is None:
        return facts(False, NO_TOKEN_PROBLEM)
    invalid = _token_problem(secret)
    if invalid is not None:
        return facts(False, invalid)
    if not channel_id.isdigit():
        return facts(False, f"Discord channel id {channel_id!r} is not a snowflake (digits only)")
    base = (api_base or DEFAULT_API_BASE).rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).hostname:
        return facts(False, f"Discord API base {base!r} is not an http(s) URL")

    url = f"{base}/channels/{channel_id}/messages"
    params: dict[str, str] = {"limit": str(limit)}
    if after is not None:
        params["after"] = str(snowflake_from_datetime(after))
    retry_log = _RetryLog()
    retry = _DiscordRetry(
        total=retries,
        backoff_factor=BACKOFF_FACTOR_S,
        backoff_max=BACKOFF_MAX_S,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # give us the last 429/5xx answer to report, not an exception
        redirect=0,
        raise_on_redirect=False,
        log=retry_log,
        cap=max_retry_after,
    )
    try:
        with bounded_session(retry) as session:
            response = session.get(
                url,
                params=params,
                headers=_headers(secret),
                timeout=(min(CONNECT_TIMEOUT_S, timeout), timeout),
                allow_redirects=False,
                proxies=proxies_for(url),
            )
            status = response.status_code
            body = _json_or_none(response)
    except (requests.RequestException, ValueError) as error:  # ValueError: http.client refusing a header
        reason = _network_reason(error, timeout, secrets)
        return facts(False, f"could not read Discord channel {channel_id}: {reason}"
                     + _capped_note(retry_log, max_retry_after), retry_after_capped=retry_log.capped)

    capped = retry_log.capped
    if status == 200 and isinstance(body, list):
        messages = tuple(_message(item, secrets) for item in body if isinstance(item, dict))
        messages = tuple(sorted(messages, key=lambda m: int(m.id) if m.id.isdigit() else 0, reverse=True))
        hidden = sum(m.content_missing for m in messages)
        problem = None
        if hidden:
            problem = (
                f"{hidden} of {len(messages)} message(s) came back with empty content and no embeds or "
                "attachments: the reading bot lacks the Message Content intent, so Discord hid the text "
                f"(this is not 'no notification') — {CONTENT_INTENT_FIX}"
            )
        return facts(True, problem, messages=messages, status_code=status, content_intent_missing=bool(hidden),
                     retry_after_capped=capped)
    return facts(False, _http_problem(status, body, channel_id, retries, retry_log, max_retry_after),
                 status_code=status, retry_after_capped=capped)


def _bare_token(token: Secret | None) -> Secret | None:
    """The token without surrounding blanks and without a "Bot " prefix an operator may have pasted with it."""
    if token is None:
        return None
    bare = token.reveal().strip()
    if bare.startswith("Bot "):
        bare = bare[4:].strip()
    return Secret.of(bare, token.name)


def _token_problem(token: Secret) -> str | None:
    """Why `token` cannot be a Discord bot token, naming the kinds of character found, never the value."""
    value = token.reveal()
    if _TOKEN_CHARS.fullmatch(value):
        return None
    kinds = []
    if any(ch in "\r\n" for ch in value):
        kinds.append("a newline")
    if any((ord(ch) < 0x20 and ch not in "\r\n\t") or ord(ch) == 0x7F for ch in value):
        kinds.append("a control character")
    if any(ord(ch) > 0x7F for ch in value):
        kinds.append("a non-ASCII character")
    if any(ch in "\"'`" for ch in value):
        kinds.append("quotes (on Windows `set NAME=\"...\"` keeps them in the value)")
    if any(ch in " \t" for ch in value):
        kinds.append("a space")
    if not kinds:
        kinds.append("characters a token never has (only letters, digits, '-', '_', '.' and '=')")
    return (f"DISCORD_BOT_TOKEN is not a valid token (contains {', '.join(kinds)}): set it to the token exactly "
            "as the Discord developer portal shows it (value not shown) — operator to confirm the startup "
            "notification")


def _headers(token: Secret) -> dict[str, str]:
    # The one place the token is revealed: a header value already checked by _token_problem.
    return {"Authorization": f"Bot {token.reveal()}", "User-Agent": USER_AGENT, "Accept": "application/json"}


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _discord_error(body: Any) -> str:
    if isinstance(body, dict) and ("message" in body or "code" in body):
        return f"Discord said {str(body.get('message', ''))[:120]!r} (code {body.get('code')})"
    return "no Discord error body"


def _capped_note(log: _RetryLog, cap: float) -> str:
    if not log.capped:
        return ""
    return f"; Discord asked to wait {log.asked_retry_after:.3g} s, capped at {cap:.3g} s"


def _http_problem(status: int, body: Any, channel_id: str, retries: int, log: _RetryLog, cap: float) -> str:
    said = _discord_error(body)
    if status == 401:
        return f"Discord refused the bot token (401 Unauthorized; {said}) — check DISCORD_BOT_TOKEN (value not shown)"
    if status == 403:
        return (f"the bot may not read channel {channel_id} (403 Forbidden; {said}) — grant it VIEW_CHANNEL and "
                "READ_MESSAGE_HISTORY on that channel")
    if status == 404:
        return (f"unknown channel {channel_id} (404; {said}) — check DISCORD_CHANNEL_ID and that the bot is in "
                "that server")
    if status == 429:
        asked = body.get("retry_after") if isinstance(body, dict) else None
        wait = f"; Discord asks to wait {asked} s" if asked is not None else ""
        return f"still rate limited (429) after {retries} retries{wait}{_capped_note(log, cap)}"
    if status >= 500:
        return f"Discord server error {status} after {retries} retries ({said})"
    if status == 200:
        return "Discord answered 200 but not with a message list"
    if 300 <= status < 400:
        return f"Discord answered a redirect ({status}); the API base URL is probably wrong"
    return f"unexpected HTTP {status} reading channel {channel_id} ({said})"


def _network_reason(error: Exception, timeout: float, secrets: SecretSet) -> str:
    # With retries mounted, the last timeout arrives wrapped (ConnectionError <- MaxRetryError <- ...Timeout).
    # Redacted before it is cut: a cut through a token would leave its first part unrecognised.
    text = redact_text(str(error), secrets)
    if isinstance(error, requests.ConnectTimeout) or "ConnectTimeoutError" in text:
        return f"connect timed out (limit {min(CONNECT_TIMEOUT_S, timeout):g} s)"
    if isinstance(error, requests.ReadTimeout) or "Read timed out" in text:
        return f"no answer within {timeout:g} s"
    for reason in ("Connection refused", "Name or service not known", "Temporary failure in name resolution",
                   "Network is unreachable", "Connection reset", "certificate verify failed"):
        if reason in text:
            return f"{type(error).__name__}: {reason}"
    return f"{type(error).__name__}: {text[:MAX_PROBLEM_DETAIL_CHARS]}"


def _message(item: dict[str, Any], secrets: SecretSet) -> DiscordMessage:
    message_id = str(item.get("id", ""))
    timestamp = _parse_timestamp(item.get("timestamp")) or _snowflake_time(message_id)
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    content = item.get("content") if isinstance(item.get("content"), str) else ""
    embeds = [e for e in item.get("embeds") or [] if isinstance(e, dict)]
    has_payload = bool(
        content.strip() or embeds or item.get("attachments") or item.get("sticker_items")
        or item.get("components") or item.get("poll")
    )
    text = content if content.strip() else _embed_text(embeds)
    return DiscordMessage(
        id=message_id,
        timestamp=timestamp or datetime.fromtimestamp(0, tz=timezone.utc),
        author=redact_text(str(author.get("username", "")), secrets),
        content=redact_text(text, secrets),
        # Discord refuses empty messages, so an empty user message means the reader was denied its text.
        content_missing=item.get("type", 0) in _USER_MESSAGE_TYPES and not has_payload,
    )


def _embed_text(embeds: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for embed in embeds:
        parts.extend(str(embed[key]) for key in ("title", "description") if embed.get(key))
        for field in embed.get("fields") or []:
            if isinstance(field, dict):
                parts.append(f"{field.get('name', '')}: {field.get('value', '')}")
    return "\n".join(parts)


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(timezone.utc)


# ---- the startup notification -------------------------------------------------------------------------------

DEFAULT_WINDOW = timedelta(minutes=15)
START_SKEW = timedelta(minutes=2)  # how far Discord's clock and the bot's machine's may disagree
_SEPARATOR = r"[\s_-]*"  # "DRY-RUN", "DRY RUN", "dry_run", "DRYRUN" are one phrase


def _phrase(phrase: str) -> str:
    words = [w for w in re.split(r"[\s_-]+", phrase.strip()) if w]
    if not words:
        raise ValueError("an empty mode phrase matches everything")
    # Whole words: "LIVE" must not match inside "DELIVERED" or "OLIVE".
    return r"(?<![A-Za-z0-9])" + _SEPARATOR.join(re.escape(w) for w in words) + r"(?![A-Za-z0-9])"


def _mode_claim(phrase: str) -> re.Pattern[str]:
    # "LIVE mode", "LIVE trading mode", "mode: LIVE", "mode=dry_run".
    body = _phrase(phrase)
    return re.compile(
        rf"{body}{_SEPARATOR}(?:trading{_SEPARATOR})?mode\b|\bmode\s*[:=]\s*{body}", re.IGNORECASE
    )


def find_startup_notification(
    facts: DiscordFacts,
    expected: str = "PAPER TRADING",
    forbidden: tuple[str, ...] = ("DRY-RUN", "DRY RUN", "LIVE"),
    near: datetime | None = None,
    window: timedelta = DEFAULT_WINDOW,
    skew: timedelta = START_SKEW,
) -> NotificationFacts:
    """Find the message with `expected` (whole words, any case) and every message naming a forbidden mode.

    With `near` (aware: the start), only messages from `skew` before it (Discord's clock and the bot's machine's
    may disagree that much) to `window` after it count, and the match is the one closest to `near`; a message
    from before that belongs to an earlier start (a dry-run start stopped and switched minutes ago): it is kept
    in `earlier_start`, never judged as this start's. Without `near`, the newest match. A message that carries
    the expected phrase counts as
    forbidden only when it states a forbidden mode ("LIVE mode", "mode: LIVE"), so "PAPER TRADING mode
    (live market data)" is not LIVE; any other message counts when it names the mode at all.
    """
    if near is not None and near.tzinfo is None:
        raise ValueError("near must be an aware datetime")
    expected_pattern = re.compile(_phrase(expected), re.IGNORECASE)
    mentions = [(mode, re.compile(_phrase(mode), re.IGNORECASE), _mode_claim(mode)) for mode in forbidden]

    def in_window(message: DiscordMessage) -> bool:
        return near is None or -skew <= message.timestamp - near <= window

    candidates: list[DiscordMessage] = []
    outside: list[DiscordMessage] = []
    hits: list[ModeMention] = []
    earlier: list[ModeMention] = []
    for message in facts.messages:  # newest first
        says_expected = bool(expected_pattern.search(message.content))
        if says_expected:
            (candidates if in_window(message) else outside).append(message)
        before = near is not None and message.timestamp - near < -skew
        if not in_window(message) and not before:
            continue
        # Blank the expected phrase so a forbidden word inside it (expected="LIVE TRADING") is not a hit.
        text = expected_pattern.sub(" ", message.content)
        seen_modes: set[str] = set()
        for mode, anywhere, claim in mentions:
            pattern = claim if says_expected else anywhere
            key = re.sub(r"[\s_-]+", "", mode.upper())  # "DRY-RUN" and "DRY RUN" are one mention
            if key not in seen_modes and pattern.search(text):
                seen_modes.add(key)
                (earlier if before else hits).append(ModeMention(mode, message))

    match: DiscordMessage | None = None
    if candidates:
        match = candidates[0] if near is None else min(candidates, key=lambda m: abs(m.timestamp - near))
    return NotificationFacts(
        looked=facts.looked,
        problem=facts.problem,
        expected=expected,
        match=match,
        delta=(match.timestamp - near) if (match is not None and near is not None) else None,
        forbidden=tuple(hits),
        outside_window=tuple(outside),
        content_intent_missing=facts.content_intent_missing,
        earlier_start=tuple(earlier),
    )
