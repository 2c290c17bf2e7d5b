"""Posting the board card to GitHub, against the local fake of its REST API (harness/fakes/github.py): the token
goes only into the Authorization header, never into a result or an error; 401, 404, a timeout and a refused
connection each give one line."""

from __future__ import annotations

import socket

import pytest

from harness.core.redact import Secret
from harness.fakes.github import FakeGitHub
from harness.report import github
from harness.report.github import GitHubError

TOKEN = "ghp_FAKEtoken0123456789abcdefABCDEF"


@pytest.fixture
def fake():
    with FakeGitHub(token=TOKEN, repos={"acme/bot": [7]}) as server:
        yield server


def test_a_comment_is_posted_with_the_token_in_the_authorization_header(fake):
    url = github.post_comment(fake.api_base, "acme/bot", 7, "### Task 4.3: ✅ SUCCESS", TOKEN, 5.0)
    assert url.startswith("https://github.com/acme/bot/issues/7#issuecomment-")
    assert fake.comments[("acme/bot", 7)] == ["### Task 4.3: ✅ SUCCESS"]
    sent = fake.requests[-1]
    assert sent.method == "POST" and sent.path == "/repos/acme/bot/issues/7/comments"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Accept"] == "application/vnd.github+json"
    assert TOKEN not in url


def test_the_token_may_be_a_secret_holder(fake):
    assert github.post_comment(fake.api_base, "acme/bot", 7, "body", Secret(TOKEN), 5.0)


def test_a_remediation_issue_is_opened(fake):
    url = github.open_issue(fake.api_base, "acme/bot", "Task 4.3 remediation:\n dod_no_live_orders", "card", TOKEN, 5.0)
    assert url == "https://github.com/acme/bot/issues/8"
    assert fake.issues["acme/bot"] == [{"title": "Task 4.3 remediation: dod_no_live_orders", "body": "card"}]


def one_line_without_token(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and TOKEN not in text and TOKEN not in repr(error.value)
    assert error.value.__cause__ is None  # no chained exception drags a header along
    assert error.value.__context__ is None or error.value.__suppress_context__
    return text


def test_a_refused_token_is_one_line_without_the_token(fake):
    with pytest.raises(GitHubError) as error:
        github.post_comment(fake.api_base, "acme/bot", 7, "body", TOKEN + "x", 5.0)
    text = one_line_without_token(error)
    assert "HTTP 401" in text and "Bad credentials" in text and "GITHUB_TOKEN" in text


def test_an_unknown_issue_or_repository_is_404(fake):
    with pytest.raises(GitHubError) as error:
        github.post_comment(fake.api_base, "acme/bot", 8, "body", TOKEN, 5.0)
    assert "HTTP 404" in one_line_without_token(error)
    with pytest.raises(GitHubError) as error:
        github.open_issue(fake.api_base, "acme/other", "t", "b", TOKEN, 5.0)
    assert "HTTP 404" in one_line_without_token(error)


def test_a_slow_api_times_out_in_one_line_and_the_comment_is_sent_once(fake):
    fake.delay = 2.0
    with pytest.raises(GitHubError) as error:
        github.post_comment(fake.api_base, "acme/bot", 7, "body", TOKEN, 0.3)
    assert "within 0.3 s" in one_line_without_token(error)
    assert len(fake.requests) == 1  # a POST that may have arrived is never sent again


def test_a_server_error_is_one_line(fake):
    fake.fail_with = 502
    with pytest.raises(GitHubError) as error:
        github.post_comment(fake.api_base, "acme/bot", 7, "body", TOKEN, 5.0)
    assert "HTTP 502" in one_line_without_token(error)
    assert len(fake.requests) == 1


def test_nothing_listening_is_one_line():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(GitHubError) as error:
        github.post_comment(f"http://127.0.0.1:{port}", "acme/bot", 7, "body", TOKEN, 2.0)
    assert "cannot reach" in one_line_without_token(error)


@pytest.mark.parametrize(("token", "says"), [("", "no token"), (f"{TOKEN}\nX-Evil: 1", "header cannot carry"),
                                             ("tokén", "header cannot carry")])
def test_a_token_that_cannot_be_sent_is_refused_before_sending(fake, token, says):
    with pytest.raises(GitHubError, match=says) as error:
        github.post_comment(fake.api_base, "acme/bot", 7, "body", token, 5.0)
    assert TOKEN not in str(error.value)
    assert fake.requests == []


def test_bad_targets_are_refused():
    assert github.parse_target("acme/bot#7") == ("acme/bot", 7)
    for text in ("acme/bot", "acme#7", "acme/bot#0", "a/b/c#1", "acme/bot#x"):
        with pytest.raises(GitHubError):
            github.parse_target(text)
    with pytest.raises(GitHubError, match="OWNER/REPO"):
        github.post_comment("http://127.0.0.1:1", "../etc", 1, "b", TOKEN, 1.0)
    with pytest.raises(GitHubError, match="issue number"):
        github.post_comment("http://127.0.0.1:1", "acme/bot", 0, "b", TOKEN, 1.0)


def test_the_token_is_never_sent_over_plain_http_to_another_machine(fake):
    for base in ("http://github.example.com/api/v3", "http://10.0.0.5:8080"):
        with pytest.raises(GitHubError, match="plain http") as error:
            github.post_comment(base, "acme/bot", 7, "body", TOKEN, 2.0)
        assert TOKEN not in str(error.value)
    assert github.post_comment(fake.api_base, "acme/bot", 7, "body", TOKEN, 5.0).startswith("https://")  # loopback
