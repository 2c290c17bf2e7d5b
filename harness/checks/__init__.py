"""Checks: pure functions from facts to a verdict. They raise `CheckFailed` (a failure an operator can act
on) or `CouldNotLook` (a skip reported as "operator to confirm"); they never do I/O."""

from __future__ import annotations

import pytest

HALT = "HALT THE BOT NOW (Task Manager -> End Task), then follow the seed's emergency procedure."


class CheckFailed(AssertionError):
    """A check looked and the world is wrong."""

    def __init__(self, title: str, message: str, *, critical: bool = False) -> None:
        self.title = title
        self.message = message
        self.critical = critical
        text = f"{title}: {message}"
        if critical:
            text += f"\nCRITICAL: {HALT}"
        super().__init__(text)


class CouldNotLook(pytest.skip.Exception):
    """A check could not look; never a pass. pytest reports it as skipped, the log as 'operator to confirm'."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"operator to confirm: {reason}", allow_module_level=False)
