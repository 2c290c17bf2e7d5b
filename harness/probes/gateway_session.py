"""Each gateway read once per run: one bounded, read-only attempt, remembered (a failure too).

Many scenarios ask the same gateway the same questions. Reading it once keeps a gateway that is down, or
that accepts and never answers, to one timeout per run instead of one per scenario, and the operator sees
what the harness waits for. Executions are read with the widest window the gateway gives and narrowed per
step by `executions_since`, so no step opens a socket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from harness.core.settings import GatewayAddress
from harness.probes.gateway import GatewayFacts, GatewayProbe
from harness.probes.ib_environment import environment_problem


def read_gateway_once(address: GatewayAddress, role: str, *, client_id: int, timeout: float,
                      say: Callable[[str], None] = lambda line: None) -> GatewayFacts:
    """Connect read-only, read everything (every execution the gateway returns), disconnect. Never raises;
    bounded by about one connect timeout when the gateway is down or silent. `say` gets progress lines."""
    problem = environment_problem()
    if problem is not None:
        say(f"harness: PROBLEM: {problem}")
        return GatewayFacts(host=address.host, port=address.port, client_id=client_id, problem=problem)
    say(f"harness: connecting to the {role} gateway {address} (read-only, timeout {timeout:g} s)...")
    started = time.monotonic()
    probe = GatewayProbe(address.host, address.port, client_id, connect_timeout=timeout, request_timeout=timeout)
    try:
        facts = probe.snapshot(executions_since=None)
    finally:
        probe.close()
    elapsed = time.monotonic() - started
    if facts.ok:
        say(f"harness: the {role} gateway {address} answered in {elapsed:.1f} s (server version "
            f"{facts.server_version}, {len(facts.accounts)} account(s))")
    else:
        say(f"harness: the {role} gateway {address} could not be read in {elapsed:.1f} s: {facts.problem}. Its "
            "checks are 'operator to confirm'; it is not tried again in this run")
    return facts


def executions_since(facts: GatewayFacts, since: datetime | None) -> GatewayFacts:
    """The same facts with only the executions at or after `since` (all of them when `since` is None)."""
    if since is None:
        return facts
    kept = tuple(e for e in facts.executions if e.time is not None and e.time >= since)
    return replace(facts, executions=kept, executions_since=since)
