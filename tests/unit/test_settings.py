"""Settings: one spec per setting, CLI > environment > ini > default, errors that name their source."""

from __future__ import annotations

import pytest

from harness.settings import GatewayAddress, SettingsError, is_loopback_host, resolve


def test_defaults():
    settings = resolve({}, {})
    assert settings.phase == "transition"
    assert settings.gateway == GatewayAddress("localhost", 4002)
    assert settings.sources["gateway"] == "default"


def test_precedence_cli_over_env_over_ini():
    ini = {"harness_phase": "rollback", "harness_client_id": "55", "harness_timeout": "3"}
    env = {"HARNESS_PHASE": "first-day", "HARNESS_CLIENT_ID": "66"}
    settings = resolve({"phase": "preflight"}, env, ini, "pytest.ini")
    assert settings.phase == "preflight" and settings.sources["phase"] == "--phase"
    assert settings.client_id == 66 and settings.sources["client_id"] == "HARNESS_CLIENT_ID"
    assert settings.timeout == 3.0 and settings.sources["timeout"] == "harness_timeout in pytest.ini"


@pytest.mark.parametrize(
    ("cli", "env", "message"),
    [
        ({"gateway": "localhost:99999"}, {}, r"--gateway='localhost:99999' is not a port number"),
        ({}, {"HARNESS_GATEWAY": "abc"}, r"HARNESS_GATEWAY='abc' is not HOST:PORT"),
        ({"phase": "launch"}, {}, r"--phase='launch' is not a phase"),
        ({"bot_dir": "/definitely/not/here"}, {}, r"--bot-dir='/definitely/not/here' is not an existing directory"),
        ({"since": "yesterday"}, {}, "is not an ISO date-time"),
        ({"since": "2026-02-10T16:45:00"}, {}, "has no UTC offset"),
        ({"live_gateway_port": "4002"}, {}, "same port as --gateway"),
        ({"live_gateway": True}, {}, "give --bot-dir"),
        ({"bot_log_tz": "Mars/Olympus"}, {}, "not an IANA time zone"),
        ({"declared_positions": "SPY"}, {}, "write SYMBOL:QUANTITY"),
        ({"declared_positions": "SPY:ten"}, {}, "write SYMBOL:QUANTITY"),
    ],
)
def test_bad_values_name_value_and_source(cli, env, message):
    with pytest.raises(SettingsError, match=message):
        resolve(cli, env)


def test_ini_error_names_the_ini_key():
    with pytest.raises(SettingsError, match=r"client_id \(harness_client_id in tox.ini\)='x'"):
        resolve({}, {}, {"harness_client_id": "x"}, "tox.ini")


def test_declared_positions_parse():
    assert resolve({"declared_positions": "spy:10; AAPL:-5"}, {}).declared_positions == (("SPY", 10.0),
                                                                                          ("AAPL", -5.0))


def test_env_file_defaults_to_bot_dir(tmp_path):
    assert resolve({"bot_dir": str(tmp_path)}, {}).env_file == tmp_path / ".env"


def test_discord_token_only_from_its_variable(monkeypatch):
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "t0ken")
    assert resolve({}, {}).discord_token == "t0ken"


@pytest.mark.parametrize(("host", "loopback"), [("localhost", True), ("127.0.0.1", True), ("127.5.5.5", True),
                                                 ("::1", True), ("192.168.1.10", False), ("gateway.lan", False)])
def test_loopback(host, loopback):
    assert is_loopback_host(host) is loopback
