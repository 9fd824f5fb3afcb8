"""What each role sees at a glance. Reads only: every number comes from a
fixed number of queries, whatever the number of candidates."""

from dataclasses import dataclass

from django.db.models import Count, Q

from blocks.models import Competence
from candidates.models import Cohort, Enrolment
from certification import cpf
from certification.models import Certificate
from certification.printing import due_count
from core import roles
from evaluations import results
from evaluations.models import (
    Assessment,
    Deliberation,
    ExamSession,
    Grid,
    JuryMember,
)
from evaluations.standings import bloc_structure, missing_decisions, submitted_values, version_rules

# --- The trainer ----------------------------------------------------------------


def session_progress(sessions):
    """Sessions with how far their grading is: grids handed in out of those
    expected (present candidates times assessors).

    Counted over sessions chosen by id: a queryset filtered on its assessors
    (`for_assessor`) would count only the assessor it was filtered on."""
    sessions = ExamSession.objects.filter(pk__in=sessions.values("pk"))
    sessions = sessions.select_related("modality__bloc", "cohort").annotate(
        present_count=Count("assessments", filter=Q(assessments__present=True), distinct=True),
        assessor_count=Count("assessors", distinct=True),
        submitted_count=Count(
            "assessments__grids",
            filter=Q(assessments__grids__status=Grid.Status.SUBMITTED),
            distinct=True,
        ),
    )
    sessions = list(sessions)
    for session in sessions:
        session.expected = session.present_count * session.assessor_count
        session.percent = (
            round(100 * session.submitted_count / session.expected) if session.expected else 0
        )
    return sessions


@dataclass
class HeatmapRow:
    enrolment: Enrolment
    cells: list  # (competence, state, assessment id or None)

    @property
    def acquired(self):
        return sum(state == "acquired" for _, state, _ in self.cells)


def cohort_heatmap(cohort, *, viewer):
    """Candidates x competences: acquired, not acquired, or not yet assessed,
    from the grids handed in (the staff's working view, not the published one).
    A trainer does not see the orals before the PV that decides on them is
    published: the jury's marks are its own until then."""
    version = cohort.certification_version
    rules = version_rules(version)
    structure = bloc_structure(version)
    enrolments = list(
        cohort.enrolments.filter(status=Enrolment.Status.ENROLLED).select_related("candidate")
    )
    values = submitted_values(
        cohort.enrolments.filter(status=Enrolment.Status.ENROLLED),
        for_trainers=not roles.is_admin(viewer),
    )
    competences = list(
        Competence.objects.filter(certification_version=version).order_by("bloc__number", "order")
    )
    # The viewer's grid for each (enrolment, competence), to link the cell to it.
    links = {}
    for enrolment_id, competence_id, assessment_id in Assessment.objects.filter(
        enrolment__in=enrolments, session__assessors=viewer
    ).values_list("enrolment_id", "session__modality__competences", "pk"):
        links[(enrolment_id, competence_id)] = assessment_id
    rows = []
    for enrolment in enrolments:
        cells = []
        for competence in competences:
            criteria = structure[competence.bloc_id][competence.pk]
            result = results.competence_result(
                competence.pk,
                [
                    results.criterion_result(c, values[enrolment.pk].get(c, []), rules)
                    for c in criteria
                ],
                rules,
            )
            state = "acquired" if result.acquired else "not_acquired" if result.assessed else "none"
            cells.append((competence, state, links.get((enrolment.pk, competence.pk))))
        rows.append(HeatmapRow(enrolment=enrolment, cells=cells))
    return competences, rows


# --- The jury member ------------------------------------------------------------


def jury_dashboard(user):
    seats = list(JuryMember.objects.filter(user=user).select_related("jury"))
    sessions = session_progress(
        ExamSession.objects.for_assessor(user).filter(status=ExamSession.Status.OPEN)
    )
    deliberations = []
    for deliberation in Deliberation.objects.filter(
        jury__members__user=user, status=Deliberation.Status.OPEN
    ).select_related("jury__certification_version", "cohort"):
        deliberations.append(
            (
                deliberation,
                len(missing_decisions(deliberation)),
                deliberation.signatures.filter(member__user=user).exists(),
            )
        )
    return {
        "seats": seats,
        "to_declare": [seat for seat in seats if not seat.has_declared],
        "sessions": sessions,
        "deliberations": deliberations,
    }


# --- The office -----------------------------------------------------------------


def office_numbers():
    enrolled = Enrolment.objects.filter(status=Enrolment.Status.ENROLLED).count()
    grids = Grid.objects.aggregate(
        submitted=Count("pk", filter=Q(status=Grid.Status.SUBMITTED)),
        draft=Count("pk", filter=Q(status=Grid.Status.DRAFT)),
    )
    open_deliberations = Deliberation.objects.filter(status=Deliberation.Status.OPEN).count()
    to_print = due_count()  # blocs and titles of every published PV in force
    revoked = Certificate.objects.filter(status=Certificate.Status.REVOKED).count()
    return {
        "cohorts": Cohort.objects.count(),
        "enrolled": enrolled,
        "grids_submitted": grids["submitted"],
        "grids_draft": grids["draft"],
        "open_sessions": ExamSession.objects.filter(status=ExamSession.Status.OPEN).count(),
        "open_deliberations": open_deliberations,
        "to_publish": Deliberation.objects.signed().filter(published_at__isnull=True).count(),
        "to_print": to_print,
        "valid_certificates": Certificate.objects.valid().count(),
        "revoked": revoked,
        "cpf": cpf.deadlines_summary(),
    }
