import copy
import json
import re

import pytest
from django.core.management import CommandError, call_command

from blocks.export import SHIPPED_FILE, dump_referential, export_version
from blocks.models import (
    Activity,
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
)
from blocks.services import load_referential
from blocks.validation import ReferentialFileError
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def shipped():
    return json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))


def referential_counts():
    return [
        model.objects.count()
        for model in (
            CertificationVersion,
            Bloc,
            Activity,
            Competence,
            Criterion,
            EvaluationModality,
        )
    ]


def competence_number(code):
    bloc, number = code[1:].split(".")
    return int(bloc), int(number)


def test_shipped_file_loads_the_whole_referential(referential):
    assert referential.status == CertificationVersion.Status.ACTIVE
    assert referential.title == "Assistant de production"
    blocs = list(referential.blocs.all())
    assert [b.number for b in blocs] == [1, 2, 3, 4]
    assert [b.optional for b in blocs] == [False, False, False, True]
    activities = Activity.objects.filter(bloc__certification_version=referential)
    assert [a.code for a in activities.order_by("bloc__number", "order")] == [
        "A1.1", "A1.2", "A2.1", "A2.2", "A2.3", "A3.1", "A3.2", "A3.3", "A4.1", "A4.2", "A4.3",
    ]  # fmt: skip
    codes = sorted(
        Competence.objects.filter(bloc__certification_version=referential).values_list(
            "code", flat=True
        ),
        key=competence_number,
    )
    expected = [f"C1.{n}" for n in range(1, 7)] + [f"C2.{n}" for n in range(1, 13)]
    expected += [f"C3.{n}" for n in range(1, 4)] + [f"C4.{n}" for n in range(1, 18)]
    assert codes == expected
    assert EvaluationModality.objects.filter(bloc__certification_version=referential).count() == 14
    for competence in Competence.objects.filter(bloc__certification_version=referential):
        assert competence.criteria.exists(), competence.code
        assert competence.modalities.filter(bloc=competence.bloc).exists(), competence.code
        assert competence.activity.bloc_id == competence.bloc_id


def test_seed_text_is_kept_with_ambiguities_noted(referential):
    c26 = Competence.objects.get(certification_version=referential, code="C2.6")
    assert c26.statement.startswith(
        "Rédiger la feuille de service qui constitue le plan de travail"
    )
    # Extraction artefacts are mended: no broken words or doubled spaces.
    for competence in Competence.objects.all():
        assert "  " not in competence.statement
        assert not re.search(r"\w- \w", competence.statement), competence.code
    c212 = Competence.objects.get(certification_version=referential, code="C2.12")
    assert "tronqué" in c212.note
    assert "Aucun critère visible" in c212.criteria.get().note
    modality = EvaluationModality.objects.get(bloc__number=2, code="M2.5")
    assert {c.code for c in modality.competences.all()} == {"C2.9", "C2.10", "C2.11", "C2.12"}
    assert "aucune modalité" in modality.note
    oral = EvaluationModality.objects.filter(assessed_by=EvaluationModality.AssessedBy.JURY)
    assert sorted(oral.values_list("code", flat=True)) == ["M1.1", "M4.1", "M4.2"]
    levels = [
        (level.value, level.label, level.passing) for level in referential.grading_levels.all()
    ]
    assert levels == [
        (0, "Non acquis", False),
        (1, "Partiellement acquis", False),
        (2, "Acquis", True),
        (3, "Maîtrisé", True),
    ]


def test_loading_twice_changes_nothing(referential):
    before = referential_counts()
    assert before == [1, 4, 11, 38, 88, 14]
    result = load_referential(SHIPPED_FILE.read_text(encoding="utf-8"))
    assert result.outcome == "unchanged"
    assert result.version == referential
    assert referential_counts() == before


def test_export_load_export_round_trip(referential, capsys):
    call_command("export_referential")
    first = capsys.readouterr().out
    assert first == SHIPPED_FILE.read_text(encoding="utf-8")
    Bloc.objects.all().delete()
    CertificationVersion.objects.all().delete()
    assert referential_counts() == [0] * 6
    load_referential(first)
    call_command("export_referential")
    assert capsys.readouterr().out == first


def test_numeric_scale_round_trips(empty_database):
    data = shipped()
    data["certification"]["version"] = "numérique"
    data["certification"]["grading_scale"] = {
        "kind": "numeric",
        "levels": [],
        "numeric_max": 20,
        "numeric_pass_mark": 10,
    }
    version = load_referential(json.dumps(data)).version
    assert version.scale_kind == CertificationVersion.ScaleKind.NUMERIC
    assert export_version(version) == data


def bad_file_cases():
    data = shipped()
    missing = copy.deepcopy(data)
    del missing["blocs"][1]["title"]
    duplicate = copy.deepcopy(data)
    duplicate["blocs"][3]["competences"][0]["code"] = "C1.1"
    duplicate["blocs"][3]["modalities"][0]["competences"] = ["C1.1", "C4.2"]
    unknown = copy.deepcopy(data)
    unknown["blocs"][0]["modalities"][1]["competences"].append("C9.9")
    return [
        pytest.param("{ pas du JSON", "ligne 1, colonne 3", id="bad-json"),
        pytest.param(
            json.dumps(missing), "blocs[1].title : champ obligatoire manquant", id="missing"
        ),
        pytest.param(json.dumps(duplicate), "code de compétence en double : C1.1", id="duplicate"),
        pytest.param(
            json.dumps(unknown),
            "blocs[0].modalities[1].competences : compétence inconnue dans ce bloc : C9.9",
            id="unknown-competence",
        ),
    ]


@pytest.mark.parametrize(("text", "expected"), bad_file_cases())
def test_bad_file_is_refused_and_nothing_written(empty_database, text, expected):
    with pytest.raises(ReferentialFileError) as refused:
        load_referential(text)
    assert expected in str(refused.value)
    assert referential_counts() == [0] * 6
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("text", "expected"), bad_file_cases())
def test_command_exits_non_zero_naming_each_error(empty_database, tmp_path, text, expected):
    path = tmp_path / "referentiel.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        call_command("load_referential", str(path))
    assert refused.value.returncode == 1
    assert "rien n'a été écrit" in str(refused.value)
    assert expected in str(refused.value)
    assert referential_counts() == [0] * 6


def test_every_error_of_a_file_is_reported_at_once():
    data = shipped()
    del data["certification"]["certifier"]
    data["blocs"][0]["optional"] = "non"
    data["blocs"][2]["competences"][1]["criteria"][0] = {"note": "sans libellé"}
    data["blocs"][2]["modalities"][0]["kind"] = "oral"
    with pytest.raises(ReferentialFileError) as refused:
        load_referential(json.dumps(data))
    places = [problem.place for problem in refused.value.problems]
    assert places == [
        "certification.certifier",
        "blocs[0].optional",
        "blocs[2].competences[1].criteria[0].label",
        "blocs[2].modalities[0].kind",
    ]
    assert "Sélectionnez un choix valide" in str(refused.value)


def test_a_bad_file_leaves_the_loaded_referential_intact(referential):
    before = export_version(referential)
    data = shipped()
    data["blocs"][0]["competences"][0]["activity"] = "A9.9"
    with pytest.raises(ReferentialFileError, match="activité inconnue dans ce bloc : A9.9"):
        load_referential(json.dumps(data))
    assert export_version(referential) == before


@pytest.mark.parametrize(
    ("scale", "reason"),
    [
        (
            {"kind": "levels", "levels": [{"value": 0, "label": "Non", "passing": False}]},
            "au moins deux niveaux",
        ),
        (
            {
                "kind": "levels",
                "levels": [
                    {"value": 0, "label": "Non acquis", "passing": True},
                    {"value": 1, "label": "Acquis", "passing": False},
                ],
            },
            "les plus élevés",
        ),
        ({"kind": "numeric", "numeric_max": 20, "numeric_pass_mark": 25}, "comprise entre 0"),
    ],
)
def test_unusable_grading_scale_is_refused(empty_database, scale, reason):
    data = shipped()
    data["certification"]["grading_scale"] = scale
    with pytest.raises(ReferentialFileError, match=reason):
        load_referential(json.dumps(data))
    assert referential_counts() == [0] * 6


def test_a_draft_is_replaced_by_a_new_file_of_the_same_version(empty_database):
    data = shipped()
    data["certification"]["status"] = "draft"
    load_referential(json.dumps(data))
    data["blocs"][3]["title"] = "Communication digitale"
    result = load_referential(json.dumps(data))
    assert result.outcome == "replaced"
    assert Bloc.objects.get(number=4).title == "Communication digitale"
    assert referential_counts()[0:2] == [1, 4]


def test_an_active_file_must_be_complete(empty_database):
    data = shipped()
    data["blocs"][2]["modalities"][2]["competences"] = ["C3.1"]
    with pytest.raises(ReferentialFileError, match="C3.3 n'est évaluée par aucune modalité"):
        load_referential(json.dumps(data))
    assert referential_counts() == [0] * 6


def test_dump_is_stable_utf8():
    text = dump_referential({"titre": "Maîtrisé"})
    assert text == '{\n  "titre": "Maîtrisé"\n}\n'


def test_reloading_keeps_the_mentions_the_office_entered(referential):
    referential.rncp_code = "RNCP12345"
    referential.signatory_name = "Jeanne Delorme"
    referential.save()
    result = load_referential(SHIPPED_FILE.read_text(encoding="utf-8"))
    assert result.outcome == "unchanged"
    referential.refresh_from_db()
    assert (referential.rncp_code, referential.signatory_name) == ("RNCP12345", "Jeanne Delorme")
    changed = shipped()
    changed["blocs"][0]["title"] = "Autre intitulé"
    with pytest.raises(
        ReferentialFileError, match=re.escape("« Assistant de production » est figée (active)")
    ):
        load_referential(json.dumps(changed))
    assert referential.blocs.get(number=1).title.startswith("Préparation d’un projet")
