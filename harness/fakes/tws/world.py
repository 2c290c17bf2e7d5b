"""The fake gateway's world: accounts, positions, orders, executions, instruments, prices, the clock, the session rule.

Declarative dataclasses plus a TOML loader. The server mutates a World only on its own event-loop thread. A symbol's
price is held (`[prices]`, `set_price`) or follows its seeded path (`[[symbols]]`, `[market]`; see market.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from harness.core import clock

from . import hours
from .market import DEFAULT_ANCHOR, DEFAULT_VOLATILITY, Instrument, MarketSettings
from .path import PathSpec, price_at

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_OPEN = time(9, 30)
REGULAR_CLOSE = time(16, 0)
EXTENDED_OPEN = time(4, 0)
EXTENDED_CLOSE = time(20, 0)

# "Is the market session open at this instant?" Another module supplies exchange-calendar facts through this.
SessionRule = Callable[[datetime], bool]


def regular_hours(instant: datetime) -> bool:
    """Mon-Fri 09:30-16:00 America/New_York; no holidays (plug a calendar-aware rule in for those)."""
    local = instant.astimezone(NEW_YORK)
    return local.weekday() < 5 and REGULAR_OPEN <= local.time() < REGULAR_CLOSE


def extended_hours(instant: datetime) -> bool:
    """Mon-Fri 04:00-20:00 America/New_York: where outsideRth limit orders may still fill."""
    local = instant.astimezone(NEW_YORK)
    return local.weekday() < 5 and EXTENDED_OPEN <= local.time() < EXTENDED_CLOSE


def always_open(instant: datetime) -> bool:
    return True


def always_closed(instant: datetime) -> bool:
    return False


SESSION_RULES: dict[str, SessionRule] = {
    "regular-hours": regular_hours,
    "always-open": always_open,
    "always-closed": always_closed,
    "nyse": hours.is_regular_open,  # the NYSE calendar: holidays and early closes
}


class SimulatedClock:
    """A clock that runs at real speed from a settable instant; `advance` jumps it forward.

    Default: real now. Always timezone-aware; shown in America/New_York.
    """

    def __init__(self, start: datetime | None = None, *, wall: Callable[[], datetime] | None = None) -> None:
        self._wall = wall or clock.now
        self._offset = timedelta(0)
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        return (self._wall() + self._offset).astimezone(NEW_YORK)

    def set(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=NEW_YORK)
        self._offset = instant - self._wall()

    def advance(self, by: timedelta | float) -> None:
        self._offset += by if isinstance(by, timedelta) else timedelta(seconds=by)


def stable_con_id(symbol: str) -> int:
    """A contract id that is the same for a symbol in every run (real ids are IB's; any stable int works)."""
    return 100_000 + zlib.crc32(symbol.encode("utf-8")) % 900_000_000


@dataclass
class Account:
    account_id: str
    cash: float = 1_000_000.0
    buying_power: float | None = None  # None: equal to cash (a cash account)
    currency: str = "USD"
    account_type: str = "INDIVIDUAL"
    # What reqPnL reports for the account (None: unset, sent as TWS's UNSET_DOUBLE).
    daily_pnl: float | None = 0.0
    unrealized_pnl: float | None = 0.0
    realized_pnl: float | None = 0.0

    def effective_buying_power(self) -> float:
        return self.cash if self.buying_power is None else self.buying_power


@dataclass
class Position:
    account: str
    symbol: str
    quantity: float
    avg_cost: float
    sec_type: str = "STK"
    currency: str = "USD"
    primary_exchange: str = ""
    con_id: int = 0

    def __post_init__(self) -> None:
        self.con_id = self.con_id or stable_con_id(self.symbol)


@dataclass
class OrderRecord:
    """An order in the book (open) or done (completed). `status` uses TWS words: Submitted, Filled..."""

    order_id: int
    perm_id: int
    client_id: int
    account: str
    symbol: str
    action: str  # BUY / SELL
    quantity: float
    order_type: str = "LMT"
    limit_price: float | None = None
    aux_price: float | None = None
    tif: str = "DAY"
    outside_rth: bool = False
    order_ref: str = ""
    status: str = "Submitted"
    filled: float = 0.0
    avg_fill_price: float = 0.0
    sec_type: str = "STK"
    currency: str = "USD"
    exchange: str = "SMART"
    con_id: int = 0
    placed_at: datetime | None = None
    completed_at: datetime | None = None
    completed_status: str = ""
    cancel_rejected: bool = False  # a knob: every cancel (its own or a global one) is refused; it stays open

    def __post_init__(self) -> None:
        self.con_id = self.con_id or stable_con_id(self.symbol)

    @property
    def remaining(self) -> float:
        return self.quantity - self.filled


@dataclass
class Execution:
    exec_id: str
    order_id: int
    perm_id: int
    client_id: int
    account: str
    symbol: str
    side: str  # BOT / SLD
    shares: float
    price: float
    time: datetime
    commission: float = 1.0
    order_ref: str = ""
    exchange: str = "ISLAND"
    sec_type: str = "STK"
    currency: str = "USD"
    con_id: int = 0
    cum_qty: float = 0.0
    avg_price: float = 0.0

    def __post_init__(self) -> None:
        self.con_id = self.con_id or stable_con_id(self.symbol)
        self.cum_qty = self.cum_qty or self.shares
        self.avg_price = self.avg_price or self.price


@dataclass
class World:
    accounts: list[Account] = field(default_factory=lambda: [Account("DU1234567")])
    trading_mode: str = "paper"  # informational: what the gateway was logged into
    positions: list[Position] = field(default_factory=list)
    open_orders: list[OrderRecord] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    completed_orders: list[OrderRecord] = field(default_factory=list)
    prices: dict[str, float] = field(default_factory=dict)
    clock: SimulatedClock = field(default_factory=SimulatedClock)
    session_open: SessionRule = regular_hours
    extended_session_open: SessionRule = extended_hours
    read_only: bool = False  # the gateway's "Read-Only API" setting
    next_order_id: int = 1
    next_perm_id: int = 1_000_001
    commission_per_share: float = 0.005
    min_commission: float = 1.0
    instruments: dict[str, Instrument] = field(default_factory=dict)  # [[symbols]]: contract details and paths
    market: MarketSettings = field(default_factory=MarketSettings)

    @property
    def account_ids(self) -> list[str]:
        return [account.account_id for account in self.accounts]

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    def position(self, account_id: str, symbol: str) -> Position | None:
        return next((p for p in self.positions if p.account == account_id and p.symbol == symbol), None)

    def market_value(self, account_id: str) -> float:
        return sum(
            p.quantity * self.price_of(p.symbol, p.avg_cost)
            for p in self.positions
            if p.account == account_id
        )

    def net_liquidation(self, account_id: str) -> float:
        account = self.account(account_id)
        return (account.cash if account else 0.0) + self.market_value(account_id)

    def price_of(self, symbol: str, fallback: float) -> float:
        found = self.price(symbol)
        return fallback if found is None else found

    def path(self, symbol: str) -> PathSpec | None:
        """The symbol's price path: flat at a held price, the seeded walk of a named instrument, else None."""
        instrument = self.instruments.get(symbol)
        held = self.prices.get(symbol)
        if held is None and instrument is None:
            return None
        market = self.market
        daily_volume = instrument.daily_volume if instrument else 1_000_000.0
        if held is not None:
            return PathSpec(symbol, market.seed, float(held), 0.0, market.anchor, daily_volume)
        assert instrument is not None
        volatility = market.volatility if instrument.volatility is None else instrument.volatility
        return PathSpec(symbol, market.seed, instrument.price, volatility, market.anchor, daily_volume)

    def price(self, symbol: str, at: datetime | None = None) -> float | None:
        """The market price now (or at `at`): a held price, else the path's, rounded to the tick; None if unknown."""
        held = self.prices.get(symbol)
        if held is not None:
            return held
        spec = self.path(symbol)
        if spec is None:
            return None
        instrument = self.instruments[symbol]
        return instrument.round(price_at(spec, at or self.clock.now()))

    def instrument(self, symbol: str) -> Instrument | None:
        """A named instrument; a symbol the world only prices or holds gets a plain NASDAQ stock of its own."""
        found = self.instruments.get(symbol)
        if found is not None:
            return found
        held = self.prices.get(symbol)
        if held is None and not any(p.symbol == symbol for p in self.positions):
            return None
        return Instrument(symbol, stable_con_id(symbol), float(held or 0.0))

    def con_id_of(self, symbol: str) -> int:
        found = self.instruments.get(symbol)
        return found.con_id if found is not None else stable_con_id(symbol)

    def align_con_ids(self) -> None:
        """Positions, orders and executions of a named instrument carry its contract id (not the stand-in one)."""
        for record in (*self.positions, *self.open_orders, *self.completed_orders, *self.executions):
            found = self.instruments.get(record.symbol)
            if found is not None and record.con_id == stable_con_id(record.symbol):
                record.con_id = found.con_id

    def commission_for(self, shares: float) -> float:
        return round(max(self.min_commission, abs(shares) * self.commission_per_share), 2)


def _instant(value: Any) -> datetime:
    """TOML datetimes, or ISO text; naive values are New York time (the gateway's zone)."""
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return instant if instant.tzinfo else instant.replace(tzinfo=NEW_YORK)


def _optional_float(table: dict[str, Any], key: str, default: float = 0.0) -> float | None:
    """A P&L key: absent -> `default`; the string "unset" -> None (reported as TWS's UNSET_DOUBLE)."""
    value = table.get(key, default)
    return None if isinstance(value, str) and value.strip().lower() == "unset" else float(value)


def world_from_dict(data: dict[str, Any]) -> World:
    """Build a World from parsed TOML (see worlds/paper.toml for every key)."""
    accounts = [
        Account(
            account_id=str(a["id"]),
            cash=float(a.get("cash", 1_000_000.0)),
            buying_power=None if a.get("buying_power") is None else float(a["buying_power"]),
            currency=str(a.get("currency", "USD")),
            account_type=str(a.get("account_type", "INDIVIDUAL")),
            daily_pnl=_optional_float(a, "daily_pnl"),
            unrealized_pnl=_optional_float(a, "unrealized_pnl"),
            realized_pnl=_optional_float(a, "realized_pnl"),
        )
        for a in data.get("accounts", [])
    ]
    if not accounts:
        raise ValueError("a world needs at least one account ([[accounts]] id = ...)")
    default_account = accounts[0].account_id
    session_name = str(data.get("session", "regular-hours"))
    if session_name not in SESSION_RULES:
        raise ValueError(f"unknown session rule {session_name!r}; one of {sorted(SESSION_RULES)}")
    clock = SimulatedClock(_instant(data["clock"]) if "clock" in data else None)
    market = data.get("market", {})
    anchor = market.get("anchor", data.get("clock"))
    world = World(
        accounts=accounts,
        trading_mode=str(data.get("trading_mode", "paper")),
        prices={str(k): float(v) for k, v in data.get("prices", {}).items()},
        clock=clock,
        session_open=SESSION_RULES[session_name],
        extended_session_open=hours.is_extended_open if session_name == "nyse" else extended_hours,
        read_only=bool(data.get("read_only", False)),
        next_order_id=int(data.get("next_order_id", 1)),
        commission_per_share=float(data.get("commission_per_share", 0.005)),
        min_commission=float(data.get("min_commission", 1.0)),
        instruments={str(s["symbol"]): _instrument_from_dict(s) for s in data.get("symbols", [])},
        market=MarketSettings(
            seed=int(market.get("seed", 0)),
            volatility=float(market.get("volatility", DEFAULT_VOLATILITY)),
            anchor=DEFAULT_ANCHOR if anchor is None else _instant(anchor),
        ),
    )
    for p in data.get("positions", []):
        world.positions.append(
            Position(
                account=str(p.get("account", default_account)),
                symbol=str(p["symbol"]),
                quantity=float(p["quantity"]),
                avg_cost=float(p.get("avg_cost", 0.0)),
                sec_type=str(p.get("sec_type", "STK")),
                currency=str(p.get("currency", "USD")),
            )
        )
    for key, target in (("open_orders", world.open_orders), ("completed_orders", world.completed_orders)):
        for o in data.get(key, []):
            target.append(_order_from_dict(o, world, default_account, completed=key == "completed_orders"))
    for e in data.get("executions", []):
        world.executions.append(
            Execution(
                exec_id=str(e.get("exec_id", f"0000f00d.{len(world.executions) + 1:08x}.01.01")),
                order_id=int(e.get("order_id", 0)),
                perm_id=int(e.get("perm_id", 0)),
                client_id=int(e.get("client_id", 0)),
                account=str(e.get("account", default_account)),
                symbol=str(e["symbol"]),
                side=str(e.get("side", "BOT")),
                shares=float(e["shares"]),
                price=float(e["price"]),
                time=_instant(e.get("time", clock.now())),
                commission=float(e.get("commission", 1.0)),
                order_ref=str(e.get("order_ref", "")),
            )
        )
    world.align_con_ids()
    return world


def _instrument_from_dict(s: dict[str, Any]) -> Instrument:
    symbol = str(s["symbol"])
    volatility = s.get("volatility")
    return Instrument(
        symbol=symbol,
        con_id=int(s.get("con_id", 0)) or stable_con_id(symbol),
        price=float(s["price"]),
        primary_exchange=str(s.get("primary_exchange", "NASDAQ")),
        currency=str(s.get("currency", "USD")),
        volatility=None if volatility is None else float(volatility),
        min_tick=float(s.get("min_tick", 0.01)),
        spread_ticks=int(s.get("spread_ticks", 1)),
        long_name=str(s.get("long_name", "")),
        industry=str(s.get("industry", "")),
        category=str(s.get("category", "")),
        subcategory=str(s.get("subcategory", "")),
        stock_type=str(s.get("stock_type", "COMMON")),
        daily_volume=float(s.get("daily_volume", 1_000_000.0)),
        listed=_date(s.get("listed", "2000-01-03")),
    )


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _order_from_dict(o: dict[str, Any], world: World, default_account: str, completed: bool) -> OrderRecord:
    perm_id = int(o.get("perm_id", 0)) or world.next_perm_id
    world.next_perm_id = max(world.next_perm_id, perm_id + 1)
    order_id = int(o.get("order_id", 0))
    world.next_order_id = max(world.next_order_id, order_id + 1)
    status = str(o.get("status", "Filled" if completed else "Submitted"))
    return OrderRecord(
        order_id=order_id,
        perm_id=perm_id,
        client_id=int(o.get("client_id", 0)),
        account=str(o.get("account", default_account)),
        symbol=str(o["symbol"]),
        action=str(o.get("action", "BUY")),
        quantity=float(o["quantity"]),
        order_type=str(o.get("order_type", "LMT")),
        limit_price=None if o.get("limit_price") is None else float(o["limit_price"]),
        tif=str(o.get("tif", "DAY")),
        outside_rth=bool(o.get("outside_rth", False)),
        order_ref=str(o.get("order_ref", "")),
        status=status,
        filled=float(o.get("filled", o["quantity"] if status == "Filled" else 0.0)),
        avg_fill_price=float(o.get("avg_fill_price", o.get("limit_price") or 0.0)),
        completed_at=_instant(o["completed_at"])
        if "completed_at" in o
        else (world.clock.now() if completed else None),
        completed_status=str(o.get("completed_status", status if completed else "")),
    )


def load_world(path: str | Path) -> World:
    """Read a world from a TOML file."""
    with open(path, "rb") as handle:
        return world_from_dict(tomllib.load(handle))


def example_world_path(name: str) -> Path:
    """Path of a shipped example world: `paper` or `live`."""
    return Path(__file__).with_name("worlds") / f"{name}.toml"
