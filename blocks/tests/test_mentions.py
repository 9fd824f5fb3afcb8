"""The office's mentions page: printed mentions, registration end, signature,
CDC identifiers and the blocs' official codes, on a frozen version too."""

import datetime
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from blocks.models import Bloc
from blocks.services import update_mentions
from core.history import describe_event
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def url(version):
    return reverse("blocks:version_mentions", args=[version.pk])


def image_bytes(kind="PNG", size=(40, 20)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, kind)
    return buffer.getvalue()


def noise_png():
    """A PNG of random pixels: more than 1 Mo, since noise does not compress."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3)).save(buffer, "PNG")
    assert buffer.tell() > 1024 * 1024
    return buffer.getvalue()


def form_data(version, **changes):
    data = {
        "certifier": version.certifier,
        "rncp_code": "RNCP35307",
        "registration_decision_date": "2024-03-28",
        "registration_end_date": "2029-03-28",
        "national_level": "5",
        "european_level": "niveau 5",
        "nsf_codes": "323t",
        "certificate_prefix": version.certificate_prefix,
        "issue_place": "Paris",
        "signatory_name": "Jeanne Delorme",
        "signatory_title": "Directrice",
        "cdc_issuer_id": "AB123456",
        "cdc_certifier_id": "CD654321",
        "cdc_contract_id": "MCFCER000123",
        "certification_type": "RNCP",
        "declare_blocs": "on",
    }
    for bloc in version.blocs.all():
        data[f"bloc_{bloc.pk}"] = f"RNCP35307BC{bloc.number:02d}"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_access(client, login, referential, trainer, candidate_user, admin_user):
    response = client.get(url(referential))
    assert response.url == f"{reverse('login')}?next={url(referential)}"
    assert login(trainer).get(url(referential)).status_code == 403
    assert login(candidate_user).get(url(referential)).status_code == 403
    response = login(admin_user).get(url(referential))
    assert response.status_code == 200
    assert "Codes officiels des blocs" in response.content.decode()
    detail = login(admin_user).get(referential.get_absolute_url()).content.decode()
    assert url(referential) in detail
    assert (
        url(referential) not in login(trainer).get(referential.get_absolute_url()).content.decode()
    )


def test_office_fills_in_a_frozen_version(login, admin_user, referential):
    assert referential.is_frozen
    response = login(admin_user).post(
        url(referential),
        form_data(referential, signature_image=SimpleUploadedFile("sig.png", image_bytes())),
    )
    assert response.status_code == 302
    referential.refresh_from_db()
    assert referential.rncp_code == "RNCP35307"
    assert referential.registration_end_date == datetime.date(2029, 3, 28)
    assert (referential.cdc_issuer_id, referential.cdc_certifier_id) == ("AB123456", "CD654321")
    assert referential.declare_blocs
    assert referential.signature_image.name.startswith("signatures/")
    assert list(referential.blocs.values_list("official_code", flat=True)) == [
        f"RNCP35307BC{n:02d}" for n in range(1, referential.blocs.count() + 1)
    ]
    event = AuditEvent.objects.for_object(referential).get(action=Action.MENTIONS_CHANGED)
    assert event.actor == admin_user
    changes = {c["field"]: (c["old"], c["new"]) for c in event.data["changes"]}
    assert changes["code officiel du bloc 1"] == ("", "RNCP35307BC01")
    assert changes["date de fin d'enregistrement au RNCP"] == ("", "28/03/2029")
    assert changes["identifiant client de l'émetteur (CDC)"] == ("", "AB123456")
    assert changes["déclarer aussi les blocs validés au CPF"] == ("non", "oui")
    assert changes["image de la signature"][1].endswith(".png")
    sentence = describe_event(event)
    assert "code officiel du bloc 1 vide → « RNCP35307BC01 »" in sentence
    # The signature is shown back to the office.
    signature = login(admin_user).get(reverse("blocks:version_signature", args=[referential.pk]))
    assert signature.status_code == 200 and signature["Content-Type"] == "image/png"


def test_saving_unchanged_records_nothing(login, admin_user, referential):
    login(admin_user).post(url(referential), form_data(referential))
    login(admin_user).post(url(referential), form_data(referential))
    assert AuditEvent.objects.filter(action=Action.MENTIONS_CHANGED).count() == 1


def assert_refused(response, message, referential):
    assert response.status_code == 200
    assert message in response.content.decode()
    referential.refresh_from_db()
    assert referential.rncp_code == ""
    assert not referential.blocs.exclude(official_code="").exists()
    assert not AuditEvent.objects.filter(action=Action.MENTIONS_CHANGED).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cdc_issuer_id": "AB12"}, "Cet identifiant compte exactement 8 caractères."),
        ({"cdc_certifier_id": "AB1234567"}, "Cet identifiant compte exactement 8 caractères."),
        (
            {"registration_end_date": "2024-03-01"},
            "La date de fin d&#x27;enregistrement au RNCP doit suivre la date de la décision",
        ),
        ({"registration_end_date": "31/02/2029"}, "Saisissez une date valide."),
        ({"bloc_{bloc1}": "RNCP35307BC02"}, "Le code RNCP35307BC02 est donné à plusieurs blocs"),
        (
            {"bloc_{bloc1}": "RNCP11111BC01"},
            "Bloc 1 : le code RNCP11111BC01 ne correspond pas au code RNCP de la version",
        ),
        ({"bloc_{bloc1}": "BLOC 1"}, "Le code d&#x27;un bloc s&#x27;écrit RNCP"),
        (
            {"signature_image": SimpleUploadedFile("sig.png", b"not an image")},
            "n&#x27;est pas une image PNG ou JPEG lisible",
        ),
        (
            {"signature_image": SimpleUploadedFile("sig.gif", image_bytes("GIF"))},
            "L&#x27;image de la signature doit être au format PNG ou JPEG.",
        ),
        (
            {"signature_image": SimpleUploadedFile("sig.png", noise_png())},
            "L&#x27;image de la signature dépasse 1 Mo.",
        ),
    ],
)
def test_bad_input_is_refused_in_french(login, admin_user, referential, changes, message):
    bloc1 = referential.blocs.get(number=1)
    changes = {key.format(bloc1=bloc1.pk): value for key, value in changes.items()}
    response = login(admin_user).post(url(referential), form_data(referential, **changes))
    assert_refused(response, message, referential)


def test_bloc_codes_without_rncp_code_are_refused(login, admin_user, referential):
    response = login(admin_user).post(url(referential), form_data(referential, rncp_code=""))
    assert_refused(response, "renseignez le code RNCP de la version", referential)


def test_service_refuses_bad_codes(admin_user, referential):
    bloc = referential.blocs.get(number=1)
    with pytest.raises(Exception, match="ne correspond pas"):
        update_mentions(
            referential,
            values={"rncp_code": "RNCP35307"},
            bloc_codes={bloc.pk: "RNCP35308BC01"},
            by=admin_user,
        )
    assert Bloc.objects.get(pk=bloc.pk).official_code == ""


def test_signature_can_be_removed(login, admin_user, referential):
    client = login(admin_user)
    client.post(
        url(referential),
        form_data(referential, signature_image=SimpleUploadedFile("s.jpg", image_bytes("JPEG"))),
    )
    referential.refresh_from_db()
    assert referential.signature_image
    client.post(url(referential), form_data(referential, **{"signature_image-clear": "on"}))
    referential.refresh_from_db()
    assert not referential.signature_image


def test_queries_do_not_grow_with_the_blocs(login, admin_user, referential, draft_version):
    client = login(admin_user)
    client.get(url(draft_version))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(draft_version)).status_code == 200
        return len(queries)

    before = count()
    for number in (7, 8, 9):
        Bloc.objects.create(certification_version=draft_version, number=number, title="Nouveau")
    assert count() == before


def test_django_admin_applies_the_same_rules(login, admin_user, referential):
    from blocks.tests.test_admin import post_mentions

    client = login(admin_user)
    url = reverse("admin:blocks_certificationversion_change", args=[referential.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if name != "signature_image"}
    data = {name: "" if value is None else value for name, value in data.items()}
    data["cdc_issuer_id"] = "AB12345"
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "compte exactement 8 caractères (7 saisis)" in response.content.decode()
    referential.refresh_from_db()
    assert referential.cdc_issuer_id == ""
    version = post_mentions(client, referential, cdc_issuer_id="AB123456")
    assert version.cdc_issuer_id == "AB123456"
    event = AuditEvent.objects.get(action=Action.MENTIONS_CHANGED)
    assert event.data["changes"] == [
        {"field": "identifiant client de l'émetteur (CDC)", "old": "", "new": "AB123456"}
    ]
