@rollback
Feature: Rolled back to dry-run mode (the seed's Rollback Plan)
  The seed's Rollback Plan, checked after `harness switch dry-run` and a manual restart: the .env is back to
  dry-run and nothing else changed, the bot's newest start and its Discord notification say dry-run mode, the
  paper account is left with nothing open, and the scheduler still starts the bot. The emergency halt is not
  a check: `harness halt` acts, and records an incident that keeps every verdict at NEEDS REMEDIATION until
  `harness confirm incident_resolved --by NAME --note "root cause..."` closes it.

  @rollback_env_dry_run @critical
  Scenario: DRY_RUN is true and PAPER_TRADING is false again
    Given the bot's .env as python-dotenv reads it
    Then the execution mode is dry-run

  @rollback_env_dry_run
  Scenario: The .env says what it said before the switch
    Given the bot's .env as python-dotenv reads it
    And the baseline snapshot taken before the switch
    Then the .env says what the baseline said

  @rollback_bot_dry_run @critical @needs_logs
  Scenario: The bot's newest start says dry-run mode is active
    Given the newest startup block of the bot's log
    Then the startup block says dry-run mode is active

  @rollback_bot_dry_run @critical @needs_logs
  Scenario: The bot loaded DRY_RUN=true and PAPER_TRADING=false
    Given the newest startup block of the bot's log
    Then the startup line says DRY_RUN=true and PAPER_TRADING=false

  @rollback_bot_dry_run @needs_logs
  Scenario: The log no longer says paper trading mode after the rollback
    Given the newest startup block of the bot's log
    Then no line since the startup says paper trading mode

  @rollback_bot_dry_run @critical @needs_logs
  Scenario: The log never says live trading mode after the rollback
    Given the newest startup block of the bot's log
    Then no line since the startup says live trading mode

  @rollback_discord_dry_run @needs_discord
  Scenario: Discord announces dry-run mode after the rollback
    Given the newest startup block of the bot's log
    And the bot's Discord notifications around the restart
    Then a message says DRY-RUN near the restart

  @rollback_discord_dry_run @needs_discord
  Scenario: Discord does not announce paper or live mode after the rollback
    Given the newest startup block of the bot's log
    And the bot's Discord notifications around the restart
    Then no message announces PAPER TRADING or LIVE mode

  @rollback_no_open_orders @needs_gateway
  Scenario: No order is left open in the paper account
    Given the paper gateway as the harness sees it
    Then the paper account has no open order left

  @rollback_positions_closed @needs_gateway
  Scenario: Every paper position is closed
    Given the paper gateway as the harness sees it
    Then every paper position is closed

  @rollback_scheduler
  Scenario: The scheduler still starts the bot
    Given the bot's scheduled task
    Then the task is enabled and starts the bot from its directory
