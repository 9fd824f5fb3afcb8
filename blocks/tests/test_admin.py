"""The referential's Django admin: every add page opens, and the mentions of
a certificate edited there are audited with their old and new values."""

import pytest
from django.urls import reverse

from core.history import describe_event
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "admin:blocks_bloc_add",
        "admin:blocks_competence_add",
        "admin:blocks_certificationversion_add",
        "admin:blocks_bloc_changelist",
        "admin:blocks_competence_changelist",
        "admin:blocks_certificationversion_changelist",
    ],
)
def test_the_admin_pages_open_for_a_superuser(login, admin_user, referential, url):
    assert login(admin_user).get(reverse(url)).status_code == 200


def test_the_change_pages_of_a_frozen_and_a_draft_version_open(
    login, admin_user, referential, draft_version
):
    client = login(admin_user)
    for version in (referential, draft_version):
        url = reverse("admin:blocks_certificationversion_change", args=[version.pk])
        assert client.get(url).status_code == 200
        bloc = version.blocs.first()
        assert client.get(reverse("admin:blocks_bloc_change", args=[bloc.pk])).status_code == 200


def test_a_new_competence_is_offered_only_the_blocs_of_a_draft(
    login, admin_user, referential, draft_version
):
    form = login(admin_user).get(reverse("admin:blocks_competence_add")).context["adminform"].form
    blocs = form.fields["bloc"].queryset
    assert blocs.exists()
    assert set(blocs.values_list("certification_version", flat=True)) == {draft_version.pk}


def post_mentions(client, version, **changes):
    """Post the version's admin form as displayed, with `changes`."""
    url = reverse("admin:blocks_certificationversion_change", args=[version.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "signature_image"}
    data = {name: "" if value is None else value for name, value in data.items()}
    data.update(changes)
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version.refresh_from_db()
    return version


def test_editing_a_frozen_versions_mentions_is_audited(login, admin_user, referential):
    old_place, old_signatory = referential.issue_place, referential.signatory_name
    old_date = referential.registration_decision_date
    old_date = old_date.strftime("%d/%m/%Y") if old_date else ""
    version = post_mentions(
        login(admin_user),
        referential,
        issue_place="Lyon",
        signatory_name="Claire Dubois",
        registration_decision_date="2027-03-15",
    )

    assert (version.issue_place, version.signatory_name) == ("Lyon", "Claire Dubois")
    event = AuditEvent.objects.for_object(version).get(action=Action.MENTIONS_CHANGED)
    assert event.actor == admin_user
    assert {
        change["field"]: (change["old"], change["new"]) for change in event.data["changes"]
    } == {
        "lieu de délivrance": (old_place, "Lyon"),
        "signataire (dirigeant du certificateur ou délégataire)": (old_signatory, "Claire Dubois"),
        "date de la décision d'enregistrement (France Compétences)": (old_date, "15/03/2027"),
    }
    sentence = describe_event(event)
    assert sentence.startswith("Mentions du certificat modifiées : ")
    assert "→ « Lyon »" in sentence and "→ « 15/03/2027 »" in sentence


def test_saving_the_mentions_unchanged_records_nothing(login, admin_user, referential):
    post_mentions(login(admin_user), referential)
    assert not AuditEvent.objects.filter(action=Action.MENTIONS_CHANGED).exists()
