"""Redaction: what may leave the machine. Secret values never; account ids only masked.

Every string that reaches a report, an attachment, a log excerpt or the transition log passes through
`redact_text` (with the secrets known to the run) or is built from already-masked facts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

# Key names whose values are secrets, whatever the value looks like.
_SECRET_KEY = re.compile(
    r"(TOKEN|PASSWORD|PASSWD|PASSPHRASE|SECRET|API_?KEY|PRIVATE|CREDENTIAL|WEBHOOK|AUTH|_KEY$|^KEY$|DSN)",
    re.IGNORECASE,
)
# Values that carry a secret whatever the key is called.
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s:]+(:[^/@\s]*)?)@")
_DISCORD_WEBHOOK = re.compile(r"(/api(?:/v\d+)?/webhooks/)(\d+)/([A-Za-z0-9_.\-]+)")
_DISCORD_BOT_TOKEN = re.compile(r"\b(Bot\s+)[A-Za-z0-9_.\-]{20,}")
_ACCOUNT_ID = re.compile(r"\b(DU|DF|DI|U|F|I)(\d{5,9})\b")

MASK = "****"


def is_secret_key(key: str) -> bool:
    """True when a `.env` key names a secret (token, password, webhook, ...)."""
    return bool(_SECRET_KEY.search(key))


def is_secret_value(value: str) -> bool:
    """True when a value carries a secret whatever its key is named (credentials in URLs, webhooks)."""
    return bool(_URL_USERINFO.search(value) or _DISCORD_WEBHOOK.search(value))


def fingerprint(value: str) -> str:
    """SHA-256 of a secret value: lets a baseline tell 'changed' from 'unchanged' without storing it."""
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def mask_account(account: str) -> str:
    """`DU1234567` -> `DU****567`: the prefix (paper/live) and the last three digits stay readable."""
    match = re.fullmatch(r"([A-Za-z]*)(\d*)", account.strip())
    if not match or len(match.group(2)) < 4:
        return account[:2] + MASK if len(account) > 2 else MASK
    prefix, digits = match.groups()
    return f"{prefix}{MASK}{digits[-3:]}"


def mask_value(key: str, value: str | None) -> str | None:
    """The value of `key` as it may be shown: secrets replaced by a mask, other values redacted text."""
    if value is None:
        return None
    if is_secret_key(key):
        return MASK if value else ""
    return redact_text(value)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values, URL credentials, webhook tokens, bot tokens; mask account ids."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _DISCORD_WEBHOOK.sub(lambda m: f"{m.group(1)}{m.group(2)}/{MASK}", text)
    text = _DISCORD_BOT_TOKEN.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _ACCOUNT_ID.sub(lambda m: mask_account(m.group(0)), text)
    return text
