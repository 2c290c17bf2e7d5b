"""The seed's "screenshot of the IBKR paper account", drawn from the paper gateway's recorded facts (Pillow).

Only recorded, already-masked facts are drawn, and every string is masked again before it is: the picture is
evidence that leaves the machine. The bytes depend on the facts alone (no time of drawing, no text chunk but a
fixed title), so the same evidence gives the same PNG.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from harness.core.redact import mask_account, redact_text

TITLE = "IBKR paper account (drawn from recorded gateway facts)"
MAX_ROWS = 40  # rows drawn per table; the rest are counted
MAX_CELL_CHARS = 40
FONT_SIZE = 14
PAD = 16
ROW_GAP = 6
COLUMN_GAP = 18
BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
MUTED = (110, 110, 110)
HEADER = (235, 239, 245)
PAPER_BAND = (22, 110, 60)
WARNING_BAND = (170, 40, 30)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled font: the same on every machine
    except (OSError, TypeError, ValueError):  # no FreeType: the bitmap font
        return ImageFont.load_default()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    line = " ".join(redact_text(str(value)).split())
    return line if len(line) <= MAX_CELL_CHARS else line[: MAX_CELL_CHARS - 1] + "…"


def _account(value: Any) -> str:
    text = str(value or "")
    return mask_account(text) if text and "*" not in text else _text(text)


def _table(rows: Sequence[Any], columns: Sequence[tuple[str, str]]) -> tuple[list[str], list[list[str]], int]:
    """(headings, cells, rows not drawn) of the dict rows, each cell masked."""
    kept = [row for row in rows if isinstance(row, Mapping)]
    cells = [[_account(row.get(key)) if key == "account" else _text(row.get(key)) for key, _ in columns]
             for row in kept[:MAX_ROWS]]
    return [title for _, title in columns], cells, max(len(kept) - MAX_ROWS, 0)


ORDER_COLUMNS = (("order_id", "Id"), ("account", "Account"), ("order_ref", "Ref"), ("action", "Side"),
                 ("quantity", "Qty"), ("symbol", "Symbol"), ("order_type", "Type"), ("limit_price", "Limit"),
                 ("status", "Status"), ("filled", "Filled"), ("remaining", "Remaining"))
COMPLETED_COLUMNS = (("perm_id", "Perm id"), ("account", "Account"), ("order_ref", "Ref"), ("action", "Side"),
                     ("quantity", "Qty"), ("symbol", "Symbol"), ("status", "Status"), ("filled", "Filled"))
EXECUTION_COLUMNS = (("time", "Time"), ("account", "Account"), ("order_id", "Order"), ("order_ref", "Ref"),
                     ("side", "Side"), ("shares", "Shares"), ("symbol", "Symbol"), ("price", "Price"),
                     ("commission", "Commission"))
POSITION_COLUMNS = (("account", "Account"), ("symbol", "Symbol"), ("sec_type", "Type"), ("currency", "Currency"),
                    ("quantity", "Qty"), ("avg_cost", "Avg cost"))
FUNDS_COLUMNS = (("account", "Account"), ("currency", "Currency"), ("net_liquidation", "Net liquidation"),
                 ("cash", "Cash"), ("buying_power", "Buying power"))


def _blocks(facts: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]], int]]:
    sections = (("Account", facts.get("account_summary") or (), FUNDS_COLUMNS),
                ("Open orders", facts.get("open_orders") or (), ORDER_COLUMNS),
                ("Completed orders", facts.get("completed_orders") or (), COMPLETED_COLUMNS),
                ("Executions", facts.get("executions") or (), EXECUTION_COLUMNS),
                ("Positions", facts.get("positions") or (), POSITION_COLUMNS))
    blocks = []
    for title, rows, columns in sections:
        headings, cells, more = _table(rows if isinstance(rows, (list, tuple)) else (), columns)
        blocks.append((f"{title} ({len(cells) + more})", headings, cells, more))
    return blocks


def render(paper_account: dict) -> bytes:
    """A PNG of the paper account: masked account ids, when it was read, open orders and their states, completed
    orders, executions, positions."""
    facts: Mapping[str, Any] = paper_account if isinstance(paper_account, Mapping) else {}
    font, bold = _font(FONT_SIZE), _font(FONT_SIZE + 4)
    accounts = ", ".join(_account(a) for a in facts.get("accounts") or ()) or "no account read"
    all_paper = facts.get("all_paper")
    band = (f"PAPER account(s) {accounts}" if all_paper else
            f"NOT ALL PAPER: {accounts}" if all_paper is False else f"account(s) {accounts} (paper not confirmed)")
    where = f"gateway {_text(facts.get('host'))}:{_text(facts.get('port'))}" if facts.get("host") else "gateway"
    subtitle = f"read from the {where} at {_text(facts.get('observed_at')) or 'an unrecorded time'}"
    if facts.get("problem"):
        subtitle += f"; problem: {_text(facts.get('problem'))}"
    blocks = _blocks(facts)

    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    line_h = int(probe.textbbox((0, 0), "Ag", font=font)[3]) + ROW_GAP
    title_h = int(probe.textbbox((0, 0), "Ag", font=bold)[3]) + ROW_GAP

    def width(text: str, face: Any = font) -> int:
        return int(probe.textlength(text, font=face)) + 1

    layouts = []
    content_w = max(width(TITLE, bold), width(band, bold), width(subtitle))
    for title, headings, cells, more in blocks:
        cols = [max([width(h)] + [width(row[i]) for row in cells]) for i, h in enumerate(headings)]
        content_w = max(content_w, sum(cols) + COLUMN_GAP * (len(cols) - 1), width(title, bold))
        layouts.append((title, headings, cells, more, cols))
    height = PAD + title_h * 2 + line_h + PAD
    for _, _, cells, more, _ in layouts:
        height += title_h + line_h * (1 + max(len(cells), 1) + (1 if more else 0)) + PAD
    image = Image.new("RGB", (content_w + 2 * PAD, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = PAD
    draw.text((PAD, y), TITLE, font=bold, fill=INK)
    y += title_h
    draw.rectangle((0, y - 2, image.width, y + title_h - 2), fill=PAPER_BAND if all_paper else WARNING_BAND)
    draw.text((PAD, y), band, font=bold, fill=BACKGROUND)
    y += title_h
    draw.text((PAD, y), subtitle, font=font, fill=MUTED)
    y += line_h + PAD
    for title, headings, cells, more, cols in layouts:
        draw.text((PAD, y), title, font=bold, fill=INK)
        y += title_h
        draw.rectangle((PAD - 4, y - 2, PAD + content_w + 4, y + line_h - 2), fill=HEADER)
        x = PAD
        for heading, col in zip(headings, cols, strict=True):
            draw.text((x, y), heading, font=font, fill=INK)
            x += col + COLUMN_GAP
        y += line_h
        if not cells:
            draw.text((PAD, y), "none", font=font, fill=MUTED)
            y += line_h
        for row in cells:
            x = PAD
            for cell, col in zip(row, cols, strict=True):
                draw.text((x, y), cell, font=font, fill=INK)
                x += col + COLUMN_GAP
            y += line_h
        if more:
            draw.text((PAD, y), f"… and {more} more not drawn", font=font, fill=MUTED)
            y += line_h
        y += PAD
    info = PngInfo()
    info.add_text("Title", TITLE)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, optimize=False, compress_level=9)
    return out.getvalue()
