"""`harness fake-discord`: a fake Discord on loopback for rehearsing the operator's path (its own options).

It serves the channel the harness reads and the webhook the bot posts to, and prints what goes where: the
webhook URL into the bot's `.env`, the token to export as DISCORD_BOT_TOKEN, the API base for `--discord-api`
and the channel id for `--discord-channel` (docs/fake-gateway.md, "The fake Discord").
"""

from __future__ import annotations

from harness.core.refusal import Refused

PROG = "harness fake-discord"
GUIDE = """harness fake-discord: a fake Discord on loopback, until Ctrl+C. What it prints below goes:
  DISCORD_WEBHOOK_URL  into the bot's .env (the bot posts its startup notification there)
  DISCORD_BOT_TOKEN    exported in the shell the harness runs in
  DISCORD_API_BASE     --discord-api (or HARNESS_DISCORD_API) of the harness's commands
  DISCORD_CHANNEL_ID   --discord-channel (choose it with --channel ID)
Then every message posted to the channel, as it comes."""


def run(argv: list[str]) -> int:
    from harness.fakes.discord import main

    if not {"-h", "--help"} & set(argv):
        print(GUIDE, flush=True)
    try:
        return int(main(argv, prog=PROG) or 0)
    except ValueError as exc:  # a host that is not a loopback address
        raise Refused(str(exc)) from None
    except KeyboardInterrupt:  # Ctrl+C before the fake answered: nothing to tear down
        return 130
