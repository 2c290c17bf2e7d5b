"""Time fields shared by crontab lines and systemd's OnCalendar=: `6`, `6,18`, `0-5`, `*/15`, `0/15`."""

from __future__ import annotations

MAX_TIMES_PER_TRIGGER = 24  # more firings a day than this is "every few minutes", not a start time


def field_values(field_text: str, low: int, high: int) -> list[int] | None:
    """A cron or OnCalendar time field -> its values, in order; None when unreadable."""
    values: set[int] = set()
    for part in field_text.split(","):
        body, slash, step_text = part.partition("/")
        try:
            step = int(step_text) if slash else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                start, end = (int(x) for x in body.split("-", 1))
            else:
                start = int(body)
                end = high if slash else start
        except ValueError:
            return None
        if step < 1 or start < low or end > high or start > end:
            return None
        values.update(range(start, end + 1, step))
    return sorted(values)
