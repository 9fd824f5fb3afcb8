"""What each role sees at a glance. Reads only: every number comes from a
fixed number of queries, whatever the number of candidates."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, Func, IntegerField, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from blocks.models import Competence
from candidates.models import Cohort, Enrolment, candidate_name
from certification import cpf
from certification.models import Certificate, PrintJob
from certification.printing import due_count
from core import roles
from core.models import Notification
from evaluations.models import (
    Assessment,
    AssessorReplacement,
    Deliberation,
    ExamSession,
    Grid,
    JuryMember,
    MinutesSignature,
    Recusal,
)
from evaluations.sessions import expected_assessors
from evaluations.standings import (
    bloc_structure,
    missing_decision_counts,
    submitted_values,
    version_rules,
)

# --- The trainer ----------------------------------------------------------------


def _count_of(queryset):
    """How many rows of `queryset` (filtered on OuterRef("pk")), as a
    correlated subquery: counting through joins instead would multiply the
    rows (assessments x grids x assessors) before counting them distinct."""
    counted = queryset.order_by().annotate(count=Func("pk", function="COUNT")).values("count")
    return Subquery(counted, output_field=IntegerField())


def session_progress(sessions):
    """Sessions (a queryset of one row per session, in its own order) with how
    far their grading is: grids handed in out of those expected (present
    candidates times assessors). Each count is its own subquery, so a queryset
    filtered on its assessors (`for_assessor`) still counts them all."""
    sessions = sessions.select_related("modality", "cohort").annotate(
        present_count=_count_of(Assessment.objects.filter(session=OuterRef("pk"), present=True)),
        assessor_count=_count_of(
            ExamSession.assessors.through.objects.filter(examsession=OuterRef("pk"))
        ),
        submitted_count=_count_of(
            Grid.objects.filter(assessment__session=OuterRef("pk"), status=Grid.Status.SUBMITTED)
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
    """A candidate's line of the competence map. The states are kept as one
    list per row rather than a tuple per cell: at 300 candidates, 11,000 tuples
    kept alive cost more in garbage collection than computing them."""

    enrolment_id: int
    name: str
    competences: list  # the map's columns, shared by every row
    states: list  # per competence, in order: "acquired", "not_acquired" or "none"
    links: dict  # competence id -> the viewer's assessment of it, to link the cell
    acquired: int

    @property
    def cells(self):
        """(competence, state, assessment id or None), competence by competence."""
        return [
            (competence, state, self.links.get(competence.pk))
            for competence, state in zip(self.competences, self.states, strict=True)
        ]


def cohort_heatmap(cohort, *, viewer):
    """Candidates x competences: acquired, not acquired, or not yet assessed,
    from the grids handed in (the staff's working view, not the published one).
    A trainer does not see the orals before the PV that decides on them is
    published: the jury's marks are its own until then.

    At 300 candidates the map has over 11,000 cells: everything is read as plain
    rows (no model instance per candidate or criterion) and each candidate's
    criteria are walked once, only those that have values."""
    version = cohort.certification_version
    rules = version_rules(version)
    competences = list(
        Competence.objects.filter(certification_version=version).order_by("bloc__number", "order")
    )
    structure = bloc_structure(version)
    competence_of = {
        criterion_id: competence_id
        for by_competence in structure.values()
        for competence_id, criteria in by_competence.items()
        for criterion_id in criteria
    }
    criteria_count = {
        competence_id: len(criteria)
        for by_competence in structure.values()
        for competence_id, criteria in by_competence.items()
    }
    enrolled = cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
    values = submitted_values(enrolled, for_trainers=not roles.is_admin(viewer))
    # The viewer's grid for each (enrolment, competence), to link the cell to it.
    links = defaultdict(dict)
    for enrolment_id, competence_id, assessment_id in Assessment.objects.filter(
        enrolment__in=enrolled, session__assessors=viewer
    ).values_list("enrolment_id", "session__modality__competences", "pk"):
        links[enrolment_id][competence_id] = assessment_id
    # The rules of results.competence_result, on the criteria that have values:
    # a criterion is met when its exact mean reaches the passing mark, that is
    # when the sum of its values reaches the mark times their number (Decimal
    # arithmetic, exact on either scale); a competence none of whose criteria
    # has a value is not yet assessed.
    passing, threshold = rules.passing_mark, rules.competence_threshold
    column_of = {competence.pk: index for index, competence in enumerate(competences)}
    rows = []
    for enrolment_id, usage_name, birth_name, first_names in enrolled.values_list(
        "pk", "candidate__usage_name", "candidate__birth_name", "candidate__first_names"
    ):
        assessed, met = {}, {}  # competence id -> how many of its criteria
        for criterion_id, criterion_values in values.get(enrolment_id, {}).items():
            used = [value for value in criterion_values if value is not None]
            competence_id = competence_of.get(criterion_id)
            if used and competence_id is not None:
                assessed[competence_id] = assessed.get(competence_id, 0) + 1
                met[competence_id] = met.get(competence_id, 0) + (sum(used) >= passing * len(used))
        # Most cells are not yet assessed: only the competences with values are computed.
        states = ["none"] * len(competences)
        for competence_id, count in assessed.items():
            criteria = criteria_count[competence_id]
            acquired = count == criteria and met[competence_id] * 100 >= threshold * criteria
            states[column_of[competence_id]] = "acquired" if acquired else "not_acquired"
        name = candidate_name(usage_name, birth_name, first_names)
        rows.append(
            HeatmapRow(
                enrolment_id,
                name,
                competences,
                states,
                links.get(enrolment_id, {}),
                acquired=states.count("acquired"),
            )
        )
    return competences, rows


# --- The jury member ------------------------------------------------------------


def jury_dashboard(user):
    seats = list(JuryMember.objects.filter(user=user).select_related("jury"))
    sessions = session_progress(
        ExamSession.objects.for_assessor(user).filter(status=ExamSession.Status.OPEN)
    )
    signed_by_user = MinutesSignature.objects.filter(deliberation=OuterRef("pk"), member__user=user)
    open_deliberations = list(
        Deliberation.objects.filter(jury__members__user=user, status=Deliberation.Status.OPEN)
        .select_related("jury", "cohort")
        .annotate(signed_by_user=Exists(signed_by_user))
    )
    # Most of the year a member has no deliberation open: nothing to count then.
    missing = (
        missing_decision_counts(
            Deliberation.objects.filter(pk__in=[each.pk for each in open_deliberations])
        )
        if open_deliberations
        else {}
    )
    return {
        "seats": seats,
        "to_declare": [seat for seat in seats if not seat.has_declared],
        "sessions": sessions,
        "deliberations": [
            (deliberation, missing[deliberation.pk], deliberation.signed_by_user)
            for deliberation in open_deliberations
        ],
    }


# --- The office -----------------------------------------------------------------

# How many items a to-do line names (with a link each) before "and N more".
NAMED = 5


@dataclass
class TodoLine:
    """One line of the office's to-do list: how many, what, and where to act.
    `items` names the first ones, each with its own page; `url` lists them all
    (or, where the list has no filter for exactly these, the list they are in)."""

    key: str
    count: int
    text: str
    url: str
    urgent: bool = False
    items: list = field(default_factory=list)  # (label, url)

    @property
    def more(self):
        return max(self.count - len(self.items), 0)


def _named(rows, label, url):
    return [(label(row), url(row)) for row in rows[:NAMED]]


def grading_completion(sessions):
    """session id -> grids still expected from the present candidates' assessors,
    for any number of sessions in six queries: the rules of
    evaluations.sessions.grading_state (replacements, recusals), in bulk."""
    sessions = list(sessions)
    ids = [session.pk for session in sessions]
    assessors = defaultdict(set)
    for session_id, user_id in ExamSession.assessors.through.objects.filter(
        examsession_id__in=ids
    ).values_list("examsession_id", "user_id"):
        assessors[session_id].add(user_id)
    replacements = defaultdict(list)
    for session_id, replaced, replacement in (
        AssessorReplacement.objects.filter(session_id__in=ids)
        .order_by("recorded_at", "pk")
        .values_list("session_id", "replaced_id", "replacement_id")
    ):
        replacements[session_id].append((replaced, replacement))
    recused = defaultdict(set)
    for jury_id, enrolment_id, user_id in Recusal.objects.filter(
        member__jury__in={session.jury_id for session in sessions if session.jury_id}
    ).values_list("member__jury_id", "enrolment_id", "member__user_id"):
        recused[(jury_id, enrolment_id)].add(user_id)
    submitted = defaultdict(set)
    for assessment_id, assessor_id in Grid.objects.filter(
        assessment__session_id__in=ids, status=Grid.Status.SUBMITTED
    ).values_list("assessment_id", "assessor_id"):
        submitted[assessment_id].add(assessor_id)
    jury_of = {session.pk: session.jury_id for session in sessions}
    missing = dict.fromkeys(ids, 0)
    for assessment_id, session_id, enrolment_id in Assessment.objects.filter(
        session_id__in=ids, present=True
    ).values_list("pk", "session_id", "enrolment_id"):
        done = submitted[assessment_id]
        expected = expected_assessors(assessors[session_id], replacements[session_id], done)
        expected -= recused[(jury_of[session_id], enrolment_id)]
        missing[session_id] += len(expected - done)
    return missing


def _session_label(session):
    return f"{session.modality.code} · {session.cohort.name} · {session.date:%d/%m/%Y}"


def office_dashboard():
    """The office's to-do list and its figures at a glance, in a fixed number of
    queries whatever the number of sessions, deliberations, certificates or
    print jobs. Each line keeps its place, 0 included (shown in grey)."""
    today = timezone.localdate()
    sessions_url = reverse("evaluations:sessions")
    juries_url = reverse("evaluations:juries")
    certificates_url = reverse("certification:certificates")

    # Sessions: planned whose day has come; open whose day has passed.
    to_open = ExamSession.objects.filter(
        status=ExamSession.Status.PLANNED, date__lte=today
    ).select_related("modality", "cohort")
    to_open_count = to_open.count()
    past_open = list(
        ExamSession.objects.filter(status=ExamSession.Status.OPEN, date__lt=today)
        .select_related("modality", "cohort")
        .order_by("date", "pk")
    )
    missing = grading_completion(past_open)
    to_close = [session for session in past_open if not missing[session.pk]]
    late = [session for session in past_open if missing[session.pk]]
    late_grids = sum(missing.values())
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    past_open_url = f"{sessions_url}?{urlencode({'statut': 'open', 'au': yesterday})}"

    # Juries: members who have not declared their independence, in juries still
    # at work (no deliberation yet, or one open).
    deliberations = Deliberation.objects.filter(jury=OuterRef("jury"))
    undeclared = list(
        JuryMember.objects.filter(independence_declared_at__isnull=True)
        .filter(
            ~Exists(deliberations) | Exists(deliberations.filter(status=Deliberation.Status.OPEN))
        )
        .values("jury", "jury__name")
        .annotate(members=Count("pk"))
        .order_by("jury__name", "jury")
    )

    # PVs: open (decisions, then signatures), signed to publish.
    open_deliberations = (
        Deliberation.objects.filter(status=Deliberation.Status.OPEN)
        .annotate(signature_count=Count("signatures"))
        .select_related("jury", "cohort")
        .order_by("opened_at", "pk")
    )
    counts = Deliberation.objects.filter(status=Deliberation.Status.OPEN).aggregate(
        deciding=Count(
            "pk", filter=~Exists(MinutesSignature.objects.filter(deliberation=OuterRef("pk")))
        ),
        total=Count("pk"),
    )
    deciding = open_deliberations.filter(signature_count=0)
    signing = open_deliberations.filter(signature_count__gt=0)
    to_publish = (
        Deliberation.objects.in_force()
        .filter(published_at__isnull=True)
        .select_related("jury", "cohort")
        .order_by("signed_at", "pk")
    )
    to_publish_count = to_publish.count()

    # Certificates: due (to issue), issued but in no finished print job (to
    # print one by one), print jobs failed and not run again since.
    printed = PrintJob.certificates.through.objects.filter(
        certificate=OuterRef("pk"), printjob__status=PrintJob.Status.DONE
    )
    to_print = (
        Certificate.objects.valid()
        .public()
        .exclude(Exists(printed))
        .select_related("candidate")
        .order_by("year", "sequence")
    )
    to_print_count = to_print.count()
    failed_jobs = (
        PrintJob.objects.filter(status=PrintJob.Status.FAILED)
        .exclude(
            Exists(
                PrintJob.objects.filter(
                    deliberation=OuterRef("deliberation"), created_at__gt=OuterRef("created_at")
                )
            )
        )
        .order_by("created_at", "pk")
    )
    failed_jobs_count = failed_jobs.count()
    certificates = Certificate.objects.aggregate(
        valid=Count("pk", filter=Q(status=Certificate.Status.VALID)),
        revoked=Count("pk", filter=Q(status=Certificate.Status.REVOKED)),
    )
    grids = Grid.objects.aggregate(
        submitted=Count("pk", filter=Q(status=Grid.Status.SUBMITTED)),
        draft=Count("pk", filter=Q(status=Grid.Status.DRAFT)),
    )
    numbers = {
        "cohorts": Cohort.objects.count(),
        "enrolled": Enrolment.objects.filter(status=Enrolment.Status.ENROLLED).count(),
        "grids_submitted": grids["submitted"],
        "grids_draft": grids["draft"],
        "open_sessions": ExamSession.objects.filter(status=ExamSession.Status.OPEN).count(),
        "sessions_to_open": to_open_count,
        "sessions_to_close": len(to_close),
        "late_sessions": len(late),
        "late_grids": late_grids,
        "undeclared_members": sum(row["members"] for row in undeclared),
        "deliberations_deciding": counts["deciding"],
        "deliberations_signing": counts["total"] - counts["deciding"],
        "to_publish": to_publish_count,
        "to_issue": due_count(),  # blocs and titles of every published PV in force
        "to_print": to_print_count,
        "print_failures": failed_jobs_count,
        "valid_certificates": certificates["valid"],
        "revoked": certificates["revoked"],
        "failed_emails": Notification.objects.filter(status=Notification.Status.FAILED).count(),
        "cpf": cpf.deadlines_summary(),
    }
    session_url = ExamSession.get_absolute_url
    deliberation_label = _deliberation_label
    todo = [
        TodoLine(
            "sessions-to-open",
            numbers["sessions_to_open"],
            "session(s) planifiée(s) dont la date est arrivée : à ouvrir à la notation",
            f"{sessions_url}?{urlencode({'statut': 'planned', 'au': today.isoformat()})}",
            items=_named(list(to_open.order_by("date", "pk")[:NAMED]), _session_label, session_url),
        ),
        TodoLine(
            "late-grids",
            late_grids,
            f"grille(s) en retard dans {len(late)} session(s) ouverte(s) dont la date est "
            "passée : à remettre par les évaluateurs",
            past_open_url,
            urgent=True,
            items=_named(
                late,
                lambda s: f"{_session_label(s)} ({missing[s.pk]} grille(s))",
                session_url,
            ),
        ),
        TodoLine(
            "sessions-to-close",
            len(to_close),
            "session(s) ouverte(s) dont la date est passée et toutes les grilles remises : à clore",
            past_open_url,
            items=_named(to_close, _session_label, session_url),
        ),
        TodoLine(
            "undeclared-members",
            numbers["undeclared_members"],
            "membre(s) de jury sans déclaration d'indépendance (ni noter ni délibérer avant)",
            juries_url,
            items=[
                (
                    f"{row['jury__name']} ({row['members']})",
                    reverse("evaluations:jury", args=[row["jury"]]),
                )
                for row in undeclared[:NAMED]
            ],
        ),
        TodoLine(
            "deliberations-deciding",
            numbers["deliberations_deciding"],
            "délibération(s) en cours : décisions à prendre, puis signatures",
            juries_url,
            items=_named(list(deciding[:NAMED]), deliberation_label, Deliberation.get_absolute_url),
        ),
        TodoLine(
            "deliberations-signing",
            numbers["deliberations_signing"],
            "procès-verbal(aux) en cours de signature : signatures à recueillir",
            juries_url,
            items=_named(list(signing[:NAMED]), deliberation_label, Deliberation.get_absolute_url),
        ),
        TodoLine(
            "to-publish",
            to_publish_count,
            "procès-verbal(aux) signé(s) à publier",
            juries_url,
            items=_named(
                list(to_publish[:NAMED]), deliberation_label, Deliberation.get_absolute_url
            ),
        ),
        TodoLine(
            "to-issue",
            numbers["to_issue"],
            "certificat(s) à délivrer (blocs validés et titres obtenus de PV publiés)",
            certificates_url,
        ),
        TodoLine(
            "to-print",
            to_print_count,
            "certificat(s) délivré(s) hors impression par jury : à imprimer un par un",
            f"{certificates_url}?statut={Certificate.Status.VALID}",
            items=_named(
                list(to_print[:NAMED]),
                lambda c: f"{c.number} · {c.candidate.full_name}",
                Certificate.get_absolute_url,
            ),
        ),
        TodoLine(
            "print-failures",
            failed_jobs_count,
            "impression(s) en échec : à reprendre",
            certificates_url,
            urgent=True,
            items=_named(list(failed_jobs[:NAMED]), str, PrintJob.get_absolute_url),
        ),
        TodoLine(
            "failed-emails",
            numbers["failed_emails"],
            "courriel(s) en échec : à renvoyer",
            f"{reverse('core:outbox')}?status={Notification.Status.FAILED}",
            urgent=True,
        ),
    ]
    return {"numbers": numbers, "todo": todo}


def _deliberation_label(deliberation):
    return f"{deliberation.short_label} · {deliberation.jury.name} · {deliberation.cohort.name}"
