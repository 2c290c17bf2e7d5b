"""A fake IB Gateway speaking the TWS socket protocol on loopback, for the real ib_async client.

    from harness.fakes.tws import FakeGateway, load_world, example_world_path
    with FakeGateway(load_world(example_world_path("paper"))) as gateway:
        ib.connect(gateway.host, gateway.port, clientId=1)

See docs/fake-gateway.md for what it covers and where it differs from a real gateway.
"""

from .faults import Faults
from .framing import FramingError
from .market import Instrument, MarketSettings
from .records import FakeGatewayError, ReceivedOrder, RecordedRequest, UnexpectedMessage
from .server import MAX_SERVER_VERSION, MIN_SERVER_VERSION, FakeGateway
from .world import (
    Account,
    Execution,
    OrderRecord,
    Position,
    SessionRule,
    SimulatedClock,
    World,
    always_closed,
    always_open,
    example_world_path,
    extended_hours,
    load_world,
    regular_hours,
    world_from_dict,
)

__all__ = [
    "MAX_SERVER_VERSION",
    "MIN_SERVER_VERSION",
    "Account",
    "Execution",
    "FakeGateway",
    "FakeGatewayError",
    "Faults",
    "FramingError",
    "Instrument",
    "MarketSettings",
    "OrderRecord",
    "Position",
    "ReceivedOrder",
    "RecordedRequest",
    "SessionRule",
    "SimulatedClock",
    "UnexpectedMessage",
    "World",
    "always_closed",
    "always_open",
    "example_world_path",
    "extended_hours",
    "load_world",
    "regular_hours",
    "world_from_dict",
]
