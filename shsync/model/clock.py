"""Time as shsync reads and stores it: instants in one form, ends of access, durations.

An instant is always UTC, to the second, with a Z (`2026-11-26T12:00:00Z`), so instants compare
as strings. An org file's `until` is read in the practice's time zone (`timezone:`, default UTC).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shsync.errors import UserError

_DURATION = re.compile(r"^(?:([0-9]{1,4})h)?(?:([0-9]{1,6})m)?$")


def iso(moment: datetime) -> str:
    """A timestamp in the one form shsync stores and compares: UTC, seconds, Z."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    # Not strftime: its %Y writes the year 1 as "1", and instants compare as strings.
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class OutOfRange(ValueError):
    """A real date or time, but outside the years shsync keeps (1970 to 9998)."""


FIRST_YEAR, LAST_YEAR = 1970, 9998


def end_instant(until: str, timezone: str | None = None) -> str:
    """When access given `until` a date or a time ends, as an instant.

    A date means the end of that day in the practice's time zone: access ends at the first
    second of the next day there. A time without an offset is a time in that zone. Raises
    ValueError for a date or time that does not exist, or an unknown zone."""
    if timezone is not None and not valid_zone(timezone):
        raise ValueError(f"unknown time zone {timezone!r}")
    zone = ZoneInfo(timezone or "UTC")
    text = until.strip().replace(" ", "T", 1)
    try:
        if "T" not in text:
            moment = datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(0),
                                      tzinfo=zone)
        else:
            moment = parse_instant(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise OutOfRange(f"{until!r} is after the year {LAST_YEAR}") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise OutOfRange(f"{until!r} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return iso(moment)


def duration(text: str) -> timedelta:
    """`8h`, `90m`, `1h30m` as a duration; ValueError for anything else or for zero."""
    found = _DURATION.match(text.strip())
    if not found or not any(found.groups()):
        raise ValueError(f"{text!r} is not a duration like 4h, 90m or 1h30m")
    value = timedelta(hours=int(found[1] or 0), minutes=int(found[2] or 0))
    if not value:
        raise ValueError(f"{text!r} is no time at all")
    return value


_SPAN = re.compile(r"^(?:([0-9]{1,2})d)?(?:([0-9]{1,4})h)?(?:([0-9]{1,6})m)?$")


def span_minutes(text: str) -> int:
    """`1h`, `3d`, `2d12h`, `90m` in minutes (a deadline); ValueError for anything else."""
    found = _SPAN.match(text.strip())
    if not found or not any(found.groups()):
        raise ValueError(f"{text!r} is not a length like 1h, 3d or 90m")
    days, hours, minutes = (int(g or 0) for g in found.groups())
    return days * 24 * 60 + hours * 60 + minutes


def span_text(minutes: int) -> str:
    days, rest = divmod(int(minutes), 24 * 60)
    hours, mins = divmod(rest, 60)
    return "".join(f"{n}{u}" for n, u in ((days, "d"), (hours, "h"), (mins, "m")) if n) or "0m"


def length_text(minutes: int) -> str:
    """Minutes in the form `duration` reads: 8h, 90m -> 1h30m, 45m."""
    hours, mins = divmod(int(minutes), 60)
    return f"{hours}h{mins}m" if hours and mins else f"{hours}h" if hours else f"{mins}m"


def later(instant: str, by: timedelta) -> str:
    return iso(parse_instant(instant) + by)


# --- the planning clock (the application's; a server's is its own) ----------------------

def now() -> str:
    """The planning clock: the current time, or SHSYNC_NOW (an ISO time) to fix it."""
    fixed = os.environ.get("SHSYNC_NOW")
    if not fixed:
        return iso(datetime.now(UTC))
    return parse_time(fixed, "SHSYNC_NOW")


def now_real() -> str:
    """The real time (SHSYNC_NOW does not fix it): for tokens' creation, expiry and use."""
    return iso(datetime.now(UTC))


def parse_time(text: str, what: str) -> str:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{what}={text[:60]!r} is not an ISO time like 2026-11-26T12:00:00Z",
                        "invalid-time") from None
    try:
        year: int | None = (moment.astimezone(UTC) if moment.tzinfo else moment).year
    except (ValueError, OverflowError):  # 9999-12-31T23:00:00-05:00: past the end in UTC
        year = None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        raise UserError(f"{what}={text[:60]!r} is outside the years {FIRST_YEAR} to {LAST_YEAR} "
                        "(in UTC)", "time-out-of-range") from None
    return iso(moment)
