"""The fake's order book: placement checks, resting orders, fills, cancels. Works on a World, emits Events.

No sockets here: the server turns each Event into messages for the session that owns the order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .decoder import PlaceOrderRequest
from .world import Execution, OrderRecord, Position, World

READ_ONLY_TEXT = "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
OUTSIDE_RTH_IGNORED_TEXT = (
    "Order Event Warning:Attribute 'Outside Regular Trading Hours' is ignored based on "
    "the order type and destination. PlaceOrder is now being processed."
)
DONE_STATES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})
# Order types the fake fills; anything else (STP, TRAIL, ...) rests until cancelled.
FILLABLE_TYPES = frozenset({"MKT", "LMT"})


@dataclass(frozen=True, slots=True)
class Event:
    """Something a client must hear about. kind: open_order, order_status, execution, commission, error."""

    client_id: int
    kind: str
    order: OrderRecord | None = None
    execution: Execution | None = None
    req_id: int = -1
    code: int = 0
    text: str = ""
    last_fill_price: float = 0.0


class Exchange:
    def __init__(self, world: World) -> None:
        self.world = world
        self.outcomes: dict[tuple[int, int], str] = {}  # (client_id, order_id) -> latest outcome
        self._exec_seq = 0

    # -- placement ---------------------------------------------------------------------------------------
    def place(self, client_id: int, req: PlaceOrderRequest) -> list[Event]:
        world = self.world
        world.next_order_id = max(world.next_order_id, req.order_id + 1)
        existing = self._open_order(client_id, req.order_id)
        if world.read_only:
            return self._reject(client_id, req.order_id, 321, READ_ONLY_TEXT, "rejected 321 (read-only API)")
        if existing is not None:
            return self._modify(existing, req)
        account_id = req.account or (world.account_ids[0] if len(world.account_ids) == 1 else "")
        if not account_id:
            return self._reject(client_id, req.order_id, 435, "You must specify an account.", "rejected 435")
        account = world.account(account_id)
        if account is None:
            return self._reject(
                client_id,
                req.order_id,
                201,
                "Order rejected - reason:The account code is not valid.",
                "rejected 201",
            )
        if req.action not in ("BUY", "SELL") or req.quantity <= 0:
            return self._reject(
                client_id,
                req.order_id,
                201,
                f"Order rejected - reason:Invalid action or quantity ({req.action} {req.quantity})",
                "rejected 201",
            )
        # Buying power is checked against what the order may cost: its limit, else the market price.
        reference = req.limit_price if req.order_type == "LMT" else world.price(req.symbol)
        if reference is None:
            return self._reject(
                client_id,
                req.order_id,
                201,
                f"Order rejected - reason:No market price for {req.symbol} in the fake world.",
                "rejected 201",
            )
        value = req.quantity * reference
        buying_power = account.effective_buying_power()
        if req.action == "BUY" and value > buying_power:
            text = (
                "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. "
                "IN ORDER TO OBTAIN THE DESIRED POSITION "
                f"YOUR BUYING POWER OF [{buying_power:.2f} USD] MUST EXCEED THE ORDER VALUE OF "
                f"[{value:.2f} USD]."
            )
            return self._reject(client_id, req.order_id, 201, text, "rejected 201")

        order = OrderRecord(
            order_id=req.order_id,
            perm_id=world.next_perm_id,
            client_id=client_id,
            account=account_id,
            symbol=req.symbol,
            action=req.action,
            quantity=req.quantity,
            order_type=req.order_type,
            limit_price=req.limit_price,
            aux_price=req.aux_price,
            tif=req.tif,
            outside_rth=req.outside_rth,
            order_ref=req.order_ref,
            sec_type=req.sec_type,
            currency=req.currency,
            exchange=req.exchange or "SMART",
            con_id=req.con_id or world.con_id_of(req.symbol),
            placed_at=world.clock.now(),
        )
        world.next_perm_id += 1
        world.open_orders.append(order)
        events: list[Event] = []
        if req.outside_rth and req.order_type != "LMT":
            # A real gateway ignores outsideRth for market-type orders and says so with warning 2109.
            events.append(
                Event(client_id, "error", req_id=req.order_id, code=2109, text=OUTSIDE_RTH_IGNORED_TEXT)
            )
        order.status = "Submitted" if self._may_trade(order) else "PreSubmitted"
        events += self._announce(order)
        events += self._try_fill(order)
        self.outcomes[(client_id, order.order_id)] = order.status
        return events

    def _modify(self, order: OrderRecord, req: PlaceOrderRequest) -> list[Event]:
        order.quantity, order.limit_price, order.aux_price = req.quantity, req.limit_price, req.aux_price
        order.tif, order.outside_rth, order.order_type = req.tif, req.outside_rth, req.order_type
        events = self._announce(order) + self._try_fill(order)
        self.outcomes[(order.client_id, order.order_id)] = order.status
        return events

    def _reject(self, client_id: int, order_id: int, code: int, text: str, outcome: str) -> list[Event]:
        self.outcomes[(client_id, order_id)] = outcome
        return [Event(client_id, "error", req_id=order_id, code=code, text=text)]

    # -- matching ----------------------------------------------------------------------------------------
    def match_resting(self) -> list[Event]:
        """Re-check every open order against clock, session and prices (after time or prices moved)."""
        events: list[Event] = []
        for order in list(self.world.open_orders):
            if order.status == "PreSubmitted" and self._may_trade(order):
                order.status = "Submitted"
                events += self._announce(order)
            events += self._try_fill(order)
            self.outcomes[(order.client_id, order.order_id)] = order.status
        return events

    def has_resting(self) -> bool:
        return bool(self.world.open_orders)

    def _may_trade(self, order: OrderRecord) -> bool:
        now = self.world.clock.now()
        if self.world.session_open(now):
            return True
        return order.outside_rth and order.order_type == "LMT" and self.world.extended_session_open(now)

    def _fill_price(self, order: OrderRecord) -> float | None:
        if order.order_type not in FILLABLE_TYPES:
            return None
        market = self.world.price(order.symbol)
        if order.order_type == "MKT":
            return market
        if order.limit_price is None:
            return None
        if market is None:
            return order.limit_price
        marketable = market <= order.limit_price if order.action == "BUY" else market >= order.limit_price
        return market if marketable else None

    def _try_fill(self, order: OrderRecord) -> list[Event]:
        if order.status in DONE_STATES or not self._may_trade(order):
            return []
        fill_price = self._fill_price(order)
        if fill_price is None:
            return []
        world = self.world
        shares = order.remaining
        self._exec_seq += 1
        execution = Execution(
            exec_id=f"0000f4ke.{order.perm_id:08x}.{self._exec_seq:02d}.01",
            order_id=order.order_id,
            perm_id=order.perm_id,
            client_id=order.client_id,
            account=order.account,
            symbol=order.symbol,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=shares,
            price=fill_price,
            time=world.clock.now(),
            commission=world.commission_for(shares),
            order_ref=order.order_ref,
            sec_type=order.sec_type,
            currency=order.currency,
            con_id=order.con_id,
            cum_qty=order.quantity,
            avg_price=fill_price,
        )
        world.executions.append(execution)
        self._book(execution)
        order.filled, order.avg_fill_price, order.status = order.quantity, fill_price, "Filled"
        self._complete(order, "Filled")
        return [
            Event(order.client_id, "execution", order=replace(order), execution=execution),
            Event(order.client_id, "order_status", order=replace(order), last_fill_price=fill_price),
            Event(order.client_id, "open_order", order=replace(order)),
            Event(order.client_id, "commission", execution=execution),
        ]

    def _book(self, execution: Execution) -> None:
        """Move cash, buying power and the position for one fill."""
        world = self.world
        signed = execution.shares if execution.side == "BOT" else -execution.shares
        value = execution.shares * execution.price
        account = world.account(execution.account)
        if account is not None:
            account.cash += -value if signed > 0 else value
            account.cash -= execution.commission
            if account.buying_power is not None:
                account.buying_power += -value if signed > 0 else value
        position = world.position(execution.account, execution.symbol)
        if position is None:
            world.positions.append(
                Position(
                    execution.account,
                    execution.symbol,
                    signed,
                    execution.price,
                    sec_type=execution.sec_type,
                    currency=execution.currency,
                    con_id=execution.con_id,
                )
            )
            return
        new_quantity = position.quantity + signed
        if new_quantity == 0:
            world.positions.remove(position)
        elif (position.quantity > 0) == (signed > 0):  # adding to the position: average the cost
            position.avg_cost = (
                position.quantity * position.avg_cost + signed * execution.price
            ) / new_quantity
            position.quantity = new_quantity
        else:
            position.quantity = new_quantity

    # -- cancels -----------------------------------------------------------------------------------------
    def cancel(self, client_id: int, order_id: int) -> list[Event]:
        order = self._open_order(client_id, order_id)
        if order is None:
            return [
                Event(
                    client_id,
                    "error",
                    req_id=order_id,
                    code=10147,
                    text=f"OrderId {order_id} that needs to be cancelled is not found.",
                )
            ]
        return self._cancel(order)

    def cancel_all(self) -> list[Event]:
        events: list[Event] = []
        for order in list(self.world.open_orders):
            events += self._cancel(order)
        return events

    def _cancel(self, order: OrderRecord) -> list[Event]:
        if order.cancel_rejected:
            text = f"Cancel attempted when order {order.order_id} is not in a cancellable state."
            return [Event(order.client_id, "error", req_id=order.order_id, code=161, text=text)]
        order.status = "Cancelled"
        self._complete(order, "Cancelled by Trader")
        self.outcomes[(order.client_id, order.order_id)] = "Cancelled"
        return [
            Event(order.client_id, "order_status", order=replace(order)),
            Event(order.client_id, "error", req_id=order.order_id, code=202, text="Order Canceled - reason:"),
        ]

    # -- helpers -----------------------------------------------------------------------------------------
    def _announce(self, order: OrderRecord) -> list[Event]:
        # Copies: the order keeps changing after the event is queued (a fill may follow at once).
        return [
            Event(order.client_id, "open_order", order=replace(order)),
            Event(order.client_id, "order_status", order=replace(order)),
        ]

    def _complete(self, order: OrderRecord, completed_status: str) -> None:
        if order in self.world.open_orders:
            self.world.open_orders.remove(order)
        order.completed_at = self.world.clock.now()
        order.completed_status = completed_status
        self.world.completed_orders.append(order)

    def _open_order(self, client_id: int, order_id: int) -> OrderRecord | None:
        return next(
            (o for o in self.world.open_orders if o.client_id == client_id and o.order_id == order_id), None
        )
