"""Benchmark: reconciling 100,000 logged orders against 100,000 account records (harness.probes.reconcile) versus a
plain dict join on (client id, order id) in the same run; time and peak memory (tracemalloc).

    .venv/bin/python bench/bench_reconcile.py [N]

Prints the figures and the ratios reconcile / baseline. Not a test: nothing is asserted.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.probes.reconcile import BrokerOrder, LoggedOrder, reconcile

SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT")


def make(n: int) -> tuple[list[LoggedOrder], list[BrokerOrder]]:
    logged = [LoggedOrder(i, f"strategy-{'AB'[i % 2]}", "BUY", 1 + i % 5, SYMBOLS[i % 5], 1.0) for i in range(n)]
    broker = []
    for i in range(n):
        if i % 10 == 9:  # a tenth are completed orders: no ids, matched by order ref
            broker.append(BrokerOrder("completed", None, None, 10_000 + i, f"strategy-{'AB'[i % 2]}", SYMBOLS[i % 5],
                                      "BUY", 1 + i % 5, "Cancelled"))
        else:
            broker.append(BrokerOrder("open", 1, i, 10_000 + i, f"strategy-{'AB'[i % 2]}", SYMBOLS[i % 5], "BUY",
                                      1 + i % 5, "Submitted"))
    return logged, broker


def baseline(logged: list[LoggedOrder], broker: list[BrokerOrder], client_id: int):
    """The simplest join: index by (client id, order id), look each logged order up, compare fields."""
    index = {(b.client_id, b.order_id): b for b in broker}
    matched, missing = [], []
    for order in logged:
        record = index.get((client_id, order.order_id))
        if record is None:
            missing.append(order)
        elif (record.symbol, record.side, record.quantity) == (order.symbol, order.side, order.quantity):
            matched.append((order, record))
    return matched, missing


def measure(fn, *args, repeat: int = 3) -> tuple[float, int, object]:
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak, result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    logged, broker = make(n)
    base_time, base_peak, (base_matched, base_missing) = measure(baseline, logged, broker, 1)
    rec_time, rec_peak, result = measure(reconcile, logged, broker, 1)
    print(f"orders: {n:,} logged x {n:,} account records (10% completed orders matched by ref)")
    print(f"baseline dict join : {base_time * 1000:8.1f} ms  peak {base_peak / 2**20:7.1f} MiB  "
          f"matched {len(base_matched):,} (by id only), missing {len(base_missing):,}")
    print(f"harness.probes.reconcile  : {rec_time * 1000:8.1f} ms  peak {rec_peak / 2**20:7.1f} MiB  "
          f"matched {len(result.matched):,}, missing {len(result.missing):,}, unknown {len(result.unknown):,}, "
          f"mismatched {len(result.mismatched):,}")
    print(f"ratio time   reconcile/baseline: {rec_time / base_time:5.2f}x")
    print(f"ratio memory reconcile/baseline: {rec_peak / base_peak:5.2f}x")


if __name__ == "__main__":
    main()
