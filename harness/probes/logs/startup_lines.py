"""What the startup lines say, as facts: the configuration values the bot loaded and the gateway it connects to.

Read from a `StartupBlock`'s lines, plain or JSON-lines (the message of a record; a structlog record's "host"
and "port" fields when the message carries no address). Only facts: whether a value is paper is the checks'
business (`harness.checks.startup`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.probes.logs.facts import LogLine, StartupBlock
from harness.probes.logs.structured import fields_of, message_text

# KEY=value as a bot prints its configuration: `DRY_RUN=false, PAPER_TRADING=true` (a quoted value keeps its
# quotes out; a value runs to the next space, comma or semicolon).
_ASSIGNMENT = re.compile(r"(?<![\w.])(?P<key>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]*)")
# The address after the gateway line's text: HOST:PORT, [IPv6]:PORT or IPv6:PORT, up to a space or delimiter.
_ADDRESS = re.compile(r"\s*(?P<address>\[[^\]\s]*\](?::\w+)?|[^\s,;\"'()<>]+)")


@dataclass(frozen=True, slots=True)
class ConfigurationLine:
    """The startup line's KEY=value pairs, as written (values unquoted, never interpreted)."""

    line: LogLine
    values: tuple[tuple[str, str], ...]

    def value(self, key: str) -> str | None:
        """The LAST value the line gives `key` (a line naming a key twice is read as the bot's final word)."""
        found = [value for name, value in self.values if name == key]
        return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class GatewayLine:
    """A line naming the gateway the bot connects (or reconnects) to."""

    line: LogLine
    address: str  # as written after the line's text ("" when nothing follows)
    host: str | None  # None when the address names no host
    port: int | None  # None when the address names no port (or not a number)


def configuration_line(block: StartupBlock) -> ConfigurationLine | None:
    """The values of the block's first line (the startup line: "Configuration loaded: ..."); None for an empty
    block."""
    if not block.lines:
        return None
    line = block.lines[0]
    values = tuple((found["key"], _unquote(found["value"])) for found in _ASSIGNMENT.finditer(message_text(line.text)))
    return ConfigurationLine(line, values)


def gateway_lines(block: StartupBlock, text: str) -> tuple[GatewayLine, ...]:
    """Every kept line of the block whose message holds `text` (any case), with the address after it."""
    wanted = text.lower()
    found: list[GatewayLine] = []
    for line in block.lines:
        message = message_text(line.text)
        at = message.lower().find(wanted)
        if at == -1:
            continue
        address = _ADDRESS.match(message, at + len(text))
        written = address["address"].rstrip(".:") if address else ""
        if not written:
            written = _structured_address(line.text)
        host, port = _split_address(written)
        found.append(GatewayLine(line, written, host, port))
    return tuple(found)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _structured_address(text: str) -> str:
    """HOST:PORT from a JSON record's "host"/"port" fields (structlog: log.info("Connecting...", host=, port=))."""
    fields = fields_of(text)
    host, port = fields.get("host"), fields.get("port")
    if host is None and port is None:
        return ""
    return f"{host if host is not None else ''}:{port if port is not None else ''}"


def _split_address(address: str) -> tuple[str | None, int | None]:
    if not address:
        return None, None
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port_text = address.rpartition(":")
        if not sep:
            host, port_text = address, ""
    port = int(port_text) if port_text.isdigit() and len(port_text) <= 5 else None
    return (host or None), port
