"""The fake IB Gateway: an asyncio TCP server speaking the TWS socket protocol, run in a daemon thread.

`FakeGateway` is the test-thread face (lifecycle, world knobs, fault knobs, records); `session.Session` is
one client connection on the server's event loop. Server-thread problems are recorded, never raised there;
`check()` raises them in the test thread.
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
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from . import encoder
from .exchange import Event, Exchange
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


@dataclass(frozen=True, slots=True)
class Faults:
    """Fault knobs. answer_delay: seconds before each answer after startApi; drop_mid_sync: close the socket
    on the first sync request; silent_handshake: accept TCP, read the hello, never answer; silent_pnl: accept
    reqPnL subscriptions but never send a pnl message."""

    answer_delay: float = 0.0
    drop_mid_sync: bool = False
    silent_handshake: bool = False
    silent_pnl: bool = False


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
        self._world = copy.deepcopy(self._initial_world)
        self._exchange = Exchange(self._world)
        self._faults = Faults()
        self._occupied_client_ids: set[int] = set()
        self._daily_restart: tuple[time, float] | None = None
        self._last_tick_at: datetime | None = None
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._orders: list[ReceivedOrder] = []
        self._unexpected: list[UnexpectedMessage] = []
        self._problems: list[str] = []
        self._sessions: set[Session] = set()
        self._by_client_id: dict[int, Session] = {}
        self._conn_seq = 0
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
            self._world = copy.deepcopy(self._initial_world)
            self._exchange = Exchange(self._world)
            self._faults = Faults()
            self._occupied_client_ids.clear()
            self._daily_restart = None
            with self._lock:
                self._requests.clear()
                self._orders.clear()
                self._unexpected.clear()
                self._problems.clear()
            if drop_connections:
                self._close_sessions()

        self._call(do_reset)

    # -- records (test thread) ---------------------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_named(self, name: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.name == name]

    @property
    def orders_received(self) -> list[ReceivedOrder]:
        with self._lock:
            return [replace(o, error_codes=list(o.error_codes)) for o in self._orders]

    @property
    def unexpected(self) -> list[UnexpectedMessage]:
        with self._lock:
            return list(self._unexpected)

    @property
    def problems(self) -> list[str]:
        with self._lock:
            return list(self._problems)

    def check(self, *, allow_unexpected: bool = False) -> None:
        """Raise FakeGatewayError for what went wrong in the server thread (pytest-httpserver style)."""
        with self._lock:
            problems = list(self._problems)
            unexpected = [] if allow_unexpected else list(self._unexpected)
        if problems or unexpected:
            lines = [f"problem: {p}" for p in problems]
            lines += [
                f"unexpected message {u.msg_id} from conn {u.conn_id} (client {u.client_id}): {u.reason}; "
                f"fields={list(u.fields)[:12]}"
                for u in unexpected
            ]
            raise FakeGatewayError("fake gateway recorded:\n" + "\n".join(lines))

    def clear_records(self) -> None:
        with self._lock:
            self._requests.clear()
            self._orders.clear()
            self._unexpected.clear()
            self._problems.clear()

    @property
    def connected_client_ids(self) -> list[int]:
        return self._call(lambda: sorted(self._by_client_id))

    @property
    def connection_count(self) -> int:
        return self._call(lambda: len(self._sessions))

    # -- world knobs -------------------------------------------------------------------------------------
    @property
    def world(self) -> World:
        """A snapshot (deep copy) of the current world."""
        return self._call(lambda: copy.deepcopy(self._world))

    def update_world(self, change: Callable[[World], T]) -> T:
        """Run `change(world)` on the server thread (the only place the world may change), then re-match."""

        def do() -> T:
            before = self._world.clock.now()
            result = change(self._world)
            self._check_daily_restart(before)
            self._rematch()
            return result

        return self._call(do)

    def now(self) -> datetime:
        return self._call(lambda: self._world.clock.now())

    def set_clock(self, instant: datetime) -> None:
        self.update_world(lambda w: w.clock.set(instant))

    def advance_clock(self, by: timedelta | float) -> None:
        """Jump the simulated clock forward; resting orders fill if the session is now open."""
        self.update_world(lambda w: w.clock.advance(by))

    def set_price(self, symbol: str, price: float) -> None:
        self.update_world(lambda w: w.prices.__setitem__(symbol, float(price)))

    def set_pnl(
        self,
        account_id: str,
        *,
        daily_pnl: float | None = 0.0,
        unrealized_pnl: float | None = 0.0,
        realized_pnl: float | None = 0.0,
    ) -> None:
        """Set an account's P&L (None: unset) and push it to every live reqPnL subscription for it."""

        def do() -> None:
            account = self._world.account(account_id)
            if account is None:
                raise KeyError(f"no account {account_id!r} in the world")
            account.daily_pnl, account.unrealized_pnl, account.realized_pnl = daily_pnl, unrealized_pnl, realized_pnl
            for session in list(self._sessions):
                session.push_pnl(account_id)

        self._call(do)

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
        return self._faults

    def set_faults(self, **changes: Any) -> Faults:
        """e.g. `set_faults(answer_delay=2.0)`, `drop_mid_sync=True` or `silent_handshake=True`."""

        def do() -> Faults:
            self._faults = replace(self._faults, **changes)
            return self._faults

        return self._call(do)

    def clear_faults(self) -> None:
        self._call(lambda: setattr(self, "_faults", Faults()))

    def occupy_client_id(self, client_id: int) -> None:
        """Pretend another client holds this id: a startApi with it gets error 326 and a closed socket."""
        self._call(lambda: self._occupied_client_ids.add(int(client_id)))

    def release_client_id(self, client_id: int) -> None:
        self._call(lambda: self._occupied_client_ids.discard(int(client_id)))

    def drop_connections(self) -> None:
        """Close every client socket now; keep listening."""
        self._call(self._close_sessions)

    def restart(self, down_for: float = 1.0) -> None:
        """The daily restart: close every socket, refuse connections for `down_for` s, then accept again.

        Returns once the gateway is down; `wait_up()` waits for it to come back. State is kept.
        """
        self._call(lambda: self._begin_restart(down_for))

    def schedule_daily_restart(self, at: time, down_for: float = 1.0) -> None:
        """Restart whenever the simulated clock passes `at` (America/New_York), like IBC's AutoRestartTime."""

        def do() -> None:
            self._daily_restart = (at, down_for)
            self._last_tick_at = self._world.clock.now()

        self._call(do)

    def connectivity_lost(self) -> None:
        """Error 1100 to every ready client; sockets stay open."""
        self._call(lambda: self._broadcast_error(1100, CONNECTIVITY_LOST_TEXT))

    def connectivity_restored(self, data_lost: bool = False) -> None:
        """Error 1102 (or 1101 when data was lost) to every ready client."""
        code, text = (
            (1101, CONNECTIVITY_RESTORED_LOST_TEXT) if data_lost else (1102, CONNECTIVITY_RESTORED_TEXT)
        )
        self._call(lambda: self._broadcast_error(code, text))

    def connectivity_blip(self, restored_after: float = 0.2, data_lost: bool = False) -> None:
        """1100 now, 1102 (or 1101) after `restored_after` seconds; returns at once."""
        self.connectivity_lost()
        code, text = (
            (1101, CONNECTIVITY_RESTORED_LOST_TEXT) if data_lost else (1102, CONNECTIVITY_RESTORED_TEXT)
        )
        self._call(
            lambda: self._loop.call_later(  # type: ignore[union-attr]
                restored_after, self._guard, self._broadcast_error, code, text
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
            self._record_problem(traceback.format_exc())

    async def _listen(self) -> None:
        assert self._loop is not None
        self._server = await self._loop.create_server(lambda: Session(self), self.host, self.port)
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
        """Real time moves the simulated clock too: re-match resting orders and check the daily restart."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._guard(self._tick)

    def _tick(self) -> None:
        self._check_daily_restart()
        if self._exchange.has_resting():
            self._deliver(self._exchange.match_resting())

    def _check_daily_restart(self, previous: datetime | None = None) -> None:
        """Restart if the simulated clock passed the daily restart time since the last look."""
        now = self._world.clock.now()
        previous = previous or self._last_tick_at
        self._last_tick_at = now
        if self._daily_restart is None or previous is None:
            return
        at, down_for = self._daily_restart
        restart_at = datetime.combine(now.astimezone(NEW_YORK).date(), at, tzinfo=NEW_YORK)
        if previous < restart_at <= now and self._up.is_set():
            self._begin_restart(down_for)

    def _rematch(self) -> None:
        self._exchange.world = self._world
        self._deliver(self._exchange.match_resting())

    async def _shutdown(self) -> None:
        if self._tick_task is not None:
            self._tick_task.cancel()
        self._close_sessions()
        if self._server is not None:
            self._server.close()
            self._server = None
        self._up.clear()

    def _close_sessions(self) -> None:
        for session in list(self._sessions):
            session.close()

    def _begin_restart(self, down_for: float) -> None:
        self._up.clear()
        self._close_sessions()
        if self._server is not None:
            self._server.close()
            self._server = None
        assert self._loop is not None
        self._loop.call_later(down_for, lambda: self._loop.create_task(self._come_back()))  # type: ignore

    async def _come_back(self) -> None:
        for _ in range(100):  # the port is ours; a bind failure is a brief OS delay, retry a little
            try:
                await self._listen()
                return
            except OSError as exc:
                last = exc
                await asyncio.sleep(0.05)
        self._record_problem(f"could not listen again on {self.host}:{self.port} after a restart: {last}")

    def _broadcast_error(self, code: int, text: str) -> None:
        for session in list(self._by_client_id.values()):
            session.send(encoder.error(session.server_version, -1, code, text))

    def _deliver(self, events: list[Event]) -> None:
        """Turn exchange events into messages for the session holding each order's client id."""
        for event in events:
            outcome = (
                self._exchange.outcomes.get((event.client_id, event.order.order_id)) if event.order else None
            )
            if event.order is not None:
                self._update_order_record(event.client_id, event.order.order_id, outcome, event.order.perm_id)
            if event.kind == "error":
                self._note_order_error(event.client_id, event.req_id, event.code)
            session = self._by_client_id.get(event.client_id)
            if session is not None:
                session.send(self._encode_event(session.server_version, event))
            if event.kind == "commission" and event.execution is not None:
                for subscriber in list(self._by_client_id.values()):
                    subscriber.push_fill(event.execution.account, event.execution.symbol)

    @staticmethod
    def _encode_event(server_version: int, event: Event) -> list[str]:
        if event.kind == "open_order" and event.order is not None:
            return encoder.open_order(server_version, event.order)
        if event.kind == "order_status" and event.order is not None:
            return encoder.order_status(event.order, event.last_fill_price)
        if event.kind == "execution" and event.execution is not None:
            return encoder.exec_details(server_version, -1, event.execution)
        if event.kind == "commission" and event.execution is not None:
            return encoder.commission_report(event.execution, event.execution.currency)
        return encoder.error(server_version, event.req_id, event.code, event.text)

    # -- recording ---------------------------------------------------------------------------------------
    def _record_problem(self, text: str) -> None:
        with self._lock:
            self._problems.append(text)

    def _record_request(self, record: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(record)

    def _record_unexpected(self, record: UnexpectedMessage) -> None:
        with self._lock:
            self._unexpected.append(record)

    def _record_order(self, order: ReceivedOrder) -> None:
        with self._lock:
            self._orders.append(order)

    def _update_order_record(self, client_id: int, order_id: int, outcome: str | None, perm_id: int) -> None:
        with self._lock:
            for order in reversed(self._orders):
                if order.client_id == client_id and order.order_id == order_id:
                    order.perm_id = perm_id or order.perm_id
                    if outcome:
                        order.outcome = outcome
                    return

    def _note_order_error(self, client_id: int, order_id: int, code: int) -> None:
        outcome = self._exchange.outcomes.get((client_id, order_id))
        with self._lock:
            for order in reversed(self._orders):
                if order.client_id == client_id and order.order_id == order_id:
                    order.error_codes.append(code)
                    if outcome:
                        order.outcome = outcome
                    return

    def _next_conn_id(self) -> int:
        self._conn_seq += 1
        return self._conn_seq
