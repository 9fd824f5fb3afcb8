"""The figures France Compétences asks for at a renewal, for one version of
the certification and one year: candidates presented, blocs validated, titles
awarded, success rates per bloc and per access route, time from enrolment to
title. Reads only, in a fixed number of queries whatever the number of
candidates (counted in the database, except the durations, one row per title).

The year is that of the jury's decision: the signature of the PV. Only
published PVs in force count (`Deliberation.objects.effective()`), as for
anything that reaches candidates, certificates and the CPF, whose award date
is the same signature. A candidate is *presented* in a year when a PV of that
year decided on them: a PV decides only the blocs a candidate sat at least
one modality of (present), or that the office added to it. A bloc is
*validated* when a decision of the year says so (a validated bloc stays
acquired: a later PV never decides it again). A *title* is a valid parchment
of a PV of the year; the time to it runs from the enrolment's registration
date (else the day the enrolment was recorded) to the PV's signature."""

import statistics as stats
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from blocks.models import Bloc
from candidates.models import Enrolment
from certification.models import Certificate
from certification.printing import due_titles_by_deliberation
from evaluations.models import BlocDecision, Deliberation

YEAR_RULE = (
    "Année de la décision du jury : celle de la signature du procès-verbal. Seuls les "
    "procès-verbaux publiés et en vigueur comptent. Un candidat est présenté l'année où un "
    "procès-verbal a statué sur lui (il a passé au moins une épreuve du bloc, ou le bureau a "
    "ajouté le bloc à la délibération) ; le délai court de la date d'inscription à la "
    "certification (à défaut, de l'enregistrement de l'inscription) à la signature du "
    "procès-verbal qui délivre le titre."
)
DAYS_PER_MONTH = 365.25 / 12
# Months from enrolment to title, in the chart of durations: [low, high).
DURATION_BANDS = ((0, 6), (6, 12), (12, 18), (18, 24), (24, None))


def rate(part, whole):
    """A percentage with one decimal, or None when nobody was presented."""
    return round(100 * part / whole, 1) if whole else None


@dataclass
class BlocFigures:
    bloc: Bloc
    presented: int = 0
    validated: int = 0

    @property
    def rate(self):
        return rate(self.validated, self.presented)


@dataclass
class RouteFigures:
    route: str
    presented: int = 0
    titles: int = 0

    @property
    def label(self):
        return Enrolment.AccessRoute(self.route).label

    @property
    def rate(self):
        return rate(self.titles, self.presented)


@dataclass
class Figures:
    version: object
    year: int
    presented: int
    blocs: list
    routes: list
    titles: int
    durations: list = field(default_factory=list)  # days, one per title
    # Titles the PVs of the year award (every mandatory bloc validated) whose
    # parchment is not issued yet: they count once issued.
    titles_to_issue: int = 0

    @property
    def title_rate(self):
        return rate(self.titles, self.presented)

    @property
    def median_days(self):
        return round(stats.median(self.durations)) if self.durations else None

    @property
    def mean_days(self):
        return round(stats.fmean(self.durations), 1) if self.durations else None

    @property
    def median_months(self):
        return months(self.median_days)

    @property
    def mean_months(self):
        return months(self.mean_days)

    @property
    def duration_bands(self):
        """(label, number of titles) for each band of months."""
        bands = []
        for low, high in DURATION_BANDS:
            count = sum(
                low <= days / DAYS_PER_MONTH and (high is None or days / DAYS_PER_MONTH < high)
                for days in self.durations
            )
            label = f"{low} à {high} mois" if high is not None else f"{low} mois et plus"
            bands.append((label, count))
        return bands


def months(days):
    return None if days is None else round(days / DAYS_PER_MONTH, 1)


def decisions_of(version, year):
    """The bloc decisions of the published PVs in force of `version` signed in `year`."""
    return BlocDecision.objects.filter(
        deliberation__in=Deliberation.objects.effective(),
        deliberation__jury__certification_version=version,
        deliberation__signed_at__year=year,
    )


def titles_of(version, year):
    """The valid parchments of `version` whose PV was signed in `year`."""
    return (
        Certificate.objects.valid()
        .public()
        .filter(
            kind=Certificate.Kind.TITLE,
            deliberation__jury__certification_version=version,
            deliberation__signed_at__year=year,
        )
    )


def figures(version, year):
    """Every figure of `version` for `year`, in a fixed number of queries."""
    decisions = decisions_of(version, year).order_by()
    validated = Q(decision=BlocDecision.Decision.VALIDATED)
    per_bloc = {
        row["bloc"]: row
        for row in decisions.values("bloc").annotate(
            presented=Count("enrolment", distinct=True),
            validated=Count("enrolment", distinct=True, filter=validated),
        )
    }
    blocs = [
        BlocFigures(
            bloc=bloc,
            presented=per_bloc.get(bloc.pk, {}).get("presented", 0),
            validated=per_bloc.get(bloc.pk, {}).get("validated", 0),
        )
        for bloc in Bloc.objects.filter(certification_version=version).order_by("number")
    ]
    routes = {
        row["enrolment__access_route"]: RouteFigures(
            route=row["enrolment__access_route"], presented=row["presented"]
        )
        for row in decisions.values("enrolment__access_route").annotate(
            presented=Count("enrolment", distinct=True)
        )
    }
    titles, durations = 0, []
    for route, registered, recorded, signed_at in titles_of(version, year).values_list(
        "enrolment__access_route",
        "enrolment__registration_date",
        "enrolment__created_at",
        "deliberation__signed_at",
    ):
        titles += 1
        routes.setdefault(route, RouteFigures(route=route)).titles += 1
        durations.append(duration(registered, recorded, signed_at))
    order = list(Enrolment.AccessRoute.values)
    of_the_year = list(
        Deliberation.objects.effective()
        .filter(jury__certification_version=version, signed_at__year=year)
        .select_related("jury")
    )
    to_issue = sum(len(due) for due in due_titles_by_deliberation(of_the_year).values())
    return Figures(
        version=version,
        year=year,
        presented=sum(route.presented for route in routes.values()),
        blocs=blocs,
        routes=sorted(routes.values(), key=lambda route: order.index(route.route)),
        titles=titles,
        durations=durations,
        titles_to_issue=to_issue,
    )


def duration(registered, recorded, signed_at):
    """Days from the enrolment (its registration date, else the day it was
    recorded) to the signature of the PV."""
    start = registered or timezone.localdate(recorded)
    return (timezone.localdate(signed_at) - start).days


def years_with_results():
    """The years of the published PVs in force, newest first (one query)."""
    return [
        moment.year
        for moment in Deliberation.objects.effective()
        .order_by()
        .datetimes("signed_at", "year", order="DESC")
    ]


def export_rows(data):
    """The figures as rows (section, item, value) for the CSV and XLSX exports."""
    version = f"{data.version.title} (version {data.version.version})"
    yield ("Certification", version, None)
    yield ("Année (signature du procès-verbal)", "", data.year)
    yield ("Candidats présentés", "Ensemble", data.presented)
    yield ("Titres délivrés", "Ensemble", data.titles)
    yield ("Titres obtenus, parchemin pas encore délivré", "Ensemble", data.titles_to_issue)
    yield ("Taux d'obtention du titre (%)", "Ensemble", data.title_rate)
    for each in data.blocs:
        name = f"Bloc {each.bloc.number} · {each.bloc.title}"
        yield ("Bloc : candidats présentés", name, each.presented)
        yield ("Bloc : validés", name, each.validated)
        yield ("Bloc : taux de validation (%)", name, each.rate)
    for route in data.routes:
        yield ("Voie d'accès : candidats présentés", route.label, route.presented)
        yield ("Voie d'accès : titres délivrés", route.label, route.titles)
        yield ("Voie d'accès : taux d'obtention du titre (%)", route.label, route.rate)
    yield ("Délai de l'inscription au titre", "Médiane (jours)", data.median_days)
    yield ("Délai de l'inscription au titre", "Moyenne (jours)", data.mean_days)
    yield ("Délai de l'inscription au titre", "Médiane (mois)", data.median_months)
    yield ("Délai de l'inscription au titre", "Moyenne (mois)", data.mean_months)
    for label, count in data.duration_bands:
        yield ("Délai de l'inscription au titre : titres", label, count)


def default_year(years):
    return years[0] if years else timezone.localdate().year
