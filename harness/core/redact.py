"""Redaction: what may leave the machine. Secret values never; account ids only masked.

Secret values travel as `Secret` (one value) and `SecretSet` (the run's known values), whose repr and str
are opaque, so a traceback, `-l` locals or an assertion rewrite shows `<secret>` where a value would be.
Every string that reaches a report, an attachment, a log excerpt or the transition log passes through
`redact_text` (with the secrets known to the run) or is built from already-masked facts.

A known secret is removed in every form it can take in text: raw, repr/`ascii`-escaped, JSON-escaped,
URL-encoded, as a bytes repr (how http.client quotes a bad header), those forms escaped once more (an
exception's repr inside a repr) and, for a value on several lines, each of its lines (pytest and logging
split messages into lines). All of it is linear in the length of the text: known values are found with
`str.replace`, and no pattern can backtrack over a long run of characters.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

# Key names whose values are secrets, whatever the value looks like.
_SECRET_KEY = re.compile(
    r"(TOKEN|PASSWORD|PASSWD|PASSPHRASE|SECRET|API_?KEY|PRIVATE|CREDENTIAL|WEBHOOK|AUTH|_KEY$|^KEY$|DSN"
    r"|(?:^|_)(?:PWD|PASS|PIN|ACCOUNT|ACCT|USER|USERNAME|LOGIN)(?:_|$))",
    re.IGNORECASE,
)
# Settings (a bot's .env, a scheduled task's environment) are secret by default: a value is shown in clear only
# under a key known to be safe: the mode keys, the gateway's host, port and client id, risk limits, paths and
# file names, log settings, time zones, sizes and durations. Any other key's value is masked and kept as a hash.
_SAFE_SETTING = re.compile(
    r"^(?:DRY_RUN|PAPER_TRADING|IBKR_HOST|IBKR_PORT|IBKR_CLIENT_ID|TZ|CRON_TZ|PYTHON\w*|LANG|LC_\w+|PATH|SHELL|HOME"
    r"|MAILTO|TERM|TEMP|TMP|SYSTEMROOT|WINDIR|COMSPEC|VIRTUAL_ENV"
    r"|LOG_\w+|MAX_\w+|MIN_\w+|\w*_(?:LEVEL|DIR|PATH|FILE|CONFIG|PCT|PERCENT|ENABLED|DISABLED|LIMIT|SIZE|TIMEOUT"
    r"|SECONDS|MINUTES|HOURS|DAYS|COUNT|INTERVAL|MODE|TIMEZONE|TZ|FORMAT|NAME|SYMBOLS?))$",
    re.IGNORECASE,
)
# Values that carry a secret whatever the key is called. The scheme may start only where no scheme
# character precedes it, and the user info is bounded: without both, a long run of letters (a base64 blob)
# made the engine retry the scheme from every position, quadratic in the run's length.
_URL_USERINFO = re.compile(
    r"(?<![a-zA-Z0-9+.\-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]{0,31}://)"
    r"(?P<userinfo>[^/@\s:]{1,256}(?::[^/@\s]{0,256})?)@"
)
_DISCORD_WEBHOOK = re.compile(r"(/api(?:/v\d{1,3})?/webhooks/)(\d{1,32})/([A-Za-z0-9_.\-]+)")
_DISCORD_BOT_TOKEN = re.compile(r"\b(Bot\s{1,8})[A-Za-z0-9_.\-]{20,}")
_ACCOUNT_ID = re.compile(r"\b(DU|DF|DI|U|F|I)(\d{5,9})\b")
# The longest text a generic pattern must see whole to mask it (scheme + user info + "@"): an excerpt keeps
# this much context beyond its cut so that a credential straddling the cut is still recognised.
_PATTERN_SPAN = 32 + 3 + 256 + 1 + 256 + 1

MASK = "****"
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words everywhere
# pytest's saferepr cuts a long repr as head + "..." + tail, and excerpts end in "…": a secret cut there no
# longer matches whole, so a part of a known form this long next to such a mark is removed too.
MIN_PARTIAL_CHARS = 6
_CUT_MARKS = ("...", "…")
MAX_CUT_MARKS = 10_000  # looked at per text: saferepr makes a few; a text with more is prose, not cut reprs
# Values a secret-looking key may hold that are settings, not secrets (AUTH_ENABLED=true).
_NOT_SECRETS = frozenset({"true", "false", "yes", "no", "on", "off", "none", "null", "enabled", "disabled"})
MAX_EXCERPT_CHARS = 2000  # every string recorded as evidence is cut to this many characters


# -- opaque holders ----------------------------------------------------------------------------------------
class Secret:
    """One secret value. repr and str are `<secret NAME>`; `reveal()` is for the one place that needs the
    value (an Authorization header, a hash), never for text. Not picklable: it cannot be serialised away."""

    __slots__ = ("_value", "name")

    def __init__(self, value: str, name: str = "") -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("a Secret holds a str")
        self._value = value
        self.name = name

    @classmethod
    def of(cls, value: str | Secret | None, name: str = "") -> Secret | None:
        """None and "" stay None; a Secret stays itself; a str is wrapped."""
        if value is None or isinstance(value, Secret):
            return value or None
        return cls(value, name) if value else None

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"<secret {self.name}>" if self.name else "<secret>"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not serialised")


class SecretSet:
    """The secret values a run knows (the `.env`'s, the Discord token), and every form each can take in text.

    repr and str say only how many values it holds. It is not iterable on purpose: code that needs the
    values asks `redact_text` to remove them, or calls `reveal()` where a value is truly needed."""

    __slots__ = ("_forms", "_heads", "_longest", "_tails", "_values")

    def __init__(self, values: Iterable[str | Secret | None] | SecretSet = ()) -> None:
        self._values: frozenset[str] = frozenset()
        self._forms: tuple[str, ...] = ()
        self._heads: frozenset[str] = frozenset()
        self._tails: frozenset[str] = frozenset()
        self._longest = 0
        self.add(values)

    def add(self, values: Iterable[str | Secret | None] | SecretSet | Secret | str | None) -> None:
        """Learn more values. The new state is swapped in whole, so readers on other threads see either the
        old or the new set of forms, never a half-built one."""
        new = set(self._values) | set(_plain_values(values))
        if new == set(self._values):
            return
        forms = {form for value in new for form in secret_forms(value)}
        ordered = tuple(sorted(forms, key=len, reverse=True))  # the longest first: no form eats another's part
        heads = frozenset(f[:k] for f in forms for k in range(MIN_PARTIAL_CHARS, len(f)))
        tails = frozenset(f[-k:] for f in forms for k in range(MIN_PARTIAL_CHARS, len(f)))
        self._values, self._forms, self._heads, self._tails, self._longest = (
            frozenset(new), ordered, heads, tails, len(ordered[0]) if ordered else 0)

    def reveal(self) -> frozenset[str]:
        return self._values

    @property
    def forms(self) -> tuple[str, ...]:
        """Every text form of every value, longest first."""
        return self._forms

    @property
    def cut_parts(self) -> tuple[frozenset[str], frozenset[str]]:
        """(every head, every tail) of a form at least MIN_PARTIAL_CHARS long: what a cut can leave of one."""
        return self._heads, self._tails

    @property
    def longest_form(self) -> int:
        return self._longest

    def __len__(self) -> int:
        return len(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __repr__(self) -> str:
        return f"<{len(self._values)} secret value(s)>"

    __str__ = __repr__

    def __or__(self, other: SecretSet | Iterable[str | Secret | None]) -> SecretSet:
        merged = SecretSet(self)
        merged.add(other)
        return merged

    def __copy__(self) -> SecretSet:
        return self

    def __deepcopy__(self, memo: dict) -> SecretSet:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a SecretSet is not serialised")


class PrivateMapping(dict):
    """A dict (an environment, say) whose repr and str name only its size: it may hold tokens, and a dict passed
    to a function that fails is printed whole in a long traceback."""

    def __repr__(self) -> str:
        return f"<{len(self)} private entries>"

    __str__ = __repr__


def _plain_values(values: Any) -> Iterable[str]:
    if values is None:
        return ()
    if isinstance(values, SecretSet):
        return values.reveal()
    if isinstance(values, (str, Secret)):
        values = (values,)
    plain = (v.reveal() if isinstance(v, Secret) else v for v in values if v is not None)
    return (v for v in plain if isinstance(v, str) and _worth_masking(v))


def _worth_masking(value: str) -> bool:
    stripped = value.strip()
    return len(stripped) >= MIN_SECRET_CHARS and stripped.lower() not in _NOT_SECRETS and set(stripped) != {"*"}


# -- the forms of a value ----------------------------------------------------------------------------------
def _py_escape(value: str, quote_char: str, ascii_only: bool) -> str:
    """`value` as the body of a Python str literal: repr's escapes with `quote_char` escaped (or no quote
    escaped when it is ""), non-ASCII kept as repr keeps it or escaped as `ascii()` escapes it."""
    out: list[str] = []
    for ch in value:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch and ch == quote_char:
            out.append("\\" + ch)
        elif ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif (ascii_only and code > 0x7E) or not ch.isprintable():
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _bytes_escape(data: bytes, quote_char: str) -> str:
    """`data` as the body of a bytes literal (how http.client quotes a header value it refuses)."""
    out: list[str] = []
    for byte in data:
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch and ch == quote_char:
            out.append("\\" + ch)
        elif ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped_once(value: str) -> set[str]:
    """The ways one layer of quoting writes `value` inside a longer text."""
    forms = {value, value.encode("unicode_escape").decode("ascii")}
    for quote_char in ("'", '"', ""):
        for ascii_only in (False, True):
            forms.add(_py_escape(value, quote_char, ascii_only))
    for ensure_ascii in (True, False):
        encoded = json.dumps(value, ensure_ascii=ensure_ascii)[1:-1]
        forms.add(encoded)
        forms.add(re.sub(r"\\u[0-9a-f]{4}", lambda m: m.group(0).upper().replace("\\U", "\\u"), encoded))
    for encoding in ("utf-8", "latin-1"):
        try:
            data = value.encode(encoding)
        except UnicodeEncodeError:
            continue
        for quote_char in ("'", '"'):
            forms.add(_bytes_escape(data, quote_char))
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value), quote_plus(value, safe="")):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded))
    return forms


def secret_forms(value: str) -> set[str]:
    """Every form of `value` that redaction removes: raw, escaped once and escaped twice, and each line of
    a value that spans lines (so a message split into lines still loses every part of it)."""
    first = _escaped_once(value)
    forms = set(first)
    for form in first:
        if form != value:
            forms |= _escaped_once(form)
    for line in value.splitlines():  # every line break str knows, not only \n
        if line != value and _worth_masking(line):
            forms |= _escaped_once(line)
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


# -- redaction ---------------------------------------------------------------------------------------------
def is_secret_key(key: str) -> bool:
    """True when a `.env` key names a secret (token, password, webhook, ...)."""
    return bool(_SECRET_KEY.search(key))


def is_secret_setting(key: str, value: str | None) -> bool:
    """True when the setting `key`=`value` (a .env line, an environment variable) must not be shown: a secret key
    or value, or any key not known to be safe (default-deny). A plain boolean is never a secret."""
    if is_secret_key(key) or (value and is_secret_value(value)):
        return True
    if value is None or not value.strip() or value.strip().lower() in _NOT_SECRETS:
        return False
    return not _SAFE_SETTING.match(key.strip())


def is_secret_value(value: str) -> bool:
    """True when a value carries a secret whatever its key is named (credentials in URLs, webhooks)."""
    return bool(_URL_USERINFO.search(value) or _DISCORD_WEBHOOK.search(value))


def fingerprint(value: str | Secret) -> str:
    """SHA-256 of a secret value: lets a baseline tell 'changed' from 'unchanged' without storing it."""
    plain = value.reveal() if isinstance(value, Secret) else value
    return "sha256:" + hashlib.sha256(plain.encode("utf-8")).hexdigest()


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
    if is_secret_setting(key, value):
        return MASK if value else ""
    return redact_text(value)


def _as_set(secrets: SecretSet | Iterable[str | Secret | None] | None) -> SecretSet:
    return secrets if isinstance(secrets, SecretSet) else SecretSet(secrets or ())


def _remove_known(text: str, forms: tuple[str, ...]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def _remove_cut_parts(text: str, known: SecretSet) -> str:
    """Mask what a cut left of a known form: its head just before a cut mark, its tail just after one."""
    heads, tails = known.cut_parts
    if not heads or not any(mark in text for mark in _CUT_MARKS):
        return text
    longest = known.longest_form
    spans: list[tuple[int, int]] = []
    for mark in _CUT_MARKS:
        at = text.find(mark)
        for _ in range(MAX_CUT_MARKS):
            if at == -1:
                break
            before = next((k for k in range(min(longest, at), MIN_PARTIAL_CHARS - 1, -1)
                           if text[at - k:at] in heads), 0)
            after_start = at + len(mark)
            after = next((k for k in range(min(longest, len(text) - after_start), MIN_PARTIAL_CHARS - 1, -1)
                          if text[after_start:after_start + k] in tails), 0)
            if before:
                spans.append((at - before, at))
            if after:
                spans.append((after_start, after_start + after))
            at = text.find(mark, after_start)
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + MASK + text[end:]
    return text


def redact_text(text: str, secrets: SecretSet | Iterable[str | Secret | None] = ()) -> str:
    """Remove known secret values (in every form, and what a cut left of one), URL credentials, webhook
    tokens, bot tokens; mask account ids. Linear in the length of `text`."""
    if not isinstance(text, str):
        text = str(text)
    known = _as_set(secrets)
    forms = known.forms
    text = _remove_known(text, forms)
    text = _remove_cut_parts(text, known)
    text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    text = _DISCORD_WEBHOOK.sub(lambda m: f"{m.group(1)}{m.group(2)}/{MASK}", text)
    text = _DISCORD_BOT_TOKEN.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _ACCOUNT_ID.sub(lambda m: mask_account(m.group(0)), text)
    # Masking can join text around a removed value into a value again ("ab" + "abXY" -> "a" + ...): repeat
    # until nothing is found. Each pass removes at least one character that is not "*", so this ends.
    while forms and any(form in text for form in forms):
        text = _remove_known(text, forms)
    return text


def redact_excerpt(text: str, secrets: SecretSet | Iterable[str | Secret | None] = (),
                   limit: int = MAX_EXCERPT_CHARS) -> str:
    """`text` redacted and cut to about `limit` characters, with "… [N more characters]" when cut.

    Only the head is redacted (a 100 MB line costs what its first few KB cost), with enough context past the
    cut that a secret straddling it is recognised; the part that could hold the cut end of one is dropped.
    """
    if not isinstance(text, str):
        text = str(text)
    known = _as_set(secrets)
    if len(text) <= limit:
        return redact_text(text, known)
    reach = max(known.longest_form, _PATTERN_SPAN) + 16
    # A mask can be longer than what it hides (`U12345` -> `U****345`), so the unsafe tail of the redacted
    # head is given room for that growth too.
    unsafe_tail = 4 * reach
    cut = limit + unsafe_tail + reach
    while True:
        head = redact_text(text[:cut], known)
        if cut >= len(text):
            kept = head[:limit]
            break
        safe = head[:-unsafe_tail] if len(head) > unsafe_tail else ""
        if len(safe) >= limit:
            kept = safe[:limit]
            break
        cut *= 2  # masks shrank the head below the limit: look further
    more = max(len(text) - len(kept), 1)
    return f"{kept}… [{more} more characters]"


def masked_repr(obj: Any) -> str:
    """repr of a facts dataclass with account ids masked and every string redacted: the repr pytest prints
    for `-l`, `-vvv` and long tracebacks. Fields named `account`/`accounts` are masked whatever they hold."""
    parts = []
    for field in dataclasses.fields(obj):
        if not field.repr:
            continue
        value = getattr(obj, field.name)
        if field.name == "account" and isinstance(value, str) and value:
            value = mask_account(value)
        elif field.name == "accounts" and isinstance(value, (tuple, list)):
            value = type(value)(mask_account(a) if isinstance(a, str) and a else a for a in value)
        parts.append(f"{field.name}={value!r}")
    return redact_text(f"{type(obj).__name__}({', '.join(parts)})")
