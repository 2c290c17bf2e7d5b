"""Contract details: which of the world's stocks a request's contract names, and what TWS tells of each.

A request's contract (12 fields: conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange,
primaryExchange, currency, localSymbol, tradingClass) matches a stock by conId, else by symbol or local symbol;
secType, currency, exchange and primary exchange must agree when given. Only stocks (STK) exist in the fake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import hours
from .decoder import as_int, field
from .market import Instrument
from .market_messages import ContractFacts
from .world import World

ORDER_TYPES = "ALERT,ALLOC,AON,DAY,GAT,GTC,GTD,IOC,LIT,LMT,LOC,MIT,MKT,MOC,MTL,OCA,OPG,REL,RTH,STP,STPLMT,TRAIL,WHATIF"
EXCHANGES = ("SMART", "AMEX", "NYSE", "ARCA", "BATS", "IEX", "ISLAND", "NASDAQ")
MARKET_RULE = 26  # US stocks: one increment of 0.01 from 0 (what reqMarketRule answers)
HOURS_DAYS = 7  # tradingHours / liquidHours cover today and the six days after
NO_SECURITY_TEXT = "No security definition has been found for the request"


@dataclass(frozen=True, slots=True)
class ContractRequest:
    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    local_symbol: str


def parse_contract(fields: list[str], at: int) -> ContractRequest:
    """The 12 contract fields a request carries from index `at`."""
    return ContractRequest(
        con_id=as_int(field(fields, at)),
        symbol=field(fields, at + 1).upper(),
        sec_type=field(fields, at + 2).upper(),
        exchange=field(fields, at + 7).upper(),
        primary_exchange=field(fields, at + 8).upper(),
        currency=field(fields, at + 9).upper(),
        local_symbol=field(fields, at + 10).upper(),
    )


def _known_symbols(world: World) -> list[str]:
    symbols = [*world.instruments, *world.prices, *(p.symbol for p in world.positions)]
    return list(dict.fromkeys(symbols))


def valid_exchanges(instrument: Instrument) -> list[str]:
    return list(dict.fromkeys([*EXCHANGES, instrument.primary_exchange]))


def find(world: World, request: ContractRequest) -> Instrument | None:
    """The world's stock the request names, None when there is none (TWS: error 200)."""
    if request.con_id:
        found = next(
            (i for s in _known_symbols(world) if (i := world.instrument(s)) and i.con_id == request.con_id), None
        )
    else:
        found = world.instrument(request.symbol or request.local_symbol)
    if found is None:
        return None
    exchanges = valid_exchanges(found)
    agrees = (
        request.sec_type in ("", "STK")
        and request.currency in ("", found.currency)
        and request.exchange in ("", *exchanges)
        and request.primary_exchange in ("", *exchanges)
        and request.symbol in ("", found.symbol)
        and request.local_symbol in ("", found.symbol)
    )
    return found if agrees else None


def facts(instrument: Instrument, exchange: str, now: datetime) -> ContractFacts:
    """contractDetails for a stock, as asked on `exchange` (SMART when the request names none)."""
    exchanges = valid_exchanges(instrument)
    today = now.astimezone(hours.NEW_YORK).date()
    return ContractFacts(
        symbol=instrument.symbol,
        con_id=instrument.con_id,
        exchange=exchange or "SMART",
        primary_exchange=instrument.primary_exchange,
        currency=instrument.currency,
        min_tick=instrument.min_tick,
        order_types=ORDER_TYPES,
        valid_exchanges=",".join(exchanges),
        long_name=instrument.long_name or instrument.symbol,
        industry=instrument.industry,
        category=instrument.category,
        subcategory=instrument.subcategory,
        time_zone_id=hours.TWS_TIME_ZONE,
        trading_hours=hours.hours_text(today, HOURS_DAYS, rth=False),
        liquid_hours=hours.hours_text(today, HOURS_DAYS, rth=True),
        market_rule_ids=",".join([str(MARKET_RULE)] * len(exchanges)),
        stock_type=instrument.stock_type,
    )
