import datetime

import pytest

from core.dates import french_date


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (datetime.date(2027, 1, 1), "1er janvier 2027"),
        (datetime.date(2027, 8, 15), "15 août 2027"),
        ("2026-12-02", "2 décembre 2026"),
        # 23:30 UTC on 31 December is already New Year's Day in Paris.
        (datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC), "1er janvier 2027"),
        ("2026-12-31T23:30:00+00:00", "1er janvier 2027"),
        (None, ""),
    ],
)
def test_dates_are_written_the_french_way(value, written):
    assert french_date(value) == written
