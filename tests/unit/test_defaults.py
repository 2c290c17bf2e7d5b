"""Every default has one definition: the settings table, the Settings object and the IBKR facts agree."""

from __future__ import annotations

from dataclasses import fields

from harness.core import ibkr
from harness.core.settings import Settings, resolve


def test_settings_defaults_are_the_resolved_defaults():
    built, resolved = Settings(), resolve({}, {}, {})
    differ = {f.name for f in fields(Settings) if f.name != "sources" and getattr(built, f.name) != getattr(
        resolved, f.name)}
    assert differ == set()


def test_the_default_gateway_and_client_id_come_from_the_ibkr_facts():
    settings = resolve({}, {}, {})
    assert settings.gateway.port == ibkr.GATEWAY_PAPER_PORT and ibkr.port_is_paper(settings.gateway.port)
    assert settings.client_id == ibkr.PROBE_CLIENT_ID


def test_paper_and_live_ports_and_prefixes_never_overlap():
    assert not set(ibkr.PAPER_PORTS) & set(ibkr.LIVE_PORTS)
    assert all(ibkr.account_is_paper(prefix + "1234567") for prefix in ibkr.PAPER_ACCOUNT_PREFIXES)
    assert not any(ibkr.account_is_paper(prefix + "1234567") for prefix in ibkr.LIVE_ACCOUNT_PREFIXES)


def test_the_world_kind_follows_the_flags():
    from pathlib import Path

    assert Settings().world_kind == "embedded"
    assert Settings(bot_dir=Path("bot")).world_kind == "bot directory"
    assert Settings(bot_dir=Path("bot"), live_gateway=True).world_kind == "live"
