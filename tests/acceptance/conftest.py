"""Acceptance tests share runs of the operator's command where the world is the same (see runner.SharedRuns)."""

from __future__ import annotations

import pytest

from tests.acceptance.runner import SharedRuns


@pytest.fixture(scope="session")
def shared_runs(tmp_path_factory: pytest.TempPathFactory) -> SharedRuns:
    return SharedRuns.for_session(tmp_path_factory)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: one whole `harness rehearse` of a bot (15-30 s each); `-m 'not slow'` "
                            "leaves them out")
