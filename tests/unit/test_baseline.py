"""The baseline is bound to one bot's pre-switch .env and written once."""

from __future__ import annotations

import json

import pytest

from harness.evidence.baseline import BaselineExists, diff, load_baseline, snapshot, unusable_for, write_baseline
from harness.probes.envfile import read_env

BEFORE = "DRY_RUN=true\nPAPER_TRADING=false\nMAX_POSITION_PCT=10\n"
AFTER = "DRY_RUN=false\nPAPER_TRADING=true\nMAX_POSITION_PCT=10\n"


def env_file(directory, text):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ".env"
    path.write_text(text)
    return path


def test_a_baseline_of_this_env_is_usable_after_the_switch(tmp_path):
    path = env_file(tmp_path / "bot", BEFORE)
    baseline = snapshot(read_env(path))
    path.write_text(AFTER)
    difference = diff(baseline, read_env(path))
    assert difference.unusable is None and {c.key for c in difference.changes} == {"DRY_RUN", "PAPER_TRADING"}


def test_a_baseline_of_another_bots_env_is_unusable_even_when_identical(tmp_path):
    mine, other = env_file(tmp_path / "mine", AFTER), env_file(tmp_path / "other", BEFORE)
    why = unusable_for(snapshot(read_env(other)), read_env(mine))
    assert why is not None and str(other.resolve()) in why and str(mine.resolve()) in why


def test_a_baseline_taken_in_paper_mode_is_unusable(tmp_path):
    path = env_file(tmp_path / "bot", AFTER)
    why = unusable_for(snapshot(read_env(path)), read_env(path))
    assert why is not None and "already in paper mode" in why


def test_a_link_to_the_env_is_the_same_bot(tmp_path):
    path = env_file(tmp_path / "bot", BEFORE)
    link = tmp_path / "link.env"
    try:
        link.symlink_to(path)
    except OSError:
        pytest.skip("symlinks not permitted here")
    assert unusable_for(snapshot(read_env(path)), read_env(link)) is None


def test_the_baseline_is_written_once(tmp_path):
    path = env_file(tmp_path / "bot", BEFORE)
    target = tmp_path / "baseline.json"
    write_baseline(snapshot(read_env(path)), target)
    with pytest.raises(BaselineExists, match="--replace"):
        write_baseline(snapshot(read_env(path)), target)
    write_baseline(snapshot(read_env(path)), target, replace=True)
    loaded, problem = load_baseline(target)
    assert problem is None and loaded.env_path == str(path.resolve())
    assert loaded.mode == {"DRY_RUN": "true", "PAPER_TRADING": "false"}


def test_an_old_baseline_binds_to_its_absolute_path_and_a_relative_one_is_refused(tmp_path):
    path = env_file(tmp_path / "bot", BEFORE)
    old = {"format": "harness-baseline/1", "path": str(path), "taken_at": "t", "file_sha256": "", "keys": {}}
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded, problem = load_baseline(tmp_path / "old.json")
    assert problem is None and loaded.env_path == str(path)
    (tmp_path / "rel.json").write_text(json.dumps(old | {"path": ".env"}))
    loaded, problem = load_baseline(tmp_path / "rel.json")
    assert loaded is None and "does not say which .env" in problem


def test_a_key_no_pattern_knows_is_kept_only_as_a_hash(tmp_path):
    from harness.evidence.baseline import snapshot
    from harness.probes.envfile import read_env

    env = tmp_path / ".env"
    env.write_text("DRY_RUN=true\nPAPER_TRADING=false\nTWS_PIN=73915046\nBROKER_COOKIE=c00kie-9f8e\n",
                   encoding="utf-8")
    keys = snapshot(read_env(env)).keys
    assert keys["TWS_PIN"]["secret"] and "73915046" not in str(keys["TWS_PIN"])
    assert keys["BROKER_COOKIE"]["secret"] and keys["DRY_RUN"] == {"secret": False, "value": "true"}
