"""The Discord probe reads real HTTP (the fake Discord on loopback) and turns every outcome into facts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.fakes.discord import FakeDiscord, snowflake_at
from harness.probes.discord import (
    CONTENT_INTENT_FIX,
    NO_TOKEN_PROBLEM,
    DiscordFacts,
    DiscordMessage,
    find_startup_notification,
    read_recent_messages,
    snowflake_from_datetime,
)

RESTART = datetime(2025, 3, 10, 10, 0, 5, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def fake_discord_server() -> Iterator[FakeDiscord]:
    with FakeDiscord() as server:
        yield server


@pytest.fixture
def fake_discord(fake_discord_server: FakeDiscord) -> Iterator[FakeDiscord]:
    fake_discord_server.reset()
    yield fake_discord_server
    fake_discord_server.check()


def read(fake: FakeDiscord, **kwargs: object) -> DiscordFacts:
    kwargs.setdefault("timeout", 5.0)
    token = kwargs.pop("token", fake.bot_token)
    channel_id = kwargs.pop("channel_id", fake.channel_id)
    return read_recent_messages(fake.api_base, channel_id, token, **kwargs)  # type: ignore[arg-type]


def assert_no_secret(fake: FakeDiscord, *texts: object) -> None:
    for text in texts:
        for secret in (fake.bot_token, fake.webhook_token):
            assert secret not in str(text)
            assert secret not in repr(text)


# ---- reading ------------------------------------------------------------------------------------------------


def test_no_token_does_not_look(fake_discord: FakeDiscord) -> None:
    for token in (None, "", "   "):
        facts = read(fake_discord, token=token)
        assert facts.looked is False
        assert facts.problem == NO_TOKEN_PROBLEM
        assert facts.messages == () and facts.status_code is None
    assert fake_discord.requests == []  # nothing was even asked


def test_reads_messages_newest_first(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("Bot started in DRY-RUN mode at 2025-03-10 09:00", at=RESTART - timedelta(hours=1))
    fake_discord.post_as_webhook("Bot started in PAPER TRADING mode at 2025-03-10 10:00", at=RESTART)

    facts = read(fake_discord)

    assert facts.looked is True and facts.problem is None and facts.status_code == 200
    assert facts.channel_id == fake_discord.channel_id
    newest, oldest = facts.messages
    assert newest.content.startswith("Bot started in PAPER TRADING")
    assert newest.timestamp == RESTART.replace(microsecond=0) and newest.timestamp.tzinfo is not None
    assert newest.timestamp.utcoffset() == timedelta(0)
    assert newest.author == fake_discord.webhook_name
    assert newest.content_missing is False
    assert oldest.content.startswith("Bot started in DRY-RUN")
    assert fake_discord.requests[0].query.startswith("limit=50")


def test_limit_and_after(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("before the restart", at=RESTART - timedelta(minutes=5))
    for i in range(3):
        fake_discord.post_as_webhook(f"after {i}", at=RESTART + timedelta(seconds=i))

    assert [m.content for m in read(fake_discord, after=RESTART).messages] == ["after 2", "after 1", "after 0"]
    assert [m.content for m in read(fake_discord, limit=1).messages] == ["after 2"]
    assert snowflake_from_datetime(RESTART) == snowflake_at(RESTART)  # probe and fake agree on the layout


def test_bot_prefix_in_token_is_accepted(fake_discord: FakeDiscord) -> None:
    assert read(fake_discord, token=f"Bot {fake_discord.bot_token}").looked is True


def test_refused_token_is_a_problem_without_the_token(fake_discord: FakeDiscord) -> None:
    wrong_token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.wrongwrongwrongwrongwrongwrongwrong"
    facts = read(fake_discord, token=wrong_token)

    assert facts.looked is False and facts.status_code == 401
    assert "refused the bot token" in facts.problem
    assert wrong_token not in repr(facts)
    assert_no_secret(fake_discord, facts)


def test_unknown_channel(fake_discord: FakeDiscord) -> None:
    facts = read(fake_discord, channel_id="123456789012345678")
    assert (facts.looked, facts.status_code) == (False, 404)
    assert "unknown channel 123456789012345678" in facts.problem


def test_missing_view_permission(fake_discord: FakeDiscord) -> None:
    fake_discord.can_view_channel = False
    facts = read(fake_discord)
    assert (facts.looked, facts.status_code) == (False, 403)
    assert "VIEW_CHANNEL" in facts.problem and "READ_MESSAGE_HISTORY" in facts.problem


def test_channel_id_that_is_not_a_snowflake_is_a_problem(fake_discord: FakeDiscord) -> None:
    facts = read(fake_discord, channel_id="../../users/@me")
    assert facts.looked is False and "not a snowflake" in facts.problem
    assert fake_discord.requests == []


def test_rate_limit_is_waited_out(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("Bot started in PAPER TRADING mode")
    fake_discord.rate_limit_next(2, retry_after=0.05)

    facts = read(fake_discord, retries=3)

    assert facts.looked is True and facts.retry_after_capped is False
    assert [m.content for m in facts.messages] == ["Bot started in PAPER TRADING mode"]
    assert [r.status for r in fake_discord.requests] == [429, 429, 200]


def test_endless_rate_limit_is_a_bounded_failure(fake_discord: FakeDiscord) -> None:
    fake_discord.rate_limit_next(1000, retry_after=0.05)

    facts = read(fake_discord, retries=2)

    assert (facts.looked, facts.status_code) == (False, 429)
    assert "rate limited" in facts.problem and "0.05" in facts.problem
    assert len(fake_discord.requests) == 3  # the first try plus two retries, then it stops


def test_long_retry_after_is_capped_and_said(fake_discord: FakeDiscord) -> None:
    fake_discord.rate_limit_next(1, retry_after=600.0)

    facts = read(fake_discord, retries=1, max_retry_after=0.05)

    assert facts.looked is True and facts.retry_after_capped is True

    fake_discord.rate_limit_next(1000, retry_after=600.0)
    facts = read(fake_discord, retries=1, max_retry_after=0.05)
    assert facts.looked is False and "capped at 0.05 s" in facts.problem


def test_server_error_is_retried_then_reported(fake_discord: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake answers 500 when its handler breaks; that is the only way to make it fail on the server side.
    def broken(message: dict) -> dict:
        raise RuntimeError("server side failure")

    fake_discord.post_as_webhook("x")
    monkeypatch.setattr(fake_discord, "_as_seen_by_reader", broken)

    facts = read(fake_discord, retries=1)

    assert (facts.looked, facts.status_code) == (False, 500)
    assert "server error 500 after 1 retries" in facts.problem
    assert [r.status for r in fake_discord.requests] == [500, 500]
    fake_discord.reset()  # the handler errors were expected


def test_server_down_is_a_fact() -> None:
    with FakeDiscord() as gone:
        api_base, channel_id, token = gone.api_base, gone.channel_id, gone.bot_token

    facts = read_recent_messages(api_base, channel_id, token, retries=1, timeout=2.0)

    assert facts.looked is False and facts.status_code is None
    assert "Connection refused" in facts.problem
    assert token not in repr(facts)


def test_silent_server_times_out_within_the_limit() -> None:
    # Accepts the TCP connection (backlog) but never answers: only the read timeout can end this.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        port = listener.getsockname()[1]
        facts = read_recent_messages(f"http://127.0.0.1:{port}/api/v10", "1", "x" * 30, timeout=0.2, retries=0)

    assert facts.looked is False
    assert "no answer within 0.2 s" in facts.problem


def test_missing_message_content_intent_is_named_with_its_fix(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("Bot started in PAPER TRADING mode")
    fake_discord.message_content_intent = False

    facts = read(fake_discord)

    assert facts.looked is True and facts.content_intent_missing is True
    assert facts.messages[0].content_missing is True and facts.messages[0].content == ""
    assert CONTENT_INTENT_FIX in facts.problem
    assert "not 'no notification'" in facts.problem
    notification = find_startup_notification(facts)
    assert notification.match is None and notification.content_intent_missing is True
    assert CONTENT_INTENT_FIX in notification.problem


def test_embed_text_stands_in_for_empty_content(fake_discord: FakeDiscord) -> None:
    fake_discord.post_as_webhook("", embeds=[{"title": "Bot started", "description": "PAPER TRADING mode",
                                              "fields": [{"name": "Account", "value": "DU1234567"}]}])

    [message] = read(fake_discord).messages

    assert message.content == "Bot started\nPAPER TRADING mode\nAccount: DU****567"  # account ids masked
    assert message.content_missing is False
    assert find_startup_notification(read(fake_discord)).match == message


def test_no_secret_in_any_fact_or_log(fake_discord: FakeDiscord) -> None:
    # A message that quotes the webhook URL and the bot token (a bot echoing its config by mistake).
    fake_discord.post_as_webhook(f"config: {fake_discord.webhook_url} token {fake_discord.bot_token}")
    outcomes = [
        read(fake_discord),
        read(fake_discord, token=fake_discord.bot_token[::-1]),
        read(fake_discord, channel_id="1"),
        read(fake_discord, token=None),
    ]
    with pytest.raises(ValueError) as bad_call:
        read(fake_discord, limit=500)

    assert "****" in outcomes[0].messages[0].content
    assert_no_secret(fake_discord, *outcomes, [find_startup_notification(f) for f in outcomes],
                     fake_discord.requests, bad_call.value)
    assert fake_discord.bot_token[::-1] not in repr(outcomes[1])


# ---- the startup notification (pure) --------------------------------------------------------------------------


def message(content: str, at: datetime = RESTART, message_id: str | None = None) -> DiscordMessage:
    return DiscordMessage(message_id or str(snowflake_at(at)), at, "Trading Bot", content, False)


def facts_of(*messages: DiscordMessage) -> DiscordFacts:
    newest_first = tuple(sorted(messages, key=lambda m: m.timestamp, reverse=True))
    return DiscordFacts(True, None, "1", newest_first, 200, False)


def test_paper_notification_is_found_with_its_delta() -> None:
    paper = message("Bot started in PAPER TRADING mode at 2025-03-10 06:00:05 ET", RESTART + timedelta(seconds=20))

    found = find_startup_notification(facts_of(paper), near=RESTART, window=timedelta(minutes=5))

    assert found.looked is True and found.match == paper
    assert found.delta == timedelta(seconds=20)
    assert found.forbidden == () and found.outside_window == ()


@pytest.mark.parametrize("text,mode", [
    ("Bot started in DRY-RUN mode at 2025-03-10 06:00", "DRY-RUN"),
    ("DRY_RUN mode active", "DRY-RUN"),
    ("Bot started in dry run mode", "DRY-RUN"),
    ("Bot started in LIVE mode at 2025-03-10 06:00", "LIVE"),
    ("Going live now", "LIVE"),
])
def test_forbidden_modes_are_flagged(text: str, mode: str) -> None:
    found = find_startup_notification(facts_of(message(text)))

    assert found.match is None
    assert [m.mode for m in found.forbidden] == [mode]  # "DRY-RUN" and "DRY RUN" count once
    assert found.forbidden[0].message.content == text


@pytest.mark.parametrize("text", [
    "Order DELIVERED to the broker",
    "OLIVE oil futures signal",
    "Bot started in PAPER TRADING mode (live market data)",
    "Bot started in PAPER TRADING mode — live account untouched",
])
def test_words_that_only_look_like_a_mode_are_not_flagged(text: str) -> None:
    assert find_startup_notification(facts_of(message(text))).forbidden == ()


def test_paper_message_that_also_claims_live_mode_is_flagged() -> None:
    text = "Bot started in PAPER TRADING mode; switching to LIVE mode"
    found = find_startup_notification(facts_of(message(text)))
    assert found.match is not None
    assert [m.mode for m in found.forbidden] == ["LIVE"]


def test_expected_phrase_is_case_insensitive_whole_words() -> None:
    assert find_startup_notification(facts_of(message("bot started in paper trading mode"))).match is not None
    assert find_startup_notification(facts_of(message("newspaper tradingcard"))).match is None


def test_timestamp_window() -> None:
    stale = message("Bot started in PAPER TRADING mode", RESTART - timedelta(days=1))
    late_dry = message("Bot started in DRY-RUN mode", RESTART - timedelta(days=1, seconds=1))

    found = find_startup_notification(facts_of(stale, late_dry), near=RESTART, window=timedelta(minutes=10))

    assert found.match is None and found.delta is None
    assert found.outside_window == (stale,)
    assert found.forbidden == ()  # the old dry-run start is outside the window


def test_closest_to_the_restart_wins() -> None:
    early = message("Bot started in PAPER TRADING mode", RESTART - timedelta(minutes=4))
    right = message("Bot started in PAPER TRADING mode", RESTART + timedelta(seconds=10))
    later = message("Bot started in PAPER TRADING mode", RESTART + timedelta(minutes=8))

    found = find_startup_notification(facts_of(early, right, later), near=RESTART)

    assert found.match == right and found.delta == timedelta(seconds=10)
    assert find_startup_notification(facts_of(early, right, later)).match == later  # no `near`: newest


def test_not_looked_is_carried_through() -> None:
    not_looked = DiscordFacts(False, NO_TOKEN_PROBLEM, "1")
    found = find_startup_notification(not_looked, near=RESTART)
    assert (found.looked, found.problem, found.match) == (False, NO_TOKEN_PROBLEM, None)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        find_startup_notification(facts_of(), near=datetime(2025, 3, 10, 10, 0))
    with pytest.raises(ValueError, match="aware"):
        read_recent_messages("http://127.0.0.1:9/api/v10", "1", "token", after=datetime(2025, 3, 10))


@settings(max_examples=60, deadline=None)
@given(left=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=5),
       right=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=5),
       case=st.sampled_from(["live", "LIVE", "Live"]))
def test_live_inside_a_word_is_never_a_mode(left: str, right: str, case: str) -> None:
    for word in (f"{left}{case}", f"{case}{right}", f"{left}{case}{right}"):
        assert find_startup_notification(facts_of(message(f"Order {word} filled"))).forbidden == ()


# ---- a token that cannot be one -------------------------------------------------------------------------------


@pytest.mark.parametrize(("token", "named"), [
    ('MTk4NjIy.Gx\nsecond-line_Ab9Cd', "a newline"),
    ("MTk4NjIy.Gxé€✓-Ab9CdEfGh", "a non-ASCII character"),
    ('"MTk4NjIy.Gx-Ab9CdEfGh"', "quotes"),
    ("MTk4NjIy Gx-Ab9CdEfGh", "a space"),
    ("MTk4NjIy.Gx\x00Ab9CdEfGh", "a control character"),
])
def test_a_token_that_is_not_a_header_value_is_named_not_sent(fake_discord: FakeDiscord, token: str,
                                                               named: str) -> None:
    """requests would quote such a token escaped in its exception text; it is refused before any request."""
    from harness.core.redact import Secret

    for given_token in (token, Secret(token)):
        facts = read(fake_discord, token=given_token)
        assert facts.looked is False and facts.problem is not None
        assert "DISCORD_BOT_TOKEN is not a valid token" in facts.problem and named in facts.problem
        assert token not in facts.problem and repr(token)[1:-1] not in facts.problem
        assert "MTk4NjIy" not in facts.problem and "Ab9Cd" not in facts.problem
    assert fake_discord.requests == []


def test_a_bot_prefix_and_blanks_around_a_valid_token_are_accepted(fake_discord: FakeDiscord) -> None:
    from harness.core.redact import Secret

    facts = read(fake_discord, token=Secret(f"  Bot {fake_discord.bot_token}\n"))
    assert facts.looked is True, facts.problem


def test_a_dry_run_post_of_the_start_before_is_that_starts_not_this_ones():
    """The seed's Step 3.4 re-attempt: started in dry-run (posted so), stopped, switched, started in paper within
    15 minutes. The dry-run post is an earlier start's: shown, never judged as this start's announcement."""
    from datetime import datetime, timedelta, timezone

    from harness.checks.startup import check_discord_no_wrong_mode
    from harness.probes.discord import DiscordFacts, DiscordMessage, find_startup_notification

    start = datetime(2026, 12, 4, 22, 5, tzinfo=timezone.utc)
    messages = (
        DiscordMessage("3", start + timedelta(seconds=20), "bot", "Bot started in PAPER TRADING mode at 17:05", False),
        DiscordMessage("2", start - timedelta(minutes=9), "bot", "Bot started in DRY-RUN mode at 16:56", False),
    )
    found = find_startup_notification(DiscordFacts(True, None, "1", messages), near=start)
    assert found.match is not None and not found.forbidden
    assert [m.message.id for m in found.earlier_start] == ["2"]
    assert "an earlier start's" in check_discord_no_wrong_mode(found)
    skewed = (DiscordMessage("4", start - timedelta(seconds=70), "bot", "Bot started in LIVE mode", False),)
    close = find_startup_notification(DiscordFacts(True, None, "1", skewed), near=start)  # within the skew
    assert [m.mode for m in close.forbidden] == ["LIVE"]
