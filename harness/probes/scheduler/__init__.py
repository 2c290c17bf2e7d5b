"""What starts the bot (`--scheduler-task`), read as plain facts. (Being split into modules, one job each.)"""

from harness.probes.scheduler.commands import *  # noqa: F403
