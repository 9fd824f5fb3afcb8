"""Pure computations on scores: no database, no Django models.

A criterion's result is the mean of the values of the assessors who submitted
their grid; draft grids do not count.
"""

from decimal import ROUND_HALF_UP, Decimal

TWO_PLACES = Decimal("0.01")


def criterion_mean(values):
    """The mean of the given values (submitted assessors only), or None when there is none."""
    values = [Decimal(value) for value in values if value is not None]
    if not values:
        return None
    return (sum(values) / len(values)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def assessors_disagree(values, *, tolerance):
    """True when two assessors are further apart than `tolerance` (one level on a
    level scale)."""
    values = [Decimal(value) for value in values if value is not None]
    return len(values) >= 2 and max(values) - min(values) > tolerance
