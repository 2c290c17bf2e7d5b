"""A fake Discord on loopback: webhook execute (what bots post) and channel messages (what the harness reads).

Stdlib only, so `bench/` and operators can run it anywhere (`python -m harness.fakes.discord --port 8765`).
It answers the real REST paths with Discord's status codes, error bodies and rate-limit headers, so the
probe in `harness/probes/discord.py` cannot tell it from discord.com. Shape copied from pytest-httpserver: bind
port 0 and read the real port back, serve from a daemon thread, `start()` returns once it answers,
`reset()` between tests, handler exceptions are kept and re-raised by `check()` in the test thread.

Facts it follows (discord-api-docs): snowflakes are `ms since 2015-01-01 << 22`; channel messages come back
newest first; `limit` 1..100; at most one of before/after/around; a reader without the Message Content
intent gets empty `content`/`embeds`/`attachments`/`components` for messages that are not its own.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ipaddress
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.core import clock
from harness.fakes.ports import unavailable

__all__ = [
    "DISCORD_EPOCH_MS",
    "FakeDiscord",
    "RecordedRequest",
    "snowflake_at",
    "snowflake_time",
]

DISCORD_EPOCH_MS = 1_420_070_400_000  # 2015-01-01T00:00:00Z
MAX_CONTENT_CHARS = 2000  # Discord's limit for `content`
MAX_BODY_BYTES = 1_000_000  # refuse bigger bodies instead of reading without bound
MAX_STORED_MESSAGES = 10_000  # oldest dropped beyond this, so a chatty bot cannot grow memory forever
MAX_RECORDED_REQUESTS = 10_000
HEALTH_PATH = "/__fake_discord__/health"  # readiness check; never recorded, never rate limited
MASK = "****"

Message = dict[str, Any]
_WEBHOOK_PATH = re.compile(r"(/api(?:/v\d+)?/webhooks/[^/]+/)[^/?]+")


def snowflake_at(when: datetime, increment: int = 0) -> int:
    """The smallest-ish Discord snowflake for an aware instant (worker/process bits 0)."""
    if when.tzinfo is None:
        raise ValueError("snowflake_at needs an aware datetime")
    millis = int(when.timestamp() * 1000) - DISCORD_EPOCH_MS
    if millis < 0:
        raise ValueError("Discord snowflakes start at 2015-01-01")
    return (millis << 22) | (increment & 0xFFF)


def snowflake_time(snowflake: int | str) -> datetime:
    """The UTC instant encoded in a snowflake (millisecond precision)."""
    millis = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc)


def _iso(instant: datetime) -> str:
    # Discord's format: microseconds and an explicit +00:00 offset.
    return instant.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _random_snowflake() -> str:
    return str(snowflake_at(clock.now(), secrets.randbelow(4096)))


def _random_bot_token(bot_user_id: str) -> str:
    # Same three-part shape as a real token (base64 user id . timestamp . hmac), random content.
    user_part = base64.urlsafe_b64encode(bot_user_id.encode()).decode().rstrip("=")
    return f"{user_part}.{secrets.token_urlsafe(4)}.{secrets.token_urlsafe(27)}"


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the fake saw it. The webhook token in the path is masked; headers are not kept."""

    method: str
    path: str
    query: str
    status: int
    json_body: Any = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeDiscord


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like discord.com; every reply carries Content-Length
    timeout = 10  # an idle keep-alive connection frees its thread after this

    server: _Server

    def version_string(self) -> str:
        return "fake-discord"

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes the request line (with the webhook token) to stderr: never do that.
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        try:
            self.server.fake._handle(self, method)
        except Exception as error:  # recorded for check(); the client still gets an answer
            self.server.fake._record_error(error)
            url = urllib.parse.urlsplit(self.path)
            self.server.fake._record(method, url.path, url.query, 500)
            with contextlib.suppress(OSError):  # the client may be gone already
                self.send_json(500, {"message": f"fake Discord handler error: {type(error).__name__}", "code": 0})

    def read_body(self) -> bytes | None:
        """The request body, or None when it is too big (the caller answers 413)."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = b"" if status == 204 else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class FakeDiscord:
    """A loopback Discord: one channel, one webhook into it, one reading bot.

    `with FakeDiscord() as discord:` starts it; the bot posts to `discord.webhook_url`, the probe reads
    `discord.api_base` with `discord.bot_token`. Secrets default to fresh random values per instance.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_token: str | None = None,
        channel_id: str | int | None = None,
        webhook_id: str | int | None = None,
        webhook_token: str | None = None,
        bot_user_id: str | int | None = None,
        webhook_name: str = "Trading Bot",
        startup_timeout: float = 5.0,
    ) -> None:
        self.host = _loopback_host(host)
        self._requested_port = port
        self.bot_user_id = str(bot_user_id or _random_snowflake())
        self.bot_token = bot_token or _random_bot_token(self.bot_user_id)
        self.channel_id = str(channel_id or _random_snowflake())
        self.webhook_id = str(webhook_id or _random_snowflake())
        self.webhook_token = webhook_token or secrets.token_urlsafe(51)
        self.webhook_name = webhook_name
        # The operator's alert webhook (`harness watch` posts to it): a channel of its own, apart from the bot's.
        self.alert_webhook_id = _random_snowflake()
        self.alert_webhook_token = secrets.token_urlsafe(51)
        self.startup_timeout = startup_timeout
        #: When set, the instant a webhook post is dated with (a world that lives on its own clock); else real now.
        self.clock: Callable[[], datetime] | None = None
        self._condition = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._last_snowflake = 0
        self._set_defaults()

    def _set_defaults(self) -> None:
        self._messages: list[Message] = []
        self._alerts: list[dict[str, Any]] = []
        self._requests: list[RecordedRequest] = []
        self._handler_errors: list[BaseException] = []
        self._rate_limited_left = 0
        self._rate_limit_retry_after = 0.0
        self._rate_limit_scope = "user"
        #: False: the reading bot lacks the Message Content intent, so others' messages come back empty.
        self.message_content_intent = True
        #: False: the reading bot lacks VIEW_CHANNEL, so reading the channel is 403 Missing Access.
        self.can_view_channel = True
        #: False: the reading bot lacks READ_MESSAGE_HISTORY, so reading returns an empty list.
        self.can_read_history = True

    # ---- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FakeDiscord:
        """Bind, serve from a daemon thread, and return only once a real HTTP request is answered."""
        if self._server is not None:
            raise RuntimeError("fake Discord already started")
        server_class = _Server6 if ":" in self.host else _Server
        server = server_class((self.host, self._requested_port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-discord", daemon=True
        )
        self._thread.start()
        try:
            self._wait_until_answering()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        last_error: Exception | None = None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never a proxy
        while time.monotonic() < deadline:
            try:
                with opener.open(self._root_url + HEALTH_PATH, timeout=1.0) as response:
                    if response.status == 200:
                        return
            except OSError as error:
                last_error = error
            time.sleep(0.02)
        raise TimeoutError(f"fake Discord did not answer on {self._root_url} within {self.startup_timeout}s: "
                           f"{last_error}")

    def stop(self) -> None:
        """Stop serving and free the port. Safe to call twice."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)

    def __enter__(self) -> FakeDiscord:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget messages, requests, errors, pending rate limits; switch intent and permissions back on."""
        with self._condition:
            self._set_defaults()

    def check(self) -> None:
        """Raise (in the calling thread) the first exception a request handler hit, if any."""
        with self._condition:
            errors = list(self._handler_errors)
        if errors:
            first = errors[0]
            add_note = getattr(first, "add_note", None)  # Python 3.11+
            if len(errors) > 1 and add_note is not None:
                add_note(f"fake Discord: {len(errors) - 1} more handler error(s) after this one")
            raise first

    @property
    def handler_errors(self) -> list[BaseException]:
        with self._condition:
            return list(self._handler_errors)

    # ---- addresses -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("fake Discord is not started")
        return int(self._server.server_address[1])

    @property
    def _root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/api` (unversioned, like a Discord base before `/v10`)."""
        return self._root_url + "/api"

    @property
    def api_base(self) -> str:
        """`http://127.0.0.1:PORT/api/v10`: what the probe takes in place of `https://discord.com/api/v10`."""
        return self.base_url + "/v10"

    @property
    def webhook_url(self) -> str:
        """The full execute-webhook URL the bot posts to (contains the webhook token: a secret)."""
        return f"{self.base_url}/webhooks/{self.webhook_id}/{self.webhook_token}"

    @property
    def alert_webhook_url(self) -> str:
        """The operator's alert webhook (DISCORD_ALERT_WEBHOOK); its posts are kept in `alerts`, not the channel."""
        return f"{self.base_url}/webhooks/{self.alert_webhook_id}/{self.alert_webhook_token}"

    # ---- test API --------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """Stored messages, oldest first, as Discord message objects (copies)."""
        with self._condition:
            return [json.loads(json.dumps(m)) for m in sorted(self._messages, key=lambda m: int(m["id"]))]

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests in arrival order (health checks excluded)."""
        with self._condition:
            return list(self._requests)

    @property
    def alerts(self) -> list[dict[str, Any]]:
        """The bodies posted to the alert webhook, oldest first (copies)."""
        with self._condition:
            return [json.loads(json.dumps(a)) for a in self._alerts]

    def post_as_webhook(
        self,
        content: str,
        at: datetime | None = None,
        *,
        username: str | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Store a message as if the webhook had posted it, optionally dated `at` (aware datetime)."""
        with self._condition:
            message = self._store(content, embeds or [], username, at)
            return dict(message)

    def rate_limit_next(self, count: int, retry_after: float, *, scope: str = "user") -> None:
        """Answer the next `count` API requests with 429 asking to wait `retry_after` seconds."""
        if count < 0 or retry_after < 0:
            raise ValueError("count and retry_after must be >= 0")
        if scope not in ("user", "global", "shared"):
            raise ValueError("scope is one of user, global, shared")
        with self._condition:
            self._rate_limited_left = count
            self._rate_limit_retry_after = float(retry_after)
            self._rate_limit_scope = scope

    def wait_for_message(
        self,
        predicate: Callable[[Message], bool] | str,
        timeout: float = 5.0,
        *,
        description: str | None = None,
    ) -> Message:
        """Block until a stored message satisfies `predicate` (or contains the text, if a str); return it.

        Raises TimeoutError naming what it waited for and listing what did arrive.
        """
        if isinstance(predicate, str):
            text = predicate
            description = description or f"a message containing {text!r}"

            def predicate(message: Message) -> bool:
                return text in message.get("content", "")

        what = description or getattr(predicate, "__name__", repr(predicate))
        found: list[Message] = []

        def matched_or_broken() -> bool:
            if self._handler_errors:
                return True
            for message in sorted(self._messages, key=lambda m: int(m["id"])):
                if predicate(message):
                    found.append(message)
                    return True
            return False

        with self._condition:
            self._condition.wait_for(matched_or_broken, timeout=timeout)
            if found:
                return json.loads(json.dumps(found[0]))
            stored = len(self._messages)
            seen = [m.get("content", "")[:80] for m in self._messages[-10:]]
        self.check()  # a handler error explains the missing message better than a timeout
        raise TimeoutError(
            f"fake Discord: no message matching {what} within {timeout}s; "
            f"{stored} message(s) stored, last contents: {seen!r}"
        )

    # ---- request handling (server threads) -------------------------------------------------------------

    def _record_error(self, error: BaseException) -> None:
        with self._condition:
            self._handler_errors.append(error)
            self._condition.notify_all()

    def _record(self, method: str, path: str, query: str, status: int, json_body: Any = None) -> None:
        # Any token in a webhook path is masked, not only ours: a bot may post with a real token by mistake.
        safe_path = _WEBHOOK_PATH.sub(rf"\g<1>{MASK}", path)
        safe_query = (query.replace(self.webhook_token, MASK).replace(self.bot_token, MASK)
                      .replace(self.alert_webhook_token, MASK))
        with self._condition:
            self._requests.append(RecordedRequest(method, safe_path, safe_query, status, json_body))
            del self._requests[:-MAX_RECORDED_REQUESTS]
            self._condition.notify_all()

    def _handle(self, handler: _Handler, method: str) -> None:
        url = urllib.parse.urlsplit(handler.path)
        path, query = url.path, url.query
        if path == HEALTH_PATH:
            handler.send_json(200, {"ok": True})
            return
        route = _parse_route(path)
        body_json: Any = None
        body = b""
        if method in ("POST", "PUT", "PATCH"):
            read = handler.read_body()
            if read is None:
                handler.send_json(413, {"message": "Request entity too large", "code": 40005})
                self._record(method, path, query, 413)
                return
            body = read

        limited = self._take_rate_limit()
        if limited is not None:
            status, payload, headers = limited
        elif route is None:
            status, payload, headers = 404, {"message": "404: Not Found", "code": 0}, {}
        elif route[0] == "webhook" and method == "POST" and route[1] == self.alert_webhook_id:
            status, payload, body_json = self._execute_alert(route[2], body, handler.headers.get("Content-Type", ""))
            headers = _ok_rate_headers(f"webhook:{route[1]}")
        elif route[0] == "webhook" and method == "POST":
            status, payload, body_json = self._execute_webhook(route[1], route[2], query, body,
                                                              handler.headers.get("Content-Type", ""))
            headers = _ok_rate_headers(f"webhook:{route[1]}")
        elif route[0] == "messages" and method == "GET":
            status, payload = self._list_messages(route[1], query, handler.headers.get("Authorization"))
            headers = _ok_rate_headers(f"messages:{route[1]}")
        else:
            status, payload, headers = 405, {"message": "405: Method Not Allowed", "code": 0}, {}
        self._record(method, path, query, status, body_json)
        handler.send_json(status, payload, headers)

    def _take_rate_limit(self) -> tuple[int, Message, dict[str, str]] | None:
        with self._condition:
            if self._rate_limited_left <= 0:
                return None
            self._rate_limited_left -= 1
            retry_after, scope = self._rate_limit_retry_after, self._rate_limit_scope
        payload: Message = {"message": "You are being rate limited.", "retry_after": retry_after,
                            "global": scope == "global"}
        headers = {
            # Discord rounds the header up to whole seconds; the exact value is in the body and Reset-After.
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{clock.now().timestamp() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": "fake-bucket",
            "X-RateLimit-Scope": scope,
        }
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        return 429, payload, headers

    def _execute_webhook(
        self, webhook_id: str, token: str, query: str, body: bytes, content_type: str
    ) -> tuple[int, Any, Any]:
        if webhook_id != self.webhook_id:
            return 404, {"message": "Unknown Webhook", "code": 10015}, None
        if not secrets.compare_digest(token.encode(), self.webhook_token.encode()):
            return 401, {"message": "Invalid Webhook Token", "code": 50027}, None
        try:
            data = _decode_body(body, content_type)
        except ValueError:
            return 400, {"message": "The request body contains invalid JSON.", "code": 50109}, None
        if not isinstance(data, dict):
            return 400, {"message": "Invalid Form Body", "code": 50035}, None
        content = data.get("content") or ""
        embeds = data.get("embeds") or []
        if not isinstance(content, str) or not isinstance(embeds, list):
            return 400, {"message": "Invalid Form Body", "code": 50035}, data
        if not content.strip() and not embeds:
            return 400, {"message": "Cannot send an empty message", "code": 50006}, data
        if len(content) > MAX_CONTENT_CHARS:
            return 400, {"message": "Invalid Form Body", "code": 50035,
                         "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                                             "message": "Must be 2000 or fewer in length."}]}}
                         }, data
        username = data.get("username") if isinstance(data.get("username"), str) else None
        with self._condition:
            message = self._store(content, embeds, username, None)
            created = dict(message)
        wait = urllib.parse.parse_qs(query).get("wait", ["false"])[-1].lower() == "true"
        return (200, created, data) if wait else (204, None, data)

    def _execute_alert(self, token: str, body: bytes, content_type: str) -> tuple[int, Any, Any]:
        if not secrets.compare_digest(token.encode(), self.alert_webhook_token.encode()):
            return 401, {"message": "Invalid Webhook Token", "code": 50027}, None
        try:
            data = _decode_body(body, content_type)
        except ValueError:
            return 400, {"message": "The request body contains invalid JSON.", "code": 50109}, None
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT_CHARS:
            return 400, {"message": "Invalid Form Body", "code": 50035}, data
        with self._condition:
            self._alerts.append(data)
            del self._alerts[:-MAX_STORED_MESSAGES]
            self._condition.notify_all()
        return 204, None, data

    def _list_messages(self, channel_id: str, query: str, authorization: str | None) -> tuple[int, Any]:
        expected = f"Bot {self.bot_token}"
        if not authorization or not secrets.compare_digest(authorization.encode(), expected.encode()):
            return 401, {"message": "401: Unauthorized", "code": 0}
        if channel_id != self.channel_id:
            return 404, {"message": "Unknown Channel", "code": 10003}
        if not self.can_view_channel:
            return 403, {"message": "Missing Access", "code": 50001}
        params = urllib.parse.parse_qs(query)
        try:
            limit = int(params.get("limit", ["50"])[-1])
            anchors = {k: int(params[k][-1]) for k in ("before", "after", "around") if k in params}
        except ValueError:
            return 400, _form_error("limit/before/after/around", "NUMBER_TYPE_COERCE", "Value is not int.")
        if not 1 <= limit <= 100:
            return 400, _form_error("limit", "NUMBER_TYPE_MAX" if limit > 100 else "NUMBER_TYPE_MIN",
                                    "Int value should be between 1 and 100.")
        if len(anchors) > 1:
            return 400, _form_error("around", "BASE_TYPE_BAD", "Only one of before, after, around is allowed.")
        if not self.can_read_history:
            return 200, []
        with self._condition:
            ordered = sorted(self._messages, key=lambda m: int(m["id"]))
            selected = _select(ordered, limit, anchors)
            return 200, [self._as_seen_by_reader(m) for m in selected]

    def _as_seen_by_reader(self, message: Message) -> Message:
        seen = json.loads(json.dumps(message))
        if not self.message_content_intent and seen["author"]["id"] != self.bot_user_id:
            # What Discord does for a reader without the privileged Message Content intent.
            seen.update(content="", embeds=[], attachments=[], components=[])
        return seen

    def _store(self, content: str, embeds: list[Any], username: str | None, at: datetime | None) -> Message:
        # Caller holds the condition. Ids are unique and increase with time, so `after` is an id comparison.
        instant = at or (self.clock() if self.clock is not None else clock.now())
        snowflake = snowflake_at(instant, 0) | (1 << 17)  # worker 0, process 1: a fixed, plausible value
        if at is None:
            snowflake = max(snowflake, self._last_snowflake + 1)
        used = {int(m["id"]) for m in self._messages}
        while snowflake in used:
            snowflake += 1
        self._last_snowflake = max(self._last_snowflake, snowflake)
        message: Message = {
            "id": str(snowflake),
            "type": 0,
            "channel_id": self.channel_id,
            "content": content,
            "timestamp": _iso(snowflake_time(snowflake)),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": json.loads(json.dumps(embeds)),
            "pinned": False,
            "webhook_id": self.webhook_id,
            "author": {"id": self.webhook_id, "username": username or self.webhook_name, "avatar": None,
                       "discriminator": "0000", "bot": True},
            "flags": 0,
            "components": [],
        }
        self._messages.append(message)
        del self._messages[:-MAX_STORED_MESSAGES]
        self._condition.notify_all()
        return message


def _loopback_host(host: str) -> str:
    """The host to bind, refusing anything but loopback: this fake must never be reachable off the machine."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"fake Discord binds loopback only; {host!r} is not a loopback address") from None
    if not address.is_loopback:
        raise ValueError(f"fake Discord binds loopback only; {host!r} is not a loopback address")
    return str(address)


def _parse_route(path: str) -> tuple[str, str, str] | None:
    """('webhook', id, token) or ('messages', channel_id, '') for the paths Discord serves, else None."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != "api":
        return None
    parts = parts[1:]
    if parts and parts[0].startswith("v") and parts[0][1:].isdigit():
        parts = parts[1:]
    if len(parts) == 3 and parts[0] == "webhooks":
        return "webhook", parts[1], parts[2]
    if len(parts) == 3 and parts[0] == "channels" and parts[2] == "messages":
        return "messages", parts[1], ""
    return None


def _decode_body(body: bytes, content_type: str) -> Any:
    if content_type.startswith("application/x-www-form-urlencoded"):
        return {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8")).items()}
    try:
        return json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError("invalid JSON") from error


def _select(ordered: list[Message], limit: int, anchors: dict[str, int]) -> list[Message]:
    """Discord's pagination over oldest-first messages; the answer is newest first."""
    if "after" in anchors:
        # The `limit` messages right after the anchor (the oldest of them), returned newest first.
        later = [m for m in ordered if int(m["id"]) > anchors["after"]]
        return list(reversed(later[:limit]))
    if "before" in anchors:
        earlier = [m for m in ordered if int(m["id"]) < anchors["before"]]
        return list(reversed(earlier[-limit:]))
    if "around" in anchors:
        pivot = anchors["around"]
        earlier = [m for m in ordered if int(m["id"]) <= pivot]
        later = [m for m in ordered if int(m["id"]) > pivot]
        half = limit // 2
        window = earlier[-(limit - half):] + later[:half]
        return list(reversed(window))
    return list(reversed(ordered[-limit:]))


def _form_error(field: str, code: str, text: str) -> Message:
    return {"message": "Invalid Form Body", "code": 50035,
            "errors": {field: {"_errors": [{"code": code, "message": text}]}}}


def _ok_rate_headers(bucket: str) -> dict[str, str]:
    # Plausible, never enforced: only rate_limit_next() produces 429s.
    return {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "4",
        "X-RateLimit-Reset": f"{clock.now().timestamp() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": f"fake-{abs(hash(bucket)) % 10**8:08d}",
    }


def _iter_new_messages(fake: FakeDiscord, stop: threading.Event) -> Iterator[Message]:
    printed = 0
    while not stop.is_set():
        messages = fake.messages
        yield from messages[printed:]
        printed = len(messages)
        time.sleep(0.2)


def main(argv: list[str] | None = None, prog: str = "python -m harness.fakes.discord") -> int:
    """Serve a fake Discord until Ctrl+C, printing its (fake, local) webhook URL and bot token."""
    # `prog`: the command the operator typed (`harness fake-discord`), for --help.
    parser = argparse.ArgumentParser(prog=prog, description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="Loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="Port to bind (0 picks a free one)")
    parser.add_argument("--channel", "--channel-id", dest="channel_id", default=None, metavar="ID",
                        help="Channel id to serve (random by default)")
    parser.add_argument("--bot-token", default=None, help="Bot token the reader must send (random by default)")
    parser.add_argument("--webhook-id", default=None, help="Webhook id (random by default)")
    parser.add_argument("--webhook-token", default=None, help="Webhook token (random by default)")
    args = parser.parse_args(argv)
    try:
        fake = FakeDiscord(args.host, args.port, bot_token=args.bot_token, channel_id=args.channel_id,
                           webhook_id=args.webhook_id, webhook_token=args.webhook_token).start()
    except (OSError, ValueError) as exc:  # a busy port, a host that is not loopback: one line, no traceback
        busy = unavailable(parser.prog, args.host, args.port, exc, "another fake Discord?") \
            if isinstance(exc, OSError) else None
        print(busy or f"{parser.prog}: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    stop = threading.Event()
    try:
        # Ctrl+C may come as soon as the first line is out (the server already answers in its own thread), so the
        # announcement is inside the try too.
        # Printed only because these are throwaway secrets of a local fake.
        print(f"fake Discord listening on {fake.base_url}", flush=True)
        print(f"DISCORD_WEBHOOK_URL={fake.webhook_url}", flush=True)
        print(f"DISCORD_API_BASE={fake.api_base}", flush=True)
        print(f"DISCORD_CHANNEL_ID={fake.channel_id}", flush=True)
        print(f"DISCORD_BOT_TOKEN={fake.bot_token}", flush=True)
        for message in _iter_new_messages(fake, stop):
            print(f"[{message['timestamp']}] {message['author']['username']}: {message['content']}", flush=True)
    except KeyboardInterrupt:
        stop.set()
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
