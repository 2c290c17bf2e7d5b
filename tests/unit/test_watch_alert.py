"""harness.watch.alert: one POST to the operator's webhook, bounded, never echoing the URL; alerts on the first
failed round only (and once more for a later critical failure), never for a check that could not look."""

from __future__ import annotations

import socket
import time

import pytest

from harness.core import clock
from harness.fakes.discord import FakeDiscord
from harness.watch.alert import Alerter, AlertResult, alert_text, post_alert
from harness.watch.rounds import FAILED, PASSED, TO_CONFIRM, CheckOutcome, Round


def _round(number: int, *outcomes: tuple[str, str, bool]) -> Round:
    return Round(number, clock.now(),
                 tuple(CheckOutcome(name, "dod_no_live_orders", status, f"{name} says {status}", critical)
                       for name, status, critical in outcomes))


@pytest.fixture
def discord():
    with FakeDiscord() as fake:
        yield fake


def test_the_alert_reaches_the_alert_webhook_and_not_the_bots_channel(discord):
    result = post_alert(discord.alert_webhook_url, "round 2 FAILED", timeout=5)
    assert result == AlertResult(True)
    assert [a["content"] for a in discord.alerts] == ["round 2 FAILED"]
    assert discord.messages == []  # the bot's channel is what the discord check reads: the alert stays out of it
    assert all(discord.alert_webhook_token not in r.path for r in discord.requests)


def test_a_refused_token_is_a_problem_that_never_holds_the_url(discord):
    url = discord.alert_webhook_url[:-4] + "zzzz"
    result = post_alert(url, "x", timeout=5)
    assert not result.sent and "401" in (result.problem or "")
    assert url not in (result.problem or "") and "zzzz" not in (result.problem or "")


def test_an_unreachable_webhook_is_bounded_and_says_only_what_kind_of_failure():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]  # nobody listens once it is closed
    url = f"http://127.0.0.1:{port}/api/webhooks/1/sEcReTtOkEn"
    started = time.monotonic()
    result = post_alert(url, "x", timeout=2)
    assert not result.sent and "sEcReTtOkEn" not in (result.problem or "") and str(port) not in result.problem
    assert time.monotonic() - started < 30


def test_a_url_that_is_not_http_is_refused_without_being_quoted():
    result = post_alert("discord.com/api/webhooks/1/sEcReT", "x", timeout=1)
    assert not result.sent and "sEcReT" not in (result.problem or "")


def test_the_alert_text_names_each_failed_check_and_says_halt_when_critical():
    failures = _round(3, ("live account", FAILED, True)).failures
    text = alert_text(3, failures, "embedded")
    assert "round 3 FAILED" in text and "live account (dod_no_live_orders)" in text and "HALT THE BOT" in text


def test_one_alert_for_the_first_failure_one_more_only_for_a_later_critical_one():
    posts: list[str] = []

    def post(url, content, *, timeout, redact):
        posts.append(content)
        return AlertResult(True)

    alerter = Alerter("http://127.0.0.1:9/api/webhooks/1/t", "embedded", 5, str, post=post)
    assert alerter.consider(_round(1, ("a", PASSED, False), ("b", TO_CONFIRM, False))) is None
    assert alerter.consider(_round(2, ("log errors", FAILED, False))) is not None
    assert alerter.consider(_round(3, ("log errors", FAILED, False))) is None
    assert alerter.consider(_round(4, ("live account", FAILED, True))) is not None
    assert alerter.consider(_round(5, ("live account", FAILED, True))) is None
    assert len(posts) == 2 and alerter.sent == [2, 4]


def test_without_a_webhook_nothing_is_posted_and_a_failed_post_is_told():
    assert Alerter(None, "embedded", 5, str).consider(_round(1, ("x", FAILED, True))) is None
    failing = Alerter("http://127.0.0.1:9/x", "embedded", 5, str,
                      post=lambda *a, **k: AlertResult(False, "the webhook answered HTTP 500"))
    line = failing.consider(_round(1, ("x", FAILED, True)))
    assert line is not None and "could NOT be sent" in line and failing.problems == ["the webhook answered HTTP 500"]
