"""The answers of evaluations.policies, one question at a time. The pages and
services that ask them are tested elsewhere; here each rule's edge."""

from types import SimpleNamespace

import pytest

from evaluations import policies
from evaluations.models import JuryMember

pytestmark = pytest.mark.django_db


def seat(pk=1, *, role=JuryMember.Role.MEMBER, declared=True, user_id=10):
    member = JuryMember(pk=pk, role=role, user_id=user_id)
    member.independence_declared_at = "2027-06-01" if declared else None
    return member


OPEN = SimpleNamespace(is_signed=False)
SIGNED = SimpleNamespace(is_signed=True)


def test_only_a_declared_seat_scores_or_deliberates():
    assert policies.seat_refusal(None) == "Vous ne siégez pas dans ce jury."
    assert "voix délibérative" in policies.seat_refusal(seat(role=JuryMember.Role.EXPERT))
    assert policies.seat_refusal(seat(role=JuryMember.Role.EXPERT), voting=False) is None
    assert "Déclarez votre indépendance" in policies.seat_refusal(seat(declared=False))
    assert policies.seat_refusal(seat()) is None


def test_decisions_close_at_the_first_signature():
    assert policies.decision_refusal(OPEN, seat(), signed_by=set()) is None
    assert "La signature du procès-verbal a commencé" in policies.decision_refusal(
        OPEN, seat(), signed_by={2}
    )
    assert policies.decision_refusal(SIGNED, seat(), signed_by=set()) == policies.SIGNED


def test_each_member_signs_once_experts_included():
    expert = seat(role=JuryMember.Role.EXPERT)
    assert policies.signature_refusal(OPEN, expert, signed_by={2}) is None
    assert policies.signature_refusal(OPEN, expert, signed_by={1}) == (
        "Vous avez déjà signé ce procès-verbal."
    )
    assert policies.signature_refusal(OPEN, None, signed_by=set()) == (
        "Vous ne siégez pas dans ce jury."
    )


def test_rectification_by_the_president_or_the_office_of_the_pv_in_force(
    admin_user, jury_member, second_jury_member
):
    president = seat(role=JuryMember.Role.PRESIDENT, user_id=jury_member.pk)
    lawful = {
        "president": president,
        "in_force": True,
        "correction_open": False,
        "cohort_busy": False,
    }
    assert policies.rectification_refusal(jury_member, SIGNED, **lawful) is None
    assert policies.rectification_refusal(admin_user, SIGNED, **lawful) is None
    assert "président(e) du jury ou le bureau" in policies.rectification_refusal(
        second_jury_member, SIGNED, **lawful
    )
    assert "Seul un procès-verbal signé" in policies.rectification_refusal(
        jury_member, OPEN, **lawful
    )
    assert "rectifiez le plus récent" in policies.rectification_refusal(
        jury_member, SIGNED, **{**lawful, "in_force": False}
    )
    assert "déjà en cours" in policies.rectification_refusal(
        jury_member, SIGNED, **{**lawful, "correction_open": True}
    )
    assert "une seule délibération ouverte à la fois" in policies.rectification_refusal(
        jury_member, SIGNED, **{**lawful, "cohort_busy": True}
    )


def test_the_session_is_reviewed_by_the_office_and_its_lead(admin_user, trainer, other_trainer):
    session = SimpleNamespace(lead_id=trainer.pk)
    assert policies.reviews_session(admin_user, session)
    assert policies.reviews_session(trainer, session)
    assert not policies.reviews_session(other_trainer, session)


def test_the_lead_reviews_only_after_handing_in_their_own_grid(admin_user, trainer, other_trainer):
    session = SimpleNamespace(lead_id=trainer.pk)
    draft, handed_in = SimpleNamespace(is_submitted=False), SimpleNamespace(is_submitted=True)
    assert policies.review_refusal(admin_user, session, None) is None
    assert "Remettez d'abord" in policies.review_refusal(trainer, session, None)
    assert "Remettez d'abord" in policies.review_refusal(trainer, session, draft)
    assert policies.review_refusal(trainer, session, handed_in) is None
    assert "réservés au bureau" in policies.review_refusal(other_trainer, session, handed_in)


def test_presence_by_the_office_or_an_assessor(admin_user, trainer):
    assert policies.sets_presence(admin_user, is_assessor=False)
    assert policies.sets_presence(trainer, is_assessor=True)
    assert not policies.sets_presence(trainer, is_assessor=False)


@pytest.mark.parametrize(
    ("assessors", "submitted", "shown"),
    [(1, 1, False), (2, 1, False), (2, 2, True), (3, 2, False), (3, 3, True)],
)
def test_other_grids_only_once_every_assessor_submitted(assessors, submitted, shown):
    assert policies.shows_other_grids(assessor_count=assessors, submitted_count=submitted) is shown
