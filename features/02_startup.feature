@transition
Feature: The bot restarted in paper trading mode (Step 3)
  The seed's Step 3: the startup lines in the bot's log and its Discord notification. Only the newest
  startup block counts: a line from an older start never satisfies a check. Modes are read by meaning
  (any case, "DRY_RUN" = "dry-run" = "dry run", negated mentions ignored); JSON-lines logs are read too.

  Background:
    Given the newest startup block of the bot's log

  @dod_log_paper
  Scenario: The startup lines appear in order
    Then the expected startup lines appear in order

  @dod_log_paper @critical
  Scenario: The log says paper trading mode is active
    Then the startup block says paper trading mode is active

  @dod_log_paper @critical
  Scenario: The bot loaded DRY_RUN=false and PAPER_TRADING=true
    Then the startup line says DRY_RUN=false and PAPER_TRADING=true

  @dod_log_paper @critical
  Scenario: The bot connects to its .env's gateway on a paper port
    Given the bot's .env as python-dotenv reads it
    Then every gateway line names the .env's gateway on a paper port

  @dod_log_paper @critical
  Scenario: The log never says live trading mode
    Then no line since the startup says live trading mode

  @dod_log_paper
  Scenario: The log never says dry-run mode
    Then no line since the startup says dry-run mode

  @dod_log_paper
  Scenario: No error or traceback since the startup
    Then no error or traceback since the startup

  @dod_discord_paper @needs_discord
  Scenario: Discord announces paper trading mode
    Given the bot's Discord notifications around the startup
    Then a message says PAPER TRADING near the startup

  @dod_discord_paper @critical @needs_discord
  Scenario: Discord does not announce dry-run or live mode
    Given the bot's Discord notifications around the startup
    Then no message announces DRY-RUN or LIVE mode
