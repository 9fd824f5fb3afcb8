import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from blocks.export import export_version
from blocks.models import (
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
    ReferentialFrozen,
)
from blocks.services import activate_version, archive_version, duplicate_version
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

BLOC_1_TITLE = "Préparation d’un projet de production (long-métrage, série, documentaire, magazine)"


def frozen(status):
    return re.escape(
        f"La version « 1 » de « Assistant de production » est figée ({status}) : sa structure "
        "ne peut plus être modifiée. Dupliquez-la en une nouvelle version brouillon."
    )


def test_structure_of_an_active_version_cannot_change(referential):
    bloc = referential.blocs.get(number=1)
    bloc.title = "Autre intitulé"
    with pytest.raises(ReferentialFrozen, match=frozen("active")):
        bloc.save()
    criterion = Criterion.objects.filter(competence__bloc=bloc).first()
    with pytest.raises(ReferentialFrozen, match=frozen("active")):
        criterion.delete()
    with pytest.raises(ReferentialFrozen, match=frozen("active")):
        Competence.objects.create(
            bloc=bloc, activity=bloc.activities.first(), code="C1.99", statement="Nouvelle"
        )
    with pytest.raises(ReferentialFrozen, match=frozen("active")):
        referential.grading_levels.first().delete()
    with pytest.raises(ReferentialFrozen, match=frozen("active")):
        referential.delete()
    assert referential.blocs.get(number=1).title == BLOC_1_TITLE
    assert Criterion.objects.filter(pk=criterion.pk).exists()
    assert not Competence.objects.filter(code="C1.99").exists()
    assert referential.grading_levels.count() == 4
    assert CertificationVersion.objects.filter(pk=referential.pk).exists()


def test_archived_version_is_frozen_too(referential, admin_user):
    archived = archive_version(referential, by=admin_user)
    assert archived.status == CertificationVersion.Status.ARCHIVED
    with pytest.raises(ReferentialFrozen, match=frozen("archivée")):
        archived.blocs.first().save()


def test_duplicate_makes_an_editable_draft_and_leaves_the_original(referential, admin_user):
    original = export_version(referential)
    draft = duplicate_version(referential, new_label="2", by=admin_user)
    assert draft.status == CertificationVersion.Status.DRAFT
    assert draft.duplicated_from == referential
    copied = export_version(draft)
    assert copied["blocs"] == original["blocs"]
    assert copied["certification"]["version"] == "2"

    bloc = draft.blocs.get(number=1)
    bloc.title = "Préparation d'un projet"
    bloc.save()
    Competence.objects.filter(bloc=bloc, code="C1.6").get().criteria.first().delete()
    assert export_version(referential) == original
    event = AuditEvent.objects.for_object(draft).get(action="blocks.version.duplicated")
    assert event.actor == admin_user
    assert event.data["source_id"] == referential.pk


def test_duplicate_refuses_an_existing_or_empty_label(referential, admin_user):
    with pytest.raises(ValidationError, match="existe déjà"):
        duplicate_version(referential, new_label="1", by=admin_user)
    with pytest.raises(ValidationError, match="Indiquez le libellé"):
        duplicate_version(referential, new_label="  ", by=admin_user)
    assert CertificationVersion.objects.count() == 1


def test_activation_requires_a_complete_draft(draft_version, admin_user):
    c33 = Competence.objects.get(certification_version=draft_version, code="C3.3")
    c33.criteria.all().delete()
    EvaluationModality.objects.get(bloc__certification_version=draft_version, code="M3.3").delete()
    with pytest.raises(ValidationError) as refused:
        activate_version(draft_version, by=admin_user)
    assert refused.value.messages == [
        "La compétence C3.3 n'a aucun critère d'évaluation.",
        "La compétence C3.3 n'est évaluée par aucune modalité.",
    ]
    draft_version.refresh_from_db()
    assert draft_version.status == CertificationVersion.Status.DRAFT


def test_activation_freezes_the_draft(draft_version, admin_user):
    active = activate_version(draft_version, by=admin_user)
    assert active.is_frozen
    assert AuditEvent.objects.for_object(active).filter(action="blocks.version.activated").exists()
    with pytest.raises(ValidationError, match="Seule une version brouillon"):
        activate_version(active, by=admin_user)


def test_audit_events_cannot_be_rewritten(referential):
    event = AuditEvent.objects.first()
    recorded = event.action
    event.action = "autre"
    with pytest.raises(ValidationError, match="Le journal d'audit ne peut pas être modifié."):
        event.save()
    with pytest.raises(ValidationError, match="Le journal d'audit ne peut pas être effacé."):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == recorded != "autre"


class TestAdmin:
    def bloc_url(self, bloc):
        return reverse("admin:blocks_bloc_change", args=[bloc.pk])

    def test_frozen_bloc_is_read_only_in_the_admin(self, referential, login, admin_user):
        client = login(admin_user)
        bloc = referential.blocs.get(number=1)
        page = client.get(self.bloc_url(bloc))
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
        response = client.post(self.bloc_url(bloc), {"title": "Modifié"})
        assert response.status_code == 403
        assert Bloc.objects.get(pk=bloc.pk).title == BLOC_1_TITLE

    def test_draft_bloc_is_edited_with_its_inlines(self, draft_version, login, admin_user):
        client = login(admin_user)
        bloc = draft_version.blocs.get(number=3)
        page = client.get(self.bloc_url(bloc))
        assert page.status_code == 200
        assert b'name="_save"' in page.content
        assert "C3.3" in page.content.decode()

    def test_duplicate_action(self, referential, login, admin_user):
        client = login(admin_user)
        response = client.post(
            reverse("admin:blocks_certificationversion_changelist"),
            {"action": "duplicate", "_selected_action": [referential.pk]},
            follow=True,
        )
        assert "Version brouillon « 1 (copie) » créée." in response.content.decode()
        assert CertificationVersion.objects.filter(
            version="1 (copie)", status=CertificationVersion.Status.DRAFT
        ).exists()

    def test_activate_action_reports_what_is_missing(self, draft_version, login, admin_user):
        Criterion.objects.filter(
            competence__certification_version=draft_version, competence__code="C1.1"
        ).delete()
        client = login(admin_user)
        response = client.post(
            reverse("admin:blocks_certificationversion_changelist"),
            {"action": "activate", "_selected_action": [draft_version.pk]},
            follow=True,
        )
        assert "La compétence C1.1 n&#x27;a aucun critère" in response.content.decode()
        draft_version.refresh_from_db()
        assert draft_version.status == CertificationVersion.Status.DRAFT

    def test_modality_only_assesses_competences_of_its_bloc(self, draft_version):
        from blocks.admin import ModalityForm

        modality = EvaluationModality.objects.get(
            bloc__certification_version=draft_version, code="M3.1"
        )
        foreign = Competence.objects.get(certification_version=draft_version, code="C1.1")
        form = ModalityForm(
            instance=modality,
            data={
                "code": "M3.1",
                "order": 1,
                "kind": modality.kind,
                "title": modality.title,
                "instructions": "",
                "competences": [foreign.pk],
                "assessed_by": modality.assessed_by,
            },
        )
        assert not form.is_valid()
        assert "C1.1 n'en font pas partie." in form.non_field_errors()[0]
