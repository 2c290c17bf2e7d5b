"""Redaction and the baseline: secrets never shown, changes always named."""

from __future__ import annotations

import json

from harness.core.redact import mask_account, redact_text
from harness.evidence.baseline import diff, load_baseline, snapshot, write_baseline
from harness.evidence.records import Redactor
from harness.probes.envfile import parse_env_bytes

WEBHOOK = "https://discord.com/api/webhooks/1234567890/AbCdEf_secret-token"


def test_account_masking():
    assert mask_account("DU1234567") == "DU****567"
    assert mask_account("U7654321") == "U****321"
    assert "1234567" not in redact_text("connected to DU1234567 and U7654321")


def test_redact_text_removes_credentials_and_tokens():
    text = redact_text(f"posting to {WEBHOOK} via https://user:pw@host/x with Bot abcdefghijklmnopqrstuvwxyz012")
    assert "AbCdEf_secret-token" not in text and "user:pw" not in text and "abcdefghijklmnopqrst" not in text


def test_redactor_masks_secret_keys_in_nested_facts():
    facts = parse_env_bytes(f"DISCORD_WEBHOOK_URL={WEBHOOK}\nIBKR_PASSWORD=hunter22\nLOG_LEVEL=INFO\n".encode())
    redactor = Redactor()
    redactor.add(facts.secret_values())
    blob = json.dumps(redactor.data(facts))
    assert "hunter22" not in blob and "secret-token" not in blob
    assert "INFO" in blob


def test_baseline_stores_hashes_not_secrets(tmp_path):
    facts = parse_env_bytes(f"DRY_RUN=true\nDISCORD_WEBHOOK_URL={WEBHOOK}\nIBKR_PASSWORD=hunter22\n".encode())
    target = tmp_path / "baseline.json"
    write_baseline(snapshot(facts), target)
    stored = target.read_text()
    assert "hunter22" not in stored and "secret-token" not in stored and "sha256:" in stored
    loaded, problem = load_baseline(target)
    assert problem is None and loaded.keys["DRY_RUN"]["value"] == "true"


def test_diff_names_changed_added_removed_with_secrets_masked():
    before = parse_env_bytes(f"DRY_RUN=true\nMAX_POSITION_PCT=10\nDISCORD_WEBHOOK_URL={WEBHOOK}\nOLD=1\n".encode())
    after = parse_env_bytes(
        f"DRY_RUN=false\nMAX_POSITION_PCT=50\nDISCORD_WEBHOOK_URL={WEBHOOK}x\nNEW=1\n".encode()
    )
    changes = {c.key: c for c in diff(snapshot(before), after).changes}
    assert changes["MAX_POSITION_PCT"].before == "10" and changes["MAX_POSITION_PCT"].after == "50"
    assert changes["DISCORD_WEBHOOK_URL"].change == "changed"
    assert changes["DISCORD_WEBHOOK_URL"].after == "****"
    assert changes["OLD"].change == "removed" and changes["NEW"].change == "added"
    assert {c.key for c in diff(snapshot(before), after).unexpected()} == {
        "MAX_POSITION_PCT", "DISCORD_WEBHOOK_URL", "OLD", "NEW"}


def test_bad_baseline_is_a_problem(tmp_path):
    assert "no baseline" in load_baseline(tmp_path / "missing.json")[1]
    (tmp_path / "junk.json").write_text("{not json")
    assert load_baseline(tmp_path / "junk.json")[0] is None
