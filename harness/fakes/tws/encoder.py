"""Outgoing messages (gateway -> client), one function per message, each returning the field list.

Field orders follow ib_async 2.1.0's `decoder.py` for server versions 157..178; version-dependent fields
are added only where the negotiated version has them. Exact counts matter for position (61),
updatePortfolio (7) and commissionReport (59): the client unpacks them without `*rest`.
"""

from __future__ import annotations

from datetime import datetime

from .world import NEW_YORK, Execution, OrderRecord, Position

Fields = list[str]

# Incoming message ids (what the client's decoder dispatches on).
ORDER_STATUS = 3
ERR_MSG = 4
OPEN_ORDER = 5
ACCT_VALUE = 6
PORTFOLIO_VALUE = 7
ACCT_UPDATE_TIME = 8
NEXT_VALID_ID = 9
EXECUTION_DATA = 11
MANAGED_ACCTS = 15
CURRENT_TIME = 49
OPEN_ORDER_END = 53
ACCT_DOWNLOAD_END = 54
EXECUTION_DATA_END = 55
COMMISSION_REPORT = 59
POSITION_DATA = 61
POSITION_END = 62
ACCOUNT_SUMMARY = 63
ACCOUNT_SUMMARY_END = 64
POSITION_MULTI = 71
POSITION_MULTI_END = 72
ACCOUNT_UPDATE_MULTI = 73
ACCOUNT_UPDATE_MULTI_END = 74
PNL = 94
COMPLETED_ORDER = 101
COMPLETED_ORDERS_END = 102


def num(value: float | int | None) -> str:
    """A number as TWS writes it: integral values without `.0` (quantities), others as Python floats."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# TWS writes Java's Double.MAX_VALUE for a double it has no value for; ib_async keeps it as UNSET_DOUBLE.
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"


def price(value: float | None) -> str:
    """A price field: always a float text; unset is empty (the client keeps its UNSET default)."""
    return "" if value is None else str(float(value))


def ib_time(instant: datetime) -> str:
    """`20240120 09:30:01 America/New_York`: the form ib_async's parseIBDatetime reads with its zone."""
    local = instant.astimezone(NEW_YORK)
    return f"{local:%Y%m%d %H:%M:%S} America/New_York"


def connection_time(instant: datetime) -> str:
    """The handshake's connection-time text, `20240120 12:00:00 EST` (clients ignore it)."""
    local = instant.astimezone(NEW_YORK)
    return f"{local:%Y%m%d %H:%M:%S} {local.tzname()}"


def _contract11(con_id: int, symbol: str, sec_type: str, exchange: str, currency: str) -> Fields:
    # conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency, localSymbol, class
    return [str(con_id), symbol, sec_type, "", "0.0", "", "", exchange, currency, symbol, symbol]


def server_hello(server_version: int, now: datetime) -> Fields:
    return [str(server_version), connection_time(now)]


def managed_accounts(accounts: list[str]) -> Fields:
    return [str(MANAGED_ACCTS), "1", ",".join(accounts)]


def next_valid_id(order_id: int) -> Fields:
    return [str(NEXT_VALID_ID), "1", str(order_id)]


def error(
    server_version: int, req_id: int, code: int, message: str, advanced_reject_json: str = ""
) -> Fields:
    fields = [str(ERR_MSG), "2", str(req_id), str(code), message]
    if server_version >= 166:
        fields.append(advanced_reject_json)
    return fields


def current_time(now: datetime) -> Fields:
    return [str(CURRENT_TIME), "1", str(int(now.timestamp()))]


def position(p: Position) -> Fields:
    return [
        str(POSITION_DATA),
        "3",
        p.account,
        *_contract11(p.con_id, p.symbol, p.sec_type, "", p.currency),
        num(p.quantity),
        price(p.avg_cost),
    ]


def position_end() -> Fields:
    return [str(POSITION_END), "1"]


def position_multi(req_id: int, p: Position, model_code: str = "") -> Fields:
    return [
        str(POSITION_MULTI),
        "1",
        str(req_id),
        p.account,
        *_contract11(p.con_id, p.symbol, p.sec_type, "", p.currency),
        num(p.quantity),
        price(p.avg_cost),
        model_code,
    ]


def position_multi_end(req_id: int) -> Fields:
    return [str(POSITION_MULTI_END), "1", str(req_id)]


def update_account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return [str(ACCT_VALUE), "2", key, value, currency, account]


def update_portfolio(p: Position, market_price: float) -> Fields:
    market_value = p.quantity * market_price
    unrealized = market_value - p.quantity * p.avg_cost
    return [
        str(PORTFOLIO_VALUE),
        "8",
        str(p.con_id),
        p.symbol,
        p.sec_type,
        "",
        "0.0",
        "",
        "",
        p.primary_exchange,
        p.currency,
        p.symbol,
        p.symbol,
        num(p.quantity),
        price(market_price),
        price(market_value),
        price(p.avg_cost),
        price(unrealized),
        "0.0",
        p.account,
    ]


def update_account_time(now: datetime) -> Fields:
    return [str(ACCT_UPDATE_TIME), "1", f"{now.astimezone(NEW_YORK):%H:%M}"]


def account_download_end(account: str) -> Fields:
    return [str(ACCT_DOWNLOAD_END), "1", account]


def account_update_multi(
    req_id: int, account: str, key: str, value: str, currency: str, model_code: str = ""
) -> Fields:
    return [str(ACCOUNT_UPDATE_MULTI), "1", str(req_id), account, model_code, key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return [str(ACCOUNT_UPDATE_MULTI_END), "1", str(req_id)]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return [str(ACCOUNT_SUMMARY), "1", str(req_id), account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return [str(ACCOUNT_SUMMARY_END), "1", str(req_id)]


def _order_head(o: OrderRecord) -> Fields:
    """action .. orderRef: the run shared by openOrder and completedOrder (after the contract)."""
    return [
        o.action,
        num(o.quantity),
        o.order_type,
        price(o.limit_price),
        price(o.aux_price),
        o.tif,
        "",
        o.account,
        "O",
        "0",
        o.order_ref,
    ]


# The order fields the fake always sends at their default, from `hidden` to `algoStrategy`, in the decoders'
# order: (field, value, messages), messages "oc" = openOrder and completedOrder, "o" or "c" = only that one.
# One table, so the two messages cannot drift apart where TWS sends the same field.
_ORDER_FA: tuple[tuple[str, str, str], ...] = (
    ("hidden", "0", "oc"), ("discretionaryAmt", "0.0", "oc"), ("goodAfterTime", "", "oc"),
    ("sharesAllocation", "", "o"),  # deprecated
    ("faGroup", "", "oc"), ("faMethod", "", "oc"), ("faPercentage", "", "oc"),
)  # then faProfile below server version 177
_ORDER_DEFAULTS: tuple[tuple[str, str, str], ...] = (
    ("modelCode", "", "oc"), ("goodTillDate", "", "oc"), ("rule80A", "", "oc"), ("percentOffset", "", "oc"),
    ("settlingFirm", "", "oc"), ("shortSaleSlot", "0", "oc"), ("designatedLocation", "", "oc"),
    ("exemptCode", "-1", "oc"), ("auctionStrategy", "0", "o"), ("startingPrice", "", "oc"),
    ("stockRefPrice", "", "oc"), ("delta", "", "oc"), ("stockRangeLower", "", "oc"), ("stockRangeUpper", "", "oc"),
    ("displaySize", "", "oc"), ("blockOrder", "0", "o"), ("sweepToFill", "0", "oc"), ("allOrNone", "0", "oc"),
    ("minQty", "", "oc"), ("ocaType", "0", "oc"), ("eTradeOnly", "0", "o"), ("firmQuoteOnly", "0", "o"),
    ("nbboPriceCap", "", "o"), ("parentId", "0", "o"), ("triggerMethod", "0", "oc"), ("volatility", "", "oc"),
    ("volatilityType", "0", "oc"), ("deltaNeutralOrderType", "", "oc"), ("deltaNeutralAuxPrice", "", "oc"),
    ("continuousUpdate", "0", "oc"), ("referencePriceType", "0", "oc"), ("trailStopPrice", "", "oc"),
    ("trailingPercent", "", "oc"), ("basisPoints", "", "o"), ("basisPointsType", "", "o"),
    ("comboLegsDescrip", "", "oc"), ("numComboLegs", "0", "oc"), ("numOrderComboLegs", "0", "oc"),
    ("numSmartComboRoutingParams", "0", "oc"), ("scaleInitLevelSize", "", "oc"), ("scaleSubsLevelSize", "", "oc"),
    ("scalePriceIncrement", "", "oc"), ("hedgeType", "", "oc"), ("optOutSmartRouting", "0", "o"),
    ("clearingAccount", "", "oc"), ("clearingIntent", "", "oc"), ("notHeld", "0", "oc"),
    ("deltaNeutralContractPresent", "0", "oc"), ("algoStrategy", "", "oc"),
)


def _order_body(server_version: int, o: OrderRecord, message: str) -> Fields:
    """permId .. algoStrategy of openOrder (`message` "o") or completedOrder ("c"): the run they share."""
    fields = [str(o.perm_id), "1" if o.outside_rth else "0"]
    fields += [value for _field, value, messages in _ORDER_FA if message in messages]
    if server_version < 177:
        fields.append("")  # faProfile
    fields += [value for _field, value, messages in _ORDER_DEFAULTS if message in messages]
    return fields


def open_order(server_version: int, o: OrderRecord, what_if: list[str] | None = None) -> Fields:
    """openOrder (5): no version field; every counter present and `0`, so no optional block follows. `what_if`: the
    answer to a what-if order, its 14 order-state fields from initMarginBefore to warningText (whatif.py)."""
    fields = [
        str(OPEN_ORDER),
        str(o.order_id),
        *_contract11(o.con_id, o.symbol, o.sec_type, o.exchange, o.currency),
    ]
    fields += _order_head(o)
    fields.append(str(o.client_id))
    fields += _order_body(server_version, o, "o")
    # solicited, whatIf, status, 9 margin fields, commission/min/max, commissionCurrency, warningText,
    # randomizeSize, randomizePrice
    state = what_if if what_if is not None else [""] * 14
    fields += ["0", "1" if what_if is not None else "0", o.status, *state, "0", "0"]
    fields.append("0")  # numConditions
    # adjustedOrderType .. usePriceMgmtAlgo (16 fields)
    fields += ["None", "", "", "", "", "", "", "0", "", "", "", "", "0", "0", "0", ""]
    if server_version >= 159:
        fields.append("")  # duration
    if server_version >= 160:
        fields.append("")  # postToAts
    if server_version >= 162:
        fields.append("0")  # autoCancelParent
    if server_version >= 170:
        fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
    return fields


def open_order_end() -> Fields:
    return [str(OPEN_ORDER_END), "1"]


def order_status(o: OrderRecord, last_fill_price: float = 0.0, why_held: str = "") -> Fields:
    """orderStatus (3): no version field."""
    return [
        str(ORDER_STATUS),
        str(o.order_id),
        o.status,
        num(o.filled),
        num(o.remaining),
        price(o.avg_fill_price),
        str(o.perm_id),
        "0",
        price(last_fill_price),
        str(o.client_id),
        why_held,
        "0.0",
    ]


def completed_order(server_version: int, o: OrderRecord) -> Fields:
    """completedOrder (101): no version, no orderId, no clientId; send only in reply to reqCompletedOrders."""
    fields = [str(COMPLETED_ORDER), *_contract11(o.con_id, o.symbol, o.sec_type, o.exchange, o.currency)]
    fields += _order_head(o)
    fields += _order_body(server_version, o, "c")
    fields += ["0", o.status, "0", "0"]  # solicited, status, randomizeSize, randomizePrice
    fields.append("0")  # numConditions
    completed_at = ib_time(o.completed_at) if o.completed_at else ""
    # trailStopPrice .. parentPermId (13), completedTime, completedStatus
    fields += [
        "",
        "",
        "",
        "0",
        "0",
        "",
        num(o.filled),
        "",
        "0",
        "",
        "0",
        "0",
        "",
        completed_at,
        o.completed_status or o.status,
    ]
    if server_version >= 170:
        fields += ["", "", "", "", ""]
    return fields


def completed_orders_end() -> Fields:
    return [str(COMPLETED_ORDERS_END)]


def exec_details(server_version: int, req_id: int, e: Execution) -> Fields:
    """execDetails (11): no version field; reqId -1 for live fills."""
    fields = [
        str(EXECUTION_DATA),
        str(req_id),
        str(e.order_id),
        *_contract11(e.con_id, e.symbol, e.sec_type, e.exchange, e.currency),
        e.exec_id,
        ib_time(e.time),
        e.account,
        e.exchange,
        e.side,
        num(e.shares),
        price(e.price),
        str(e.perm_id),
        str(e.client_id),
        "0",
        num(e.cum_qty),
        price(e.avg_price),
        e.order_ref,
        "",
        "",
        "",
        "1",
    ]
    if server_version >= 178:
        fields.append("0")  # pendingPriceRevision
    return fields


def exec_details_end(req_id: int) -> Fields:
    return [str(EXECUTION_DATA_END), "1", str(req_id)]


def commission_report(e: Execution, currency: str = "USD") -> Fields:
    """commissionReport (59): exactly 8 fields; realizedPNL and yield unset (empty reads as 0)."""
    return [str(COMMISSION_REPORT), "1", e.exec_id, price(e.commission), currency, "", "", ""]


def pnl(req_id: int, daily_pnl: float | None, unrealized_pnl: float | None, realized_pnl: float | None) -> Fields:
    """pnl (94): no version field; `reqId | dailyPnL | unrealizedPnL | realizedPnL` (both optional P&L fields
    exist from server version 134, so always at 157..178). Unset values are Double.MAX_VALUE, as TWS sends."""

    def value(v: float | None) -> str:
        return UNSET_DOUBLE_TEXT if v is None else str(float(v))

    return [str(PNL), str(req_id), value(daily_pnl), value(unrealized_pnl), value(realized_pnl)]
