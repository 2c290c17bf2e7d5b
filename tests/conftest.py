"""Shared by all tests."""

import gc
import os

import pytest


@pytest.hookimpl(optionalhook=True)  # `-p no:xdist` runs the suite in one process
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker more than the cores this process may use. The acceptance tests spend much of their
    time waiting on the subprocess they run and its world's sockets; on 2 cores 3 workers took about 125 s
    where 2 took 160 s, and 4 were no faster than 3."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores + 1


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported for collection lives as long as the session: frozen, it is left out of every later
    collection, so the collection after each test below scans only what tests made (about 18 ms a test with
    pandas, ib_async and hypothesis loaded, against microseconds frozen)."""
    gc.collect()
    gc.freeze()


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
