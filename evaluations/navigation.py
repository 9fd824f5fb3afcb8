"""Moving through a session's candidates while grading them: where this
candidate stands, how many of the assessor's grids are handed in, the previous
and next candidate, and the next one still to grade.

Read in one query whatever the number of candidates: the session's
assessments in the session page's order (the Assessment model's ordering), each
with its candidate's name and whether this assessor's own grid is handed in."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

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
    stops: tuple  # the present candidates, in the session page's order
    current: int | None  # index of this candidate in `stops`; None when absent
    previous: Stop | None
    next: Stop | None
    next_to_grade: Stop | None  # after this one, wrapping around; None when all are in

    @property
    def total(self):
        return len(self.stops)

    @property
    def handed_in(self):
        return sum(stop.handed_in for stop in self.stops)

    @property
    def position(self):
        return None if self.current is None else self.current + 1


def grading_round(assessment, *, assessor):
    """The assessor's round through `assessment`'s session (present candidates only)."""
    own_submitted = Grid.objects.filter(
        assessment=OuterRef("pk"), assessor=assessor, status=Grid.Status.SUBMITTED
    )
    rows = (
        Assessment.objects.filter(session_id=assessment.session_id)
        .annotate(handed_in=Exists(own_submitted))
        .select_related("enrolment__candidate")
        .only(
            "pk",
            "present",
            "session",
            "enrolment__candidate__birth_name",
            "enrolment__candidate__usage_name",
            "enrolment__candidate__first_names",
        )
    )
    stops, current, split = [], None, 0
    for row in rows:
        if row.pk == assessment.pk:
            # `split`: where the candidates after this one begin.
            current = len(stops) if row.present else None
            split = len(stops) + row.present
        if row.present:
            stops.append(Stop(row.pk, row.enrolment.candidate.full_name, row.handed_in))
    before = stops[: split - 1] if current is not None else stops[:split]
    after = stops[split:]
    return GradingRound(
        stops=tuple(stops),
        current=current,
        previous=before[-1] if before else None,
        next=after[0] if after else None,
        next_to_grade=next((stop for stop in after + before if not stop.handed_in), None),
    )
