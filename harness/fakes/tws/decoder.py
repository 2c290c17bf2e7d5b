"""Incoming messages (client -> gateway): message id -> request name, and parsers for the ones with content.

Ids and field positions follow ib_async 2.1.0's `client.py` (the same for every server version in range).
"""

from __future__ import annotations

from dataclasses import dataclass

# Outgoing-from-client message ids, named as in the official API (`OUT.*`) / ib_async's client methods.
REQUEST_NAMES: dict[int, str] = {
    1: "reqMktData",
    2: "cancelMktData",
    3: "placeOrder",
    4: "cancelOrder",
    5: "reqOpenOrders",
    6: "reqAccountUpdates",
    7: "reqExecutions",
    8: "reqIds",
    9: "reqContractDetails",
    10: "reqMktDepth",
    11: "cancelMktDepth",
    12: "reqNewsBulletins",
    13: "cancelNewsBulletins",
    14: "setServerLogLevel",
    15: "reqAutoOpenOrders",
    16: "reqAllOpenOrders",
    17: "reqManagedAccts",
    18: "requestFA",
    19: "replaceFA",
    20: "reqHistoricalData",
    21: "exerciseOptions",
    22: "reqScannerSubscription",
    23: "cancelScannerSubscription",
    24: "reqScannerParameters",
    25: "cancelHistoricalData",
    49: "reqCurrentTime",
    50: "reqRealTimeBars",
    51: "cancelRealTimeBars",
    52: "reqFundamentalData",
    53: "cancelFundamentalData",
    54: "calculateImpliedVolatility",
    55: "calculateOptionPrice",
    56: "cancelCalculateImpliedVolatility",
    57: "cancelCalculateOptionPrice",
    58: "reqGlobalCancel",
    59: "reqMarketDataType",
    61: "reqPositions",
    62: "reqAccountSummary",
    63: "cancelAccountSummary",
    64: "cancelPositions",
    65: "verifyRequest",
    66: "verifyMessage",
    67: "queryDisplayGroups",
    68: "subscribeToGroupEvents",
    69: "updateDisplayGroup",
    70: "unsubscribeFromGroupEvents",
    71: "startApi",
    72: "verifyAndAuthRequest",
    73: "verifyAndAuthMessage",
    74: "reqPositionsMulti",
    75: "cancelPositionsMulti",
    76: "reqAccountUpdatesMulti",
    77: "cancelAccountUpdatesMulti",
    78: "reqSecDefOptParams",
    79: "reqSoftDollarTiers",
    80: "reqFamilyCodes",
    81: "reqMatchingSymbols",
    82: "reqMktDepthExchanges",
    83: "reqSmartComponents",
    84: "reqNewsArticle",
    85: "reqNewsProviders",
    86: "reqHistoricalNews",
    87: "reqHeadTimestamp",
    88: "reqHistogramData",
    89: "cancelHistogramData",
    90: "cancelHeadTimestamp",
    91: "reqMarketRule",
    92: "reqPnL",
    93: "cancelPnL",
    94: "reqPnLSingle",
    95: "cancelPnLSingle",
    96: "reqHistoricalTicks",
    97: "reqTickByTickData",
    98: "cancelTickByTickData",
    99: "reqCompletedOrders",
    100: "reqWshMetaData",
    101: "cancelWshMetaData",
    102: "reqWshEventData",
    103: "cancelWshEventData",
    104: "reqUserInfo",
}

def request_name(msg_id: int) -> str:
    return REQUEST_NAMES.get(msg_id, f"unknown({msg_id})")


def message_id(fields: list[str]) -> int | None:
    """The message id of a request, or None if the first field is not a number."""
    try:
        return int(fields[0])
    except (IndexError, ValueError):
        return None


def field(fields: list[str], index: int, default: str = "") -> str:
    return fields[index] if index < len(fields) else default


def as_int(text: str, default: int = 0) -> int:
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except ValueError:
            return default


def as_float(text: str) -> float | None:
    """Empty (the client's "unset") -> None."""
    if text in ("", "Infinite"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PlaceOrderRequest:
    order_id: int
    con_id: int
    symbol: str
    sec_type: str
    exchange: str
    primary_exchange: str
    currency: str
    action: str
    quantity: float
    order_type: str
    limit_price: float | None
    aux_price: float | None
    tif: str
    account: str
    order_ref: str
    transmit: bool
    outside_rth: bool
    what_if: bool = False


def parse_place_order(fields: list[str], server_version: int = 178) -> PlaceOrderRequest:
    """placeOrder (3): positions 0..34 are fixed for every server version 157..178 (no version field); whatIf
    lies further on, after blocks whose length depends on the order (see `_what_if`)."""
    return PlaceOrderRequest(
        order_id=as_int(field(fields, 1)),
        con_id=as_int(field(fields, 2)),
        symbol=field(fields, 3),
        sec_type=field(fields, 4) or "STK",
        exchange=field(fields, 9),
        primary_exchange=field(fields, 10),
        currency=field(fields, 11) or "USD",
        action=field(fields, 16).upper(),
        quantity=as_float(field(fields, 17)) or 0.0,
        order_type=field(fields, 18).upper(),
        limit_price=as_float(field(fields, 19)),
        aux_price=as_float(field(fields, 20)),
        tif=field(fields, 21) or "DAY",
        account=field(fields, 23),
        order_ref=field(fields, 26),
        transmit=field(fields, 27, "1") != "0",
        outside_rth=field(fields, 33) == "1",
        what_if=_what_if(fields, server_version),
    )


def _what_if(fields: list[str], server_version: int) -> bool:
    """Walk placeOrder from index 35 as ib_async's `Client.placeOrder` (and ibapi's) writes it, to the whatIf flag.
    A message too short to hold it is no what-if."""
    try:
        i = 35
        if field(fields, 4).upper() == "BAG":
            i += 1 + 8 * as_int(fields[i])  # combo legs
            i += 1 + as_int(fields[i])  # order combo leg prices
            i += 1 + 2 * as_int(fields[i])  # smart combo routing params
        i += 7 + (1 if server_version < 177 else 0)  # "", discretionaryAmt .. faPercentage [, faProfile]
        i += 22  # modelCode .. volatilityType
        delta_neutral_order_type = fields[i]
        i += 2 + (8 if delta_neutral_order_type else 0)
        increment = as_float(fields[i + 6])  # continuousUpdate .. scalePriceIncrement
        i += 7 + (7 if increment is not None and 0 < increment < 1.7e308 else 0)
        hedge_type = fields[i + 3]  # scaleTable, activeStartTime, activeStopTime, hedgeType
        i += 4 + (1 if hedge_type else 0)
        i += 4  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
        i += 1 + (3 if fields[i] == "1" else 0)  # delta neutral contract
        algo_strategy = fields[i]
        i += 1
        if algo_strategy:
            i += 1 + 2 * as_int(fields[i])
        return fields[i + 1] == "1"  # algoId, whatIf
    except IndexError:
        return False


@dataclass(frozen=True, slots=True)
class ExecutionFilterRequest:
    req_id: int
    client_id: int
    account: str
    time: str
    symbol: str
    sec_type: str
    exchange: str
    side: str


def parse_req_executions(fields: list[str]) -> ExecutionFilterRequest:
    """reqExecutions (7): `7|3|reqId|clientId|acctCode|time|symbol|secType|exchange|side`."""
    return ExecutionFilterRequest(
        req_id=as_int(field(fields, 2)),
        client_id=as_int(field(fields, 3)),
        account=field(fields, 4),
        time=field(fields, 5),
        symbol=field(fields, 6),
        sec_type=field(fields, 7),
        exchange=field(fields, 8),
        side=field(fields, 9),
    )
