"""Redaction: opaque holders, every escaped form of a known value, linear time, bounded excerpts, and the
pytest/logging/Allure plumbing that puts every report through it."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import subprocess
import sys

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.redact import (
    MASK,
    MAX_EXCERPT_CHARS,
    PrivateMapping,
    Secret,
    SecretSet,
    redact_excerpt,
    redact_text,
)
from harness.evidence.records import MAX_ITEMS, MAX_RECORD_CHARS, Evidence, Redactor
from harness.probes.gateway import AccountFunds, AccountPnL, ExecutionFact, GatewayFacts, OrderFact, PositionFact
from tests.leakcheck import WEIRD_TOKEN, leaks, written_forms

TOKEN = WEIRD_TOKEN
WEBHOOK = "https://discord.com/api/webhooks/1234567890/AbCdEf_secret-token"


# -- opaque holders --------------------------------------------------------------------------------------
def test_secret_shows_nothing_of_its_value():
    secret = Secret(TOKEN, "DISCORD_BOT_TOKEN")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret]), repr({"t": secret})):
        assert not leaks(shown, TOKEN), shown
    assert secret.reveal() == TOKEN
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert Secret.of("") is None and Secret.of(None) is None and Secret.of(secret) is secret


def test_secret_set_is_opaque_and_not_iterable():
    secrets = SecretSet([TOKEN, WEBHOOK, None, "", "true"])
    assert len(secrets) == 2  # empty values and settings such as "true" are not secrets
    assert repr(secrets) == str(secrets) == "<2 secret value(s)>"
    with pytest.raises(TypeError):
        iter(secrets)  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        pickle.dumps(secrets)


def test_private_mapping_repr_names_only_its_size():
    environ = PrivateMapping({"DISCORD_BOT_TOKEN": TOKEN, "PATH": "/bin"})
    assert repr(environ) == "<2 private entries>" and environ["PATH"] == "/bin"


def test_facts_reprs_mask_account_ids():
    facts = GatewayFacts(
        accounts=("U7654321", "DU1234567"), problem="account DU1234567 refused",
        positions=(PositionFact("U7654321", "SPY"),), open_orders=(OrderFact(account="DU1234567"),),
        executions=(ExecutionFact(account="U7654321"),), account_summary=(AccountFunds("DU1234567"),),
        pnl=(AccountPnL("U7654321"),),
    )
    from harness.actions.test_order import TestOrderResult
    from harness.probes.reconcile import BrokerOrder

    others = (BrokerOrder("open", 1, 2, 3, "ref", "SPY", "BUY", 1.0, "Filled", "U7654321"),
              TestOrderResult("127.0.0.1", 4002, 918, account="DU1234567"))
    shown = repr(facts) + str(facts) + repr(facts.pnl) + repr(others)
    assert "U7654321" not in shown and "DU1234567" not in shown
    assert "DU****567" in shown and "U****321" in shown


# -- every form of a known value -------------------------------------------------------------------------
@pytest.mark.parametrize("form", list(written_forms(TOKEN)))
def test_every_written_form_of_a_known_value_is_removed(form):
    written = written_forms(TOKEN)[form]
    text = redact_text(f"before {written} after", SecretSet([TOKEN]))
    assert not leaks(text, TOKEN), (form, text)
    assert text.startswith("before ") and text.endswith(" after")


def test_what_requests_and_http_client_say_about_a_bad_token_is_redacted():
    """requests quotes a header it refuses (escaped); http.client quotes one as bytes; both are caught."""
    said = []
    for token in (TOKEN, "MTk4NjIy.abc\nxyz-Ab9Cd"):
        try:
            requests.get("http://127.0.0.1:9/", headers={"Authorization": f"Bot {token}"}, timeout=0.5)
        except (requests.RequestException, ValueError, UnicodeError) as error:
            said.append((token, str(error)))
            said.append((token, repr(error)))
    assert said
    for token, text in said:
        assert not leaks(redact_text(text, SecretSet([token])), token), text


def test_a_value_cut_by_saferepr_loses_its_head_and_tail_too():
    from _pytest._io.saferepr import saferepr

    long_value = "pre-" + TOKEN + "-and-a-long-tail-of-the-secret-itself"
    secrets = SecretSet([long_value])
    for size in range(20, 60, 3):
        cut = saferepr("abc " + long_value, maxsize=size)
        text = redact_text(cut, secrets)
        for k in range(8, len(long_value)):
            assert long_value[:k] not in text and long_value[-k:] not in text, (size, text)


def test_generic_patterns_still_apply():
    text = redact_text(f"posting to {WEBHOOK} via https://user:pw@host/x with Bot abcdefghijklmnopqrstuvwxyz012 "
                       "for account='DU1234567'")
    assert "AbCdEf_secret-token" not in text and "user:pw" not in text and "abcdefghijklmnopqrst" not in text
    assert "DU1234567" not in text and "DU****567" in text


# -- linear time -----------------------------------------------------------------------------------------
def test_a_one_megabyte_line_without_spaces_is_redacted_in_linear_time():
    """Runs in a child process with a bound: the old URL pattern took minutes on 200 KB, and a regression
    must fail here rather than hang the suite. The bound is generous (linear time is well under a second)."""
    program = (
        "import base64, os\n"
        "from harness.core.redact import redact_text, redact_excerpt, SecretSet\n"
        f"known = SecretSet([{TOKEN!r}])\n"
        "for text in ('A' * 1_000_000, base64.b64encode(os.urandom(750_000)).decode(), 'x://' + 'a' * 1_000_000,\n"
        "             'U1' * 500_000, 'http://' + 'a:' * 500_000, 'Bot ' * 250_000, '...' * 300_000):\n"
        "    redact_text(text, known)\n"
        "    redact_excerpt(text * 100, known)\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "done", result.stderr


# -- properties ------------------------------------------------------------------------------------------
_secret_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=8, max_size=40).filter(
    lambda s: len(s.strip()) >= 8 and not set(s) <= {"*", " "}
)
_filler = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
_form_names = sorted(written_forms("example\nvalue"))


@settings(max_examples=300, deadline=None)
@given(secret=_secret_text, before=_filler, after=_filler, form=st.sampled_from(_form_names))
def test_redaction_never_leaves_a_planted_secret(secret, before, after, form):
    planted = written_forms(secret).get(form, secret)
    text = redact_text(before + planted + after, SecretSet([secret]))
    assert not [name for name, f in written_forms(secret).items() if f in text and f not in before + after]


@settings(max_examples=200, deadline=None)
@given(secret=st.text("abcdefghijklmnopqrstuvwxyz", min_size=12, max_size=60),
       head=st.integers(0, 3000), limit=st.integers(20, 2500))
def test_an_excerpt_never_keeps_part_of_a_secret_it_cuts(secret, head, limit):
    text = "7" * head + secret + "8" * 5000  # filler that shares no character with the secret
    excerpt = redact_excerpt(text, SecretSet([secret]), limit)
    assert not any(secret[:k] in excerpt for k in range(6, len(secret) + 1)), excerpt
    assert len(excerpt) <= limit + 40


# -- bounded evidence ------------------------------------------------------------------------------------
def test_excerpt_is_cut_with_a_marker():
    text = "x" * 10_000
    excerpt = redact_excerpt(text)
    assert excerpt.startswith("x" * MAX_EXCERPT_CHARS) and excerpt.endswith("… [8000 more characters]")
    assert redact_excerpt("short") == "short"


def test_evidence_of_a_huge_log_line_stays_small(tmp_path):
    evidence = Evidence(tmp_path)
    evidence.redactor.add([TOKEN])
    line = "ERROR payload " + "A" * 5_000_000 + TOKEN
    evidence.record("lines", {"first": [line] * 3, "many": list(range(10_000)), "note": line})
    evidence.note(line)
    evidence.finish_test("n", "s", [], "failed", line)
    target = evidence.write()
    assert target is not None and target.stat().st_size < 30_000
    row = json.loads(target.read_text(encoding="utf-8"))
    first = row["records"][0]["facts"]["first"][0]
    assert first.endswith("more characters]") and len(first) < MAX_EXCERPT_CHARS + 50
    assert row["records"][0]["facts"]["many"][-1] == f"… [{10_000 - MAX_ITEMS} more items]"
    assert not leaks(target.read_text(encoding="utf-8"), TOKEN)


def test_a_record_too_large_even_when_cut_is_replaced_by_an_excerpt():
    redactor = Redactor()
    wide = {f"key{i}": ["y" * 1000] * MAX_ITEMS for i in range(MAX_ITEMS)}
    kept = redactor.record(wide)
    assert set(kept) == {"omitted", "excerpt"} and len(json.dumps(kept)) < MAX_RECORD_CHARS


def test_redactor_masks_secret_holders_and_secret_keys():
    redactor = Redactor()
    data = redactor.data({"token": Secret(TOKEN), "DISCORD_BOT_TOKEN": "x" * 30, "U7654321": 1})
    assert data == {"token": MASK, "DISCORD_BOT_TOKEN": MASK, "U****321": 1}


# -- reports, log records, Allure ------------------------------------------------------------------------
def test_a_pytest_traceback_is_redacted_in_place():
    from harness.pytest.reporting import redact_longrepr

    def check(secrets_arg, account):
        raise AssertionError(f"token {secrets_arg!r} for {account}")

    with pytest.raises(AssertionError) as excinfo:
        check(TOKEN, "U7654321")
    longrepr = excinfo.getrepr(funcargs=True, showlocals=True, style="long")
    redacted = redact_longrepr(longrepr, redactor_with(TOKEN).text)
    text = str(redacted)
    assert redacted is longrepr  # the tree is kept: colours, crash line
    assert not leaks(text, TOKEN) and "U7654321" not in text
    assert "U7654321" not in longrepr.reprcrash.message


def redactor_with(*values: str) -> Redactor:
    redactor = Redactor()
    redactor.add(values)
    return redactor


def test_log_records_are_redacted_from_every_logger_while_installed():
    from harness.pytest.reporting import install_log_redaction

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    root = logging.getLogger()
    root.addHandler(handler)
    before = logging.getLogRecordFactory()  # pytest's run of the features may have installed its own
    uninstall = install_log_redaction(redactor_with(TOKEN))
    try:
        logging.getLogger("ib_async.wrapper").error("Error for account=%r token %s", "DU1234567", TOKEN)
        try:
            raise ValueError(TOKEN)
        except ValueError:
            logging.getLogger("harness.test").exception("failed")
    finally:
        uninstall()
        root.removeHandler(handler)
    formatter = logging.Formatter()
    shown = "\n".join(formatter.format(record) for record in records)
    assert "DU1234567" not in shown and not leaks(shown, TOKEN) and "DU****567" in shown
    assert logging.getLogRecordFactory() is before


def test_a_recorded_warning_is_redacted():
    import warnings

    from harness.pytest.reporting import redact_warning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(f"thread died: {TOKEN!r} for DU1234567", pytest.PytestUnraisableExceptionWarning, stacklevel=1)
    redact_warning(caught[0], redactor_with(TOKEN).text)
    assert not leaks(str(caught[0].message), TOKEN) and "DU1234567" not in str(caught[0].message)


def test_world_secrets_are_opaque(tmp_path):
    from harness.world import known_secrets

    env = tmp_path / ".env"
    env.write_text(f"DISCORD_WEBHOOK_URL={WEBHOOK}\nIBKR_PASSWORD=hunter22\nDRY_RUN=false\n", encoding="utf-8")
    secrets = known_secrets(env, Secret(TOKEN))
    assert len(secrets) == 3 and "hunter22" not in repr(secrets)
    assert redact_text(f"{WEBHOOK} hunter22 {TOKEN!r}", secrets).count(MASK) == 3
    assert len(known_secrets(tmp_path, None)) == 0  # not a regular file: not read


def test_env_file_facts_repr_hides_secret_values():
    from harness.probes.envfile import parse_env_bytes

    quoted = TOKEN.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    facts = parse_env_bytes(f'DISCORD_BOT_TOKEN="{quoted}"\nDISCORD_WEBHOOK_URL={WEBHOOK}\n'
                            "DB_URL=postgres://user:pw@host/db\n".encode())
    assert facts.values["DISCORD_BOT_TOKEN"] == TOKEN
    shown = repr(facts) + repr(facts.entries)
    assert not leaks(shown, TOKEN) and "AbCdEf_secret-token" not in shown and "user:pw" not in shown


@pytest.mark.parametrize(("key", "value", "secret"), [
    ("DRY_RUN", "false", False), ("PAPER_TRADING", "true", False), ("IBKR_HOST", "localhost", False),
    ("IBKR_PORT", "4002", False), ("IBKR_CLIENT_ID", "1", False), ("MAX_DAILY_LOSS_PCT", "2.0", False),
    ("LOG_LEVEL", "INFO", False), ("STRATEGY_A_CONFIG", "config/a.yaml", False), ("PDT_ENABLED", "true", False),
    ("IBKR_PWD", "pw-Q7r9xLm2vK", True), ("TWS_PIN", "73915046", True), ("IBKR_USER", "trader1", True),
    ("IBKR_ACCOUNT", "DU1234567", True), ("SLACK_ALERT_URL", "https://hooks.slack.com/services/T0/B0/x", True),
    ("BROKER_SESSION_COOKIE", "c00kie-9f8e", True), ("SOMETHING_NEW", "1234", True),
    ("FEATURE_X", "true", False),  # a plain boolean is never a secret
    ("DISCORD_WEBHOOK_URL", "https://discord.com/api/webhooks/1/abc", True),
    ("NOTES", "https://user:pw@example.com/x", True),
])
def test_settings_are_secret_unless_their_key_is_known_to_be_safe(key, value, secret):
    from harness.core.redact import is_secret_setting, mask_value

    assert is_secret_setting(key, value) is secret
    assert (mask_value(key, value) == "****") is secret
