"""Every route of the project, for every role, with malformed parameters,
never answers 500 (issue 14, point 5), on SQLite and PostgreSQL alike.

The URL patterns are read from the resolver, so a route added later is walked
too. Path parameters get an existing object's id (or number, or code) from a
small seeded world, then bad values ("²", forty nines, "-1"); every GET carries
malformed query parameters. Only GET: the forms behind POST have their own
tests (test_bad_input)."""

import contextlib
import re

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from candidates.models import Candidate, Cohort, Enrolment
from certification.cpf import generate_flows
from certification.models import DeclarationFlow, DeclaredPassage, PrintJob
from certification.printing import start_print_job
from certification.tests.factories import issued
from evaluations.models import Assessment, BlocDecision, Deliberation, ExamSession, Jury

pytestmark = pytest.mark.django_db

BAD_VALUES = ["²", "9" * 40, "-1"]
# The parameters the views read, each given a malformed value at once.
QUERY_NAMES = [
    "annee",
    "version",
    "page",
    "q",
    "candidat",
    "manquantes",
    "promotion",
    "statut",
    "session",
    "bloc",
    "jury",
    "format",
    "o",
    "p",
    "e",
    "next",
]
PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def routes(patterns=None, prefix="", namespace=""):
    """(route with its <converter:name> parameters, full URL name) of every pattern."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from routes(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), namespace + (pattern.name or "")


def fill(route, values):
    """The route's path with each parameter replaced by values(name)."""
    path = PARAMETER.sub(lambda match: str(values(match["name"])), route)
    return "/" + path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\", "")


@pytest.fixture
def world(published, admin_user, django_capture_on_commit_callbacks, oral_session):
    """A published PV, its certificate, a session with assessments: one object
    of each kind a route names."""
    decision = published.decisions.filter(decision=BlocDecision.Decision.VALIDATED).first()
    certificate = issued(decision, django_capture_on_commit_callbacks, by=admin_user)
    start_print_job(published, by=admin_user, enqueue=False)  # a job, its task not run
    with contextlib.suppress(ValidationError):  # a certifier's CDC ids may be missing
        generate_flows(by=admin_user)
    return {"decision": decision, "certificate": certificate}


def first(model):
    """The smallest id of `model`; 1 (then a 404) when there is none."""
    return getattr(model.objects.order_by("pk").first(), "pk", 1)


def existing(world, route, url_name, name):
    """An existing value for the parameter `name` of `route`."""
    certificate = world["certificate"]
    if name in {"fmt", "kind"}:
        return "pdf" if "impression" in route else "csv"
    if name == "code":
        return certificate.verification_code
    if name == "number":
        if route.startswith("declarations-cpf/flux"):
            return getattr(DeclarationFlow.objects.first(), "number", 1)
        if route.startswith("referentiel"):
            return 1
        return certificate.number
    if name == "object_id":
        for model in apps.get_models():
            if url_name.startswith(f"admin:{model._meta.app_label}_{model._meta.model_name}_"):
                return first(model)
        return 1
    if name in {"uidb64", "token"}:
        return "abc"
    if name == "member_pk":
        return Jury.objects.first().members.first().pk
    if name == "enrolment_pk":
        return Enrolment.objects.first().pk
    if name == "bloc_pk":
        return world["decision"].bloc_id
    by_prefix = {
        "personnes": lambda: world["certificate"].enrolment.candidate.user_id,
        "referentiel": lambda: certificate.enrolment.cohort.certification_version_id,
        "promotions": lambda: first(Cohort),
        "tableau-de-bord": lambda: first(Cohort),
        "candidats": lambda: first(Candidate),
        "inscriptions": lambda: first(Enrolment),
        "sessions": lambda: first(ExamSession),
        "evaluations": lambda: first(Assessment),
        "mon-parcours/epreuves": lambda: first(Assessment),
        "mon-parcours/decisions": lambda: world["decision"].pk,
        "jurys": lambda: first(Jury),
        "deliberations": lambda: first(Deliberation),
        "certificats/impression": lambda: first(PrintJob),
        "declarations-cpf/passages": lambda: first(DeclaredPassage),
    }
    for prefix in sorted(by_prefix, key=len, reverse=True):
        if route.startswith(prefix):
            return by_prefix[prefix]()
    return 1


def reaches_a_view(path):
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def users(request):
    return {
        "anonyme": None,
        "administrateur": request.getfixturevalue("admin_user"),
        "formateur": request.getfixturevalue("trainer"),
        "jury": request.getfixturevalue("jury_member"),
        "candidat": request.getfixturevalue("candidate_user"),
    }


def test_no_route_answers_500_to_malformed_parameters(request, world, settings):
    # A 500 is reported as a failed assertion, not a re-raised exception.
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    walked = list(routes())
    assert len(walked) > 100  # the resolver was really read
    assert PrintJob.objects.exists()
    failures = []
    for role, user in users(request).items():
        client = Client(raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        for route, url_name in walked:
            if route.startswith("admin/") and role not in {"administrateur", "anonyme"}:
                continue  # the admin sends every non-staff user to its login page
            good = fill(route, lambda name, r=route, u=url_name: existing(world, r, u, name))
            paths = [good]
            if PARAMETER.search(route):
                bad_paths = [fill(route, lambda name, bad=bad: bad) for bad in BAD_VALUES]
                # Those the converters refuse are answered 404 by the resolver, no view.
                paths += [path for path in bad_paths if reaches_a_view(path)]
            for path in paths:
                # The office reaches the most views: each of its pages is asked with
                # every parameter "²", then forty nines, "-1" and letters in turn;
                # the other roles (and bad paths) once, "²" and forty nines mixed,
                # to keep the walk under a minute.
                if role == "administrateur" and path == good:
                    others = ["9" * 40, "-1", "abc"]
                    queries = [
                        ["²"] * len(QUERY_NAMES),
                        [others[i % 3] for i in range(len(QUERY_NAMES))],
                    ]
                else:
                    queries = [[BAD_VALUES[(i + len(role)) % 2] for i in range(len(QUERY_NAMES))]]
                for values in queries:
                    query = dict(zip(QUERY_NAMES, values, strict=True))
                    response = client.get(path, query)
                    if response.status_code >= 500:
                        failures.append(f"{role} GET {path}?{query} → {response.status_code}")
    assert failures == []
