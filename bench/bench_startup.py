"""Start-up cost of `harness --help` and `pytest --help` (plugin loaded) against a bare interpreter.

Run: python bench/bench_startup.py [--runs N]. Prints medians and ratios to `python -c pass` measured in the
same run; the goal is `harness --help` under 0.5 s, i.e. pandas and ib_async load only when needed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "harness --help": [sys.executable, "-m", "harness.cli", "--help"],
    "pytest --help (with the harness plugin)": [sys.executable, "-m", "pytest", "--help"],
    "pytest --help -p no:harness (pytest + bdd + allure alone)": [sys.executable, "-m", "pytest", "-p", "no:harness",
                                                                 "--help"],
    "import check: no pandas/ib_async at plugin load": [
        sys.executable, "-c",
        "import sys, harness.pytest.plugin, harness.cli; "
        "heavy = [m for m in ('pandas', 'ib_async', 'exchange_calendars') if m in sys.modules]; "
        "sys.exit(1 if heavy else 0)",
    ],
}


def median_seconds(command: list[str], runs: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        code = subprocess.run(command, capture_output=True, timeout=120).returncode
        times.append(time.perf_counter() - start)
    return statistics.median(times), code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    baseline = None
    for name, command in COMMANDS.items():
        seconds, code = median_seconds(command, runs)
        baseline = baseline or seconds
        status = "" if code == 0 else f"  (exit {code})"
        print(f"{name:50} {seconds * 1000:8.1f} ms  x{seconds / baseline:5.1f}{status}")


if __name__ == "__main__":
    main()
