"""Append-only logs under concurrency: twenty writers at once (attestations, halts) lose no record, and a lock left
by a writer that was killed is taken over instead of blocking every later command."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from harness.core.jsonfiles import exclusive
from harness.evidence import attestations, incidents

WRITERS = 20


def _attest(folder: str, start: str, number: int) -> None:
    while not os.path.exists(start):
        time.sleep(0.001)
    attestations.record(Path(folder), "pre_task_4_2_approved", f"writer {number}")


def _halt(folder: str, start: str, number: int) -> None:
    while not os.path.exists(start):
        time.sleep(0.001)
    record = incidents.HaltRecord(incidents.INCIDENT, incidents.now_text(), reason=f"halt {number}")
    incidents.append(Path(folder), record)


def _race(target, tmp_path: Path) -> None:
    start = tmp_path / "go"
    context = multiprocessing.get_context("spawn")  # as on Windows: nothing inherited but the arguments
    workers = [context.Process(target=target, args=(str(tmp_path), str(start), n)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)  # let them all reach the start line
    start.touch()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0


def test_twenty_concurrent_attestations_are_all_kept(tmp_path):
    _race(_attest, tmp_path)
    records, problem = attestations.history(tmp_path)
    assert problem is None
    assert sorted(r.by for r in records) == sorted(f"writer {n}" for n in range(WRITERS))


def test_twenty_concurrent_halts_are_all_kept(tmp_path):
    _race(_halt, tmp_path)
    records, problem = incidents.history(tmp_path)
    assert problem is None and len(records) == WRITERS
    assert not list(tmp_path.glob("*.lock"))


def test_a_lock_left_by_a_killed_writer_is_taken_over(tmp_path):
    dead = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    dead.start()
    dead.join()
    (tmp_path / "attestations.json.lock").write_text(str(dead.pid), encoding="ascii")
    attestations.record(tmp_path, "pre_stability_criteria", "Ann")
    assert [r.by for r in attestations.history(tmp_path)[0]] == ["Ann"]


def test_a_lock_held_by_a_running_writer_ends_in_one_clear_error(tmp_path):
    import pytest

    target = tmp_path / "incidents.json"
    (tmp_path / "incidents.json.lock").write_text(str(os.getppid()), encoding="ascii")
    with pytest.raises(OSError, match="is held by another harness command"), exclusive(target, wait=0.2):
        pass
