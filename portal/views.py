"""Each role's home and dashboards, and the candidate's own pages: reads only,
across every stage of the certification."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from blocks.models import CertificationVersion
from candidates.models import Candidate, Cohort, Enrolment
from core import exports, roles
from core.roles import ADMIN, CANDIDATE, JURY_MEMBER, TRAINER, role_required
from evaluations import documents
from evaluations.letters import letter_for
from evaluations.models import Deliberation, ExamSession

from . import charts, dashboards, journeys, statistics
from .forms import StatisticsForm
from .transcript import render_transcript


@login_required
def home(request):
    """Each role lands on its own dashboard after sign-in."""
    user_roles = roles.roles_of(request.user)
    for role, page in (
        (roles.ADMIN, "portal:office_dashboard"),
        (roles.TRAINER, "portal:trainer_dashboard"),
        (roles.JURY_MEMBER, "portal:jury_dashboard"),
        (roles.CANDIDATE, "portal:candidate_home"),
    ):
        if role in user_roles:
            return redirect(page)
    return render(request, "portal/no_role.html")


@role_required(ADMIN)
def office_dashboard(request):
    """The office's to-do list: each line its count and a link to act."""
    return render(request, "portal/office_dashboard.html", dashboards.office_dashboard())


@role_required(TRAINER)
def trainer_dashboard(request):
    cohorts = Cohort.objects.visible_to(request.user).annotate(
        enrolled=Count("enrolments", filter=Q(enrolments__status=Enrolment.Status.ENROLLED))
    )
    sessions = dashboards.session_progress(
        ExamSession.objects.for_assessor(request.user).order_by("-date", "pk")
    )
    return render(
        request,
        "portal/trainer_dashboard.html",
        {"cohorts": cohorts, "sessions": sessions},
    )


@role_required(ADMIN, TRAINER)
def cohort_heatmap(request, pk):
    cohort = get_object_or_404(
        Cohort.objects.visible_to(request.user).select_related("certification_version"), pk=pk
    )
    competences, rows = dashboards.cohort_heatmap(cohort, viewer=request.user)
    return render(
        request,
        "portal/heatmap.html",
        {"cohort": cohort, "competences": competences, "rows": rows},
    )


@role_required(JURY_MEMBER)
def jury_dashboard(request):
    return render(request, "portal/jury_dashboard.html", dashboards.jury_dashboard(request.user))


def own_candidate(user):
    return get_object_or_404(Candidate.objects.filter(user=user))


@role_required(CANDIDATE)
def candidate_home(request):
    enrolments = sorted(
        Enrolment.objects.filter(candidate__user=request.user, status=Enrolment.Status.ENROLLED)
        .select_related("candidate", "cohort__certification_version")
        .order_by(),
        # The cohorts' order (Cohort.Meta.ordering), sorted here rather than in
        # SQL: a candidate has one enrolment or two, and the ORDER BY costs more.
        key=lambda enrolment: (-enrolment.cohort.start_date.toordinal(), enrolment.cohort.name),
    )
    # The candidate comes with their enrolments; read on its own only without any.
    candidate = enrolments[0].candidate if enrolments else own_candidate(request.user)
    enrolment_journeys, letters = journeys.home_journeys(candidate, enrolments)
    return render(
        request,
        "portal/candidate_home.html",
        {
            "candidate": candidate,
            "journeys": enrolment_journeys,
            "certificates": journeys.own_certificates(candidate).order_by("-year", "-sequence"),
            "letters": letters,
        },
    )


def decided_for(candidate):
    """The published PVs in force that decided on the candidate: one decision
    letter each. Nothing of a PV reaches the candidate before publication."""
    return (
        Deliberation.objects.effective()
        .filter(decisions__enrolment__candidate=candidate)
        .distinct()
    )


@role_required(CANDIDATE)
def decision_letter(request, pk):
    """The candidate's own decision letter of a published PV (404 otherwise)."""
    candidate = own_candidate(request.user)
    deliberation = get_object_or_404(
        decided_for(candidate).select_related("jury__certification_version"), pk=pk
    )
    enrolment = candidate.enrolments.filter(decisions__deliberation=deliberation).first()
    letter = letter_for(deliberation, enrolment) if enrolment else None
    if letter is None:
        raise Http404("Aucune lettre de décision.")
    return FileResponse(
        letter.pdf.open("rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"lettre-de-decision-pv-{deliberation.pk}.pdf",
    )


@role_required(CANDIDATE)
def my_data(request, as_json=False):
    """The candidate's personal data (RGPD): the page in French, the export
    in JSON with ISO dates."""
    candidate = own_candidate(request.user)
    if as_json:
        data = journeys.personal_data(candidate)
        response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = 'attachment; filename="mes-donnees.json"'
        return response
    return render(
        request,
        "portal/my_data.html",
        {"candidate": candidate, **journeys.personal_data_page(candidate)},
    )


def pdf_download(data, filename):
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required(CANDIDATE)
def my_transcript(request):
    """The candidate's own transcript: published results only (a page or two,
    rendered on request)."""
    candidate = own_candidate(request.user)
    return pdf_download(render_transcript(candidate), "releve-de-notes.pdf")


@role_required(ADMIN)
def candidate_transcript(request, pk):
    """A candidate's transcript, for the office: what the candidate sees."""
    candidate = get_object_or_404(Candidate, pk=pk)
    return pdf_download(render_transcript(candidate), f"releve-de-notes-{candidate.pk}.pdf")


@role_required(CANDIDATE)
def my_convocation(request, pk):
    """The candidate's convocation to one of their upcoming exams (404 for any
    other session, a past one, or one whose convocation is not ready)."""
    candidate = own_candidate(request.user)
    for enrolment in candidate.enrolments.filter(status=Enrolment.Status.ENROLLED):
        if journeys.upcoming_sessions(enrolment).filter(pk=pk).exists():
            break
    else:
        raise Http404("Aucune épreuve à venir de ce numéro.")
    session = documents.document_session(pk)
    assessment = documents.session_assessments(session, only_enrolment=enrolment.pk)[0]
    try:
        data = documents.render_convocation(assessment)
    except ValidationError:
        raise Http404("Cette convocation n'est pas encore prête.") from None
    return pdf_download(data, f"convocation-{session.modality.code}-{session.date:%Y-%m-%d}.pdf")


# --- Statistics for France Compétences ------------------------------------------


def statistics_form(request):
    """The form of the statistics page, and the figures it asks for (None while
    the form is not valid). Without a choice: the active version (else the
    latest one) and the latest year with published results."""
    years = statistics.years_with_results()
    data = request.GET
    if not data:
        versions = CertificationVersion.objects.exclude(status=CertificationVersion.Status.DRAFT)
        version = (
            versions.filter(status=CertificationVersion.Status.ACTIVE)
            .order_by("-created_at")
            .first()
            or versions.order_by("-created_at").first()
        )
        data = {"version": version.pk if version else "", "annee": statistics.default_year(years)}
    form = StatisticsForm(data, years=years)
    if not form.is_valid():
        return form, None
    return form, statistics.figures(form.cleaned_data["version"], form.cleaned_data["annee"])


@role_required(ADMIN)
def statistics_page(request):
    form, figures = statistics_form(request)
    context = {
        "form": form,
        "figures": figures,
        "year_rule": statistics.YEAR_RULE,
        "breadcrumbs": [("Tableau de bord", reverse("portal:office_dashboard"))],
    }
    if figures is not None:
        context["charts"] = statistics_charts(figures)
        context["query"] = urlencode({"version": figures.version.pk, "annee": figures.year})
    return render(request, "portal/statistics.html", context)


def statistics_charts(figures):
    blocs = [f"Bloc {each.bloc.number}" for each in figures.blocs]
    routes = [route.label for route in figures.routes]
    return {
        "blocs": charts.bar_chart(
            id="chart-blocs",
            title=f"Blocs présentés et validés en {figures.year}",
            description="Pour chaque bloc, le nombre de candidats présentés puis validés.",
            categories=blocs,
            series=[
                charts.Series("Présentés", [each.presented for each in figures.blocs]),
                charts.Series("Validés", [each.validated for each in figures.blocs]),
            ],
        ),
        "bloc_rates": charts.rate_chart(
            id="chart-bloc-rates",
            title=f"Taux de validation par bloc en {figures.year}",
            description="Validés sur présentés, en pourcentage, pour chaque bloc.",
            categories=blocs,
            label="Taux de validation",
            rates=[each.rate for each in figures.blocs],
        ),
        "routes": charts.rate_chart(
            id="chart-routes",
            title=f"Taux d'obtention du titre par voie d'accès en {figures.year}",
            description="Titres délivrés sur candidats présentés, en pourcentage, "
            "pour chaque voie d'accès.",
            categories=routes,
            label="Taux d'obtention du titre",
            rates=[route.rate for route in figures.routes],
        ),
        "durations": charts.bar_chart(
            id="chart-durations",
            title=f"Délai de l'inscription au titre, titres de {figures.year}",
            description="Nombre de titres selon le délai entre l'inscription et la "
            "signature du procès-verbal, par tranche de six mois.",
            categories=[label for label, _ in figures.duration_bands],
            series=[charts.Series("Titres", [count for _, count in figures.duration_bands])],
        ),
    }


STATISTICS_HEADER = ["Rubrique", "Élément", "Valeur"]


@role_required(ADMIN)
def statistics_export(request, fmt):
    """The figures of the page, as CSV or XLSX (core/exports.py)."""
    form, figures = statistics_form(request)
    if figures is None:
        raise Http404("Choisissez une version et une année.")
    return exports.export(
        fmt,
        title=f"Statistiques {figures.year}",
        header=STATISTICS_HEADER,
        rows=statistics.export_rows(figures),
    )
