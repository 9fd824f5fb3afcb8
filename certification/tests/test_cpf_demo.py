"""The demo data of the CPF declaration: one flow declared and accepted, the
demo candidate's certificates to declare, the whole valid against the schema."""

import pytest
from django.core.management import call_command
from django.test import override_settings

from blocks.models import CertificationVersion
from certification import cpf
from certification.models import Certificate, DeclarationFlow, DeclaredPassage

pytestmark = pytest.mark.django_db


@override_settings(DEBUG=True)
def test_the_demo_has_an_accepted_flow_and_certificates_to_declare(empty_database, admin_user):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent: still one flow
    version = CertificationVersion.objects.active().get()
    assert (version.cdc_issuer_id, version.cdc_certifier_id) == ("DEMO0001", "DEMO0002")
    assert version.rncp_code == "RNCP00000" and version.declare_blocs
    assert "DÉMO" in version.national_level
    assert set(version.blocs.values_list("official_code", flat=True)) == {
        f"RNCP00000BC0{n}" for n in (1, 2, 3, 4)
    }
    flow = DeclarationFlow.objects.get()
    assert flow.passages.exists()
    assert set(flow.passages.values_list("outcome", flat=True)) == {"accepted"}
    with flow.xml.open("rb") as stored:
        assert cpf.schema_errors(stored.read()) == []
    emma = set(Certificate.objects.filter(candidate__user__username="candidat"))
    assert emma and set(cpf.declarable()) == emma
    assert cpf.deadlines_summary()["late"] == 0
    # The office can declare them right away: nothing is missing.
    (second,) = cpf.generate_flows(by=admin_user)
    assert set(
        DeclaredPassage.objects.filter(flow=second).values_list("certificate", flat=True)
    ) == {c.pk for c in emma}
