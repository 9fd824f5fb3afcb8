"""A deliberation decides what was presented: blocs in scope, decisions by row
and in bulk, the table frozen at signature, corrections that stay lawful."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blocks.tests.factories import grown_referential
from candidates.models import Cohort, Enrolment
from candidates.services import enrol, withdraw
from candidates.tests.factories import fill_cohort, make_candidate
from core.models import AuditEvent
from evaluations.deliberations import (
    adopt_proposals,
    open_deliberation,
    record_decision,
    record_decisions,
    rectify,
)
from evaluations.models import BlocDecision
from evaluations.sessions import set_presence
from evaluations.standings import deliberation_table, shown_table
from evaluations.tests.factories import another_jury, bloc, fill, open_session, sign_all, sit_bloc

pytestmark = pytest.mark.django_db

VALIDATED = BlocDecision.Decision.VALIDATED
NOT_VALIDATED = BlocDecision.Decision.NOT_VALIDATED
POSTPONED = BlocDecision.Decision.POSTPONED


def states(table):
    return {row["candidate"]: [cell["state"] for cell in row["cells"]] for row in table["rows"]}


@pytest.fixture
def bloc1_only(cohort, candidate, trainer, jury):
    """Emma and two others (who chose bloc 4) sat bloc 1 only, and passed it."""
    fill_cohort(cohort, 2)
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    return cohort


def test_blocs_not_presented_are_never_decided(
    bloc1_only, candidate, jury, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    assert states(shown_table(deliberation)) == {
        "Petit Emma Louise": ["due", "not_presented", "not_presented", "not_taken"],
        "Nom100 Prénom100": ["due", "not_presented", "not_presented", "not_presented"],
        "Nom101 Prénom101": ["due", "not_presented", "not_presented", "not_presented"],
    }
    emma = candidate.enrolments.get()
    with pytest.raises(ValidationError, match="Le bloc 2 n'est pas présenté par ce candidat."):
        record_decision(
            deliberation,
            enrolment=emma,
            bloc=bloc(emma, 2),
            decision=NOT_VALIDATED,
            justification="Absente.",
            user=second_jury_member,
        )

    assert adopt_proposals(deliberation, user=second_jury_member) == 3
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )

    assert set(BlocDecision.objects.values_list("bloc__number", "decision")) == {(1, VALIDATED)}
    assert states(signed.signed_table)["Petit Emma Louise"] == [
        "due",
        "not_presented",
        "not_presented",
        "not_taken",
    ]


def test_a_bloc_added_by_the_office_is_decided_for_everyone_who_takes_it(
    bloc1_only, candidate, jury, referential
):
    blocs = {b.number: b for b in referential.blocs.all()}
    deliberation = open_deliberation(jury, bloc1_only, added_blocs=[blocs[2], blocs[4]], by=None)
    assert states(shown_table(deliberation)) == {
        "Petit Emma Louise": ["due", "due", "not_presented", "not_taken"],
        "Nom100 Prénom100": ["due", "due", "not_presented", "due"],
        "Nom101 Prénom101": ["due", "due", "not_presented", "due"],
    }
    event = AuditEvent.objects.get(action="evaluations.deliberation.opened")
    assert event.data == {"held_on": timezone.localdate().isoformat(), "added_blocs": [2, 4]}


def test_adopt_all_then_one_justified_exception(bloc1_only, candidate, jury, second_jury_member):
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    emma = candidate.enrolments.get()
    assert adopt_proposals(deliberation, user=second_jury_member) == 3
    assert adopt_proposals(deliberation, user=second_jury_member) == 0  # nothing left to adopt

    bloc1 = bloc(emma, 1)
    with pytest.raises(ValidationError) as refused:
        record_decisions(
            deliberation,
            enrolment=emma,
            choices={bloc1.pk: (POSTPONED, " ")},
            user=second_jury_member,
        )
    assert refused.value.messages == [
        "Bloc 1 : La décision s'écarte de la proposition issue des notes : une justification "
        "écrite est obligatoire (elle figurera au procès-verbal)."
    ]
    record_decisions(
        deliberation,
        enrolment=emma,
        choices={bloc1.pk: (POSTPONED, "Dossier à compléter.")},
        user=second_jury_member,
    )

    decisions = dict(
        BlocDecision.objects.values_list("enrolment__candidate__birth_name", "decision")
    )
    assert decisions == {"Petit": POSTPONED, "Nom100": VALIDATED, "Nom101": VALIDATED}
    events = AuditEvent.objects.filter(action="evaluations.decision.recorded")
    assert events.count() == 4  # three adopted, one changed: each decision audited
    changes = [(e.data["old"], e.data["new"]) for e in events if e.data["old"] is not None]
    assert changes == [([VALIDATED, ""], [POSTPONED, "Dossier à compléter."])]


def test_adopting_one_bloc_column_keeps_the_decisions_taken(
    bloc1_only, candidate, trainer, jury, second_jury_member
):
    sit_bloc(bloc1_only, 3, 1, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    emma = candidate.enrolments.get()
    record_decision(
        deliberation,
        enrolment=emma,
        bloc=bloc(emma, 1),
        decision=POSTPONED,
        justification="Dossier à compléter.",
        user=second_jury_member,
    )
    assert adopt_proposals(deliberation, user=second_jury_member, bloc=bloc(emma, 1)) == 2
    assert sorted(
        BlocDecision.objects.values_list(
            "enrolment__candidate__birth_name", "bloc__number", "decision"
        )
    ) == [("Nom100", 1, VALIDATED), ("Nom101", 1, VALIDATED), ("Petit", 1, POSTPONED)]


def test_a_row_is_recorded_whole_or_not_at_all(
    bloc1_only, candidate, trainer, jury, second_jury_member
):
    sit_bloc(bloc1_only, 3, 1, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    emma = candidate.enrolments.get()
    with pytest.raises(ValidationError) as refused:
        record_decisions(
            deliberation,
            enrolment=emma,
            choices={bloc(emma, 1).pk: (VALIDATED, ""), bloc(emma, 3).pk: (VALIDATED, "")},
            user=second_jury_member,
        )
    assert refused.value.messages[0].startswith("Bloc 3 : La décision s'écarte de la proposition")
    assert not BlocDecision.objects.exists()


def test_the_signed_table_stays_as_signed(
    bloc1_only,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    login,
    django_capture_on_commit_callbacks,
):
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    adopt_proposals(deliberation, user=second_jury_member)
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    as_signed = shown_table(signed)
    assert [row["candidate"] for row in as_signed["rows"]] == [
        "Nom100 Prénom100",
        "Nom101 Prénom101",
        "Petit Emma Louise",
    ]

    withdraw(candidate.enrolments.get(), reason="Abandon", by=None)
    latecomer = enrol(
        make_candidate(900), bloc1_only, access_route=Enrolment.AccessRoute.VAE, by=None
    )
    fill(
        open_session("M1.2", bloc1_only, [trainer]).assessments.get(enrolment=latecomer),
        trainer,
        3,
        submit=True,
    )

    signed.refresh_from_db()
    assert shown_table(signed) == as_signed
    page = login(admin_user).get(signed.get_absolute_url()).content.decode()
    assert "Petit Emma Louise" in page
    assert "Nom900" not in page


def test_a_new_attempt_after_a_signed_pv_is_presented_again(
    bloc1_only,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    adopt_proposals(deliberation, user=second_jury_member)
    adjourned = [candidate.enrolments.get(), Enrolment.objects.get(candidate__birth_name="Nom101")]
    for enrolment in adjourned:
        record_decision(
            deliberation,
            enrolment=enrolment,
            bloc=bloc(enrolment, 1),
            decision=POSTPONED,
            justification="À représenter.",
            user=second_jury_member,
        )
    sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
    # Both adjourned candidates are called to the re-sit; Nom101 does not come.
    resit = open_session("M1.2", bloc1_only, [trainer])
    assert sorted(a.enrolment.pk for a in resit.assessments.all()) == sorted(
        e.pk for e in adjourned
    )
    set_presence(resit.assessments.get(enrolment=adjourned[1]), present=False, by=None)

    later = open_deliberation(jury, bloc1_only, by=None)
    first_cells = {
        row.enrolment.candidate.birth_name: row.cells[0].state for row in deliberation_table(later)
    }
    # Emma's new attempt is presented; Nom101's decided attempt is not, again.
    assert first_cells == {"Petit": "due", "Nom101": "not_presented", "Nom100": "capitalised"}


def test_rectifying_waits_for_the_open_deliberation_and_the_reverse(
    bloc1_only, jury, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    deliberation = open_deliberation(jury, bloc1_only, by=None)
    adopt_proposals(deliberation, user=second_jury_member)
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    later = open_deliberation(jury, bloc1_only, by=None)
    with pytest.raises(ValidationError, match="une seule délibération ouverte à la fois"):
        rectify(signed, reason="Note mal reportée", user=jury_member)
    assert not signed.rectifications.exists()

    later.delete()  # never signed, nothing decided: as if it had not been opened
    rectify(signed, reason="Note mal reportée", user=jury_member)
    with pytest.raises(
        ValidationError, match="Une délibération est déjà en cours pour cette promotion"
    ):
        open_deliberation(jury, bloc1_only, by=None)


def test_the_jury_meets_on_a_real_day(bloc1_only, jury):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="ne peut pas être dans le futur"):
        open_deliberation(jury, bloc1_only, held_on=tomorrow, by=None)
    held = open_deliberation(jury, bloc1_only, held_on=datetime.date(2026, 11, 2), by=None)
    assert held.held_on == datetime.date(2026, 11, 2)


def test_the_page_asks_as_many_queries_for_six_blocs_and_ten_candidates(
    login, bloc1_only, candidate, trainer, jury, jury_member, second_jury_member
):
    """One candidate sat one bloc of a four-bloc version, against ten candidates
    who sat three blocs of a six-bloc version with more of everything."""

    def queries(deliberation):
        client = login(second_jury_member)
        client.get(deliberation.get_absolute_url())  # blocks.frozen reads first
        with CaptureQueriesContext(connection) as captured:
            assert client.get(deliberation.get_absolute_url()).status_code == 200
        return len(captured)

    small = open_deliberation(jury, bloc1_only, by=None)
    small_count = queries(small)
    small.delete()

    grown = grown_referential("grande")
    cohort = Cohort.objects.create(
        name="Grande promotion",
        certification_version=grown,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    cohort.trainers.add(trainer)
    fill_cohort(cohort, 10, start=500)
    big_jury = another_jury(grown, jury_member, second_jury_member, name="Grand jury")
    for number in (1, 3, 5):
        sit_bloc(cohort, number, 2, trainer=trainer, jury=big_jury)
    big = open_deliberation(big_jury, cohort, by=None)
    adopt_proposals(big, user=second_jury_member, bloc=grown.blocs.get(number=3))
    assert len(shown_table(big)["blocs"]) == 6
    assert queries(big) == small_count
