"""One test per rule of scoring and deliberation whose line of code no other
test would catch if it were broken (issue 10, point 3)."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from blocks.export import SHIPPED_FILE
from blocks.services import load_referential
from candidates.models import Cohort, Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core import roles
from core.models import AuditEvent
from evaluations.deliberations import open_deliberation, record_decision, rectify
from evaluations.juries import add_member, composition_problems, create_jury
from evaluations.models import BlocDecision, Deliberation, Grid, JuryMember, Score
from evaluations.sessions import CriterionEntry, save_grid, set_presence
from evaluations.standings import deliberation_table, resit_enrolments, validated_blocs
from evaluations.tests.factories import (
    bloc,
    criteria_of,
    decide_as_proposed,
    fill,
    open_session,
    sign_all,
)

pytestmark = pytest.mark.django_db

VALIDATED = BlocDecision.Decision.VALIDATED
NOT_VALIDATED = BlocDecision.Decision.NOT_VALIDATED
POSTPONED = BlocDecision.Decision.POSTPONED
UNJUSTIFIED = (
    "La décision s'écarte de la proposition issue des notes : une justification écrite est "
    "obligatoire (elle figurera au procès-verbal)."
)
EXTERNAL_SHARE = (
    "Au moins la moitié des membres votants doivent être des professionnels extérieurs au "
    "centre de formation."
)


def events(action):
    return AuditEvent.objects.filter(action=action).count()


# --- 1. Presence is frozen once a grid is handed in ----------------------------


def test_presence_no_longer_changes_once_a_grid_is_submitted(
    oral_session, jury_member, second_jury_member
):
    assessment = oral_session.assessments.get()
    fill(assessment, jury_member, 2)  # a draft does not freeze presence
    set_presence(assessment, present=False, by=second_jury_member)
    set_presence(assessment, present=True, by=second_jury_member)
    fill(assessment, jury_member, 2, submit=True)
    changes = events("evaluations.assessment.presence_changed")

    with pytest.raises(ValidationError) as refused:
        set_presence(assessment, present=False, by=second_jury_member)

    assert refused.value.messages == ["Une grille est déjà remise pour ce candidat."]
    assessment.refresh_from_db()
    assert assessment.present is True
    assert events("evaluations.assessment.presence_changed") == changes == 2


# --- 2. The service refuses a mark outside a numeric scale ---------------------


@pytest.fixture
def numeric_assessment(referential, trainer):
    """A candidate of a cohort on a version marked out of 20 (pass at 10), in an
    open written session scored by `trainer`."""
    data = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    data["certification"]["version"] = "sur 20"
    data["certification"]["grading_scale"] = {
        "kind": "numeric",
        "levels": [],
        "numeric_max": 20,
        "numeric_pass_mark": 10,
    }
    version = load_referential(json.dumps(data)).version
    assert version.is_numeric_scale
    cohort = Cohort.objects.create(
        name="Promotion notée sur 20",
        certification_version=version,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    enrol(make_candidate(1), cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    return open_session("M2.1", cohort, [trainer]).assessments.get()


def save_every_criterion(assessment, assessor, value):
    return save_grid(
        assessment,
        assessor=assessor,
        revision=0,
        entries={c.pk: CriterionEntry(value) for c in criteria_of(assessment.session)},
        overall_comment="",
    )


@pytest.mark.parametrize("value", ["20.01", "25", "-0.01", "-1"])
def test_save_grid_refuses_a_mark_outside_the_numeric_scale(numeric_assessment, trainer, value):
    with pytest.raises(ValidationError) as refused:
        save_every_criterion(numeric_assessment, trainer, Decimal(value))

    assert refused.value.messages == [f"La note {value} est hors de l'échelle (de 0 à 20)."]
    assert not Grid.objects.filter(assessment=numeric_assessment).exists()
    assert not Score.objects.filter(grid__assessment=numeric_assessment).exists()
    assert events("evaluations.score.changed") == 0


@pytest.mark.parametrize("value", ["0", "20", "12.5"])
def test_save_grid_takes_a_mark_within_the_numeric_scale(numeric_assessment, trainer, value):
    grid = save_every_criterion(numeric_assessment, trainer, Decimal(value))

    assert set(grid.scores.values_list("value", flat=True)) == {Decimal(value)}


# --- 3. At least half of the voting members are external ----------------------


def jury_of(referential, seats):
    """A jury with one member per (role, external) seat, every member declared."""
    panel = create_jury(
        name=f"Jury de {len(seats)}",
        certification_version=referential,
        date=datetime.date(2027, 6, 21),
        place="Paris",
        by=None,
    )
    for index, (role, external) in enumerate(seats):
        add_member(
            panel,
            user=make_user(f"siege{len(seats)}-{index}", roles.JURY_MEMBER),
            role=role,
            external=external,
            by=None,
        )
    return panel


PRESIDENT = JuryMember.Role.PRESIDENT
MEMBER = JuryMember.Role.MEMBER
EXPERT = JuryMember.Role.EXPERT


@pytest.mark.parametrize(
    "seats",
    [
        pytest.param([(PRESIDENT, False), (MEMBER, False), (MEMBER, True)], id="1-of-3"),
        pytest.param(
            [(PRESIDENT, False), (MEMBER, False), (MEMBER, True), (EXPERT, True)],
            id="1-of-3-voting-and-an-external-expert",
        ),
    ],
)
def test_one_external_of_three_voting_members_is_refused(referential, cohort, seats):
    panel = jury_of(referential, seats)

    assert composition_problems(list(panel.members.all())) == [EXTERNAL_SHARE]
    with pytest.raises(ValidationError) as refused:
        open_deliberation(panel, cohort, by=None)
    assert refused.value.messages == [EXTERNAL_SHARE]
    assert not Deliberation.objects.exists()


def test_two_externals_of_four_voting_members_are_accepted(referential, cohort):
    panel = jury_of(
        referential, [(PRESIDENT, False), (MEMBER, False), (MEMBER, True), (MEMBER, True)]
    )

    assert composition_problems(list(panel.members.all())) == []
    deliberation = open_deliberation(panel, cohort, by=None)
    assert Deliberation.objects.get() == deliberation


# --- 4. A trainer of the cohort never records a decision -----------------------


def test_a_member_become_trainer_of_the_cohort_after_opening_cannot_decide(
    deliberation, scored, cohort, jury_member, second_jury_member
):
    cohort.trainers.add(second_jury_member)

    with pytest.raises(ValidationError) as refused:
        record_decision(
            deliberation,
            enrolment=scored,
            bloc=bloc(scored, 1),
            decision=VALIDATED,
            user=second_jury_member,
        )

    assert refused.value.messages == [
        "Conflit d'intérêts : Jury2 forme les candidats de cette promotion et ne peut ni les "
        "noter ni délibérer sur eux."
    ]
    assert not BlocDecision.objects.exists()
    assert events("evaluations.decision.recorded") == 0
    # The member without a conflict still decides.
    record_decision(
        deliberation,
        enrolment=scored,
        bloc=bloc(scored, 1),
        decision=VALIDATED,
        user=jury_member,
    )
    assert deliberation.decisions.get().decided_by == jury_member


# --- 5. Refusing a bloc the proposal validates needs a justification ------------


@pytest.mark.parametrize("decision", [NOT_VALIDATED, POSTPONED])
@pytest.mark.parametrize(
    "justification", [pytest.param("", id="empty"), pytest.param("   \n ", id="blank")]
)
def test_refusing_a_proposed_bloc_needs_a_justification(
    deliberation, scored, second_jury_member, decision, justification
):
    assert deliberation_table(deliberation)[0].cells[0].result.proposed_validated

    with pytest.raises(ValidationError) as refused:
        record_decision(
            deliberation,
            enrolment=scored,
            bloc=bloc(scored, 1),
            decision=decision,
            justification=justification,
            user=second_jury_member,
        )

    assert refused.value.messages == [f"Bloc 1 : {UNJUSTIFIED}"]
    assert not BlocDecision.objects.exists()
    assert events("evaluations.decision.recorded") == 0
    stored = record_decision(
        deliberation,
        enrolment=scored,
        bloc=bloc(scored, 1),
        decision=decision,
        justification="Dossier incomplet.",
        user=second_jury_member,
    )
    assert (stored.proposed_validated, stored.decision) == (True, decision)


def test_refusing_a_proposed_bloc_without_justification_through_the_page(
    login, deliberation, scored, second_jury_member
):
    url = reverse("evaluations:decide", args=[deliberation.pk])

    bloc1, bloc3 = bloc(scored, 1), bloc(scored, 3)
    response = login(second_jury_member).post(
        url,
        {
            "enrolment": scored.pk,
            f"decision_{bloc1.pk}": NOT_VALIDATED,
            f"justification_{bloc1.pk}": "  ",
            f"decision_{bloc(scored, 2).pk}": NOT_VALIDATED,
            f"decision_{bloc3.pk}": VALIDATED,
        },
        follow=True,
    )

    # Back to the candidate's row; nothing of the row is written, bloc 3 neither.
    assert response.redirect_chain == [(f"{deliberation.get_absolute_url()}#row-{scored.pk}", 302)]
    assert response.status_code == 200
    page = response.content.decode()
    assert "une justification écrite est obligatoire (elle figurera au procès-verbal)." in page
    assert "Décision enregistrée" not in page
    assert not BlocDecision.objects.exists()
    assert events("evaluations.decision.recorded") == 0


# --- 6. Capitalisation counts only the PVs in force ---------------------------


def test_a_bloc_withdrawn_by_a_rectifying_pv_is_no_longer_acquired(
    deliberation,
    scored,
    cohort,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    bloc1, bloc3 = bloc(scored, 1), bloc(scored, 3)
    enrolments = Enrolment.objects.filter(pk=scored.pk)
    decide_as_proposed(deliberation, scored, second_jury_member)
    original = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    assert validated_blocs(enrolments) == {scored.pk: {bloc1.pk, bloc3.pk}}
    correction = rectify(original, reason="Fraude constatée au bloc 1", user=jury_member)
    record_decision(
        correction,
        enrolment=scored,
        bloc=bloc1,
        decision=NOT_VALIDATED,
        justification="Fraude constatée.",
        user=second_jury_member,
    )
    # Unsigned, the correction changes nothing yet: the original stays in force.
    assert validated_blocs(enrolments) == {scored.pk: {bloc1.pk, bloc3.pk}}

    sign_all(correction, jury_member, second_jury_member, django_capture_on_commit_callbacks)

    assert validated_blocs(enrolments) == {scored.pk: {bloc3.pk}}
    assert resit_enrolments(cohort, bloc1) == [scored]
    resit = open_session("M1.2", cohort, [trainer]).assessments.get()
    assert (resit.enrolment, resit.attempt) == (scored, 2)
    cells = deliberation_table(open_deliberation(jury, cohort, by=None))[0].cells
    # Bloc 1 is presented again (the re-sit); bloc 2, decided and not sat again, is not.
    assert [(c.bloc.number, c.capitalised, c.due) for c in cells[:3]] == [
        (1, False, True),
        (2, False, False),
        (3, True, False),
    ]
