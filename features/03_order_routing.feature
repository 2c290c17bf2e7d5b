@transition @needs_gateway @needs_logs
Feature: Orders go to the paper account, never to the live one (Step 4)
  The seed's Step 4 and the "Paper Trading Mode Confirmed" order items. Every connection the harness makes
  is read-only, except the optional test order (--place-test-order), placed only after paper is proven.
  A check that cannot look (no gateway, gateway down, no live gateway port) is "operator to confirm".

  Background:
    Given the bot's .env as python-dotenv reads it
    And the bot's orders from its newest start
    And the paper gateway since the bot's newest start

  @dod_orders_paper @critical
  Scenario: The gateway is logged into paper accounts only
    Then every managed account is a paper account

  @dod_orders_paper
  Scenario: The bot is connected to the gateway
    Then the gateway has seen the bot's client id since its newest start

  @dod_orders_paper @critical
  Scenario: Every order the bot logged is in the paper account
    Then every logged order is in the paper account and no unknown order is

  @dod_no_live_orders @critical
  Scenario: No order reached the live account
    Given the live gateway as the harness sees it
    Then the live account has no open order and no execution since the bot started

  @dod_orders_paper
  Scenario: No order was rejected for insufficient funds
    Then rejected orders are listed and fail unless rejections are expected

  @dod_orders_paper
  Scenario: Orders placed outside regular hours are pending until the open
    Then orders placed outside regular hours are reported pending until the open

  @dod_orders_paper
  Scenario: Positions and orders are within MAX_POSITION_PCT
    Then positions and orders are within MAX_POSITION_PCT of net liquidation

  @dod_orders_paper
  Scenario: The daily loss is within MAX_DAILY_LOSS_PCT
    Then the daily loss is within MAX_DAILY_LOSS_PCT

  @dod_orders_paper @optional
  Scenario: A paper test order is placed and cancelled
    Then a paper test order is placed and cancelled only after proving paper
