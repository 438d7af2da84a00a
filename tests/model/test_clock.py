"""shsync/model/clock.py: instants always in one form (four-digit years, UTC, Z), and the planning
clock held to the years shsync keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from shsync.model.clock import iso, parse_time
from shsync.errors import UserError


@pytest.mark.parametrize("moment, shown", [
    (datetime(1, 1, 2, 5, 50, 36, tzinfo=UTC), "0001-01-02T05:50:36Z"),
    (datetime(999, 12, 31, tzinfo=UTC), "0999-12-31T00:00:00Z"),
    (datetime(2026, 11, 26, 7, tzinfo=timezone(timedelta(hours=-5))), "2026-11-26T12:00:00Z"),
    (datetime(2026, 11, 26, 12), "2026-11-26T12:00:00Z"),
])
def test_an_instant_always_has_a_four_digit_year(moment, shown):
    assert iso(moment) == shown


@pytest.mark.parametrize("text", ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                                  "9999-12-31T23:00:00Z", "9999-12-31T23:00:00-05:00",
                                  "0001-01-01T00:00:00+05:00", "9999-01-01T00:00:00Z"])
def test_the_planning_clock_keeps_to_the_years_1970_to_9998(text):
    with pytest.raises(UserError) as raised:
        parse_time(text, "SHSYNC_NOW")
    assert raised.value.code == "time-out-of-range"
    assert str(raised.value) == (f"SHSYNC_NOW={text!r} is outside the years 1970 to 9998 "
                                 "(in UTC)")


@pytest.mark.parametrize("text, instant", [("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
                                           ("9998-12-31T23:59:59Z", "9998-12-31T23:59:59Z"),
                                           ("2026-11-26T07:00:00-05:00", "2026-11-26T12:00:00Z")])
def test_the_planning_clock_within_range(text, instant):
    assert parse_time(text, "SHSYNC_NOW") == instant
