"""A fake of GitHub's REST API on loopback, for the tests of `harness.report.github`: issue comments and new issues.

Stdlib only. It answers the real paths with GitHub's status codes and error bodies: 401 "Bad credentials" for a
missing or wrong token, 404 "Not Found" for a repository or issue it does not hold, 201 with `html_url` for what
it creates. Every request is recorded (headers included) so a test can see what was sent. `delay` makes it
answer late (a timeout test); `fail_with` makes every request answer that status.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 1_000_000
_COMMENTS = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)/comments")
_ISSUES = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    """`with FakeGitHub(token="t", repos={"o/r": [1]}) as fake:` ... `fake.api_base`."""

    token: str
    repos: dict[str, list[int]] = field(default_factory=dict)  # repository -> the issue numbers it holds
    delay: float = 0.0
    fail_with: int | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    comments: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    issues: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._next_id = 1000

    @property
    def api_base(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                fake._answer(self)

            def do_GET(self) -> None:
                fake._answer(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-github", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- answering ------------------------------------------------------------------------------------------
    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(handler, 413, {"message": "Payload too large"})
            return
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(RecordedRequest(handler.command, path, dict(handler.headers.items()), body))
        if self.delay:
            time.sleep(self.delay)
        if self.fail_with is not None:
            self._send(handler, self.fail_with, {"message": "Server Error" if self.fail_with >= 500 else "Failed"})
            return
        auth = handler.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            self._send(handler, 401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            return
        if handler.command != "POST":
            self._send(handler, 404, {"message": "Not Found"})
            return
        comments, issues = _COMMENTS.fullmatch(path), _ISSUES.fullmatch(path)
        if comments:
            repo, number = comments.group("repo"), int(comments.group("number"))
            if number not in self.repos.get(repo, ()):
                self._send(handler, 404, {"message": "Not Found"})
                return
            if not isinstance(body, dict) or not isinstance(body.get("body"), str) or not body["body"]:
                self._send(handler, 422, {"message": "Validation Failed"})
                return
            with self._lock:
                self._next_id += 1
                self.comments.setdefault((repo, number), []).append(body["body"])
                ident = self._next_id
            self._send(handler, 201, {"id": ident, "body": body["body"],
                                      "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{ident}"})
            return
        if issues:
            repo = issues.group("repo")
            if repo not in self.repos:
                self._send(handler, 404, {"message": "Not Found"})
                return
            if not isinstance(body, dict) or not isinstance(body.get("title"), str) or not body["title"]:
                self._send(handler, 422, {"message": "Validation Failed"})
                return
            with self._lock:
                number = max(self.repos[repo], default=0) + 1
                self.repos[repo].append(number)
                self.issues.setdefault(repo, []).append({"title": body["title"], "body": str(body.get("body", ""))})
            self._send(handler, 201, {"number": number, "html_url": f"https://github.com/{repo}/issues/{number}"})
            return
        self._send(handler, 404, {"message": "Not Found"})

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client gave up (a timeout test): nothing to tell it
            pass
