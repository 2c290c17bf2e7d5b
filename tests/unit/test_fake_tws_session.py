"""How a fake-gateway session writes: one write per answer, pushes by the end of the loop turn, order kept."""

from __future__ import annotations

import asyncio

from harness.core import clock
from harness.fakes.tws import Execution, World, always_open
from harness.fakes.tws.backend import Backend
from harness.fakes.tws.framing import MAGIC, FrameReader, client_hello, pack, split_fields
from harness.fakes.tws.session import FLUSH_AT_BYTES, Session

ACCOUNT = "DU1234567"


class RecordingTransport(asyncio.Transport):
    """Keeps every write separately, so a test sees how the frames were grouped."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "write after close"
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def message_ids(data: bytes) -> list[str]:
    return [split_fields(payload)[0] for payload in FrameReader().feed(data)]


def ready_session(world: World | None = None) -> tuple[Backend, Session, RecordingTransport]:
    """A session past the handshake and startApi (client id 1), its writes so far forgotten."""
    backend = Backend(world or World(session_open=always_open), min_version=157, max_version=178)
    session, transport = Session(backend), RecordingTransport()
    session.connection_made(transport)
    session.data_received(client_hello(157, 178))
    session.data_received(pack(["71", "2", "1", ""]))
    transport.writes.clear()
    return backend, session, transport


def test_handshake_and_start_api_answers_are_one_write_each() -> None:
    async def run() -> list[bytes]:
        backend = Backend(World(), min_version=157, max_version=178)
        session, transport = Session(backend), RecordingTransport()
        session.connection_made(transport)
        session.data_received(MAGIC)
        session.data_received(client_hello(157, 178)[len(MAGIC):])
        session.data_received(pack(["71", "2", "1", ""]))
        return transport.writes

    first, second = asyncio.run(run())
    assert message_ids(first) == ["178"]  # the server hello: version, connection time
    assert message_ids(second) == ["15", "9", "4", "4", "4"]  # accounts, next id, three farm notices


def test_requests_arriving_together_are_answered_in_order_in_one_write() -> None:
    async def run() -> list[bytes]:
        _, session, transport = ready_session()
        session.data_received(pack(["61", "1"]) + pack(["6", "2", "1", ACCOUNT]) + pack(["5", "1"]))
        return transport.writes

    [answer] = asyncio.run(run())
    ids = message_ids(answer)
    assert ids[:2] == ["62", "6"] and ids[-3:] == ["8", "54", "53"]  # positionEnd, values.., time, end, openOrderEnd
    assert set(ids[2:-3]) == {"6"}


def test_a_push_outside_an_answer_is_written_by_the_end_of_the_loop_turn() -> None:
    async def run() -> tuple[int, list[bytes]]:
        backend, session, transport = ready_session()
        session.data_received(pack(["92", "7", ACCOUNT, ""]))  # reqPnL: answered at once
        transport.writes.clear()
        backend.set_pnl(ACCOUNT, -1.0, 2.0, 3.0)
        backend.broadcast_error(1100, "Connectivity between IB and Trader Workstation has been lost.")
        queued = len(transport.writes)
        await asyncio.sleep(0)
        return queued, transport.writes

    queued, writes = asyncio.run(run())
    assert queued == 0
    [pushed] = writes
    assert [split_fields(p) for p in FrameReader().feed(pushed)] == [
        ["94", "7", "-1.0", "2.0", "3.0"],
        ["4", "2", "-1", "1100", "Connectivity between IB and Trader Workstation has been lost.", ""],
    ]


def test_close_writes_what_is_queued_first() -> None:
    async def run() -> RecordingTransport:
        backend = Backend(World(), min_version=157, max_version=178)
        backend.occupy_client_id(1)
        session, transport = Session(backend), RecordingTransport()
        session.connection_made(transport)
        session.data_received(client_hello(157, 178) + pack(["71", "2", "1", ""]))
        return transport

    transport = asyncio.run(run())
    assert message_ids(b"".join(transport.writes)) == ["178", "4"] and transport.closed  # error 326, then closed
    assert "326" in split_fields(FrameReader().feed(transport.writes[-1])[-1])


def test_answer_delay_holds_later_requests_back_without_reordering() -> None:
    async def run() -> list[bytes]:
        backend, session, transport = ready_session()
        backend.set_faults(answer_delay=0.01)
        session.data_received(pack(["61", "1"]))
        session.data_received(pack(["5", "1"]))
        assert transport.writes == []
        for _ in range(200):
            if len(message_ids(b"".join(transport.writes))) == 2:
                break
            await asyncio.sleep(0.01)
        return transport.writes

    assert message_ids(b"".join(asyncio.run(run()))) == ["62", "53"]


def test_a_long_answer_goes_out_in_bounded_writes() -> None:
    now = clock.now()
    world = World(session_open=always_open)
    world.executions = [
        Execution(f"e{i:06d}", i, 10_000 + i, 1, ACCOUNT, "AAPL", "BOT", 1, 190.0, now) for i in range(2000)
    ]

    async def run() -> list[bytes]:
        _, session, transport = ready_session(world)
        session.data_received(pack(["7", "3", "9", "0", "", "", "", "", "", "", ""]))
        return transport.writes

    writes = asyncio.run(run())
    assert len(writes) > 1
    assert all(FLUSH_AT_BYTES <= len(w) < FLUSH_AT_BYTES + 1024 for w in writes[:-1])
    ids = message_ids(b"".join(writes))
    assert ids == ["11", "59"] * 2000 + ["55"]
