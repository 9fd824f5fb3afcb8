"""Office clicks that race: revoking the certificates a rectifying PV withdrew,
creating a jury or duplicating a version under a name just taken. Each gets
one outcome and a French message, never a 500 nor an IntegrityError.

The concurrent tests run over real connections: PostgreSQL only (row locks);
CI runs the suite there too. The IntegrityError paths are also simulated on
any database: the name check misses a row already there, as when another
click commits the same name between the check and the insert."""

import datetime
from contextlib import contextmanager
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from blocks.models import CertificationVersion
from blocks.services import duplicate_version
from certification.models import Certificate
from certification.services import (
    WITHDRAWN_REASON,
    revoke_withdrawn_certificates,
    withdrawn_certificates,
)
from certification.tests.factories import issued
from core.audit import Action
from core.models import AuditEvent
from evaluations.deliberations import publish_results, record_decision, rectify
from evaluations.juries import create_jury, edit_jury
from evaluations.models import BlocDecision, Jury
from evaluations.tests.factories import at_once, sign_all

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL (run in CI)"
)


def withdrawn_by_a_rectifying_pv(published, admin_user, jury_member, second_jury_member, capture):
    """Emma's certificates of blocs 1 and 3, both withdrawn by a published
    rectifying PV."""
    certificates = [
        issued(published.decisions.get(bloc__number=number), capture) for number in (1, 3)
    ]
    correction = rectify(published, reason="Fraude constatée", user=jury_member)
    for certificate in certificates:
        decision = published.decisions.get(bloc=certificate.bloc)
        record_decision(
            correction,
            enrolment=decision.enrolment,
            bloc=decision.bloc,
            decision=BlocDecision.Decision.NOT_VALIDATED,
            justification="Fraude constatée.",
            user=second_jury_member,
        )
    correction = sign_all(correction, jury_member, second_jury_member, capture)
    publish_results(correction, by=admin_user)
    assert set(withdrawn_certificates()) == set(certificates)
    return certificates


def revocations():
    return AuditEvent.objects.filter(action=Action.CERTIFICATE_REVOKED).count()


def office_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


# --- Revoking the withdrawn certificates ---------------------------------------


@pytest.mark.django_db
def test_a_second_click_finds_nothing_left_to_revoke(
    published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    certificates = withdrawn_by_a_rectifying_pv(
        published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    office = office_client(admin_user)
    url = reverse("certification:revoke_withdrawn")
    first = office.post(url)
    assert first.status_code == 302
    assert [str(message) for message in get_messages(first.wsgi_request)] == [
        f"Certificat n° {certificate.number} révoqué."
        for certificate in sorted(certificates, key=lambda c: c.pk)
    ]
    for certificate in certificates:
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.REVOKED
        assert certificate.revocation_reason == WITHDRAWN_REASON
    assert revocations() == 2
    second = office_client(admin_user).post(url)
    assert second.status_code == 302
    assert [str(message) for message in get_messages(second.wsgi_request)] == [
        "Aucun certificat retiré par un PV rectificatif n'est à révoquer."
    ]
    assert revocations() == 2
    assert revoke_withdrawn_certificates(by=admin_user) == []


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_office_clicks_at_once_revoke_each_certificate_once(
    published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    certificates = withdrawn_by_a_rectifying_pv(
        published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    url = reverse("certification:revoke_withdrawn")
    clients = [office_client(admin_user), office_client(admin_user)]
    outcomes = at_once(*(lambda client=client: client.post(url) for client in clients))
    assert [getattr(outcome, "status_code", outcome) for outcome in outcomes] == [302, 302]
    said = [
        [str(message) for message in get_messages(outcome.wsgi_request)] for outcome in outcomes
    ]
    assert ["Aucun certificat retiré par un PV rectificatif n'est à révoquer."] in said
    assert sorted(
        message for messages in said for message in messages if "révoqué." in message
    ) == (sorted(f"Certificat n° {certificate.number} révoqué." for certificate in certificates))
    assert set(Certificate.objects.values_list("status", flat=True)) == {Certificate.Status.REVOKED}
    assert revocations() == 2


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_revocations_at_once_through_the_service(
    published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    certificates = withdrawn_by_a_rectifying_pv(
        published, admin_user, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    outcomes = at_once(
        lambda: revoke_withdrawn_certificates(by=admin_user),
        lambda: revoke_withdrawn_certificates(by=admin_user),
    )
    assert all(isinstance(outcome, list) for outcome in outcomes), outcomes
    assert sorted(len(outcome) for outcome in outcomes) == [0, 2]
    assert {c.pk for outcome in outcomes for c in outcome} == {c.pk for c in certificates}
    assert revocations() == 2


# --- A name taken between the check and the insert ------------------------------


@contextmanager
def check_misses_once(model):
    """The first exists() on `model` answers False: the check ran before
    another click committed the same name, found at insert."""
    real = QuerySet.exists
    missed = []

    def exists(queryset):
        if queryset.model is model and not missed:
            missed.append(queryset)
            return False
        return real(queryset)

    with mock.patch.object(QuerySet, "exists", exists):
        yield missed


def new_jury(referential, name, *, place="CEFPF, Paris"):
    return create_jury(
        name=name,
        certification_version=referential,
        date=datetime.date(2027, 7, 1),
        place=place,
        by=None,
    )


@pytest.mark.django_db
def test_a_jury_name_taken_at_insert_is_refused_in_french(referential):
    new_jury(referential, "Jury d'été", place="Ailleurs")
    with check_misses_once(Jury) as missed, pytest.raises(ValidationError) as refused:
        new_jury(referential, "Jury d'été")
    assert missed
    assert refused.value.messages == ["Un jury s'appelle déjà « Jury d'été »."]
    assert list(Jury.objects.filter(name="Jury d'été").values_list("place", flat=True)) == [
        "Ailleurs"
    ]
    assert AuditEvent.objects.filter(action=Action.JURY_CREATED).count() == 1


@pytest.mark.django_db
def test_a_jury_renamed_to_a_name_taken_at_save_is_refused_in_french(referential):
    new_jury(referential, "Jury d'été")
    jury = new_jury(referential, "Jury de printemps")
    with check_misses_once(Jury) as missed, pytest.raises(ValidationError) as refused:
        edit_jury(
            jury,
            name="Jury d'été",
            certification_version=referential,
            date=jury.date,
            place=jury.place,
            by=None,
        )
    assert missed
    assert refused.value.messages == ["Un jury s'appelle déjà « Jury d'été »."]
    jury.refresh_from_db()
    assert jury.name == "Jury de printemps"
    assert not AuditEvent.objects.filter(action=Action.JURY_CHANGED).exists()


@pytest.mark.django_db
def test_a_version_label_taken_at_insert_is_refused_in_french(referential):
    duplicate_version(referential, new_label="3", by=None)
    count = CertificationVersion.objects.count()
    with (
        check_misses_once(CertificationVersion) as missed,
        pytest.raises(ValidationError) as refused,
    ):
        duplicate_version(referential, new_label="3", by=None)
    assert missed
    assert refused.value.messages == [f"La version « 3 » de « {referential.title} » existe déjà."]
    assert CertificationVersion.objects.count() == count
    assert AuditEvent.objects.filter(action=Action.VERSION_DUPLICATED).count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_juries_created_at_once_under_one_name(referential):
    outcomes = at_once(
        lambda: new_jury(referential, "Jury d'automne"),
        lambda: new_jury(referential, "Jury d'automne"),
    )
    juries = [outcome for outcome in outcomes if isinstance(outcome, Jury)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(juries) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].messages == ["Un jury s'appelle déjà « Jury d'automne »."]
    assert Jury.objects.filter(name="Jury d'automne").count() == 1


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_duplications_at_once_under_one_label(referential):
    outcomes = at_once(
        lambda: duplicate_version(referential, new_label="4", by=None),
        lambda: duplicate_version(referential, new_label="4", by=None),
    )
    copies = [outcome for outcome in outcomes if isinstance(outcome, CertificationVersion)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(copies) == 1 and len(refusals) == 1, outcomes
    assert refusals[0].messages == [f"La version « 4 » de « {referential.title} » existe déjà."]
    assert CertificationVersion.objects.filter(version="4").count() == 1
