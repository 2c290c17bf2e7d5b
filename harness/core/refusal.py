"""`Refused`: a command of `harness` will not do it; the message says why, in one line (the command line prints
it and exits 1). Its own module, so that each command raises it without importing the command line back."""

from __future__ import annotations


class Refused(Exception):
    """The command will not do it; the message says why, in one line."""
