@transition
Feature: The bot's .env says paper trading (Step 2)
  The seed's Step 2 and the "Configuration Verified" items of its Definition of Done. The .env is
  read exactly as the bot's python-dotenv reads it; secret values never appear in the evidence.

  Background:
    Given the bot's .env as python-dotenv reads it

  @dod_env_mode
  Scenario: DRY_RUN is false and PAPER_TRADING is true
    Then the execution mode is paper trading

  @dod_env_mode @critical
  Scenario: The configuration is not live mode
    Then the configuration is not live mode

  @dod_env_unchanged @critical
  Scenario: IBKR_PORT is the paper trading port
    Then IBKR_PORT is a paper trading port

  @dod_env_unchanged
  Scenario: IBKR_HOST is this machine
    Then IBKR_HOST is a loopback address

  @dod_env_unchanged
  Scenario: IBKR_CLIENT_ID is unchanged
    Then IBKR_CLIENT_ID is the one the bot had before the switch

  @dod_env_unchanged
  Scenario: No other setting changed since the baseline
    Given the baseline snapshot taken before the switch
    Then no setting other than DRY_RUN and PAPER_TRADING changed

  @dod_env_mode
  Scenario: The .env is well-formed
    Then every line parses and no key is set twice

  @dod_env_mode @critical
  Scenario: No variable in this shell shadows the .env
    Then no variable in this shell's environment shadows the mode

  @dod_env_mode @critical
  Scenario: No variable in the bot's own environment shadows the .env
    Then no variable in the bot's recorded environment shadows the mode

  @dod_env_committed
  Scenario: The .env is ignored by version control
    Given the bot's version control
    Then the .env is ignored by git and not tracked

  @dod_env_committed
  Scenario: No secret is committed
    Given the bot's version control
    Then no secret value from the .env is in a tracked file

  @dod_env_committed
  Scenario: The committed configuration records paper mode
    Given the bot's version control
    Then the committed example configuration records paper mode
