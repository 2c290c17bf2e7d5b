"""Benchmark of the fake IB Gateway (a script, not a test). Ratios are against baselines from the same run.

python bench/bench_fake_gateway.py [--samples 200] [--executions 100000] [--orders 200]

Handshake and full-sync samples alternate, so load on the machine weighs on both sides of the ratio alike.
The "server that does no work" replays the fake's own answers, byte for byte, from a thread of this
process: the floor for this arrangement (the ib_async client and the server share one interpreter), so
`fake sync / no-work sync` is the fake's own share of the sync.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
import threading
import time
import tracemalloc

from ib_async import IB, LimitOrder, Stock

from harness.core import clock
from harness.fakes.tws import Execution, FakeGateway, World, always_open
from harness.fakes.tws.backend import Backend
from harness.fakes.tws.framing import FrameReader, client_hello, pack, split_fields
from harness.fakes.tws.session import Session


def bare_handshake(address: tuple[str, int]) -> float:
    start = time.perf_counter()
    with socket.create_connection(address, timeout=5) as raw:
        raw.sendall(client_hello(157, 178))
        reader = FrameReader()
        while not reader.feed(raw.recv(4096)):
            pass
    return time.perf_counter() - start


def full_sync(address: tuple[str, int], client_id: int = 1) -> float:
    ib = IB()
    start = time.perf_counter()
    ib.connect(*address, clientId=client_id, timeout=30)
    elapsed = time.perf_counter() - start
    ib.disconnect()
    return elapsed


def median(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def alternate(address: tuple[str, int], samples: int) -> tuple[float, float]:
    """Median handshake and median full sync, taken turn about after a warm-up."""
    for _ in range(5):
        bare_handshake(address), full_sync(address)
    handshakes, syncs = [], []
    for _ in range(samples):
        handshakes.append(bare_handshake(address))
        syncs.append(full_sync(address))
    return median(handshakes), median(syncs)


class _Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False


def recorded_answers(world: World, requests: list[tuple[str, ...]]) -> dict[str, bytes]:
    """What a fake session writes for the hello and each request (by message id), through its public face."""

    async def record() -> dict[str, bytes]:
        session, transport = Session(Backend(world, min_version=157, max_version=178)), _Recording()
        session.connection_made(transport)
        answers = {}
        for key, frame in [("hello", client_hello(157, 178))] + [(r[0], pack(r)) for r in requests]:
            transport.data.clear()
            session.data_received(frame)
            answers[key] = bytes(transport.data)
        return answers

    return asyncio.run(record())


class _NoWorkServer(asyncio.Protocol):
    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport, self.reader, self.greeted = transport, FrameReader(expect_magic=True), False

    def data_received(self, data: bytes) -> None:
        out = []
        for payload in self.reader.feed(data):
            key = split_fields(payload)[0] if self.greeted else "hello"
            self.greeted = True
            out.append(self.answers.get(key, b""))
        self.transport.write(b"".join(out))  # type: ignore[attr-defined]


def start_no_work_server(answers: dict[str, bytes]) -> tuple[str, int]:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: _NoWorkServer(answers), "127.0.0.1", 0))
    threading.Thread(target=loop.run_forever, name="no-work-server", daemon=True).start()
    return "127.0.0.1", server.sockets[0].getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--executions", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()

    def empty_world() -> World:
        return World(session_open=always_open, prices={"AAPL": 190.0})

    with FakeGateway(empty_world()) as gateway:
        handshake, sync = alternate(gateway.address, args.samples)
        print(
            f"bare handshake {handshake * 1e3:.2f} ms; connect + full sync {sync * 1e3:.2f} ms "
            f"({sync / handshake:.1f}x the handshake)"
        )
        sync_requests = [r.fields for r in gateway.requests if r.conn_id == gateway.requests[-1].conn_id]
        no_work = start_no_work_server(recorded_answers(empty_world(), sync_requests))
        floor_handshake, floor_sync = alternate(no_work, args.samples)
        print(
            f"server that does no work: handshake {floor_handshake * 1e3:.2f} ms, full sync "
            f"{floor_sync * 1e3:.2f} ms ({floor_sync / floor_handshake:.1f}x); the fake's sync is "
            f"{sync / floor_sync:.2f}x the no-work sync"
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
        # ib_async sends at most 45 requests a second (Client.MaxRequests): that, not the fake, sets this rate.
        print(
            f"placeOrder -> Filled: {args.orders / elapsed:.0f} round trips/s "
            f"({elapsed / args.orders / handshake:.1f}x a bare handshake each; ib_async throttles at 45/s)"
        )

    now = clock.now()
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
        big_sync = full_sync(gateway.address)
    print(
        f"{args.executions} executions: tracemalloc peak {peak / 2**20:.1f} MiB while loading and starting; "
        f"connect + full sync {big_sync:.2f} s ({big_sync / sync:.0f}x the empty-world sync)"
    )


if __name__ == "__main__":
    main()
