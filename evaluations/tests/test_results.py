"""The rules of the certification, as pure computations: no database here.

Long on purpose: every rule of results.py at its edges (means, thresholds,
competences, blocs), then the properties that must hold for any scale and any
scores (hypothesis), which share the strategies defined below."""

import math
import re
from dataclasses import FrozenInstanceError
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evaluations.results import (
    BlocResult,
    CompetenceResult,
    CriterionResult,
    Rules,
    assessors_disagree,
    bloc_result,
    competence_result,
    criterion_mean,
    criterion_result,
)

LEVELS = Rules(passing_mark=Decimal("2"))  # 0 Non acquis · 1 Partiel · 2 Acquis · 3 Maîtrisé
OUT_OF_20 = Rules(passing_mark=Decimal("10"))


def criteria(rules, *values_per_criterion):
    """Criterion results numbered from 1, one per list of values."""
    return [
        criterion_result(number, values, rules)
        for number, values in enumerate(values_per_criterion, start=1)
    ]


# The existing helpers, used by the views.


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


# Rules.


def test_rules_default_to_a_threshold_of_100_percent():
    assert Rules(passing_mark=Decimal("2")).competence_threshold == 100


def test_an_integer_passing_mark_is_taken_as_a_decimal():
    rules = Rules(passing_mark=10, competence_threshold=50)
    assert rules.passing_mark == Decimal("10")
    assert isinstance(rules.passing_mark, Decimal)
    assert rules == Rules(passing_mark=Decimal("10"), competence_threshold=50)


@pytest.mark.parametrize("threshold", [1, 50, 67, 100])
def test_a_threshold_is_a_percentage_from_1_to_100(threshold):
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=threshold)
    assert rules.competence_threshold == threshold


@pytest.mark.parametrize("threshold", [0, -1, 101, 1000])
def test_a_threshold_outside_1_to_100_is_refused(threshold):
    message = f"Seuil d'acquisition : un pourcentage entre 1 et 100 est attendu, pas {threshold}."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Rules(passing_mark=Decimal("2"), competence_threshold=threshold)


@pytest.mark.parametrize("threshold", [Decimal("50"), 50.0, "50", True, None])
def test_a_threshold_must_be_an_integer(threshold):
    message = f"Seuil d'acquisition : un entier est attendu, pas {threshold!r}."
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        Rules(passing_mark=Decimal("2"), competence_threshold=threshold)


@pytest.mark.parametrize("mark", [2.0, "2", None, True])
def test_a_passing_mark_must_be_a_decimal_or_an_integer(mark):
    message = f"Note de réussite : un Decimal ou un entier est attendu, pas {mark!r}."
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        Rules(passing_mark=mark)


@pytest.mark.parametrize("mark", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_a_passing_mark_must_be_finite(mark):
    message = f"Note de réussite : une valeur finie est attendue, pas {mark}."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        Rules(passing_mark=mark)


def test_rules_are_immutable():
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'competence_threshold'"):
        LEVELS.competence_threshold = 50
    assert LEVELS.competence_threshold == 100


# Criteria.


def test_a_criterion_is_the_mean_of_the_submitted_values():
    result = criterion_result(7, [Decimal("2"), Decimal("3")], LEVELS)
    assert result == CriterionResult(
        criterion_id=7, values=(Decimal("2"), Decimal("3")), mean=Decimal("2.50"), met=True
    )


def test_a_mean_exactly_at_the_passing_mark_is_met():
    result = criterion_result(1, [1, 3], LEVELS)
    assert result.mean == Decimal("2.00")
    assert result.met is True
    assert criterion_result(1, [2], LEVELS).met is True
    assert criterion_result(1, [1, 2, 3], LEVELS).met is True


def test_a_mean_just_below_the_passing_mark_is_not_met():
    assert criterion_result(1, [1, 2], LEVELS).met is False  # 1.5
    assert criterion_result(1, [2, 2, 1], LEVELS).met is False  # 1.67
    assert criterion_result(1, [0, 1], LEVELS).met is False


def test_the_unrounded_mean_decides_even_when_the_displayed_mean_rounds_up():
    # (2 + 2 + 1.99) / 3 = 1.99666…: shown 2.00 but below the passing mark.
    result = criterion_result(1, [2, 2, Decimal("1.99")], LEVELS)
    assert result.mean == Decimal("2.00")
    assert result.met is False
    # 1.995 exactly, shown 2.00 (half up), still not met.
    result = criterion_result(1, [Decimal("1.99"), 2], LEVELS)
    assert result.mean == Decimal("2.00")
    assert result.met is False


def test_thirds_are_compared_exactly():
    # 10 + 10 + 10.01 = 30.01; / 3 = 10.00333…: met. And 9.99 + 10 + 10.01 = 30 → exactly 10.
    assert criterion_result(1, [10, 10, Decimal("10.01")], OUT_OF_20).met is True
    assert criterion_result(1, [Decimal("9.99"), 10, Decimal("10.01")], OUT_OF_20).met is True
    assert criterion_result(1, [Decimal("9.99"), 10, 10], OUT_OF_20).met is False


def test_a_missing_value_of_a_submitted_grid_is_ignored():
    result = criterion_result(1, [None, 2, None], LEVELS)
    assert result.values == (Decimal("2"),)
    assert result.mean == Decimal("2.00")
    assert result.met is True
    # Without the None, the other assessor's 0 would have pulled the mean down; None is not 0.
    assert criterion_result(1, [None, 3, 1], LEVELS).mean == Decimal("2.00")


def test_a_criterion_without_any_value_has_no_result_yet():
    for values in ([], [None], [None, None], iter(())):
        result = criterion_result(4, values, LEVELS)
        assert result == CriterionResult(criterion_id=4, values=(), mean=None, met=None)


def test_values_are_kept_as_decimals_in_order():
    result = criterion_result(1, iter([3, None, Decimal("1.5")]), LEVELS)
    assert result.values == (Decimal("3"), Decimal("1.5"))
    assert all(isinstance(value, Decimal) for value in result.values)


def test_numeric_scale_passes_at_10_out_of_20():
    assert criterion_result(1, [10], OUT_OF_20).met is True
    assert criterion_result(1, [Decimal("9.99")], OUT_OF_20).met is False
    assert criterion_result(1, [Decimal("12.5")], OUT_OF_20).mean == Decimal("12.50")
    assert criterion_result(1, [Decimal("12.5"), Decimal("7.5")], OUT_OF_20).met is True
    assert criterion_result(1, [Decimal("12.5"), Decimal("7.49")], OUT_OF_20).met is False
    result = criterion_result(1, [Decimal("12.5"), 10, 11], OUT_OF_20)
    assert (result.mean, result.met) == (Decimal("11.17"), True)


@pytest.mark.parametrize("value", [2.0, "2", True])
def test_a_value_must_be_a_decimal_or_an_integer(value):
    message = f"Note : un Decimal ou un entier est attendu, pas {value!r}."
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        criterion_result(1, [value], LEVELS)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity")])
def test_a_value_must_be_finite(value):
    message = f"Note : une valeur finie est attendue, pas {value}."
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        criterion_result(1, [value], LEVELS)


# Competences.


def test_a_competence_is_acquired_when_all_its_criteria_are_met_by_default():
    result = competence_result(3, criteria(LEVELS, [2], [3], [2, 3]), LEVELS)
    assert result.competence_id == 3
    assert [c.criterion_id for c in result.criteria] == [1, 2, 3]
    assert (result.met_count, result.acquired, result.complete) == (3, True, True)
    assert result.assessed


def test_by_default_one_criterion_not_met_is_enough_to_miss_the_competence():
    result = competence_result(3, criteria(LEVELS, [2], [3], [1]), LEVELS)
    assert (result.met_count, result.acquired, result.complete) == (2, False, True)


def test_a_threshold_of_50_percent_needs_half_the_criteria():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=50)
    assert competence_result(1, criteria(rules, [2], [1]), rules).acquired
    assert competence_result(1, criteria(rules, [2], [1], [3], [0]), rules).acquired
    assert not competence_result(1, criteria(rules, [2], [1], [1]), rules).acquired
    assert not competence_result(1, criteria(rules, [0], [1]), rules).acquired


def test_two_of_three_is_below_a_threshold_of_67_percent():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=67)
    result = competence_result(1, criteria(rules, [2], [3], [1]), rules)
    assert result.met_count == 2
    assert result.acquired is False
    assert competence_result(1, criteria(rules, [2], [3], [2]), rules).acquired is True


def test_two_of_three_reaches_a_threshold_of_66_percent():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=66)
    assert competence_result(1, criteria(rules, [2], [3], [1]), rules).acquired is True


def test_a_threshold_of_1_percent_needs_one_criterion_met():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=1)
    assert competence_result(1, criteria(rules, [0], [0], [2]), rules).acquired
    assert not competence_result(1, criteria(rules, [0], [0], [1]), rules).acquired


def test_a_criterion_without_result_leaves_the_competence_incomplete_and_not_acquired():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=50)
    # Two of three met would be enough at 50 %, but the third is not assessed yet.
    result = competence_result(1, criteria(rules, [2], [3], []), rules)
    assert (result.met_count, result.acquired, result.complete) == (2, False, False)
    assert result.assessed


def test_a_competence_without_any_result_is_not_yet_assessed():
    result = competence_result(1, criteria(LEVELS, [], [None]), LEVELS)
    assert (result.met_count, result.acquired, result.complete) == (0, False, False)
    assert not result.assessed


def test_a_competence_without_criteria_is_neither_acquired_nor_complete():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=1)
    result = competence_result(1, [], rules)
    assert result == CompetenceResult(
        competence_id=1, criteria=(), met_count=0, acquired=False, complete=False
    )
    assert not result.assessed


def test_criterion_results_may_be_any_iterable():
    result = competence_result(1, iter(criteria(LEVELS, [2], [3])), LEVELS)
    assert result.criteria == tuple(criteria(LEVELS, [2], [3]))
    assert result.acquired


# Blocs.


def test_a_bloc_is_proposed_validated_when_all_its_competences_are_acquired():
    result = bloc_result(
        9, {1: [11, 12], 2: [21]}, {11: [2, 3], 12: [Decimal("2.5")], 21: [3]}, LEVELS
    )
    assert result.bloc_id == 9
    assert [c.competence_id for c in result.competences] == [1, 2]
    assert [c.criterion_id for c in result.competences[0].criteria] == [11, 12]
    assert result.competences[0].criteria[0].values == (Decimal("2"), Decimal("3"))
    assert (result.proposed_validated, result.complete) == (True, True)
    assert (result.acquired_count, result.competence_count) == (2, 2)


def test_one_competence_not_acquired_and_the_bloc_is_proposed_not_validated():
    result = bloc_result(9, {1: [11], 2: [21]}, {11: [3], 21: [1, 2]}, LEVELS)
    assert (result.proposed_validated, result.complete) == (False, True)
    assert (result.acquired_count, result.competence_count) == (1, 2)


def test_a_missing_score_keeps_the_bloc_from_validation_even_if_the_rest_is_acquired():
    rules = Rules(passing_mark=Decimal("2"), competence_threshold=50)
    # Criterion 12 has no key at all: not assessed yet.
    result = bloc_result(9, {1: [11], 2: [21, 22, 12]}, {11: [3], 21: [3], 22: [3]}, rules)
    assert result.competences[0].acquired
    assert not result.competences[1].acquired
    assert not result.competences[1].complete
    assert result.competences[1].met_count == 2
    assert (result.proposed_validated, result.complete) == (False, False)
    # Criterion 13 with only a None, or an empty list: not assessed yet either.
    for values in ({11: [3], 13: [None]}, {11: [3], 13: []}):
        result = bloc_result(9, {1: [11], 2: [13]}, values, rules)
        assert result.competences[1].criteria[0].met is None
        assert (result.proposed_validated, result.complete) == (False, False)


def test_an_absent_assessor_does_not_count():
    # The second assessor's grid was not submitted: only one list entry; or its value is None.
    one = bloc_result(1, {1: [11]}, {11: [2]}, LEVELS)
    with_none = bloc_result(1, {1: [11]}, {11: [2, None]}, LEVELS)
    assert one.proposed_validated and with_none.proposed_validated
    assert with_none.competences[0].criteria[0].values == (Decimal("2"),)


def test_a_bloc_with_an_empty_competence_is_not_validated_and_incomplete():
    result = bloc_result(1, {1: [11], 2: []}, {11: [3]}, LEVELS)
    assert result.competences[0].acquired
    assert result.competences[1].criteria == ()
    assert (result.proposed_validated, result.complete) == (False, False)
    assert (result.acquired_count, result.competence_count) == (1, 2)


def test_a_bloc_without_competences_is_not_validated_and_incomplete():
    result = bloc_result(1, {}, {11: [3]}, LEVELS)
    assert result == BlocResult(bloc_id=1, competences=(), proposed_validated=False, complete=False)
    assert (result.acquired_count, result.competence_count) == (0, 0)


def test_a_bloc_on_a_numeric_scale():
    rules = Rules(passing_mark=Decimal("10"), competence_threshold=50)
    values = {11: [Decimal("12.5"), 9], 12: [Decimal("9.99")], 21: [10, None], 22: [Decimal("8")]}
    result = bloc_result(2, {1: [11, 12], 2: [21, 22]}, values, rules)
    assert [[c.mean for c in comp.criteria] for comp in result.competences] == [
        [Decimal("10.75"), Decimal("9.99")],
        [Decimal("10.00"), Decimal("8.00")],
    ]
    assert [comp.met_count for comp in result.competences] == [1, 1]
    assert result.proposed_validated
    strict = Rules(passing_mark=Decimal("10"))
    assert not bloc_result(2, {1: [11, 12], 2: [21, 22]}, values, strict).proposed_validated


def test_results_are_immutable():
    result = bloc_result(1, {1: [11]}, {11: [3]}, LEVELS)
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'proposed_validated'"):
        result.proposed_validated = False
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'acquired'"):
        result.competences[0].acquired = False
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'met'"):
        result.competences[0].criteria[0].met = False
    assert result.proposed_validated is True
    assert result.competences[0].acquired is True
    assert result.competences[0].criteria[0].met is True


# Properties.

PROPERTY = settings(max_examples=100, deadline=None, database=None)


def scale_values(maximum, mark, places):
    """Values of a scale, often right at or next to the passing mark and the ends."""
    step = Decimal(1).scaleb(-places)
    near = (Decimal(0), mark - step, mark, mark + step, maximum)
    edges = sorted({value for value in near if 0 <= value <= maximum})
    return st.one_of(st.sampled_from(edges), st.decimals(0, maximum, places=places))


SCALES = st.sampled_from(
    [
        # (scale maximum, value strategy, passing mark)
        (Decimal("3"), st.integers(0, 3).map(Decimal), Decimal("2")),
        (Decimal("20"), scale_values(Decimal("20"), Decimal("10"), 2), Decimal("10")),
        (Decimal("20"), scale_values(Decimal("20"), Decimal("12.5"), 2), Decimal("12.5")),
        (Decimal("5"), scale_values(Decimal("5"), Decimal("0"), 1), Decimal("0")),
    ]
)


@st.composite
def scale_and_rules(draw):
    maximum, values, mark = draw(SCALES)
    rules = Rules(passing_mark=mark, competence_threshold=draw(st.integers(1, 100)))
    return maximum, values, rules


@st.composite
def bloc_cases(draw, *, with_empty=True, with_missing=True):
    """A bloc: (competences, values_by_criterion, rules, scale maximum, value strategy).

    Empty competences and missing values (None, an empty list, no key) appear only when
    allowed, and then in about half of the blocs, so that complete blocs stay frequent."""
    maximum, values, rules = draw(scale_and_rules())
    with_empty = with_empty and draw(st.booleans())
    with_missing = with_missing and draw(st.booleans())
    value_or_absent = st.one_of(values, values, values, st.none()) if with_missing else values
    min_values = 0 if with_missing else 1
    competences, values_by_criterion = {}, {}
    next_id = 1
    for competence_id in range(1, draw(st.integers(0 if with_empty else 1, 4)) + 1):
        ids = []
        for _ in range(draw(st.integers(0 if with_empty else 1, 4))):
            ids.append(next_id)
            scores = draw(st.lists(value_or_absent, min_size=min_values, max_size=3))
            if scores or draw(st.booleans()):
                values_by_criterion[next_id] = scores
            next_id += 1
        competences[competence_id] = ids
    return competences, values_by_criterion, rules, maximum, values


def the_criteria(result):
    return [criterion for competence in result.competences for criterion in competence.criteria]


def raised(value, maximum):
    """A value above `value`, up to `maximum`: often by one cent, or to the maximum."""
    higher = value + Decimal("0.01")
    return st.one_of(st.just(higher), st.just(maximum), st.decimals(higher, maximum, places=2))


def raise_one(draw, values_by_criterion, maximum):
    """The same values with one of them raised (to at most the scale maximum)."""
    keys = [
        key for key, scores in values_by_criterion.items() if any(s is not None for s in scores)
    ]
    assume(keys)
    key = draw(st.sampled_from(keys))
    scores = list(values_by_criterion[key])
    index = draw(st.sampled_from([i for i, s in enumerate(scores) if s is not None]))
    assume(scores[index] < maximum)
    scores[index] = draw(raised(scores[index], maximum))
    return {**values_by_criterion, key: scores}


@PROPERTY
@given(scale_and_rules(), st.data())
def test_the_mean_lies_between_the_lowest_and_highest_values(scale, data):
    _, values, rules = scale
    scores = data.draw(st.lists(values, min_size=1, max_size=6))
    result = criterion_result(1, scores, rules)
    assert min(scores) <= result.mean <= max(scores)
    # Rounded half up to the cent, computed here with exact fractions.
    exact = sum(Fraction(score) for score in scores) / len(scores)
    cents = math.floor(exact * 100 + Fraction(1, 2))
    assert result.mean == Decimal(cents) / 100
    assert result.mean == result.mean.quantize(Decimal("0.01"))


@PROPERTY
@given(scale_and_rules(), st.data())
def test_met_is_the_exact_mean_reaching_the_passing_mark(scale, data):
    _, values, rules = scale
    scores = data.draw(st.lists(st.one_of(values, st.none()), max_size=6))
    present = [s for s in scores if s is not None]
    result = criterion_result(1, scores, rules)
    assert result.values == tuple(present)
    if present:
        # sum >= mark × count, without any division.
        assert result.met is (sum(present) >= rules.passing_mark * len(present))
    else:
        assert (result.mean, result.met) == (None, None)


@PROPERTY
@given(scale_and_rules(), st.data())
def test_all_values_at_the_passing_mark_are_met(scale, data):
    _, _, rules = scale
    count = data.draw(st.integers(1, 6))
    assert criterion_result(1, [rules.passing_mark] * count, rules).met is True
    assume(rules.passing_mark > 0)
    below = rules.passing_mark - Decimal("0.01")
    assert criterion_result(1, [rules.passing_mark] * count + [below], rules).met is False


@PROPERTY
@given(scale_and_rules(), st.data())
def test_the_order_of_the_assessors_changes_nothing(scale, data):
    _, values, rules = scale
    scores = data.draw(st.lists(st.one_of(values, st.none()), max_size=6))
    shuffled = data.draw(st.permutations(scores))
    original, permuted = criterion_result(1, scores, rules), criterion_result(1, shuffled, rules)
    assert (original.mean, original.met) == (permuted.mean, permuted.met)
    assert sorted(original.values) == sorted(permuted.values)


@PROPERTY
@given(bloc_cases(), st.data())
def test_the_order_of_the_assessors_changes_nothing_in_a_bloc(case, data):
    competences, values_by_criterion, rules, _, _ = case
    shuffled = {key: data.draw(st.permutations(v)) for key, v in values_by_criterion.items()}
    original = bloc_result(1, competences, values_by_criterion, rules)
    permuted = bloc_result(1, competences, shuffled, rules)
    assert original.proposed_validated == permuted.proposed_validated
    assert original.complete == permuted.complete
    for before, after in zip(original.competences, permuted.competences, strict=True):
        assert (before.met_count, before.acquired, before.complete) == (
            after.met_count,
            after.acquired,
            after.complete,
        )
        assert [(c.mean, c.met) for c in before.criteria] == [
            (c.mean, c.met) for c in after.criteria
        ]


@PROPERTY
@given(scale_and_rules(), st.data())
def test_raising_one_value_never_unmeets_a_criterion(scale, data):
    maximum, values, rules = scale
    scores = data.draw(st.lists(values, min_size=1, max_size=4))
    index = data.draw(st.integers(0, len(scores) - 1))
    assume(scores[index] < maximum)
    higher = [*scores[:index], data.draw(raised(scores[index], maximum)), *scores[index + 1 :]]
    before, after = criterion_result(1, scores, rules), criterion_result(1, higher, rules)
    assert after.mean >= before.mean
    assert not (before.met and not after.met)


@PROPERTY
@given(scale_and_rules(), st.data())
def test_raising_one_value_never_unacquires_a_competence(scale, data):
    maximum, values, rules = scale
    grid = data.draw(st.lists(st.lists(values, min_size=1, max_size=3), min_size=1, max_size=5))
    # Raise a value of a criterion not met yet, to the passing mark or above.
    unmet = [
        (row, index)
        for row, scores in enumerate(grid)
        for index, score in enumerate(scores)
        if not criterion_result(row, scores, rules).met and score < maximum
    ]
    assume(unmet)
    row, index = data.draw(st.sampled_from(unmet))
    higher = [list(scores) for scores in grid]
    higher[row][index] = data.draw(raised(max(grid[row][index], rules.passing_mark), maximum))
    before = competence_result(1, criteria(rules, *grid), rules)
    after = competence_result(1, criteria(rules, *higher), rules)
    assert after.met_count >= before.met_count
    assert not (before.acquired and not after.acquired)


@PROPERTY
@given(bloc_cases(), st.data())
def test_raising_one_value_never_makes_anything_worse(case, data):
    competences, values_by_criterion, rules, maximum, _ = case
    raised = raise_one(data.draw, values_by_criterion, maximum)
    before = bloc_result(1, competences, values_by_criterion, rules)
    after = bloc_result(1, competences, raised, rules)
    for old, new in zip(the_criteria(before), the_criteria(after), strict=True):
        assert (new.mean >= old.mean) if old.mean is not None else (new.mean is None)
        assert not (old.met and not new.met)
    for old, new in zip(before.competences, after.competences, strict=True):
        assert new.met_count >= old.met_count
        assert not (old.acquired and not new.acquired)
        assert new.complete == old.complete
    assert not (before.proposed_validated and not after.proposed_validated)
    assert after.acquired_count >= before.acquired_count


@PROPERTY
@given(bloc_cases(), st.data())
def test_lowering_the_threshold_never_unacquires_a_competence(case, data):
    competences, values_by_criterion, rules, _, _ = case
    lower = Rules(
        passing_mark=rules.passing_mark,
        competence_threshold=data.draw(st.integers(1, rules.competence_threshold)),
    )
    strict = bloc_result(1, competences, values_by_criterion, rules)
    lenient = bloc_result(1, competences, values_by_criterion, lower)
    for old, new in zip(strict.competences, lenient.competences, strict=True):
        assert not (old.acquired and not new.acquired)
        assert (old.met_count, old.complete) == (new.met_count, new.complete)
    assert not (strict.proposed_validated and not lenient.proposed_validated)


@PROPERTY
@given(bloc_cases(), st.data())
def test_raising_the_passing_mark_never_helps(case, data):
    competences, values_by_criterion, rules, _, _ = case
    higher = Rules(
        passing_mark=rules.passing_mark + data.draw(st.decimals(0, 5, places=2)),
        competence_threshold=rules.competence_threshold,
    )
    easy = bloc_result(1, competences, values_by_criterion, rules)
    hard = bloc_result(1, competences, values_by_criterion, higher)
    for old, new in zip(easy.competences, hard.competences, strict=True):
        assert new.met_count <= old.met_count
        assert not (new.acquired and not old.acquired)
    assert not (hard.proposed_validated and not easy.proposed_validated)


@PROPERTY
@given(bloc_cases())
def test_acquired_is_the_share_of_met_criteria_reaching_the_threshold(case):
    competences, values_by_criterion, rules, _, _ = case
    for competence in bloc_result(1, competences, values_by_criterion, rules).competences:
        criteria_ = competence.criteria
        assert competence.met_count == [c.met for c in criteria_].count(True)
        assert competence.complete == (bool(criteria_) and None not in [c.met for c in criteria_])
        assert competence.assessed == any(c.mean is not None for c in criteria_)
        share = Fraction(competence.met_count, len(criteria_)) * 100 if criteria_ else None
        assert competence.acquired == (competence.complete and share >= rules.competence_threshold)


@PROPERTY
@given(bloc_cases())
def test_at_100_percent_acquired_means_every_criterion_met(case):
    competences, values_by_criterion, rules, _, _ = case
    rules = Rules(passing_mark=rules.passing_mark)
    for competence in bloc_result(1, competences, values_by_criterion, rules).competences:
        assert competence.acquired == (
            bool(competence.criteria) and all(c.met is True for c in competence.criteria)
        )


@PROPERTY
@given(bloc_cases(with_empty=False, with_missing=False), st.data())
def test_every_value_at_the_scale_maximum_validates_the_bloc(case, data):
    competences, values_by_criterion, rules, maximum, _ = case
    top = {
        key: [maximum] * data.draw(st.integers(1, 3)) for ids in competences.values() for key in ids
    }
    result = bloc_result(1, competences, top, rules)
    assert result.proposed_validated
    assert result.complete
    assert result.acquired_count == result.competence_count == len(competences)


@PROPERTY
@given(bloc_cases(with_empty=False), st.data())
def test_a_competence_with_every_criterion_below_the_mark_blocks_the_bloc(case, data):
    competences, values_by_criterion, rules, _, values = case
    assume(rules.passing_mark > 0)
    failing = data.draw(st.sampled_from(sorted(competences)))
    below = values.filter(lambda v: v < rules.passing_mark)
    values_by_criterion = {
        **values_by_criterion,
        **{key: data.draw(st.lists(below, min_size=1, max_size=3)) for key in competences[failing]},
    }
    result = bloc_result(1, competences, values_by_criterion, rules)
    competence = result.competences[sorted(competences).index(failing)]
    assert competence.met_count == 0
    assert not competence.acquired
    assert competence.complete
    assert not result.proposed_validated


@PROPERTY
@given(bloc_cases(), st.data())
def test_removing_a_criterions_values_prevents_validation(case, data):
    competences, values_by_criterion, rules, _, _ = case
    ids = [key for criterion_ids in competences.values() for key in criterion_ids]
    assume(ids)
    removed = data.draw(st.sampled_from(ids))
    result = bloc_result(
        1, competences, {k: v for k, v in values_by_criterion.items() if k != removed}, rules
    )
    assert not result.complete
    assert not result.proposed_validated


@PROPERTY
@given(bloc_cases())
def test_a_validated_proposal_is_complete_and_every_competence_acquired(case):
    competences, values_by_criterion, rules, _, _ = case
    result = bloc_result(1, competences, values_by_criterion, rules)
    if result.proposed_validated:
        assert result.complete
        assert result.competence_count > 0
        assert all(c.criteria for c in result.competences)
        assert all(c.met is not None for c in the_criteria(result))
    assert result.proposed_validated == (
        result.competence_count > 0 and result.acquired_count == result.competence_count
    )
    assert result.complete == (
        result.competence_count > 0 and all(c.complete for c in result.competences)
    )


@PROPERTY
@given(bloc_cases())
def test_the_bloc_keeps_the_ids_and_order_it_was_given(case):
    competences, values_by_criterion, rules, _, _ = case
    result = bloc_result(42, competences, values_by_criterion, rules)
    assert result.bloc_id == 42
    assert [c.competence_id for c in result.competences] == list(competences)
    assert [[c.criterion_id for c in comp.criteria] for comp in result.competences] == list(
        competences.values()
    )
    for criterion in the_criteria(result):
        expected = [v for v in values_by_criterion.get(criterion.criterion_id, []) if v is not None]
        assert criterion.values == tuple(expected)
