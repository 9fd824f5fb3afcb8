"""The CPF declaration (accrochage) to the Caisse des Dépôts: the XML flow,
valid against the CDC's schema, and the tracking of each passage."""

import datetime
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blocks.models import Bloc
from candidates.models import Candidate, Enrolment
from certification import cpf
from certification.models import Certificate, DeclarationFlow, DeclaredPassage
from certification.services import issue_bloc_certificate, revoke_certificate
from core.dates import add_months
from core.models import Action, AuditEvent
from evaluations.models import Deliberation

pytestmark = pytest.mark.django_db

NS = {"c": cpf.NAMESPACE}
NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@pytest.fixture
def cdc(mentions):
    """The version's CDC identifiers, its blocs' codes, blocs declared."""
    mentions.cdc_issuer_id = "EMET0001"
    mentions.cdc_certifier_id = "CERT0001"
    mentions.cdc_contract_id = "CONTRAT-42"
    mentions.declare_blocs = True
    mentions.save()
    for bloc in mentions.blocs.all():
        Bloc.objects.filter(pk=bloc.pk).update(official_code=f"RNCP99999BC{bloc.number:02d}")
    return mentions


@pytest.fixture
def awarded(cdc, published, admin_user):
    """Emma's two bloc certificates (blocs 1 and 3), awarded by the published PV."""
    return [
        issue_bloc_certificate(decision, by=admin_user)
        for decision in published.decisions.filter(
            decision="validated", bloc__number__in=[1, 3]
        ).order_by("bloc__number")
    ]


def xml_of(flow):
    with flow.xml.open("rb") as stored:
        return stored.read()


def parsed(xml):
    return ET.fromstring(xml)


def passages(root):
    return root.findall(".//c:passageCertification", NS)


def text(element, path):
    found = element.find(path, NS)
    return None if found is None else found.text


def generate(admin_user, **kwargs):
    flows = cpf.generate_flows(by=admin_user, **kwargs)
    assert len(flows) == 1
    return flows[0]


# --- The XML flow ---------------------------------------------------------------


def test_the_flow_is_valid_against_the_cdc_schema(awarded, admin_user, published):
    flow = generate(admin_user)
    xml = xml_of(flow)
    # The schema validator itself, independent of the platform's helper.
    validator = xmlschema.XMLSchema(str(cpf.SCHEMA_FILE))
    validator.validate(xml)
    assert validator.is_valid(xml)

    root = parsed(xml)
    assert root.tag == f"{{{cpf.NAMESPACE}}}flux"
    assert text(root, "c:idFlux") == flow.flow_id and len(flow.flow_id) <= 50
    stamp = datetime.datetime.fromisoformat(text(root, "c:horodatage"))
    assert stamp.utcoffset() is not None
    assert text(root, "c:emetteur/c:idClient") == "EMET0001" == flow.issuer_id
    certifier = root.find("c:emetteur/c:certificateurs/c:certificateur", NS)
    assert text(certifier, "c:idClient") == "CERT0001"
    assert text(certifier, "c:idContrat") == "CONTRAT-42"
    codes = [text(c, "c:code") for c in certifier.findall("c:certifications/c:certification", NS)]
    assert codes == ["RNCP99999BC01", "RNCP99999BC03"]
    assert {text(c, "c:type") for c in certifier.iter(f"{{{cpf.NAMESPACE}}}certification")} == {
        "RNCP"
    }

    found = passages(root)
    assert [text(p, "c:idTechnique") for p in found] == [c.number for c in awarded]
    passage = found[0]
    signed_on = timezone.localdate(published.signed_at)
    assert text(passage, "c:dateDebutValidite") == signed_on.isoformat()
    assert passage.find("c:dateFinValidite", NS).get(NIL) == "true"  # unlimited
    assert passage.find("c:scoring", NS).get(NIL) == "true"
    assert passage.find("c:mentionValidee", NS).get(NIL) == "true"
    assert text(passage, "c:obtentionCertification") == "PAR_ADMISSION"
    assert text(passage, "c:urlPreuve").endswith(awarded[0].get_verification_url())
    terms = passage.find("c:modalitesInscription", NS)
    assert text(terms, "c:modaliteAcces") == "FORMATION_INITIALE_HORS_APPRENTISSAGE"
    holder = passage.find("c:identificationTitulaire/c:titulaire", NS)
    assert text(holder, "c:nomNaissance") == "Petit"
    assert holder.find("c:nomUsage", NS).get(NIL) == "true"
    assert (text(holder, "c:prenom1"), text(holder, "c:prenom2")) == ("Emma", "Louise")
    assert holder.find("c:prenom3", NS) is None
    assert (
        text(holder, "c:anneeNaissance"),
        text(holder, "c:moisNaissance"),
        text(holder, "c:jourNaissance"),
    ) == ("2001", "4", "12")
    assert text(holder, "c:sexe") == "F"
    assert text(holder, "c:codeCommuneNaissance/c:codeInseeNaissance/c:codeInsee") == "69123"
    assert text(holder, "c:libelleCommuneNaissance") == "Lyon"

    assert [p.technical_id for p in flow.passages.order_by("technical_id")] == [
        c.number for c in awarded
    ]
    assert set(flow.passages.values_list("outcome", flat=True)) == {"pending"}
    assert not cpf.declarable().exists()


def test_a_title_is_declared_under_the_rncp_code_and_blocs_only_if_the_version_says_so(
    cdc, all_validated, candidate, admin_user
):
    from certification.services import issue_title_certificate

    cdc.declare_blocs = False
    cdc.save()
    for decision in all_validated.decisions.filter(decision="validated"):
        issue_bloc_certificate(decision, by=admin_user)
    title = issue_title_certificate(candidate.enrolments.get(), by=admin_user)
    assert list(cpf.declarable()) == [title]
    root = parsed(xml_of(generate(admin_user)))
    assert [text(c, "c:code") for c in root.iter(f"{{{cpf.NAMESPACE}}}certification")] == [
        "RNCP99999"
    ]
    assert [text(p, "c:idTechnique") for p in passages(root)] == [title.number]
    assert text(passages(root)[0], "c:dateDebutValidite") == (
        timezone.localdate(all_validated.signed_at).isoformat()
    )


ROUTES = [
    ("formation_initiale", "", "FORMATION_INITIALE_HORS_APPRENTISSAGE"),
    ("apprentissage", "", "FORMATION_INITIALE_APPRENTISSAGE"),
    ("formation_continue", "", "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION"),
    ("contrat_professionnalisation", "", "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION"),
    ("vae", "conge_vae", "VAE"),
    ("vae", "vae_classique", "VAE"),
    ("equivalence_diplome_etranger", "", "EQUIVALENCE_DIPLOME_ETRANGER"),
    ("candidat_libre", "", "CANDIDAT_LIBRE"),
]


def test_every_access_route_and_initiative_has_its_cdc_value():
    assert set(cpf.ACCESS_ROUTES) == set(Enrolment.AccessRoute)
    assert set(cpf.VAE_ROUTES) == set(Enrolment.VaeRoute)
    assert set(cpf.INITIATIVES) == set(Enrolment.Initiative)
    enumerations = cpf.schema().types
    for mapping, simple_type in (
        (cpf.ACCESS_ROUTES, "modaliteAcces"),
        (cpf.VAE_ROUTES, "voieAccesVAE"),
        (cpf.INITIATIVES, "initiativeInscription"),
    ):
        allowed = set(enumerations[simple_type].enumeration)
        assert set(mapping.values()) == allowed


@pytest.mark.parametrize(("route", "vae_route", "expected"), ROUTES)
def test_each_access_route_is_declared_with_the_cdc_enumeration(
    awarded, admin_user, candidate, route, vae_route, expected
):
    Enrolment.objects.filter(candidate=candidate).update(
        access_route=route,
        vae_route=vae_route,
        registration_initiative=Enrolment.Initiative.EMPLOYER,
        registration_date=datetime.date(2026, 9, 1),
    )
    root = parsed(xml_of(generate(admin_user)))
    terms = passages(root)[0].find("c:modalitesInscription", NS)
    assert text(terms, "c:modaliteAcces") == expected
    assert text(terms, "c:voieAccessVAE") == (cpf.VAE_ROUTES.get(vae_route) if vae_route else None)
    assert text(terms, "c:initiativeInscription") == "EMPLOYEUR"
    assert text(terms, "c:dateInscription") == "2026-09-01"


def test_a_holder_born_abroad_has_a_nil_postal_code_and_the_country(awarded, admin_user, candidate):
    Candidate.objects.filter(pk=candidate.pk).update(
        birth_insee_code="",
        birth_country="Maroc",
        birth_commune="Casablanca",
        usage_name="Durand",
        first_names="Emma Louise Marie Anne",
    )
    holder = passages(parsed(xml_of(generate(admin_user))))[0].find(
        "c:identificationTitulaire/c:titulaire", NS
    )
    postal = holder.find("c:codeCommuneNaissance/c:codePostalNaissance/c:codePostal", NS)
    assert postal.get(NIL) == "true"
    assert holder.find("c:codeCommuneNaissance/c:codeInseeNaissance", NS) is None
    assert text(holder, "c:codePaysNaissance") == "MAR"
    assert text(holder, "c:libellePaysNaissance") == "Maroc"
    assert text(holder, "c:libelleCommuneNaissance") == "Casablanca"
    assert text(holder, "c:nomUsage") == "Durand"
    assert text(holder, "c:prenom3") == "Marie Anne"


def test_missing_data_produces_nothing_and_lists_what_to_complete_in_french(
    awarded, admin_user, candidate, settings
):
    cdc = awarded[0].deliberation.jury.certification_version
    cdc.cdc_issuer_id = ""
    cdc.cdc_contract_id = ""
    cdc.save()
    Bloc.objects.filter(pk=awarded[0].bloc_id).update(official_code="")
    Candidate.objects.filter(pk=candidate.pk).update(sex="")
    Enrolment.objects.filter(candidate=candidate).update(access_route="vae", vae_route="")
    events = AuditEvent.objects.count()

    with pytest.raises(cpf.Incomplete) as refused:
        cpf.generate_flows(by=admin_user)

    messages = refused.value.messages
    assert any(
        "l'identifiant client de l'émetteur à la CDC" in m and "l'identifiant du contrat" in m
        for m in messages
    )
    assert any(m.startswith("Bloc 1 de ") and "code officiel du bloc" in m for m in messages)
    assert any(
        m.startswith("Petit Emma Louise (certificats n° ")
        and "le sexe" in m
        and "le type de VAE" in m
        for m in messages
    )
    urls = {problem.url for problem in refused.value.problems}
    assert reverse("candidates:candidate", args=[candidate.pk]) in urls
    assert cdc.get_absolute_url() in urls
    # Nothing produced: no flow, no passage, no file, no event.
    assert not DeclarationFlow.objects.exists() and not DeclaredPassage.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "cpf").exists()
    assert AuditEvent.objects.count() == events
    assert cpf.declarable().count() == 2


def test_an_invalid_flow_is_refused_by_the_schema_validator(awarded, admin_user):
    flow = generate(admin_user)
    xml = xml_of(flow)
    assert cpf.schema_errors(xml) == []
    broken = xml.replace(b"<sexe>F</sexe>", b"<sexe>X</sexe>")
    broken = broken.replace(b"<idClient>EMET0001</idClient>", b"<idClient>TROP-LONG-ID</idClient>")
    with pytest.raises(ValidationError) as refused:
        cpf.validate_flow(broken)
    assert refused.value.messages[0].startswith(
        "Le flux n'est pas conforme au schéma de la Caisse des Dépôts"
    )
    assert len(refused.value.messages) >= 3  # the heading, then each fault
    with pytest.raises(ValidationError):
        cpf.validate_flow(b"<pas du xml")
    missing = xml.replace(b"<nomNaissance>Petit</nomNaissance>", b"")
    assert cpf.schema_errors(missing)


def test_a_flow_failing_the_schema_is_not_stored(awarded, admin_user, monkeypatch, settings):
    real = cpf.build_flow_xml
    monkeypatch.setattr(
        cpf,
        "build_flow_xml",
        lambda *a, **k: real(*a, **k).replace(b"<sexe>F</sexe>", b"<sexe>X</sexe>"),
    )
    with pytest.raises(ValidationError):
        cpf.generate_flows(by=admin_user)
    assert not DeclarationFlow.objects.exists()
    assert not (Path(settings.MEDIA_ROOT) / "cpf").exists()


def test_nothing_to_declare_is_refused(awarded, admin_user):
    generate(admin_user)
    with pytest.raises(ValidationError, match="Aucun certificat n'est à déclarer"):
        cpf.generate_flows(by=admin_user)
    with pytest.raises(ValidationError, match="ne sont plus à déclarer"):
        cpf.generate_flows(certificates=awarded, by=admin_user)


def test_a_chosen_selection_only_is_declared(awarded, admin_user):
    flow = generate(admin_user, certificates=[awarded[1]])
    assert list(flow.passages.values_list("technical_id", flat=True)) == [awarded[1].number]
    assert list(cpf.declarable()) == [awarded[0]]
    assert generate(admin_user).number == flow.number + 1


def test_generation_is_audited(awarded, admin_user):
    flow = generate(admin_user)
    event = AuditEvent.objects.get(action=Action.CPF_FLOW_GENERATED)
    assert event.actor == admin_user and event.object_id == str(flow.pk)
    assert event.data["certificates"] == [c.number for c in awarded]
    assert event.data["flow_id"] == flow.flow_id


# --- Deadlines --------------------------------------------------------------------


def test_add_months_keeps_the_day_or_the_month_end():
    assert add_months(datetime.date(2026, 10, 15), 3) == datetime.date(2027, 1, 15)
    assert add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)
    assert add_months(datetime.date(2027, 11, 30), 3) == datetime.date(2028, 2, 29)
    assert add_months(datetime.date(2026, 12, 31), 12) == datetime.date(2027, 12, 31)


def sign_on(deliberation, day):
    Deliberation.objects.filter(pk=deliberation.pk).update(
        signed_at=timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
    )


def test_the_deadline_is_three_months_after_the_pv_and_the_late_are_listed(
    awarded, admin_user, published, login
):
    today = timezone.localdate()
    rows = cpf.rows()
    assert [row.deadline for row in rows] == [add_months(today, 3)] * 2
    assert not any(row.late or row.due_soon for row in rows)
    assert cpf.deadlines_summary() == {"late": 0, "due_soon": 0, "to_correct": 0, "to_declare": 2}

    sign_on(published, add_months(today, -3) - datetime.timedelta(days=1))
    rows = cpf.rows()
    assert all(row.late and row.deadline == today - datetime.timedelta(days=1) for row in rows)
    assert cpf.deadlines_summary()["late"] == 2
    page = login(admin_user).get(reverse("certification:cpf"), {"etat": "late"})
    assert page.status_code == 200
    assert [row.certificate for row in page.context["rows"]] == awarded
    assert "2 en retard" in page.content.decode()
    dashboard = login(admin_user).get(reverse("portal:office_dashboard")).content.decode()
    assert "déclaration(s) CPF en retard" in dashboard

    signed_on = add_months(today, -3) + datetime.timedelta(days=10)
    sign_on(published, signed_on)
    summary = cpf.deadlines_summary()
    assert (summary["late"], summary["due_soon"]) == (0, 2)
    left = (add_months(signed_on, 3) - today).days
    assert 0 < left <= 30 and all(row.days_left == left for row in cpf.rows())

    # Declared in time: no longer late nor due, even past the deadline.
    generate(admin_user)
    sign_on(published, add_months(today, -6))
    assert cpf.deadlines_summary() == {"late": 0, "due_soon": 0, "to_correct": 0, "to_declare": 0}
    dashboard = login(admin_user).get(reverse("portal:office_dashboard")).content.decode()
    assert "aucune en retard" in dashboard


# --- Outcomes -------------------------------------------------------------------


def test_a_rejected_passage_is_declared_again_with_the_same_technical_id(awarded, admin_user):
    first = generate(admin_user)
    rejected = first.passages.get(certificate=awarded[0])
    with pytest.raises(ValidationError, match="motif du rejet"):
        cpf.record_outcome(rejected, outcome="rejected", reason=" ", by=admin_user)
    cpf.record_outcome(
        rejected, outcome="rejected", reason="Date de naissance incohérente", by=admin_user
    )
    cpf.record_outcome(
        first.passages.get(certificate=awarded[1]), outcome="accepted", by=admin_user
    )
    (row,) = [row for row in cpf.rows() if row.certificate == awarded[0]]
    assert row.state == cpf.State.REJECTED and row.to_send
    assert list(cpf.declarable()) == [awarded[0]]

    second = generate(admin_user)
    assert second.number == first.number + 1 and second.flow_id != first.flow_id
    again = second.passages.get()
    assert again.certificate == awarded[0] and again.technical_id == rejected.technical_id
    assert [text(p, "c:idTechnique") for p in passages(parsed(xml_of(second)))] == [
        awarded[0].number
    ]
    # The old passage's outcome now belongs to the new flow.
    with pytest.raises(ValidationError, match="déclaré à nouveau dans le flux n° 2"):
        cpf.record_outcome(rejected, outcome="accepted", by=admin_user)
    cpf.record_outcome(again, outcome="accepted", by=admin_user)
    assert {row.state for row in cpf.rows()} == {cpf.State.ACCEPTED}
    event = AuditEvent.objects.filter(action=Action.CPF_OUTCOME_RECORDED).order_by("pk").first()
    assert event.data == {
        "technical_id": awarded[0].number,
        "flow": 1,
        "old": "pending",
        "new": "rejected",
        "reason": "Date de naissance incohérente",
    }


def csv_file(text, encoding="utf-8"):
    return text.encode(encoding)


def test_outcomes_from_the_cdc_csv(awarded, admin_user):
    flow = generate(admin_user)
    first, second = (c.number for c in awarded)
    changed = cpf.record_outcomes_csv(
        flow,
        data=csv_file(f"id technique;statut;motif\n{first};Accepté;\n{second};REJETE;Nom absent\n"),
        by=admin_user,
    )
    assert changed == 2
    outcomes = dict(flow.passages.values_list("technical_id", "outcome"))
    assert outcomes == {first: "accepted", second: "rejected"}
    assert flow.passages.get(technical_id=second).outcome_reason == "Nom absent"
    assert AuditEvent.objects.filter(action=Action.CPF_OUTCOME_RECORDED).count() == 2
    # The same file again changes nothing; Windows encoding and CDC codes are read too.
    assert (
        cpf.record_outcomes_csv(
            flow,
            data=csv_file(f"{first};accepté\r\n{second};rejeté;Nom absent\r\n", "cp1252"),
            by=admin_user,
        )
        == 0
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{first};peut-être;\n", "Ligne 1 : statut « peut-être » inconnu"),
        ("{first};rejeté;\n", "Ligne 1 : un rejet demande son motif"),
        ("{first};accepté;\nINCONNU-1;accepté;\n", "Ligne 2 : INCONNU-1 n'est pas un passage"),
        ("{first};accepté;\n{first};rejeté;x\n", "Ligne 2 : {first} figure déjà ligne 1"),
        ("{first}\n", "Ligne 1 : trois colonnes attendues"),
        ("{first};accepté;a;b\n", "Ligne 1 : trois colonnes attendues"),
        (";accepté;\n", "Ligne 1 : l'identifiant technique manque"),
        ("\n\n", "aucune ligne de résultat"),
        ("\x00\x01", "n'est pas un fichier CSV"),
    ],
)
def test_a_bad_csv_changes_nothing_and_says_why_per_line(awarded, admin_user, content, expected):
    flow = generate(admin_user)
    first, second = (c.number for c in awarded)
    data = csv_file(f"{second};accepté;\n" + content.format(first=first))
    if content.startswith("\n") or content.startswith("\x00"):
        data = csv_file(content)
    expected = expected.format(first=first)
    if data.startswith(second.encode()):
        expected = expected.replace("Ligne 2", "Ligne 3").replace("Ligne 1", "Ligne 2")
        expected = expected.replace("ligne 1", "ligne 2")
    with pytest.raises(ValidationError) as refused:
        cpf.record_outcomes_csv(flow, data=data, by=admin_user)
    assert any(expected in message for message in refused.value.messages), refused.value.messages
    assert set(flow.passages.values_list("outcome", flat=True)) == {"pending"}
    assert not AuditEvent.objects.filter(action=Action.CPF_OUTCOME_RECORDED).exists()


def test_a_csv_too_big_is_refused(awarded, admin_user):
    flow = generate(admin_user)
    with pytest.raises(ValidationError, match="dépasse"):
        cpf.record_outcomes_csv(flow, data=b"x;y;z\n" * 200_000, by=admin_user)


def test_a_csv_naming_a_passage_declared_again_is_refused_whole(awarded, admin_user):
    first = generate(admin_user)
    one, two = (c.number for c in awarded)
    cpf.record_outcomes_csv(first, data=csv_file(f"{one};rejeté;Erreur\n"), by=admin_user)
    generate(admin_user)
    with pytest.raises(ValidationError, match="Ligne 2 : .*déclaré à nouveau"):
        cpf.record_outcomes_csv(
            first, data=csv_file(f"{two};accepté;\n{one};accepté;\n"), by=admin_user
        )
    assert first.passages.get(technical_id=two).outcome == "pending"


# --- Corrections ------------------------------------------------------------------


def test_a_certificate_revoked_after_its_declaration_is_flagged_for_correction(
    awarded, admin_user, login
):
    flow = generate(admin_user)
    cpf.record_outcome(flow.passages.get(certificate=awarded[0]), outcome="accepted", by=admin_user)
    with pytest.raises(ValidationError, match="pas de déclaration à corriger"):
        cpf.note_correction(awarded[0], note="rien", by=admin_user)
    revoke_certificate(awarded[0], reason="Fraude établie", by=admin_user)
    assert list(cpf.to_correct()) == [awarded[0]]
    assert cpf.deadlines_summary()["to_correct"] == 1
    (row,) = [row for row in cpf.rows() if row.certificate == awarded[0]]
    assert row.state == cpf.State.TO_CORRECT
    page = login(admin_user).get(reverse("certification:cpf"), {"etat": "to_correct"})
    assert "Signaler la correction" in page.content.decode()
    dashboard = login(admin_user).get(reverse("portal:office_dashboard")).content.decode()
    assert "1 déclaration(s) à corriger" in dashboard

    with pytest.raises(ValidationError, match="Décrivez la correction"):
        cpf.note_correction(awarded[0], note="  ", by=admin_user)
    cpf.note_correction(awarded[0], note="Suppression demandée le 3 mars", by=admin_user)
    assert not cpf.to_correct().exists()
    (row,) = [row for row in cpf.rows() if row.certificate == awarded[0]]
    assert row.state == cpf.State.CORRECTED
    event = AuditEvent.objects.get(action=Action.CPF_CORRECTION_NOTED)
    assert event.data["note"] == "Suppression demandée le 3 mars"


def test_a_certificate_revoked_before_any_declaration_is_not_declared(awarded, admin_user):
    revoke_certificate(awarded[0], reason="Erreur", by=admin_user)
    assert list(cpf.declarable()) == [awarded[1]]
    assert [row.certificate for row in cpf.rows()] == [awarded[1]]
    assert not cpf.to_correct().exists()


# --- Pages ----------------------------------------------------------------------


@pytest.fixture
def flow(awarded, admin_user):
    return generate(admin_user)


def pages(flow):
    passage = flow.passages.order_by("pk").first()
    number = passage.certificate.number
    return {
        "list": ("get", reverse("certification:cpf")),
        "flow": ("get", reverse("certification:cpf_flow", args=[flow.number])),
        "xml": ("get", reverse("certification:cpf_flow_xml", args=[flow.number])),
        "generate": ("post", reverse("certification:cpf_generate")),
        "outcome": ("post", reverse("certification:cpf_outcome", args=[passage.pk])),
        "csv": ("post", reverse("certification:cpf_outcomes_csv", args=[flow.number])),
        "correction": ("post", reverse("certification:cpf_correction", args=[number])),
    }


@pytest.mark.parametrize(
    "name", ["list", "flow", "xml", "generate", "outcome", "csv", "correction"]
)
def test_pages_are_the_office_s_only(flow, client, login, trainer, candidate_user, name):
    method, url = pages(flow)[name]
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    for user in (trainer, candidate_user):
        assert getattr(login(user), method)(url).status_code == 403


def test_the_office_reads_the_list_the_flow_and_its_xml(flow, login, admin_user, awarded):
    client = login(admin_user)
    listing = client.get(reverse("certification:cpf"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Déclaré, en attente du traitement" in body and f"flux n° {flow.number}" in body
    detail = client.get(reverse("certification:cpf_flow", args=[flow.number]))
    assert detail.status_code == 200 and awarded[0].number in detail.content.decode()
    download = client.get(reverse("certification:cpf_flow_xml", args=[flow.number]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/xml"
    assert b"".join(download.streaming_content) == xml_of(flow)
    assert client.get(reverse("certification:cpf_flow", args=[999])).status_code == 404
    certificate = client.get(awarded[0].get_absolute_url()).content.decode()
    assert "Déclaration au CPF" in certificate and f"Flux n° {flow.number}" in certificate


def test_generating_from_the_page(awarded, login, admin_user):
    client = login(admin_user)
    response = client.post(reverse("certification:cpf_generate"), {"certificates": [awarded[1].pk]})
    flow = DeclarationFlow.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "certification:cpf_flow", args=[flow.number]
    )
    assert flow.passages.get().certificate == awarded[1]
    # A stale selection, or garbage: French messages, nothing more generated.
    for data in ({"certificates": [awarded[1].pk]}, {"certificates": ["x"]}):
        page = client.post(reverse("certification:cpf_generate"), data, follow=True)
        assert page.status_code == 200
        assert any("rechargez" in str(m) or "invalide" in str(m) for m in page.context["messages"])
    client.post(reverse("certification:cpf_generate"))  # default: everything left
    assert DeclarationFlow.objects.count() == 2
    assert not cpf.declarable().exists()


def test_the_page_lists_what_to_complete_with_links(awarded, login, admin_user, candidate):
    Candidate.objects.filter(pk=candidate.pk).update(sex="")
    page = login(admin_user).post(reverse("certification:cpf_generate"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Rien n'a été généré" in body and "le sexe" in body
    assert reverse("candidates:candidate", args=[candidate.pk]) in body
    assert not DeclarationFlow.objects.exists()


def test_recording_outcomes_from_the_pages(flow, login, admin_user, awarded):
    client = login(admin_user)
    passage = flow.passages.get(certificate=awarded[0])
    url = reverse("certification:cpf_outcome", args=[passage.pk])
    for bad in ({"outcome": "maybe"}, {"outcome": "rejected", "reason": ""}, {}):
        assert client.post(url, bad).status_code == 302
    passage.refresh_from_db()
    assert passage.outcome == "pending"
    client.post(url, {"outcome": "rejected", "reason": "Sexe inconnu"})
    passage.refresh_from_db()
    assert (passage.outcome, passage.outcome_reason) == ("rejected", "Sexe inconnu")
    assert passage.outcome_recorded_by == admin_user

    csv_url = reverse("certification:cpf_outcomes_csv", args=[flow.number])
    upload = SimpleUploadedFile("retour.csv", f"{awarded[1].number};OK;\n".encode())
    page = client.post(csv_url, {"file": upload}, follow=True)
    assert "1 résultat(s) enregistré(s)" in page.content.decode()
    bad = SimpleUploadedFile("retour.csv", f"{awarded[1].number};bof;\n".encode())
    page = client.post(csv_url, {"file": bad}, follow=True)
    body = page.content.decode()
    assert "aucun résultat n&#x27;a été enregistré" in body and "Ligne 1" in body
    assert client.post(csv_url, {}).status_code == 302  # no file: a message, no error


def test_noting_a_correction_from_the_page(flow, login, admin_user, awarded):
    revoke_certificate(awarded[0], reason="Fraude", by=admin_user)
    url = reverse("certification:cpf_correction", args=[awarded[0].number])
    client = login(admin_user)
    client.post(url, {"reason": ""})
    assert cpf.to_correct().exists()
    client.post(url, {"reason": "Annulation envoyée"})
    assert not cpf.to_correct().exists()
    assert (
        client.post(
            reverse("certification:cpf_correction", args=["NOPE"]), {"reason": "x"}
        ).status_code
        == 404
    )


def extra_titles(published, count, start):
    """Title certificates for `count` more holders of the published PV."""
    enrolment = Enrolment.objects.filter(cohort=published.cohort).first()
    for n in range(start, start + count):
        holder = Candidate.objects.create(
            birth_name=f"Nom{n}",
            first_names="Prénom",
            sex="M",
            birth_date=datetime.date(2000, 1, 1),
            birth_insee_code="75056",
        )
        other = Enrolment.objects.create(
            candidate=holder, cohort=published.cohort, access_route=enrolment.access_route
        )
        Certificate.objects.create(
            kind="title",
            number=f"AP-2099-{n:05d}",
            year=2099,
            sequence=n,
            verification_code=f"code{n}",
            candidate=holder,
            enrolment=other,
            deliberation=published,
            mentions={"holder_name": f"Nom{n}"},
        )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_query_counts_stay_flat(awarded, published, login, admin_user):
    client = login(admin_user)
    extra_titles(published, 2, 1)
    first = generate(admin_user)
    few = {
        "list": count_queries(client, reverse("certification:cpf")),
        "flow": count_queries(client, reverse("certification:cpf_flow", args=[first.number])),
        "dashboard": count_queries(client, reverse("portal:office_dashboard")),
    }
    extra_titles(published, 10, 100)
    many_flow = generate(admin_user)
    extra_titles(published, 5, 200)
    many = {
        "list": count_queries(client, reverse("certification:cpf")),
        "flow": count_queries(client, reverse("certification:cpf_flow", args=[many_flow.number])),
        "dashboard": count_queries(client, reverse("portal:office_dashboard")),
    }
    assert many == few


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_generations_at_once_declare_each_certificate_once(awarded, admin_user):
    from evaluations.tests.factories import at_once

    outcomes = at_once(
        lambda: cpf.generate_flows(by=admin_user), lambda: cpf.generate_flows(by=admin_user)
    )
    flows = [outcome for outcome in outcomes if isinstance(outcome, list)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert len(flows) == 1 and len(refused) == 1, outcomes
    assert refused[0].messages == ["Aucun certificat n'est à déclarer."]
    assert DeclaredPassage.objects.count() == 2
    assert AuditEvent.objects.filter(action=Action.CPF_FLOW_GENERATED).count() == 1
