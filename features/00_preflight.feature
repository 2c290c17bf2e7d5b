@preflight
Feature: Before the switch (Step 0 and Step 1)
  The seed's pre-transition checklist and controlled shutdown. What only a person can attest passes
  only on a recorded attestation (`harness confirm ITEM --by NAME`); otherwise it is reported
  "operator to confirm", never green.

  Background:
    Given the recorded operator attestations

  @manual @pre_task_4_2_approved
  Scenario: Task 4.2 stability summary reviewed and approved by the operator
    Then the operator has confirmed "pre_task_4_2_approved"

  @manual @pre_stability_criteria
  Scenario: All 6 stability criteria of Task 4.2 are met
    Then the operator has confirmed "pre_stability_criteria"

  @manual @pre_operator_authorized
  Scenario: The operator explicitly authorizes the transition to paper trading
    Then the operator has confirmed "pre_operator_authorized"

  @step1_shutdown
  Scenario: The bot was stopped outside regular market hours
    Given when the bot was stopped, from its log or the operator
    Then that was outside the NYSE regular session

  @step1_shutdown
  Scenario: No bot process is running during the switch
    Then no bot process is running

  @needs_gateway @pre_paper_account
  Scenario: The paper gateway answers on the configured port
    Given the paper gateway as the harness sees it
    Then the gateway answers

  @needs_gateway @pre_paper_account @critical
  Scenario: Every account on the paper gateway is a paper account
    Given the paper gateway as the harness sees it
    Then every managed account is a paper account

  @needs_gateway @pre_paper_account
  Scenario: The paper account summary answers
    Given the paper gateway as the harness sees it
    Then the account summary shows cash, buying power and net liquidation

  @needs_gateway @step1_no_positions
  Scenario: Zero open positions and zero open orders before the switch
    Given the paper gateway as the harness sees it
    Then the paper account has no open position and no open order
