"""The fake IB Gateway: an asyncio TCP server speaking the TWS socket protocol, run in a daemon thread.

`FakeGateway` is the test-thread face (lifecycle, world knobs, fault knobs, records) and owns the listener,
the loop thread, the ticking clock and restarts; `backend.Backend` is the state every connection shares;
`session.Session` is one client connection, which talks to the backend only. Imports run one way:
server -> session, server -> backend. Server-thread problems are recorded, never raised there; `check()`
raises them in the test thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ipaddress
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from .backend import Backend
from .faults import Faults
from .framing import FrameReader, client_hello, split_fields
from .records import FakeGatewayError, ReceivedOrder, RecordedRequest, UnexpectedMessage
from .session import Session
from .world import NEW_YORK, SessionRule, World

MIN_SERVER_VERSION = 157
MAX_SERVER_VERSION = 178
START_TIMEOUT = 5.0
CALL_TIMEOUT = 10.0
TICK_SECONDS = 0.05

CONNECTIVITY_LOST_TEXT = "Connectivity between IB and Trader Workstation has been lost."
CONNECTIVITY_RESTORED_TEXT = (
    "Connectivity between IB and Trader Workstation has been restored - data maintained. "
    "All data farms are connected: usfarm; ushmds; secdefnj."
)
CONNECTIVITY_RESTORED_LOST_TEXT = (
    "Connectivity between IB and Trader Workstation has been restored - data lost."
)

T = TypeVar("T")


def require_loopback(host: str) -> str:
    """The fake never binds anything but loopback: `localhost`, 127.x.x.x or ::1."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"the fake gateway binds loopback only (127.0.0.1, ::1 or localhost), not {host!r}")


class FakeGateway:
    """A fake IB Gateway on a loopback port. `start()`/`stop()` or `with FakeGateway(world) as gw:`."""

    def __init__(
        self,
        world: World | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        min_version: int = MIN_SERVER_VERSION,
        max_version: int = MAX_SERVER_VERSION,
    ) -> None:
        self.host = require_loopback(host)
        self.port = port
        self.min_version, self.max_version = min_version, max_version
        self._initial_world = copy.deepcopy(world if world is not None else World())
        self._backend = Backend(
            copy.deepcopy(self._initial_world), min_version=min_version, max_version=max_version
        )
        self._records = self._backend.records  # thread-safe: read here, written on the loop
        self._daily_restart: tuple[time, float] | None = None
        self._last_tick_at: datetime | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._tick_task: asyncio.Task[None] | None = None
        self._up = threading.Event()

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> FakeGateway:
        """Bind, serve in a daemon thread, return once a real version handshake against itself succeeded."""
        if self._thread is not None:
            raise RuntimeError("fake gateway already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"fake-tws:{self.port}", daemon=True
        )
        self._thread.start()
        try:
            if self._initial_world.instruments:  # a strategy bot's world: its first market request is not slower
                from harness.core import clock
                from harness.fakes.tws import market

                market.warm_up(clock.now())
            self._call(self._listen, timeout=START_TIMEOUT)
            self._call(self._start_ticking)
            self._self_check()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Close every connection and the listener, stop the loop thread. Safe to call twice."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                self._call(self._shutdown, timeout=START_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT)
        if not thread.is_alive():
            loop.close()
        self._loop = self._thread = None
        self._up.clear()

    def __enter__(self) -> FakeGateway:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    @property
    def is_up(self) -> bool:
        """True while the listener accepts connections (False during a restart)."""
        return self._up.is_set()

    def wait_up(self, timeout: float = 5.0) -> bool:
        return self._up.wait(timeout)

    def reset(self, *, drop_connections: bool = False) -> None:
        """Restore the initial world; clear records, faults, occupied client ids and the daily restart."""

        def do_reset() -> None:
            self._backend.reset(copy.deepcopy(self._initial_world))
            self._daily_restart = None
            if drop_connections:
                self._backend.close_sessions()

        self._call(do_reset)

    # -- records (test thread) ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        return self._records.requests()

    def requests_named(self, name: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.name == name]

    @property
    def orders_received(self) -> list[ReceivedOrder]:
        return self._records.orders()

    @property
    def unexpected(self) -> list[UnexpectedMessage]:
        return self._records.unexpected()

    @property
    def problems(self) -> list[str]:
        return self._records.problems()

    def check(self, *, allow_unexpected: bool = False) -> None:
        """Raise FakeGatewayError for what went wrong in the server thread (pytest-httpserver style)."""
        problems = self._records.problems()
        unexpected = [] if allow_unexpected else self._records.unexpected()
        if problems or unexpected:
            lines = [f"problem: {p}" for p in problems]
            lines += [
                f"unexpected message {u.msg_id} from conn {u.conn_id} (client {u.client_id}): {u.reason}; "
                f"fields={list(u.fields)[:12]}"
                for u in unexpected
            ]
            raise FakeGatewayError("fake gateway recorded:\n" + "\n".join(lines))

    def clear_records(self) -> None:
        self._records.clear()

    @property
    def connected_client_ids(self) -> list[int]:
        return self._call(lambda: self._backend.client_ids)

    @property
    def connection_count(self) -> int:
        return self._call(lambda: self._backend.session_count)

    # -- world knobs -------------------------------------------------------------------------------------
    @property
    def world(self) -> World:
        """A snapshot (deep copy) of the current world."""
        return self._call(lambda: copy.deepcopy(self._backend.world))

    def update_world(self, change: Callable[[World], T]) -> T:
        """Run `change(world)` on the server thread (the only place the world may change), then re-match."""

        def do() -> T:
            before = self._backend.now()
            result = change(self._backend.world)
            self._check_daily_restart(before)
            self._backend.match_resting()
            return result

        return self._call(do)

    def now(self) -> datetime:
        return self._call(self._backend.now)

    def set_clock(self, instant: datetime) -> None:
        self.update_world(lambda w: w.clock.set(instant))

    def advance_clock(self, by: timedelta | float) -> None:
        """Jump the simulated clock forward; resting orders fill if the session is now open."""
        self.update_world(lambda w: w.clock.advance(by))

    def set_price(self, symbol: str, price: float) -> None:
        """Hold a symbol's price (fills, market data and bars show it flat) until `follow_path(symbol)`."""
        self.update_world(lambda w: w.prices.__setitem__(symbol, float(price)))

    def follow_path(self, symbol: str) -> None:
        """Let a held symbol follow its seeded path again (a symbol named in the world's [[symbols]])."""
        self.update_world(lambda w: w.prices.pop(symbol, None))

    def set_pnl(
        self,
        account_id: str,
        *,
        daily_pnl: float | None = 0.0,
        unrealized_pnl: float | None = 0.0,
        realized_pnl: float | None = 0.0,
    ) -> None:
        """Set an account's P&L (None: unset) and push it to every live reqPnL subscription for it."""

        self._call(self._backend.set_pnl, account_id, daily_pnl, unrealized_pnl, realized_pnl)

    def set_session_rule(self, rule: SessionRule) -> None:
        """Plug in "is the regular session open at this instant?" (e.g. an exchange-calendar-aware rule)."""

        def do(w: World) -> None:
            w.session_open = rule

        self.update_world(do)

    def set_read_only(self, read_only: bool = True) -> None:
        def do(w: World) -> None:
            w.read_only = read_only

        self.update_world(do)

    # -- faults ------------------------------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        return self._backend.faults

    def set_faults(self, **changes: Any) -> Faults:
        """e.g. `set_faults(answer_delay=2.0)`, `drop_mid_sync=True` or `silent_handshake=True`."""
        return self._call(lambda: self._backend.set_faults(**changes))

    def clear_faults(self) -> None:
        self._call(self._backend.clear_faults)

    def occupy_client_id(self, client_id: int) -> None:
        """Pretend another client holds this id: a startApi with it gets error 326 and a closed socket."""
        self._call(self._backend.occupy_client_id, int(client_id))

    def release_client_id(self, client_id: int) -> None:
        self._call(self._backend.release_client_id, int(client_id))

    def drop_connections(self) -> None:
        """Close every client socket now; keep listening."""
        self._call(self._backend.close_sessions)

    def restart(self, down_for: float = 1.0) -> None:
        """The daily restart: close every socket, refuse connections for `down_for` s, then accept again.

        Returns once the gateway is down; `wait_up()` waits for it to come back. State is kept.
        """
        self._call(lambda: self._begin_restart(down_for))

    def go_down(self) -> None:
        """A restart with no end of its own (IB Gateway's restart, or a weekly re-login nobody has done yet):
        close every socket and refuse connections until `come_up()`. State is kept. Returns once it is down."""
        self._call(lambda: self._begin_restart(None))

    def come_up(self, timeout: float = START_TIMEOUT) -> bool:
        """Accept connections again after `go_down()` (or at once, ending a `restart`'s wait early); True once the
        gateway listens."""
        if not self._up.is_set():
            self._call(self._come_back, timeout=timeout)
        return self._up.wait(timeout)

    def schedule_daily_restart(self, at: time, down_for: float = 1.0) -> None:
        """Restart whenever the simulated clock passes `at` (America/New_York), like IBC's AutoRestartTime."""

        def do() -> None:
            self._daily_restart = (at, down_for)
            self._last_tick_at = self._backend.now()

        self._call(do)

    def connectivity_lost(self) -> None:
        """Error 1100 to every ready client; sockets stay open."""
        self._call(lambda: self._backend.broadcast_error(1100, CONNECTIVITY_LOST_TEXT))

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """Error 1102 (or 1101 when data was lost) to every ready client."""
        code, text = (
            (1101, CONNECTIVITY_RESTORED_LOST_TEXT) if data_lost else (1102, CONNECTIVITY_RESTORED_TEXT)
        )
        self._call(lambda: self._backend.broadcast_error(code, text))

    def connectivity_blip(self, restored_after: float = 0.2, data_lost: bool = False) -> None:
        """1100 now, 1102 (or 1101) after `restored_after` seconds; returns at once."""
        self.connectivity_lost()
        code, text = (
            (1101, CONNECTIVITY_RESTORED_LOST_TEXT) if data_lost else (1102, CONNECTIVITY_RESTORED_TEXT)
        )
        self._call(
            lambda: self._loop.call_later(  # type: ignore[union-attr]
                restored_after, self._guard, self._backend.broadcast_error, code, text
            )
        )

    # -- server-thread internals -------------------------------------------------------------------------
    def _call(self, fn: Callable[..., T], *args: Any, timeout: float = CALL_TIMEOUT) -> T:
        """Run fn on the loop thread and return its result (awaiting it if it is a coroutine function)."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("fake gateway is not running: call start() first")
        if threading.current_thread() is self._thread:
            return fn(*args)

        async def invoke() -> T:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), loop).result(timeout)

    def _guard(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            self._records.problem(traceback.format_exc())

    async def _listen(self) -> None:
        assert self._loop is not None
        self._server = await self._loop.create_server(lambda: Session(self._backend), self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._up.set()

    def _self_check(self) -> None:
        """A real version handshake against the just-bound port (the readiness check)."""
        with socket.create_connection((self.host, self.port), timeout=START_TIMEOUT) as probe:
            probe.settimeout(START_TIMEOUT)
            probe.sendall(client_hello(self.min_version, self.max_version))
            reader = FrameReader()
            payloads: list[bytes] = []
            while not payloads:
                data = probe.recv(4096)
                if not data:
                    raise FakeGatewayError(
                        "fake gateway closed its self-check connection during the handshake"
                    )
                payloads = reader.feed(data)
            fields = split_fields(payloads[0])
            if len(fields) != 2 or not fields[0].isdigit():
                raise FakeGatewayError(f"fake gateway self-check got an unexpected hello: {fields}")

    def _start_ticking(self) -> None:
        assert self._loop is not None
        self._tick_task = self._loop.create_task(self._tick_forever())

    async def _tick_forever(self) -> None:
        """Real time moves the simulated clock too: re-match resting orders, check the daily restart, stream market
        data."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._guard(self._tick)

    def _tick(self) -> None:
        self._check_daily_restart()
        if self._backend.has_resting_orders:
            self._backend.match_resting()
        self._backend.push_market_data()

    def _check_daily_restart(self, previous: datetime | None = None) -> None:
        """Restart if the simulated clock passed the daily restart time since the last look."""
        now = self._backend.now()
        previous = previous or self._last_tick_at
        self._last_tick_at = now
        if self._daily_restart is None or previous is None:
            return
        at, down_for = self._daily_restart
        restart_at = datetime.combine(now.astimezone(NEW_YORK).date(), at, tzinfo=NEW_YORK)
        if previous < restart_at <= now and self._up.is_set():
            self._begin_restart(down_for)

    async def _shutdown(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        self._backend.close_sessions()
        if self._server is not None:
            self._server.close()
            self._server = None
        self._up.clear()

    def _begin_restart(self, down_for: float | None) -> None:
        self._up.clear()
        self._backend.close_sessions()
        if self._server is not None:
            self._server.close()
            self._server = None
        assert self._loop is not None
        if down_for is not None:  # None: down until come_up()
            self._loop.call_later(down_for, lambda: self._loop.create_task(self._come_back()))  # type: ignore

    async def _come_back(self) -> None:
        if self._server is not None:  # already back (come_up() before a restart's own timer)
            return
        for _ in range(100):  # the port is ours; a bind failure is a brief OS delay, retry a little
            try:
                await self._listen()
                return
            except OSError as exc:
                last = exc
                await asyncio.sleep(0.05)
        self._records.problem(f"could not listen again on {self.host}:{self.port} after a restart: {last}")
