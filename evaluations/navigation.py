"""Moving through a session's candidates while grading them: where this
candidate stands, how many of the assessor's grids are handed in, the previous
and next candidate, and the next one still to grade.

Read in one query whatever the number of candidates: the session's
assessments in the session page's order (the Assessment model's ordering), each
with its candidate's name and whether this assessor's own grid is handed in."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from candidates.models import NAME_FIELDS, candidate_name

from .models import Assessment, Grid


@dataclass(frozen=True)
class Stop:
    """A candidate of the round: the assessment, the candidate's name, and whether
    the assessor's own grid is handed in."""

    pk: int
    name: str
    handed_in: bool


@dataclass(frozen=True)
class GradingRound:
    handed_in: int  # of the assessor's grids, among the present candidates
    total: int  # present candidates
    current: int | None  # index of this candidate among them; None when absent
    previous: Stop | None
    next: Stop | None
    next_to_grade: Stop | None  # after this one, wrapping around; None when all are in

    @property
    def position(self):
        return None if self.current is None else self.current + 1


def grading_round(assessment, *, assessor):
    """The assessor's round through `assessment`'s session (present candidates only)."""
    own_submitted = Grid.objects.filter(
        assessment=OuterRef("pk"), assessor=assessor, status=Grid.Status.SUBMITTED
    )
    # Plain rows, not model instances: a session may hold hundreds of candidates.
    rows = (
        Assessment.objects.filter(session_id=assessment.session_id)
        .annotate(handed_in=Exists(own_submitted))
        .values_list(
            "pk",
            "present",
            "handed_in",
            *(f"enrolment__candidate__{name}" for name in NAME_FIELDS),
        )
    )
    stops, current, split = [], None, 0
    for pk, present, handed_in, *name in rows:
        if pk == assessment.pk:
            # `split`: where the candidates after this one begin.
            current = len(stops) if present else None
            split = len(stops) + present
        if present:
            stops.append((pk, handed_in, name))
    before = stops[: split - 1] if current is not None else stops[:split]
    after = stops[split:]
    following = next((stop for stop in after + before if not stop[1]), None)
    return GradingRound(
        handed_in=sum(stop[1] for stop in stops),
        total=len(stops),
        current=current,
        previous=_stop(before[-1] if before else None),
        next=_stop(after[0] if after else None),
        next_to_grade=_stop(following),
    )


def _stop(row):
    if row is None:
        return None
    pk, handed_in, name = row
    return Stop(pk, candidate_name(*name), handed_in)
