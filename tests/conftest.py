"""Shared by all tests."""

import gc
import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers it too; registered here so the suite also collects where xdist is not installed.
    config.addinivalue_line("markers", "xdist_group(name): tests that share one run of a world; with "
                            "`--dist loadgroup` they run on one xdist worker")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores this process may use. The acceptance tests spend much of their
    time waiting on the subprocess they run and its world's sockets; on 2 cores 3 workers took about 125 s
    where 2 took 160 s, and 4 were no faster than 3."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The features share one embedded world (a session fixture): under xdist they stay on one worker, so the
    whole suite starts that world once."""
    for item in items:
        if item.path.suffix == ".feature":
            item.add_marker(pytest.mark.xdist_group("features"))


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Run finalizers (asyncio futures, sockets, ib_async events) between tests, at a known moment.

    CPython 3.11 keeps the AST converter's recursion depth in per-interpreter state; a finalizer that runs
    Python code during a garbage collection inside `ast.parse` (pytest's assertion rewriting of a lazily
    imported module) can trip "AST constructor recursion depth mismatch". Collecting here keeps such
    finalizers out of later imports.
    """
    yield
    gc.collect()
