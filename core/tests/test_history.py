"""Every audit event reads as one French sentence: never an action code, a key
of the stored data, nor a database id; odd data never breaks a page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blocks.models import Criterion
from candidates.tests.factories import make_user
from core.history import (
    describe_event,
    describe_events,
    described_actions,
    number,
    person,
    shorten,
)
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

GONE = 987654  # an id nothing has: it must never show
FRENCH_KEYS = {"bloc", "promotion"}  # keys that are French words too

# One event of each action, as its service stores it, and how it reads.
SAMPLES = {
    Action.REFERENTIAL_CREATED: ({}, "Référentiel chargé"),
    Action.REFERENTIAL_REPLACED: ({}, "Référentiel brouillon remplacé"),
    Action.VERSION_ACTIVATED: ({}, "Version du référentiel activée"),
    Action.VERSION_ARCHIVED: ({}, "Version du référentiel archivée"),
    Action.VERSION_DUPLICATED: (
        {"source_id": GONE, "source": "Assistant de production (1)"},
        "Version du référentiel dupliquée depuis « Assistant de production (1) »",
    ),
    Action.CANDIDATE_CREATED: ({}, "Fiche candidat créée"),
    Action.CANDIDATE_CHANGED: (
        {
            "usage_name": ["", "Martin"],
            "birth_date": ["2001-04-12", "2001-04-21"],
            "sex": ["F", "M"],
        },
        "Fiche candidat modifiée : nom d'usage vide → « Martin » ; date de naissance "
        "« 12/04/2001 » → « 21/04/2001 » ; sexe « Féminin » → « Masculin »",
    ),
    Action.CANDIDATE_INVITED: (
        {"promotion": "Promotion 2027"},
        "Candidat invité avec la promotion « Promotion 2027 »",
    ),
    Action.CANDIDATE_IMPORTED: (
        {"file": "promotion.csv"},
        "Nouvelle fiche : candidat créé par import du fichier « promotion.csv »",
    ),
    Action.PERSON_CREATED: (
        {
            "name": "Jeanne Moreau",
            "roles": ["formateur", "membre de jury"],
            "organisation": "Les Films du Lendemain",
            "email": "jeanne@example.org",
        },
        "Compte créé : Jeanne Moreau (formateur, membre de jury), organisme : Les Films du "
        "Lendemain, courriel : jeanne@example.org",
    ),
    Action.PERSON_CHANGED: (
        {"changes": [{"field": "organisme", "old": "", "new": "CEFPF"}]},
        "Compte modifié : organisme vide → « CEFPF »",
    ),
    Action.PERSON_INVITED: (
        {"name": "Jeanne Moreau", "email": "jeanne@example.org"},
        "Invitation envoyée à Jeanne Moreau (jeanne@example.org)",
    ),
    Action.COHORT_CREATED: (
        {"trainers": ["formateur"]},
        "Promotion créée, formateurs : Formateur",
    ),
    Action.COHORT_CHANGED: (
        {"name": ["Promo A", "Promo B"], "end_date": ["2027-06-30", "2027-07-15"], "trainers": []},
        "Promotion modifiée : nom « Promo A » → « Promo B » ; fin « 30/06/2027 » → "
        "« 15/07/2027 » ; sans formateur",
    ),
    Action.ENROLMENT_CREATED: (
        {"access_route": "vae", "optional_blocs": [4]},
        "Inscription, voie d'accès : VAE, bloc optionnel choisi : 4",
    ),
    Action.ENROLMENT_IMPORTED: (
        {"file": "promotion.csv"},
        "Inscription par import du fichier « promotion.csv »",
    ),
    Action.ENROLMENT_WITHDRAWN: (
        {"reason": "Abandon de formation"},
        "Retrait de l'inscription, motif : Abandon de formation",
    ),
    Action.IMPORT_APPLIED: (
        {"file": "promotion.csv", "created": 12, "enrolled_existing": 1, "already_enrolled": 0},
        "Import d'une promotion depuis « promotion.csv » : 12 candidats créés, "
        "1 candidat déjà connu inscrit",
    ),
    Action.JURY_CREATED: ({}, "Jury créé"),
    Action.JURY_CHANGED: (
        {"changes": [{"field": "lieu", "old": "Paris", "new": "Lyon"}]},
        "Jury modifié : lieu « Paris » → « Lyon »",
    ),
    Action.JURY_MEMBER_ADDED: (
        {"member": "Jeanne Moreau", "role": "Membre", "external": True},
        "Membre ajouté au jury : Jeanne Moreau, membre, externe",
    ),
    Action.JURY_MEMBER_REPLACED: (
        {
            "replaced": "Jeanne Moreau",
            "replacement": "Paul Roux",
            "role": "Membre",
            "reason": "indisponible",
        },
        "Membre du jury remplacé : Jeanne Moreau par Paul Roux (membre), motif : indisponible",
    ),
    Action.JURY_MEMBER_REMOVED: (
        {"member": "Paul Roux", "role": "Expert(e) sans voix délibérative", "reason": "départ"},
        "Membre retiré du jury : Paul Roux (expert(e) sans voix délibérative), motif : départ",
    ),
    Action.RECUSAL_RECORDED: (
        {"member": "Paul Roux", "candidate": "Emma Petit", "reason": "son ancien formateur"},
        "Déport : Paul Roux ne délibère pas pour Emma Petit, motif : son ancien formateur",
    ),
    Action.INDEPENDENCE_DECLARED: ({}, "Indépendance déclarée"),
    Action.SESSION_CREATED: (
        {"assessors": ["jury1", "jury2"], "assessor_names": ["Anne Jury", "Bruno Jury"]},
        "Session d'examen créée, évaluateurs : Anne Jury, Bruno Jury",
    ),
    Action.SESSION_STATUS_CHANGED: (
        {"old": "open", "new": "closed"},
        "Statut de la session : ouverte à la notation → close",
    ),
    Action.SESSION_CHANGED: (
        {"changes": [{"field": "lieu", "old": "Salle A", "new": "Salle B"}]},
        "Session d'examen modifiée : lieu « Salle A » → « Salle B »",
    ),
    Action.SESSION_CANCELLED: (
        {"reason": "grève des transports", "candidates": 12},
        "Session d'examen annulée, 12 candidats concernés, motif : grève des transports",
    ),
    Action.ASSESSOR_REPLACED: (
        {
            "replaced": "Anne Jury",
            "replacement": "Paul Roux",
            "reason": "malade",
            "drafts_kept": 3,
        },
        "Évaluateur remplacé : Anne Jury par Paul Roux, 3 grilles en brouillon conservées, "
        "motif : malade",
    ),
    Action.PRESENCE_CHANGED: ({"present": False}, "Présence : noté(e) absent(e)"),
    Action.SCORE_CHANGED: (
        {"criterion": GONE, "competence": "C1.4", "old": "2", "new": "3", "reason": "relu"},
        "Note modifiée : C1.4 2 → 3, motif : relu",
    ),
    Action.GRID_COMMENT_CHANGED: (
        {"old": "Bien.", "new": "Très bien.", "reason": "relu"},
        "Commentaire général modifié : « Bien. » → « Très bien. », motif : relu",
    ),
    Action.GRID_SUBMITTED: ({}, "Grille remise"),
    Action.AGREED_SCORE_RECORDED: (
        {
            "criterion": GONE,
            "competence": "C1.4",
            "criterion_label": "sa capacité à rédiger",
            "old": None,
            "new": "3",
            "mean": "2.5",
            "reason": "concertation",
        },
        "Note retenue après concertation : C1.4 « sa capacité à rédiger » 3 "
        "(moyenne des évaluateurs : 2,5), motif : concertation",
    ),
    Action.DELIBERATION_OPENED: (
        {"held_on": "2027-06-20", "added_blocs": [4]},
        "Délibération ouverte, réunion du jury le 20/06/2027, bloc ajouté par le bureau : 4",
    ),
    Action.DECISION_RECORDED: (
        {
            "candidate": "Emma Petit",
            "bloc": 2,
            "proposed_validated": False,
            "old": ["postponed", ""],
            "new": ["validated", "Oral très convaincant"],
        },
        "Décision du jury : Emma Petit, bloc 2 ajourné → validé (proposition : non validé), "
        "justification : « Oral très convaincant »",
    ),
    Action.MINUTES_SIGNED: ({}, "Procès-verbal signé"),
    Action.DELIBERATION_CLOSED: ({}, "Délibération close"),
    Action.RECTIFICATION_OPENED: (
        {"original": GONE, "reason": "erreur matérielle"},
        "PV rectificatif ouvert, motif : erreur matérielle",
    ),
    Action.RESULTS_PUBLISHED: ({}, "Résultats publiés"),
    Action.PRINT_REQUESTED: ({}, "Impression demandée"),
    Action.CERTIFICATE_ISSUED: (
        {"number": "AP-2027-00042", "kind": "bloc"},
        "Certificat délivré : AP-2027-00042 (certificat de bloc de compétences)",
    ),
    Action.CERTIFICATE_REVOKED: ({"reason": "fraude"}, "Certificat révoqué, motif : fraude"),
    Action.CERTIFICATE_ISSUED_AGAIN: (
        {"reason": "erreur levée", "revoked": "AP-2027-00042", "number": "AP-2027-00050"},
        "Certificat délivré à nouveau : AP-2027-00050, après la révocation du AP-2027-00042, "
        "motif : erreur levée",
    ),
    Action.CERTIFICATE_SUPERSEDED: (
        {"by": "AP-2027-00043"},
        "Certificat remplacé par la réédition AP-2027-00043",
    ),
    Action.ACCOUNT_ROLES_CHANGED: (
        {"name": "Jeanne Moreau", "old": ["formateur"], "new": ["formateur", "membre de jury"]},
        "Rôles du compte modifiés : Jeanne Moreau, « formateur » → « formateur, membre de jury »",
    ),
    Action.ACCOUNT_DEACTIVATED: (
        {"name": "Jeanne Moreau", "active": [True, False]},
        "Compte désactivé : Jeanne Moreau",
    ),
    Action.ACCOUNT_REACTIVATED: (
        {"name": "Jeanne Moreau", "active": [False, True]},
        "Compte réactivé : Jeanne Moreau",
    ),
    Action.PASSWORD_CHANGED: ({"name": "Jeanne Moreau"}, "Mot de passe changé : Jeanne Moreau"),
    Action.CIVIL_STATUS_REPORTED: (
        {"report": GONE, "message": "Mon nom de naissance s'écrit Petit-Martin."},
        "Erreur d'état civil signalée : « Mon nom de naissance s'écrit Petit-Martin. »",
    ),
    Action.CIVIL_STATUS_REPORT_CLOSED: (
        {"report": GONE, "answer": "Corrigé, merci."},
        "Signalement d'état civil traité, réponse : « Corrigé, merci. »",
    ),
    Action.ACCOUNT_DELETED: (
        {
            "name": "Jeanne Moreau",
            "username": "jeanne",
            "email": "jeanne@example.org",
            "roles": ["formateur"],
            "active": False,
        },
        "Compte supprimé : Jeanne Moreau (formateur), identifiant : jeanne, "
        "courriel : jeanne@example.org",
    ),
    Action.LOGIN_FAILED: (
        {"username": "jeanne", "ip": "203.0.113.7"},
        "Échec de connexion : identifiant « jeanne », depuis l'adresse 203.0.113.7",
    ),
    Action.LOGIN_LOCKED_OUT: (
        {"username": "jeanne", "ip": "203.0.113.7"},
        "Connexion bloquée après des échecs répétés : identifiant « jeanne », "
        "depuis l'adresse 203.0.113.7",
    ),
    Action.MENTIONS_CHANGED: (
        {
            "changes": [
                {"field": "lieu de délivrance", "old": "", "new": "Paris"},
                {"field": "code RNCP", "old": "RNCP1", "new": "RNCP38000"},
            ]
        },
        "Mentions du certificat modifiées : lieu de délivrance vide → « Paris » ; "
        "code RNCP « RNCP1 » → « RNCP38000 »",
    ),
    Action.ENROLMENT_REGISTRATION_CHANGED: (
        {
            "changes": {
                "access_route": ["formation_continue", "vae"],
                "vae_route": ["", "conge_vae"],
                "registration_date": ["", "2026-09-01"],
            }
        },
        "Modalités d'inscription modifiées : voie d'accès « Formation continue hors contrat "
        "de professionnalisation » → « VAE » ; type de VAE vide → « Congé VAE » ; "
        "date d'inscription à la certification vide → « 01/09/2026 »",
    ),
    Action.CPF_FLOW_GENERATED: (
        {
            "number": 3,
            "flow_id": "CPF-DEMO0001-20270301120000-3",
            "certificates": ["AP-2027-00042"],
        },
        "Flux de déclaration CPF généré : n° 3, 1 passage(s) (AP-2027-00042)",
    ),
    Action.CPF_OUTCOME_RECORDED: (
        {
            "technical_id": "AP-2027-00042",
            "flow": 3,
            "old": "pending",
            "new": "rejected",
            "reason": "date de naissance incohérente",
        },
        "Résultat du traitement CPF enregistré : AP-2027-00042 (flux n° 3), rejeté, "
        "motif : date de naissance incohérente",
    ),
    Action.CPF_CORRECTION_NOTED: (
        {"technical_id": "AP-2027-00042", "flow": 3, "note": "annulation envoyée le 2 mars"},
        "Correction de la déclaration CPF signalée : AP-2027-00042 (flux n° 3), "
        "« annulation envoyée le 2 mars »",
    ),
}


def test_every_action_has_a_sentence_and_a_sample():
    assert described_actions() == set(Action)
    assert set(SAMPLES) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_each_action_reads_in_french(action, trainer):
    data, expected = SAMPLES[action]
    sentence = describe_event(AuditEvent(action=action, data=data))
    assert sentence == expected
    assert action.value not in sentence
    for key in set(data) - FRENCH_KEYS:
        assert not re.search(rf"\b{re.escape(key)}\b", sentence), key
    assert str(GONE) not in sentence
    assert not re.search(r"\b(None|True|False)\b|[\[\]{}]", sentence)


@pytest.mark.parametrize(
    "data",
    [
        {},
        ["not", "a", "dict"],
        {
            "criterion": "abc",
            "old": [1],
            "new": {"x": 1},
            "changes": 5,
            "trainers": 7,
            "present": "maybe",
            "bloc": None,
            "held_on": 12,
            "optional_blocs": 3,
            "kind": "nothing",
            "role": 4,
        },
    ],
    ids=["empty", "list", "garbage"],
)
def test_odd_data_never_breaks_and_falls_back_to_the_label(data):
    events = [AuditEvent(action=action, data=data) for action in Action]
    for event, sentence in describe_events(events):
        assert isinstance(sentence, str) and sentence
        assert event.action not in sentence


def test_an_unknown_action_reads_as_such():
    assert describe_event(AuditEvent(action="nothing.known", data={"x": 1})) == "Événement inconnu"


def test_older_events_name_people_by_username(jury_member, second_jury_member):
    added = AuditEvent(
        action=Action.JURY_MEMBER_ADDED,
        data={"member": "jury1", "role": "president", "external": False},
    )
    created = AuditEvent(action=Action.SESSION_CREATED, data={"assessors": ["jury1", "jury2"]})
    assert [sentence for _, sentence in describe_events([added, created])] == [
        "Membre ajouté au jury : Jury1, président(e), interne au centre",
        "Session d'examen créée, évaluateurs : Jury1, Jury2",
    ]


def test_a_page_of_events_runs_the_same_queries_for_2_or_20(referential, trainer):
    criteria = list(
        Criterion.objects.filter(competence__bloc__certification_version=referential)[:20]
    )
    users = [make_user(f"formateur-{n}") for n in range(20)]

    def events(n):
        for criterion, user in zip(criteria[:n], users[:n], strict=True):
            yield AuditEvent(
                action=Action.SCORE_CHANGED,
                data={"criterion": criterion.pk, "old": "1", "new": "2"},
            )
            yield AuditEvent(action=Action.COHORT_CHANGED, data={"trainers": [user.username]})
            yield AuditEvent(
                action=Action.JURY_MEMBER_ADDED, data={"member": user.username, "role": "member"}
            )
            yield AuditEvent(
                action=Action.AGREED_SCORE_RECORDED,
                data={"criterion": criterion.pk, "new": "3", "mean": "2.5"},
            )

    def count(n):
        batch = list(events(n))
        with CaptureQueriesContext(connection) as queries:
            lines = describe_events(batch)
        assert len(lines) == 4 * n
        assert all("Formateur-" in sentence for _, sentence in lines[1::4])
        return len(queries)

    assert count(2) == count(20) == 4  # criteria, levels, trainers, jury members


def test_helpers():
    assert number("12.50") == "12,5"
    assert number("20") == "20"
    assert number("2.25") == "2,25"
    assert shorten("court") == "court"
    long_text = "sa capacité à rédiger avec clarté et précision une feuille de dépouillement"
    assert shorten(long_text) == "sa capacité à rédiger avec clarté et précision une feuille…"
    assert len(shorten("x" * 200)) == 60
    assert person(None) == "système"
