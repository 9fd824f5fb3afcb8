from decimal import Decimal

from evaluations.results import assessors_disagree, criterion_mean


def test_mean_of_the_given_values_rounded_to_cents():
    assert criterion_mean([2, 3]) == Decimal("2.50")
    assert criterion_mean([Decimal("12.5"), 10, 11]) == Decimal("11.17")
    assert criterion_mean([3]) == Decimal("3.00")


def test_missing_values_are_left_out_and_nothing_gives_none():
    assert criterion_mean([None, 2]) == Decimal("2.00")
    assert criterion_mean([]) is None
    assert criterion_mean([None]) is None


def test_disagreement_is_more_than_the_tolerance_apart():
    assert assessors_disagree([0, 2], tolerance=1)
    assert not assessors_disagree([1, 2], tolerance=1)
    assert not assessors_disagree([3], tolerance=1)
    assert not assessors_disagree([0, None], tolerance=1)
    assert assessors_disagree([Decimal("4"), Decimal("8.5")], tolerance=Decimal("4"))
