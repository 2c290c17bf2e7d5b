"""Benchmark of the fake IB Gateway (a script, not a test). Ratios are against baselines from the same run.

python bench/bench_fake_gateway.py [--executions 100000] [--orders 200]
"""

from __future__ import annotations

import argparse
import gc
import socket
import time
import tracemalloc
from datetime import datetime, timezone

from ib_async import IB, LimitOrder, Stock

from harness.fakes.tws import Execution, FakeGateway, World, always_open
from harness.fakes.tws.framing import FrameReader, client_hello


def bare_handshake(gateway: FakeGateway) -> float:
    start = time.perf_counter()
    with socket.create_connection(gateway.address, timeout=5) as raw:
        raw.sendall(client_hello(157, 178))
        reader = FrameReader()
        while not reader.feed(raw.recv(4096)):
            pass
    return time.perf_counter() - start


def full_sync(gateway: FakeGateway, client_id: int = 1) -> float:
    ib = IB()
    start = time.perf_counter()
    ib.connect(gateway.host, gateway.port, clientId=client_id, timeout=30)
    elapsed = time.perf_counter() - start
    ib.disconnect()
    return elapsed


def median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()

    world = World(session_open=always_open, prices={"AAPL": 190.0})
    with FakeGateway(world) as gateway:
        handshake = median([bare_handshake(gateway) for _ in range(20)])
        sync = median([full_sync(gateway) for _ in range(20)])
        print(
            f"bare handshake {handshake * 1e3:.2f} ms; connect + full sync {sync * 1e3:.2f} ms "
            f"({sync / handshake:.1f}x the handshake)"
        )

        ib = IB()
        ib.connect(gateway.host, gateway.port, clientId=2, timeout=5)
        contract = Stock("AAPL", "SMART", "USD")
        start = time.perf_counter()
        for _ in range(args.orders):
            trade = ib.placeOrder(contract, LimitOrder("BUY", 1, 200.0))
            while not trade.isDone():
                ib.sleep(0)
        elapsed = time.perf_counter() - start
        ib.disconnect()
        print(
            f"placeOrder -> Filled: {args.orders / elapsed:.0f} round trips/s "
            f"({elapsed / args.orders / handshake:.1f}x a bare handshake each)"
        )

    now = datetime.now(timezone.utc)
    big = World(session_open=always_open)
    account = big.account_ids[0]
    gc.collect()
    tracemalloc.start()
    big.executions = [
        Execution(f"e{i:08d}", i, 10_000 + i, 1, account, "AAPL", "BOT", 1, 190.0, now)
        for i in range(args.executions)
    ]
    with FakeGateway(big) as gateway:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        big_sync = full_sync(gateway)
    print(
        f"{args.executions} executions: tracemalloc peak {peak / 2**20:.1f} MiB while loading and starting; "
        f"connect + full sync {big_sync:.2f} s ({big_sync / sync:.0f}x the empty-world sync)"
    )


if __name__ == "__main__":
    main()
