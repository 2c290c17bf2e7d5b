"""What a scenario is, written once for every hook of the plugin: a test built from a `.feature` file.

Items, reports and node ids from pytest-xdist workers all answer through `is_scenario_nodeid`, so the plugin,
the evidence, the run session and the verdict never disagree about which tests are the procedure's checks.
"""

from __future__ import annotations

import pytest


def is_scenario_nodeid(nodeid: str) -> bool:
    """Whether a node id (an item's or a report's, from any worker) names a `.feature` file's scenario."""
    return ".feature::" in nodeid.replace("\\", "/")


def is_scenario(item: pytest.Item) -> bool:
    """Whether a collected item is a scenario of a `.feature` file (and not a unit test of the same run)."""
    return is_scenario_nodeid(item.nodeid)


def scenario_name(nodeid: str) -> str:
    """`features/02_startup.feature::test_the_log_says_x` -> `the log says x` (pytest-bdd's test name)."""
    name = nodeid.split("::")[-1]
    name = name.split("[", 1)[0]
    return name.removeprefix("test_").replace("_", " ")
