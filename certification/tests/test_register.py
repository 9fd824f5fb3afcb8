"""The certificate register: filters, pages, birth dates and French order on
the office's list; the same lines exported (CSV and XLSX read back), the CPF
state of each certificate computed for all at once."""

import datetime
import html

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, Enrolment
from certification import cpf
from certification.models import Certificate
from certification.services import issue_bloc_certificate, revoke_certificate
from certification.tests.factories import issued
from core.tests.spreadsheets import parsed
from evaluations.models import BlocDecision

pytestmark = pytest.mark.django_db

LIST = reverse("certification:certificates")
HEADER = [
    "Numéro",
    "Nom",
    "Prénoms",
    "Date de naissance",
    "Objet",
    "Promotion",
    "Date du jury",
    "Délivré le",
    "Statut",
    "Déclaration CPF",
]


def export_url(fmt="csv"):
    return reverse("certification:register_export", args=[fmt])


def certify(published, capture, people):
    """A bloc 1 certificate for each (birth name, first names, birth date): enrolled
    in the PV's promotion, bloc 1 validated by the published PV. The PDFs are not
    rendered (what is tested is the register)."""
    bloc1 = published.cohort.certification_version.blocs.get(number=1)
    certificates = []
    for birth_name, first_names, birth_date in people:
        person = Candidate.objects.create(
            birth_name=birth_name,
            first_names=first_names,
            sex="F",
            birth_date=birth_date,
            birth_country="Suisse",
        )
        enrolment = Enrolment.objects.create(
            candidate=person, cohort=published.cohort, access_route="vae"
        )
        decision = BlocDecision.objects.create(
            deliberation=published,
            enrolment=enrolment,
            bloc=bloc1,
            proposed_validated=True,
            decision=BlocDecision.Decision.VALIDATED,
            decided_by=published.jury.members.first().user,
        )
        with capture(execute=False):
            certificates.append(issue_bloc_certificate(decision, by=None))
    return certificates


def line(certificate, cpf_state):
    candidate = certificate.candidate
    bloc = certificate.bloc
    return [
        certificate.number,
        candidate.usage_name or candidate.birth_name,
        candidate.first_names,
        candidate.birth_date.strftime("%d/%m/%Y"),
        f"Bloc {bloc.number} « {bloc.title} »",
        "Promotion 2027",
        certificate.deliberation.held_on.strftime("%d/%m/%Y"),
        timezone.localdate(certificate.issued_at).strftime("%d/%m/%Y"),
        certificate.get_status_display(),
        cpf_state,
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_register_exported_line_for_line_in_french_order(
    login, admin_user, decision, django_capture_on_commit_callbacks, fmt
):
    capture = django_capture_on_commit_callbacks
    emma = issued(decision, capture)
    others = certify(
        decision.deliberation,
        capture,
        [
            ("Perrin", "Paul", datetime.date(1990, 1, 1)),
            ("Çelik", "Ayşe", datetime.date(1995, 6, 2)),
            ('=HYPERLINK("http://pirate.example","Voir")', "+33 6", datetime.date(1990, 1, 1)),
            ("Celik", "Ali", datetime.date(2001, 3, 3)),
            ("Celik", "Ali", datetime.date(1989, 3, 3)),  # a namesake, told apart
            ("Périer", "Léa", datetime.date(1992, 2, 2)),
        ],
    )
    revoke_certificate(others[0], reason="Erreur de saisie", by=admin_user)
    perrin, celik_a, pirate, celik_2001, celik_1989, perier = Certificate.objects.filter(
        pk__in=[c.pk for c in others]
    ).order_by("pk")
    not_declared = "Non concerné (bloc non déclaré)"
    response = login(admin_user).get(export_url(fmt))
    assert response.status_code == 200
    rows = parsed(response)
    expected = [
        line(c, not_declared) for c in (celik_1989, celik_2001, celik_a, perier, perrin, emma)
    ]
    pirate_line = line(pirate, not_declared)
    pirate_line[1:3] = ['\'=HYPERLINK("http://pirate.example","Voir")', "'+33 6"]
    assert rows == [HEADER, pirate_line, *expected]


def test_the_cpf_state_of_each_certificate(
    login, admin_user, mentions, decision, django_capture_on_commit_callbacks
):
    mentions.declare_blocs = True
    mentions.save()
    certificate = issued(decision, django_capture_on_commit_callbacks)
    rows = parsed(login(admin_user).get(export_url()))
    assert rows[1][-1] == cpf.State.LABELS[cpf.State.TO_DECLARE] == "À déclarer"
    revoke_certificate(certificate, reason="Erreur", by=admin_user)
    rows = parsed(login(admin_user).get(export_url()))
    assert rows[1][-2:] == ["Révoqué", "Jamais déclaré"]


def test_the_list_shows_birth_dates_and_filters_by_status_promotion_and_year(
    login, admin_user, published, django_capture_on_commit_callbacks
):
    celik_2001, celik_1989 = certify(
        published,
        django_capture_on_commit_callbacks,
        [("Celik", "Ali", datetime.date(2001, 3, 3)), ("Celik", "Ali", datetime.date(1989, 3, 3))],
    )
    revoke_certificate(celik_2001, reason="Erreur", by=admin_user)
    client = login(admin_user)

    def numbers(**filters):
        response = client.get(LIST, filters)
        assert response.status_code == 200
        return [c.number for c in response.context["page"]]

    page = client.get(LIST).content.decode()
    assert "03/03/1989" in page and "03/03/2001" in page
    assert numbers() == [celik_1989.number, celik_2001.number]
    assert numbers(statut="revoked") == [celik_2001.number]
    assert numbers(promotion=published.cohort_id) == [celik_1989.number, celik_2001.number]
    assert numbers(annee=celik_1989.year) == [celik_1989.number, celik_2001.number]
    assert numbers(annee=celik_1989.year - 1) == []
    assert numbers(q=celik_1989.number) == [celik_1989.number]
    # A value that is not one is left aside; the other filters apply.
    assert numbers(annee="²", statut="revoked", promotion="x", page="abc") == [celik_2001.number]
    export = parsed(client.get(export_url(), {"statut": "revoked"}))
    assert [row[0] for row in export[1:]] == [celik_2001.number]


def test_pages_of_50_keep_the_filters_in_constant_queries(
    login, admin_user, published, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    client = login(admin_user)
    people = [(f"Nom{n:03d}", "Léa", datetime.date(1990, 1, 1)) for n in range(62)]
    certify(published, capture, people[:3])
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST, {"statut": "valid"}).status_code == 200
    certify(published, capture, people[3:])
    with CaptureQueriesContext(connection) as many:
        second = client.get(LIST, {"statut": "valid", "page": 2})
    assert len(many) == len(few)
    assert [c.candidate.birth_name for c in second.context["page"]] == [
        f"Nom{n:03d}" for n in range(50, 62)
    ]
    first = client.get(LIST, {"statut": "valid"}).content.decode()
    assert "?statut=valid&amp;page=2" in first
    assert "62 au total" in html.unescape(first)
    assert f"{export_url('xlsx')}?statut=valid" in first


def test_who_may_read_and_export_the_register(login, trainer, candidate, admin_user):
    for url in (LIST, export_url(), export_url("xlsx")):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert login(trainer).get(url).status_code == 403
        assert login(candidate.user).get(url).status_code == 403
        assert login(admin_user).get(url).status_code == 200
    assert login(admin_user).get(export_url("ods")).status_code == 404
