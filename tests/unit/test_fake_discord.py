"""The fake Discord answers Discord's REST paths the way discord.com does (real HTTP over loopback)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from harness.fakes.discord import FakeDiscord, snowflake_at, snowflake_time

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fake_discord_server() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def fake_discord(fake_discord_server: FakeDiscord) -> Iterator[FakeDiscord]:
    fake_discord_server.reset()
    yield fake_discord_server
    fake_discord_server.check()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # loopback only, never a proxy from the environment
        yield session


def read_channel(http: requests.Session, fake: FakeDiscord, token: str | None = None,
                 channel_id: str | None = None, **params: object) -> requests.Response:
    headers = {"Authorization": f"Bot {token or fake.bot_token}"}
    url = f"{fake.api_base}/channels/{channel_id or fake.channel_id}/messages"
    return http.get(url, headers=headers, params=params, timeout=5)


def test_webhook_post_is_204_and_stored(fake_discord: FakeDiscord, http: requests.Session) -> None:
    response = http.post(fake_discord.webhook_url, json={"content": "Bot started in PAPER TRADING mode"}, timeout=5)

    assert response.status_code == 204
    assert response.content == b""
    [message] = fake_discord.messages
    assert message["content"] == "Bot started in PAPER TRADING mode"
    assert message["webhook_id"] == fake_discord.webhook_id
    assert message["author"]["bot"] is True


def test_webhook_wait_true_returns_the_created_message(fake_discord: FakeDiscord, http: requests.Session) -> None:
    response = http.post(fake_discord.webhook_url, params={"wait": "true"},
                         json={"content": "hello", "username": "Paper Bot"}, timeout=5)

    assert response.status_code == 200
    message = response.json()
    assert message["id"].isdigit()
    assert message["channel_id"] == fake_discord.channel_id
    assert message["content"] == "hello"
    assert message["author"] == {"id": fake_discord.webhook_id, "username": "Paper Bot", "avatar": None,
                                 "discriminator": "0000", "bot": True}
    assert message["embeds"] == []
    assert message["timestamp"].endswith("+00:00")
    # The timestamp is the one encoded in the snowflake.
    assert datetime.fromisoformat(message["timestamp"]) == snowflake_time(message["id"])


def test_versioned_webhook_path_and_form_body_are_accepted(fake_discord: FakeDiscord,
                                                           http: requests.Session) -> None:
    url = fake_discord.webhook_url.replace("/api/webhooks/", "/api/v10/webhooks/")

    assert http.post(url, data={"content": "form encoded"}, timeout=5).status_code == 204
    assert [m["content"] for m in fake_discord.messages] == ["form encoded"]


def test_unknown_webhook_and_wrong_token_answer_like_discord(fake_discord: FakeDiscord,
                                                             http: requests.Session) -> None:
    unknown = f"{fake_discord.base_url}/webhooks/123456789012345678/{fake_discord.webhook_token}"
    wrong_token = f"{fake_discord.base_url}/webhooks/{fake_discord.webhook_id}/not-the-token"

    response = http.post(unknown, json={"content": "x"}, timeout=5)
    assert (response.status_code, response.json()) == (404, {"message": "Unknown Webhook", "code": 10015})
    response = http.post(wrong_token, json={"content": "x"}, timeout=5)
    assert (response.status_code, response.json()["code"]) == (401, 50027)
    assert fake_discord.messages == []


def test_empty_message_is_refused_but_embed_only_is_fine(fake_discord: FakeDiscord, http: requests.Session) -> None:
    response = http.post(fake_discord.webhook_url, json={"content": ""}, timeout=5)
    assert (response.status_code, response.json()) == (
        400, {"message": "Cannot send an empty message", "code": 50006})

    response = http.post(fake_discord.webhook_url, json={"embeds": [{"title": "Started"}]}, timeout=5)
    assert response.status_code == 204
    assert fake_discord.messages[0]["embeds"] == [{"title": "Started"}]


def test_invalid_json_is_400(fake_discord: FakeDiscord, http: requests.Session) -> None:
    response = http.post(fake_discord.webhook_url, data=b"{not json",
                         headers={"Content-Type": "application/json"}, timeout=5)
    assert (response.status_code, response.json()["code"]) == (400, 50109)


def test_channel_messages_come_back_newest_first(fake_discord: FakeDiscord, http: requests.Session) -> None:
    for text in ("first", "second", "third"):
        fake_discord.post_as_webhook(text)

    response = read_channel(http, fake_discord)

    assert response.status_code == 200
    assert [m["content"] for m in response.json()] == ["third", "second", "first"]
    assert response.headers["X-RateLimit-Limit"] and response.headers["X-RateLimit-Bucket"]


def test_limit_after_and_before(fake_discord: FakeDiscord, http: requests.Session) -> None:
    ids = [fake_discord.post_as_webhook(f"m{i}")["id"] for i in range(5)]

    assert [m["content"] for m in read_channel(http, fake_discord, limit=2).json()] == ["m4", "m3"]
    # `after` gives the messages right after the anchor, still newest first.
    assert [m["content"] for m in read_channel(http, fake_discord, after=ids[1], limit=2).json()] == ["m3", "m2"]
    assert [m["content"] for m in read_channel(http, fake_discord, before=ids[2]).json()] == ["m1", "m0"]
    assert [m["content"] for m in read_channel(http, fake_discord, around=ids[2], limit=3).json()] == [
        "m3", "m2", "m1"]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"after": 1, "before": 2}])
def test_bad_query_is_400(fake_discord: FakeDiscord, http: requests.Session, params: dict[str, object]) -> None:
    response = read_channel(http, fake_discord, **params)
    assert (response.status_code, response.json()["code"]) == (400, 50035)


def test_after_compares_snowflakes_from_seeded_times(fake_discord: FakeDiscord, http: requests.Session) -> None:
    restart = datetime(2025, 3, 10, 10, 0, tzinfo=timezone.utc)
    fake_discord.post_as_webhook("old", at=restart - timedelta(hours=1))
    new = fake_discord.post_as_webhook("new", at=restart + timedelta(seconds=30))

    response = read_channel(http, fake_discord, after=snowflake_at(restart))

    assert [m["content"] for m in response.json()] == ["new"]
    assert snowflake_time(new["id"]) == restart + timedelta(seconds=30)


def test_wrong_or_missing_bot_token_is_401(fake_discord: FakeDiscord, http: requests.Session) -> None:
    wrong = read_channel(http, fake_discord, token="not-the-token")
    missing = http.get(f"{fake_discord.api_base}/channels/{fake_discord.channel_id}/messages", timeout=5)

    for response in (wrong, missing):
        assert (response.status_code, response.json()) == (401, {"message": "401: Unauthorized", "code": 0})


def test_unknown_channel_is_404(fake_discord: FakeDiscord, http: requests.Session) -> None:
    response = read_channel(http, fake_discord, channel_id="42")
    assert (response.status_code, response.json()) == (404, {"message": "Unknown Channel", "code": 10003})


def test_missing_permissions(fake_discord: FakeDiscord, http: requests.Session) -> None:
    fake_discord.post_as_webhook("hidden")
    fake_discord.can_read_history = False
    assert read_channel(http, fake_discord).json() == []  # Discord: no history permission, no messages

    fake_discord.can_view_channel = False
    response = read_channel(http, fake_discord)
    assert (response.status_code, response.json()["code"]) == (403, 50001)


def test_without_message_content_intent_text_and_embeds_are_empty(fake_discord: FakeDiscord,
                                                                  http: requests.Session) -> None:
    fake_discord.post_as_webhook("Bot started in PAPER TRADING mode", embeds=[{"title": "PAPER"}])
    fake_discord.message_content_intent = False

    [message] = read_channel(http, fake_discord).json()

    assert (message["content"], message["embeds"], message["attachments"]) == ("", [], [])
    assert fake_discord.messages[0]["content"] == "Bot started in PAPER TRADING mode"  # stored intact


def test_rate_limit_next_then_success(fake_discord: FakeDiscord, http: requests.Session) -> None:
    fake_discord.rate_limit_next(2, retry_after=0.25)

    for _ in range(2):
        response = read_channel(http, fake_discord)
        assert response.status_code == 429
        assert response.json() == {"message": "You are being rate limited.", "retry_after": 0.25, "global": False}
        assert response.headers["Retry-After"] == "1"  # whole seconds, rounded up, as Discord does
        assert response.headers["X-RateLimit-Reset-After"] == "0.250"
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert response.headers["X-RateLimit-Scope"] == "user"
        assert response.headers["X-RateLimit-Bucket"]
        assert float(response.headers["X-RateLimit-Reset"]) > 0
        assert response.headers["X-RateLimit-Limit"]
    assert read_channel(http, fake_discord).status_code == 200
    assert [r.status for r in fake_discord.requests] == [429, 429, 200]


def test_global_rate_limit_says_so(fake_discord: FakeDiscord, http: requests.Session) -> None:
    fake_discord.rate_limit_next(1, retry_after=0.05, scope="global")
    response = http.post(fake_discord.webhook_url, json={"content": "x"}, timeout=5)
    assert response.status_code == 429
    assert response.json()["global"] is True
    assert response.headers["X-RateLimit-Global"] == "true"
    assert fake_discord.messages == []  # a rate-limited post is not stored


def test_request_log_masks_the_webhook_token(fake_discord: FakeDiscord, http: requests.Session) -> None:
    http.post(fake_discord.webhook_url + "?wait=true", json={"content": "x"}, timeout=5)
    read_channel(http, fake_discord)

    log = fake_discord.requests
    assert [(r.method, r.status) for r in log] == [("POST", 200), ("GET", 200)]
    assert log[0].path == f"/api/webhooks/{fake_discord.webhook_id}/****"
    assert log[0].json_body == {"content": "x"}
    assert fake_discord.webhook_token not in repr(log)
    assert fake_discord.bot_token not in repr(log)


def test_any_webhook_token_is_masked_and_nothing_goes_to_stderr(fake_discord: FakeDiscord, http: requests.Session,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    someone_elses = "real-looking-webhook-token-0123456789abcdef"
    http.post(f"{fake_discord.base_url}/v10/webhooks/{fake_discord.webhook_id}/{someone_elses}",
              json={"content": "x"}, timeout=5)
    http.post(fake_discord.webhook_url, json={"content": "x"}, timeout=5)

    assert [r.path for r in fake_discord.requests] == [
        f"/api/v10/webhooks/{fake_discord.webhook_id}/****", f"/api/webhooks/{fake_discord.webhook_id}/****"]
    captured = capfd.readouterr()
    for secret in (someone_elses, fake_discord.webhook_token):
        assert secret not in captured.err + captured.out


def test_wait_for_message_sees_a_later_post(fake_discord: FakeDiscord, http: requests.Session) -> None:
    url = fake_discord.webhook_url
    poster = threading.Timer(0.05, lambda: requests.post(url, json={"content": "Bot started"}, timeout=5))
    poster.start()
    try:
        message = fake_discord.wait_for_message("Bot started", timeout=5)
    finally:
        poster.join()
    assert message["content"] == "Bot started"


def test_wait_for_message_timeout_names_what_it_waited_for(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("something else")

    def paper_notification(message: dict) -> bool:
        return "PAPER" in message["content"]

    with pytest.raises(TimeoutError, match=r"paper_notification.*something else"):
        fake_discord.wait_for_message(paper_notification, timeout=0.05)


def test_handler_errors_are_raised_by_check(fake_discord: FakeDiscord, http: requests.Session,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(message: dict) -> dict:
        raise KeyError("boom in handler")

    fake_discord.post_as_webhook("x")
    monkeypatch.setattr(fake_discord, "_as_seen_by_reader", broken)

    assert read_channel(http, fake_discord).status_code == 500
    with pytest.raises(KeyError, match="boom in handler"):
        fake_discord.check()
    fake_discord.reset()  # so the fixture's own check() passes


def test_reset_forgets_state(fake_discord: FakeDiscord, http: requests.Session) -> None:
    fake_discord.post_as_webhook("x")
    fake_discord.rate_limit_next(5, 1.0)
    fake_discord.message_content_intent = False
    fake_discord.reset()

    assert fake_discord.messages == [] and fake_discord.requests == []
    assert fake_discord.message_content_intent is True
    assert read_channel(http, fake_discord).status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.com", "::"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeDiscord(host)


def test_secrets_are_random_per_instance_and_stop_frees_the_port() -> None:
    first, second = FakeDiscord(), FakeDiscord()
    assert first.bot_token != second.bot_token and first.webhook_token != second.webhook_token
    assert len(first.bot_token) > 40 and len(first.webhook_token) > 40

    with FakeDiscord("localhost") as fake:
        url = fake.api_base
        assert fake.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2, proxies={"http": "", "https": ""})


def test_runs_as_a_module_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.fakes.discord", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        lines = {}
        for _ in range(5):
            line = process.stdout.readline()
            if "=" in line:
                key, value = line.strip().split("=", 1)
                lines[key] = value
        response = requests.post(lines["DISCORD_WEBHOOK_URL"] + "?wait=true", json={"content": "from cli"},
                                 timeout=5, proxies={"http": "", "https": ""})
        assert response.status_code == 200
        assert json.loads(response.text)["content"] == "from cli"
        assert lines["DISCORD_BOT_TOKEN"]
    finally:
        process.send_signal(__import__("signal").SIGINT)
        process.communicate(timeout=5)
    assert process.returncode == 0
