"""The day a request names a run by: "the run I did on new year's day", "Monday's simulation", "the trajectory from
yesterday", "my run of 3 March". Read against today's date; a run's own day comes from its record (run.json).

Only what a scientist says of when they made something is read: a weekday is the last one (today included), a date
without a year its last occurrence, never one in the future."""

from __future__ import annotations

import datetime as dt
import re

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_HOLIDAYS = {"new year": (1, 1), "new years": (1, 1), "christmas": (12, 25), "christmas eve": (12, 24)}

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORDINAL = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
# (a month is only a date beside a day number: "may" alone is a verb, "march" one too)
_DATE = re.compile(
    rf"\b(?:{_ORDINAL}\s+(?:of\s+)?(?P<m>{_MONTH})\.?|(?P<m2>{_MONTH})\.?\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)(?![\w:])"
    r"|\b(?P<y>\d{4})-(?P<mm>\d{2})-(?P<dd>\d{2})\b",
    re.I,
)
_HOLIDAY = re.compile(r"\b(?P<h>new\s+year'?s?|christmas(?:\s+eve)?)(?:\s+day)?\b(?!\s+eve)", re.I)
_WEEKDAY = re.compile(rf"\b(?P<w>{'|'.join(_WEEKDAYS)})(?:'?s)?\b", re.I)
# "yesterday" or "today" names when a run was made only when said of it: "yesterday's run", "the run from
# yesterday", "the simulation I ran yesterday"; not "can you run it today?"
_RELATIVE = re.compile(
    r"\b(?P<r>yesterday|today|this\s+morning|last\s+night)(?='s|\s+s\b)"
    r"|\b(?:from|of|on)\s+(?P<r2>yesterday|today|this\s+morning|last\s+night)\b"
    r"|\b(?:did|ran|made|started|launched|submitted|kicked\s+off|finished|performed)\b"
    r"(?:\s+\w+){0,3}?\s+(?P<r3>yesterday|today|this\s+morning|last\s+night)\b",
    re.I,
)


def day_said(text: str, today: dt.date | None = None) -> tuple[str, dt.date] | None:
    """The words that name a day in ``text`` and that day, or None: ("on new year's day", 2026-01-01)."""
    today = today or dt.date.today()
    found = _DATE.search(text)
    if found:
        if found["y"]:
            try:
                return found.group(0), dt.date(int(found["y"]), int(found["mm"]), int(found["dd"]))
            except ValueError:
                return None
        month = _MONTHS[(found["m"] or found["m2"]).lower()]
        day = _last(today, month, int(found["d"] or found["d2"]))
        return (found.group(0), day) if day else None
    found = _HOLIDAY.search(text)
    if found:
        key = re.sub(r"'|\s+day$", "", found["h"].lower())
        key = re.sub(r"\s+", " ", key)
        month, day_of_month = _HOLIDAYS.get(key, _HOLIDAYS["new year"])
        return found.group(0), _last(today, month, day_of_month)
    found = _WEEKDAY.search(text)
    if found:
        back = (today.weekday() - _WEEKDAYS.index(found["w"].lower())) % 7
        return found.group(0), today - dt.timedelta(days=back)
    found = _RELATIVE.search(text)
    if found:
        said = (found["r"] or found["r2"] or found["r3"]).lower()
        back = 1 if said.startswith(("yesterday", "last")) else 0
        return found.group(0), today - dt.timedelta(days=back)
    return None


def _last(today: dt.date, month: int, day: int) -> dt.date | None:
    """The last ``day`` of ``month`` on or before today (this year's, else last year's); None: no such date."""
    for year in (today.year, today.year - 1):
        try:
            date = dt.date(year, month, day)
        except ValueError:
            return None
        if date <= today:
            return date
    return None


def day_of(timestamp: float | None) -> dt.date | None:
    """The local day of a POSIX timestamp (a run's record of when it was made); None when not known."""
    if not timestamp or timestamp < 1e8:  # (an order that is no time: a kernel variable's place in the namespace)
        return None
    return dt.datetime.fromtimestamp(timestamp).date()
