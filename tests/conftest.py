"""Shared by all tests."""

import gc

import pytest


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
