import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.services import duplicate_version

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
    assert "Bloc 4 : Gestion de la communication" in listing.content.decode()
    assert "optionnel" in listing.content.decode()
    assert "Non acquis" in version.content.decode()
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
    assert "(2)" not in trainer_client.get(reverse("blocks:versions")).content.decode()
    admin_client = login(admin_user)
    for url in page_urls(draft)[1:]:
        assert admin_client.get(url).status_code == 200


def test_unknown_bloc_or_version_is_not_found(login, referential, trainer):
    client = login(trainer)
    assert client.get(reverse("blocks:bloc", args=[referential.pk, 9])).status_code == 404
    assert client.get(reverse("blocks:version", args=[referential.pk + 100])).status_code == 404


def test_bloc_page_queries_do_not_grow_with_the_bloc(login, referential, trainer):
    client = login(trainer)
    small = count_queries(client, reverse("blocks:bloc", args=[referential.pk, 3]))
    large = count_queries(client, reverse("blocks:bloc", args=[referential.pk, 4]))
    assert small == large


def test_list_pages_queries_do_not_grow_with_versions(login, referential, admin_user):
    client = login(admin_user)
    one = count_queries(client, reverse("blocks:versions"))
    for label in ("2", "3", "4"):
        duplicate_version(referential, new_label=label, by=admin_user)
    assert count_queries(client, reverse("blocks:versions")) == one
    assert count_queries(client, reverse("blocks:version", args=[referential.pk])) == count_queries(
        client, reverse("blocks:version", args=[referential.pk + 3])
    )
