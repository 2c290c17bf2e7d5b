"""The embedded world's fake gateways never listen on 127.0.0.1:4002/4001, where a real IB Gateway on the same desk
does: without a loopback address of its own (macOS routes only 127.0.0.1) the world refuses in one line."""

from __future__ import annotations

import errno

import pytest

from harness.fakes import embedded
from harness.fakes.embedded import (
    ADDRESS_VARIABLE,
    EmbeddedWorldError,
    embedded_world,
    private_addresses,
    start_gateways,
)


class Recorder:
    """A FakeGateway class that records every start: on `routed` hosts it "listens" (no socket), elsewhere it fails
    as macOS does for an address lo0 does not have."""

    def __init__(self, routed: set[str]) -> None:
        self.routed, self.binds = routed, []

    def __call__(self, world, host, port):
        recorder = self

        class Gateway:
            def __init__(self) -> None:
                self.host, self.port = host, port

            def start(self):
                recorder.binds.append((host, port))
                if host not in recorder.routed:
                    raise OSError(errno.EADDRNOTAVAIL, f"error while attempting to bind on address ('{host}', {port}): "
                                                       "can't assign requested address")
                return self

            def stop(self) -> None:
                pass

        return Gateway()


def test_without_an_address_of_its_own_the_world_refuses_in_one_line_and_never_binds_127_0_0_1():
    recorder = Recorder(routed={"127.0.0.1"})  # a Mac: only 127.0.0.1 answers
    with pytest.raises(EmbeddedWorldError) as raised:
        start_gateways(object(), object(), addresses=private_addresses({}), gateway_class=recorder)
    assert len(recorder.binds) == embedded.RANDOM_ADDRESSES
    assert all(host != "127.0.0.1" and host.startswith("127.") for host, _port in recorder.binds)
    message = str(raised.value)
    assert "\n" not in message and "never uses 127.0.0.1" in message
    assert f"{ADDRESS_VARIABLE}=127.20.0.1" in message and "can't assign requested address" in message


def test_127_0_0_1_is_never_tried_even_when_offered():
    recorder = Recorder(routed={"127.0.0.1"})
    with pytest.raises(EmbeddedWorldError):
        start_gateways(object(), object(), addresses=["127.0.0.1"], gateway_class=recorder)
    assert recorder.binds == []


def test_the_gateway_down_world_never_leaves_the_bot_to_find_the_real_paper_gateway():
    """Was: with no private address, the live fake went to 127.0.0.1:4001 and the paper port was left to 127.0.0.1:4002,
    where the desk's real paper gateway answers the stand-in bot."""
    recorder = Recorder(routed={"127.0.0.1"})
    with pytest.raises(EmbeddedWorldError):
        start_gateways(object(), object(), start_paper=False, addresses=private_addresses({}), gateway_class=recorder)
    assert ("127.0.0.1", 4001) not in recorder.binds and ("127.0.0.1", 4002) not in recorder.binds


def test_the_world_itself_refuses_before_anything_else_starts(tmp_path, monkeypatch):
    import harness.fakes.tws as tws

    recorder = Recorder(routed={"127.0.0.1"})
    monkeypatch.setattr(tws, "FakeGateway", recorder)
    with pytest.raises(EmbeddedWorldError, match="no loopback address of its own"), embedded_world(tmp_path,
                                                                                                   environ={}):
        pass
    assert recorder.binds and all(host != "127.0.0.1" for host, _port in recorder.binds)
    assert not (tmp_path / "bot").exists()


def test_a_named_address_is_used_alone():
    recorder = Recorder(routed={"127.20.0.1"})
    addresses = private_addresses({ADDRESS_VARIABLE: "127.20.0.1"})
    host, paper, live = start_gateways(object(), object(), addresses=addresses, gateway_class=recorder)
    assert host == "127.20.0.1" and (paper.port, live.port) == (4002, 4001)
    assert recorder.binds == [("127.20.0.1", 4001), ("127.20.0.1", 4002)]


@pytest.mark.parametrize("named", ["127.0.0.1", "localhost", "10.0.0.1", "::1", "127.1"])
def test_a_named_address_must_be_a_loopback_address_other_than_the_real_gateways(named):
    with pytest.raises(EmbeddedWorldError, match=ADDRESS_VARIABLE):
        private_addresses({ADDRESS_VARIABLE: named})


def test_random_addresses_are_never_127_0_0_1():
    for _ in range(200):
        for address in private_addresses({}):
            first, second, _third, fourth = map(int, address.split("."))
            assert first == 127 and 1 <= second <= 254 and 1 <= fourth <= 254
