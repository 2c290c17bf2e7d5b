"""No secret leaves the machine: after a whole run of the features against the embedded world, with a
failing world so that failure messages are printed too, no webhook token and no full account id appears in
the terminal output (even with -l), the Allure results or the evidence."""

from __future__ import annotations

from tests.acceptance.runner import run_features

FULL_ACCOUNT_IDS = ("DU1234567", "U7654321", "U2345678")


def test_no_secret_or_full_account_id_in_any_output(tmp_path):
    basetemp = tmp_path / "inner"
    run = run_features(
        tmp_path, "--basetemp", str(basetemp), "--alluredir", str(tmp_path / "allure"), "-v", "-l",
        "--evidence-dir", str(tmp_path / "evidence"),
        env={"BOT_FAULTS": "discord-live", "HARNESS_EMBEDDED_FAULTS": "gateway-live-account,live-account-activity"},
    )
    assert run.failed(), "the faulty world must fail, so that failure messages are part of what is checked"
    env_files = list(basetemp.rglob("bot/.env"))
    assert env_files, "the embedded bot directory was not found under --basetemp"
    webhook = next(line for line in env_files[0].read_text().splitlines() if line.startswith("DISCORD_WEBHOOK_URL="))
    token = webhook.rsplit("/", 1)[-1]
    assert len(token) > 20
    texts = {"terminal output": run.output}
    for folder in (tmp_path / "allure", tmp_path / "evidence"):
        for path in folder.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    assert len(texts) > 10
    for where, text in texts.items():
        assert token not in text, f"webhook token in {where}"
        for account in FULL_ACCOUNT_IDS:
            assert account not in text, f"full account id {account} in {where}"
