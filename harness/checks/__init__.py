"""Checks: pure functions from facts to a verdict. They raise `CheckFailed` (a failure an operator can act
on) or `CouldNotLook` (a skip reported as "operator to confirm"); they never do I/O."""

from __future__ import annotations

import pytest

from harness.checks import advice


def __getattr__(name: str) -> str:
    # HALT: the critical line, fitted to this machine's platform when it is read (harness.checks.advice).
    if name == "HALT":
        return advice.halt()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class CheckFailed(AssertionError):
    """A check looked and the world is wrong."""

    def __init__(self, title: str, message: str, *, critical: bool = False) -> None:
        self.title = title
        self.message = message
        self.critical = critical
        # What an operator does at once, fitted to this machine's platform (harness.checks.advice).
        self.halt = f"CRITICAL: {advice.halt()}" if critical else ""
        text = f"{title}: {message}"
        if self.halt:
            text += f"\n{self.halt}"
        super().__init__(text)


class CouldNotLook(pytest.skip.Exception):
    """A check could not look; never a pass. pytest reports it as skipped, the log as 'operator to confirm'."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"operator to confirm: {reason}", allow_module_level=False)
