"""Pure computations on scores: no database, no Django models.

The rules of the certification, configurable per version (`Rules`):

- A criterion's result is the mean of the values of the assessors who submitted
  their grid; draft grids do not count (they are not passed in) and a submitted
  grid's missing value (None) is ignored. Without any value the criterion has no
  result yet (`mean` and `met` are None).
- A criterion is met when its exact mean reaches the passing mark. The comparison
  uses the unrounded mean (exact arithmetic), the displayed `mean` is rounded to
  0.01.
- A competence is acquired when the percentage of its criteria that are met
  reaches the version's threshold, and only when every criterion has a result.
- A bloc is proposed validated when it has competences and all are acquired.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation
from fractions import Fraction

TWO_PLACES = Decimal("0.01")

# Decimal arithmetic that refuses to round: an operation whose exact result
# does not fit raises (Inexact) instead of giving a rounded one.
_EXACT = Context(prec=60, traps=[Inexact, InvalidOperation, DivisionByZero])


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


def _as_decimal(value, what):
    """An exact, finite Decimal from a Decimal or an int; floats are refused (inexact)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} : un Decimal ou un entier est attendu, pas {value!r}.")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{what} : une valeur finie est attendue, pas {value}.")
    return value


@dataclass(frozen=True)
class Rules:
    """The rules of one certification version."""

    passing_mark: Decimal
    competence_threshold: int = 100  # percent of the criteria that must be met

    def __post_init__(self):
        object.__setattr__(self, "passing_mark", _as_decimal(self.passing_mark, "Note de réussite"))
        threshold = self.competence_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            raise TypeError(f"Seuil d'acquisition : un entier est attendu, pas {threshold!r}.")
        if not 1 <= threshold <= 100:
            raise ValueError(
                f"Seuil d'acquisition : un pourcentage entre 1 et 100 est attendu, pas {threshold}."
            )


@dataclass(frozen=True)
class CriterionResult:
    criterion_id: int
    values: tuple[Decimal, ...]  # the submitted, non-None values used
    mean: Decimal | None  # rounded to 0.01 for display (criterion_mean)
    met: bool | None  # None when there is no value


@dataclass(frozen=True)
class CompetenceResult:
    competence_id: int
    criteria: tuple[CriterionResult, ...]
    met_count: int
    acquired: bool
    complete: bool  # it has criteria and every one has a result

    @property
    def assessed(self):
        """At least one criterion has a result."""
        return any(criterion.met is not None for criterion in self.criteria)


@dataclass(frozen=True)
class BlocResult:
    bloc_id: int
    competences: tuple[CompetenceResult, ...]
    proposed_validated: bool
    complete: bool  # it has competences and every one is complete

    @property
    def acquired_count(self):
        return sum(1 for competence in self.competences if competence.acquired)

    @property
    def competence_count(self):
        return len(self.competences)


def criterion_result(criterion_id, values, rules):
    """The result of one criterion from the values of the assessors who submitted their
    grid (Decimal, int or None; None is ignored)."""
    used = tuple(_as_decimal(value, "Note") for value in values if value is not None)
    if not used:
        return CriterionResult(criterion_id=criterion_id, values=(), mean=None, met=None)
    return CriterionResult(
        criterion_id=criterion_id,
        values=used,
        mean=criterion_mean(used),
        met=_reaches(used, rules.passing_mark),
    )


def _reaches(values, mark):
    """Whether the exact mean of `values` reaches `mark`: sum >= mark × count,
    in exact Decimal arithmetic (a score has few digits), in fractions when
    that would round (Fraction is exact whatever the digits, and slower)."""
    try:
        total = values[0]
        for value in values[1:]:
            total = _EXACT.add(total, value)
        return total >= _EXACT.multiply(mark, len(values))
    except ArithmeticError:
        return sum(Fraction(value) for value in values) / len(values) >= Fraction(mark)


def competence_result(competence_id, criterion_results, rules):
    """The result of one competence from the results of its criteria, in order.

    Acquired when every criterion has a result and met / total >= threshold %; a
    competence without criteria is neither acquired nor complete."""
    criteria = tuple(criterion_results)
    met_count = sum(1 for criterion in criteria if criterion.met)
    complete = bool(criteria) and all(criterion.met is not None for criterion in criteria)
    # Integer comparison, exact: 2 of 3 met is 66.67 %, below a threshold of 67.
    acquired = complete and met_count * 100 >= rules.competence_threshold * len(criteria)
    return CompetenceResult(
        competence_id=competence_id,
        criteria=criteria,
        met_count=met_count,
        acquired=acquired,
        complete=complete,
    )


def bloc_result(bloc_id, competences, values_by_criterion, rules):
    """The proposal for one bloc.

    `competences`: competence id -> ordered criterion ids (in the bloc's order);
    `values_by_criterion`: criterion id -> submitted values (a missing key: no value)."""
    results = tuple(
        competence_result(
            competence_id,
            (
                criterion_result(criterion_id, values_by_criterion.get(criterion_id, ()), rules)
                for criterion_id in criterion_ids
            ),
            rules,
        )
        for competence_id, criterion_ids in competences.items()
    )
    return BlocResult(
        bloc_id=bloc_id,
        competences=results,
        proposed_validated=bool(results) and all(c.acquired for c in results),
        complete=bool(results) and all(c.complete for c in results),
    )
