"""Dates as French documents write them: « 1er janvier 2027 »."""

import datetime

from django.utils import timezone

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def french_date(value):
    """« 1er janvier 2027 » from a date, a datetime (in local time) or an ISO string."""
    if not value:
        return ""
    if isinstance(value, str):
        value = (
            datetime.datetime.fromisoformat(value)
            if "T" in value
            else datetime.date.fromisoformat(value)
        )
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def add_months(value, months):
    """`value` plus calendar months, the day kept or brought back to the month's
    last day: 30 novembre + 3 mois = 28 (ou 29) février."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, _month_length(year, month)))


def _month_length(year, month):
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return (following - datetime.timedelta(days=1)).day
