import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.services import duplicate_version
from blocks.tests.factories import grown_referential

pytestmark = pytest.mark.django_db


def page_urls(version):
    return [
        reverse("blocks:versions"),
        reverse("blocks:version", args=[version.pk]),
        reverse("blocks:bloc", args=[version.pk, 2]),
    ]


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_anonymous_is_sent_to_the_login_page(client, referential):
    for url in page_urls(referential):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("person", ["trainer", "jury_member", "candidate_user", "admin_user"])
def test_every_signed_in_person_reads_the_referential(request, login, referential, person):
    client = login(request.getfixturevalue(person))
    listing, version, bloc = (client.get(url) for url in page_urls(referential))
    blocs = dict(
        re.findall(r'<li><a href="[^"]+">Bloc (\d) : [^<]*</a>(.*?)</li>', listing.content.decode())
    )
    assert "Bloc 4 : Gestion de la communication" in listing.content.decode()
    assert {number: "optionnel" in badge for number, badge in blocs.items()} == {
        "1": False,
        "2": False,
        "3": False,
        "4": True,
    }
    assert (
        "0 Non acquis · 1 Partiellement acquis · 2 Acquis (réussite) · 3 Maîtrisé (réussite)"
        in version.content.decode()
    )
    text = bloc.content.decode()
    assert "Bloc 2 : Gestion de la production" in text
    assert "A2.3 Contribution au suivi de postproduction d’un film" in text
    assert "sa précision et rigueur d’exécution des DPAE" in text
    assert "M2.5 Etude de cas" in text


def test_drafts_are_hidden_from_everyone_but_the_office(login, referential, trainer, admin_user):
    draft = duplicate_version(referential, new_label="2", by=admin_user)
    trainer_client = login(trainer)
    for url in page_urls(draft)[1:]:
        assert trainer_client.get(url).status_code == 404
    listed = trainer_client.get(reverse("blocks:versions")).content.decode()
    assert "· version 1" in listed
    assert "· version 2" not in listed
    admin_client = login(admin_user)
    for url in page_urls(draft)[1:]:
        assert admin_client.get(url).status_code == 200
    assert "· version 2" in admin_client.get(reverse("blocks:versions")).content.decode()


def test_unknown_bloc_or_version_is_not_found(login, referential, trainer):
    client = login(trainer)
    assert client.get(reverse("blocks:bloc", args=[referential.pk, 9])).status_code == 404
    assert client.get(reverse("blocks:version", args=[referential.pk + 100])).status_code == 404


def test_bloc_page_queries_do_not_grow_with_the_bloc(login, referential, admin_user):
    """Bloc 3 of the shipped referential (3 activities, 3 competences, 9 criteria,
    3 modalities) against bloc 3 of a grown version (4, 6, 21, 5, some competences
    assessed by two modalities)."""
    client = login(admin_user)
    grown = grown_referential("grande")
    small = count_queries(client, reverse("blocks:bloc", args=[referential.pk, 3]))
    large_url = reverse("blocks:bloc", args=[grown.pk, 3])
    large = count_queries(client, large_url)
    page = client.get(large_url).content.decode()
    assert page.count('<span class="badge text-bg-primary me-1">C3.') == 6
    assert page.count("Critère C3.9") == 12
    assert "Évaluée par : M3.8 Modalité ajoutée 3.8 ; M3.9 Modalité ajoutée 3.9" in page
    assert small == large


def test_list_pages_queries_do_not_grow_with_versions(login, referential, admin_user):
    """More versions (drafts and active ones), each with more blocs, activities,
    competences, modalities and grading levels."""
    client = login(admin_user)
    one = count_queries(client, reverse("blocks:versions"))
    one_version = count_queries(client, reverse("blocks:version", args=[referential.pk]))
    drafts = [duplicate_version(referential, new_label=label, by=admin_user) for label in "234"]
    grown = [grown_referential(label) for label in ("grande", "très grande")]
    grown.append(grown_referential("brouillon", status="draft"))
    listing = client.get(reverse("blocks:versions")).content.decode()
    assert listing.count('<h2 class="h4 card-title">') == 7
    assert count_queries(client, reverse("blocks:versions")) == one
    for version in drafts + grown:
        assert count_queries(client, reverse("blocks:version", args=[version.pk])) == one_version
    page = client.get(reverse("blocks:version", args=[grown[0].pk])).content.decode()
    assert "4 Expert (réussite) · 5 Référent (réussite)" in page
    assert ">Bloc ajouté 6</a>" in page
