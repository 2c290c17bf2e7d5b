"""Settings: one spec per setting, CLI > environment > ini > default, errors that name their source."""

from __future__ import annotations

import os

import pytest

from harness.core.settings import SPECS, GatewayAddress, SettingsError, is_loopback_host, resolve


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


def test_discord_token_only_from_its_variable(monkeypatch, tmp_path):
    """Only DISCORD_BOT_TOKEN: no option, ini key or HARNESS_* variable carries the token (a token on a command
    line ends up in shell history), and the bot's .env is not read for it."""
    from harness import cli

    (tmp_path / ".env").write_text("DISCORD_BOT_TOKEN=from-the-bots-env-file\n", encoding="utf-8")
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    for variable in ("HARNESS_DISCORD_TOKEN", "HARNESS_DISCORD_BOT_TOKEN"):
        monkeypatch.setenv(variable, "from-a-harness-variable")
    options = {"bot_dir": str(tmp_path), "discord_token": "from-an-option", "discord_bot_token": "from-an-option"}
    ini = {"harness_discord_token": "from-the-ini", "harness_discord_bot_token": "from-the-ini"}

    assert not [spec.name for spec in SPECS if "token" in spec.name]  # so neither pytest nor harness offers one
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["snapshot", "--discord-token", "from-an-option"])
    assert resolve(options, dict(os.environ), ini).discord_token is None

    monkeypatch.setenv("DISCORD_BOT_TOKEN", "t0ken")
    assert resolve(options, dict(os.environ), ini).discord_token == "t0ken"


@pytest.mark.parametrize(("host", "loopback"), [("localhost", True), ("127.0.0.1", True), ("127.5.5.5", True),
                                                 ("::1", True), ("192.168.1.10", False), ("gateway.lan", False)])
def test_loopback(host, loopback):
    assert is_loopback_host(host) is loopback
