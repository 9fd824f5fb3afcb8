"""Scores, decisions and juries stay consistent once the jury has decided."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidates.models import Cohort
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core import roles
from evaluations.deliberations import open_deliberation, sign_minutes
from evaluations.juries import add_member, create_jury, declare_independence
from evaluations.models import BlocDecision, Grid, JuryMember
from evaluations.sessions import CriterionEntry, save_grid
from evaluations.tests.factories import (
    bloc,
    criteria_of,
    decide_as_proposed,
    fill,
    open_session,
    sign_all,
)

pytestmark = pytest.mark.django_db


def test_an_assessor_reads_only_their_own_grid_history(
    login, oral_session, jury_member, second_jury_member
):
    assessment = oral_session.assessments.get()
    fill(assessment, jury_member, 3)
    fill(assessment, second_jury_member, 1)
    url = reverse("evaluations:history", args=[assessment.pk])
    own = login(second_jury_member).get(url).context["events"]
    assert {event.actor for event in own} == {second_jury_member}
    # jury1 leads the session, but marks this candidate too: until their own
    # grid is handed in, the lead reads only their own changes.
    lead = login(jury_member).get(url).context["events"]
    assert {event.actor for event in lead} == {jury_member}
    synthesis = reverse("evaluations:synthesis", args=[assessment.pk])
    refused = login(jury_member).get(synthesis)
    assert refused.status_code == 403
    assert "votre propre grille pour ce candidat" in refused.content.decode()
    fill(assessment, jury_member, 3, submit=True)
    lead = login(jury_member).get(url).context["events"]
    assert {event.actor for event in lead} == {jury_member, second_jury_member}
    assert login(jury_member).get(synthesis).status_code == 200


def test_scores_of_a_signed_deliberation_no_longer_change(
    deliberation,
    scored,
    jury_member,
    second_jury_member,
    trainer,
    cohort,
    django_capture_on_commit_callbacks,
):
    decide_as_proposed(deliberation, scored, second_jury_member)
    sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
    grid = Grid.objects.get(assessment__session__modality__code="M2.1")
    with pytest.raises(ValidationError, match="PV rectificatif"):
        save_grid(
            grid.assessment,
            assessor=trainer,
            revision=grid.revision,
            entries={c.pk: CriterionEntry(3) for c in criteria_of(grid.assessment.session)},
            overall_comment="",
            reason="Correction",
        )
    assert set(grid.scores.values_list("value", flat=True)) == {1}
    resit = open_session("M2.1", cohort, [trainer]).assessments.get()
    assert fill(resit, trainer, 3, submit=True).is_submitted  # a re-sit is scored as usual


def test_signing_refuses_decisions_whose_scores_changed(
    deliberation, scored, jury_member, second_jury_member, trainer
):
    decide_as_proposed(deliberation, scored, second_jury_member)
    grid = Grid.objects.get(assessment__session__modality__code="M1.2")
    save_grid(
        grid.assessment,
        assessor=trainer,
        revision=grid.revision,
        entries={c.pk: CriterionEntry(0) for c in criteria_of(grid.assessment.session)},
        overall_comment="",
        reason="Erreur de report",
    )
    with pytest.raises(ValidationError, match="Petit Emma Louise, bloc 1"):
        sign_minutes(deliberation, user=second_jury_member)
    assert not deliberation.signatures.exists()


def test_one_open_deliberation_per_cohort_whatever_the_jury(
    deliberation, referential, cohort, jury_member, second_jury_member
):
    other = create_jury(
        name="Autre jury",
        certification_version=referential,
        date=cohort.start_date,
        place="Lyon",
        by=None,
    )
    add_member(other, user=jury_member, role="president", external=True, by=None)
    add_member(other, user=second_jury_member, role="member", external=True, by=None)
    with pytest.raises(ValidationError, match="une seule à la fois"):
        open_deliberation(other, cohort, by=None)


def test_conflicts_cover_experts_and_earlier_cohorts(jury, cohort, candidate, referential):
    former_trainer = make_user("ancien-formateur", roles.JURY_MEMBER)
    earlier = Cohort.objects.create(
        name="Promotion précédente",
        certification_version=referential,
        start_date=cohort.start_date.replace(year=2025),
        end_date=cohort.end_date.replace(year=2026),
    )
    earlier.trainers.add(former_trainer)
    enrol(candidate, earlier, access_route="vae", by=None)
    seat = JuryMember.objects.create(jury=jury, user=former_trainer, role=JuryMember.Role.EXPERT)
    declare_independence(seat, user=former_trainer)
    with pytest.raises(ValidationError, match="Conflit d'intérêts"):
        open_deliberation(jury, cohort, by=None)


def test_malformed_decision_posts_do_not_crash(login, deliberation, scored, second_jury_member):
    url = reverse("evaluations:decide", args=[deliberation.pk])
    row = f"{deliberation.get_absolute_url()}#row-{scored.pk}"
    client = login(second_jury_member)
    blocs = [bloc(scored, number) for number in (1, 2, 3)]
    complete = {f"decision_{b.pk}": "validated" for b in blocs}
    complete[f"justification_{blocs[1].pk}"] = "Soutenance remarquable."
    # A decision missing or unknown on the row: back to the row, with a message.
    for data in (
        {"enrolment": scored.pk},
        {**complete, "enrolment": scored.pk, f"decision_{blocs[0].pk}": "peut-être"},
    ):
        response = client.post(url, data)
        assert (response.status_code, response.url) == (302, row)
        page = client.get(deliberation.get_absolute_url()).content.decode()
        assert "Petit Emma Louise : choisissez une décision pour chaque bloc." in page
    # A candidate that does not exist, unreadable, or of another cohort: 404.
    elsewhere = Cohort.objects.create(
        name="Promotion voisine",
        certification_version=deliberation.cohort.certification_version,
        start_date=deliberation.cohort.start_date,
        end_date=deliberation.cohort.end_date,
    )
    stranger = enrol(make_candidate(70), elsewhere, access_route="vae", by=None)
    for enrolment in (999999, "x", "", stranger.pk):
        assert client.post(url, {**complete, "enrolment": enrolment}).status_code == 404
    # A bloc that is not the row's is ignored, never decided.
    response = client.post(
        url, {**complete, "enrolment": scored.pk, "decision_999999": "validated"}
    )
    assert response.url == row
    assert sorted(BlocDecision.objects.values_list("bloc__number", flat=True)) == [1, 2, 3]


def test_every_member_signs_the_pv_experts_included(
    deliberation, scored, jury, jury_member, second_jury_member
):
    expert = make_user("experte", roles.JURY_MEMBER)
    seat = JuryMember.objects.create(jury=jury, user=expert, role=JuryMember.Role.EXPERT)
    decide_as_proposed(deliberation, scored, second_jury_member)
    with pytest.raises(ValidationError, match="Déclarez votre indépendance"):
        sign_minutes(deliberation, user=expert)
    declare_independence(seat, user=expert)
    sign_minutes(deliberation, user=second_jury_member)
    with pytest.raises(ValidationError, match="il manque la signature de Experte"):
        sign_minutes(deliberation, user=jury_member)
    sign_minutes(deliberation, user=expert)
    assert sign_minutes(deliberation, user=jury_member).is_signed
