"""What-if orders: the margin and commission a placeOrder with whatIf=True would cost, derived from the account.

Nothing is placed. The initial and maintenance margin rate is the account's equity over its buying power (0.25 for
the paper world's 1,000,000 equity and 4,000,000 buying power; 1.0 for a cash account, whose buying power is its
cash), applied to the gross position value before and after the order. The order's price is its limit, else the
market price; its commission is the world's per-share rate with the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .decoder import PlaceOrderRequest
from .world import OrderRecord, World


@dataclass(frozen=True, slots=True)
class WhatIf:
    """The OrderState of a what-if answer (TWS sends the margin figures as text)."""

    init_margin_before: float
    maint_margin_before: float
    equity_with_loan_before: float
    init_margin_after: float
    maint_margin_after: float
    equity_with_loan_after: float
    commission: float
    currency: str
    warning: str = ""

    def fields(self) -> list[str]:
        """initMarginBefore .. warningText, the 14 fields of openOrder's order state after its status."""

        def money(value: float) -> str:
            return f"{value:.2f}"

        before = (self.init_margin_before, self.maint_margin_before, self.equity_with_loan_before)
        after = (self.init_margin_after, self.maint_margin_after, self.equity_with_loan_after)
        change = tuple(a - b for a, b in zip(after, before, strict=True))
        commission = str(float(self.commission))
        return [*map(money, before), *map(money, change), *map(money, after), commission, commission, commission,
                self.currency, self.warning]


class WhatIfRefused(ValueError):
    """A what-if the gateway answers with an error on the order id: `code` and the message."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def what_if(world: World, client_id: int, request: PlaceOrderRequest) -> tuple[OrderRecord, WhatIf]:
    """The open order (never booked) and its order state for a what-if placeOrder; WhatIfRefused if impossible."""
    account_id = request.account or (world.account_ids[0] if len(world.account_ids) == 1 else "")
    account = world.account(account_id)
    if account is None:
        raise WhatIfRefused(201, "Order rejected - reason:The account code is not valid.")
    if request.action not in ("BUY", "SELL") or request.quantity <= 0:
        raise WhatIfRefused(201, f"Order rejected - reason:Invalid action or quantity ({request.action} "
                                 f"{request.quantity})")
    market = world.price(request.symbol)
    reference = request.limit_price if request.order_type == "LMT" and request.limit_price else market
    if reference is None:
        raise WhatIfRefused(201, f"Order rejected - reason:No market price for {request.symbol} in the fake world.")
    equity = world.net_liquidation(account_id)
    buying_power = account.effective_buying_power()
    rate = min(1.0, equity / buying_power) if buying_power > 0 else 1.0
    held = {p.symbol: p.quantity for p in world.positions if p.account == account_id}
    gross_before = sum(abs(q) * world.price_of(s, 0.0) for s, q in held.items())
    old = held.get(request.symbol, 0.0)
    new = old + (request.quantity if request.action == "BUY" else -request.quantity)
    gross_after = gross_before - abs(old) * (market or reference) + abs(new) * reference
    commission = world.commission_for(request.quantity)
    state = WhatIf(
        init_margin_before=rate * gross_before,
        maint_margin_before=rate * gross_before,
        equity_with_loan_before=equity,
        init_margin_after=rate * gross_after,
        maint_margin_after=rate * gross_after,
        equity_with_loan_after=equity - commission,
        commission=commission,
        currency=account.currency,
    )
    if state.init_margin_after > state.equity_with_loan_after:
        state = replace(state, warning=(
            f"YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN VALUE "
            f"[{state.equity_with_loan_after:.2f} {account.currency}] MUST EXCEED THE INITIAL MARGIN "
            f"[{state.init_margin_after:.2f} {account.currency}]"))
    order = OrderRecord(
        order_id=request.order_id,
        perm_id=0,
        client_id=client_id,
        account=account_id,
        symbol=request.symbol,
        action=request.action,
        quantity=request.quantity,
        order_type=request.order_type,
        limit_price=request.limit_price,
        aux_price=request.aux_price,
        tif=request.tif,
        outside_rth=request.outside_rth,
        order_ref=request.order_ref,
        status="PreSubmitted",
        sec_type=request.sec_type,
        currency=request.currency,
        exchange=request.exchange or "SMART",
        con_id=request.con_id or world.con_id_of(request.symbol),
    )
    return order, state
