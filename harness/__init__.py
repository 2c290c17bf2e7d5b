"""The paper-trading transition harness: verifies an IBKR bot's switch from dry-run to paper trading."""

__version__ = "0.1.0"
