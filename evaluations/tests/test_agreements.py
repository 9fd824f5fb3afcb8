"""Disagreements settled, not averaged away: the value the assessors agree on
for a criterion where their grids disagree replaces their mean in the
proposal; the synthesis shows both."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from blocks.models import Criterion
from candidates.tests.factories import make_user
from core import roles
from core.audit import Action
from core.models import AuditEvent
from core.tests.browser import sign_in
from evaluations.agreements import FROZEN, LEAD_ONLY, record_agreed_score
from evaluations.deliberations import open_deliberation, sign_minutes
from evaluations.models import AgreedScore, ExamSession
from evaluations.sessions import CriterionEntry, replace_assessor, save_grid
from evaluations.standings import deliberation_table, submitted_values
from evaluations.tests.factories import (
    criteria_of,
    decide_as_proposed,
    fill,
    open_session,
    sign_all,
)

pytestmark = pytest.mark.django_db

REASON = "Après concertation : le budget présenté tient, l'écart venait d'une page manquante."


def grade(assessment, assessor, values, *, rest=2, submit=True):
    """The assessor's grid: `values` (criterion id -> value), `rest` elsewhere."""
    entries = {
        c.pk: CriterionEntry(values.get(c.pk, rest)) for c in criteria_of(assessment.session)
    }
    return save_grid(
        assessment,
        assessor=assessor,
        revision=0,
        entries=entries,
        overall_comment="",
        submit=submit,
    )


@pytest.fixture
def assessment(oral_session):
    return oral_session.assessments.get()


@pytest.fixture
def first(oral_session):
    """C1.1's first criterion, where the two assessors disagree (0 and 3)."""
    return criteria_of(oral_session)[0]


@pytest.fixture
def disagreement(assessment, first, jury_member, second_jury_member):
    """jury1 (the lead) gives 0 and jury2 gives 3 on `first`, 2 everywhere else:
    the mean 1.50 is below the pass mark (2)."""
    grade(assessment, jury_member, {first.pk: 0})
    grade(assessment, second_jury_member, {first.pk: 3})
    return assessment


def agree(assessment, criterion, by, value=3, reason=REASON):
    return record_agreed_score(assessment, criterion=criterion, value=value, reason=reason, by=by)


def agreement_events():
    return list(
        AuditEvent.objects.filter(action=Action.AGREED_SCORE_RECORDED).order_by("created_at", "pk")
    )


def synthesis_url(assessment):
    return reverse("evaluations:synthesis", args=[assessment.pk])


class TestRecording:
    def test_the_lead_records_the_agreed_value_with_its_audit(
        self, disagreement, first, jury_member
    ):
        agreed = agree(disagreement, first, jury_member)
        stored = AgreedScore.objects.get()
        assert stored == agreed
        assert (stored.assessment, stored.criterion, stored.value) == (
            disagreement,
            first,
            Decimal("3"),
        )
        assert (stored.reason, stored.recorded_by) == (REASON, jury_member)
        [event] = agreement_events()
        assert event.actor == jury_member
        assert event.object_id == str(disagreement.pk)
        assert event.data == {
            "criterion": first.pk,
            "competence": "C1.1",
            "criterion_label": first.label,
            "old": None,
            "new": "3",
            "mean": "1.50",
            "reason": REASON,
        }

    def test_a_change_needs_a_new_reason_and_the_audit_keeps_both(
        self, disagreement, first, jury_member
    ):
        agree(disagreement, first, jury_member)
        with pytest.raises(ValidationError, match="La note retenue était 3 : indiquez le motif"):
            agree(disagreement, first, jury_member, value=2)
        assert AgreedScore.objects.get().value == 3
        agree(disagreement, first, jury_member, value=3)  # the same again: nothing to record
        assert len(agreement_events()) == 1
        agree(disagreement, first, jury_member, value=2, reason="Relecture : acquis, sans plus.")
        stored = AgreedScore.objects.get()
        assert (stored.value, stored.reason) == (2, "Relecture : acquis, sans plus.")
        earlier, later = agreement_events()
        assert (earlier.data["old"], earlier.data["new"], earlier.data["reason"]) == (
            None,
            "3",
            REASON,
        )
        assert (later.data["old"], later.data["new"], later.data["reason"]) == (
            "3",
            "2",
            "Relecture : acquis, sans plus.",
        )


class TestRefusals:
    """Each refusal says why in French and writes nothing."""

    @staticmethod
    def refused(assessment, criterion, by, message, **kwargs):
        with pytest.raises(ValidationError) as refusal:
            agree(assessment, criterion, by, **kwargs)
        assert message in " ".join(refusal.value.messages)
        assert not AgreedScore.objects.exists()
        assert agreement_events() == []

    def test_only_the_lead(self, disagreement, first, second_jury_member, admin_user):
        self.refused(disagreement, first, second_jury_member, LEAD_ONLY)
        self.refused(disagreement, first, admin_user, LEAD_ONLY)

    def test_a_replaced_assessor_whose_grid_was_in_still_counts(
        self, cohort, candidate, trainer, other_trainer, admin_user
    ):
        """other_trainer handed in, then was replaced: their replacement does not
        mark this candidate, and the lead need not wait for them."""
        session = open_session("M2.1", cohort, [trainer, other_trainer], lead=trainer)
        assessment = session.assessments.get()
        fill(assessment, trainer, 0, submit=True)
        fill(assessment, other_trainer, 3, submit=True)
        replace_assessor(
            session,
            replaced=other_trainer,
            replacement=make_user("formateur3", roles.TRAINER),
            reason="Malade le jour de la concertation.",
            by=admin_user,
        )
        criterion = criteria_of(session)[0]
        agree(assessment, criterion, trainer, value=2)
        assert AgreedScore.objects.get().value == 2

    def test_only_once_every_assessor_has_handed_in(
        self, assessment, first, jury_member, second_jury_member
    ):
        grade(assessment, jury_member, {first.pk: 0})
        grade(assessment, second_jury_member, {first.pk: 3}, submit=False)
        self.refused(assessment, first, jury_member, "Chaque évaluateur de la session doit")

    def test_only_where_the_grids_disagree(self, disagreement, oral_session, jury_member):
        second = criteria_of(oral_session)[1]  # 2 and 2
        self.refused(disagreement, second, jury_member, "ne s'écartent pas de plus d'un niveau")

    def test_one_level_apart_is_not_a_disagreement(
        self, assessment, first, jury_member, second_jury_member
    ):
        grade(assessment, jury_member, {first.pk: 1})
        grade(assessment, second_jury_member, {first.pk: 2})
        self.refused(assessment, first, jury_member, "ne s'écartent pas de plus d'un niveau")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (5, "La valeur 5 n'est pas un niveau de l'échelle."),
            ("1.5", "La valeur 1.5 n'est pas un niveau de l'échelle."),
            ("beaucoup", "« beaucoup » n'est pas une note."),
            (None, "Indiquez la note retenue."),
        ],
    )
    def test_only_a_value_of_the_scale(self, disagreement, first, jury_member, value, message):
        self.refused(disagreement, first, jury_member, message, value=value)

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_only_with_a_reason(self, disagreement, first, jury_member, reason):
        self.refused(disagreement, first, jury_member, "Indiquez le motif", reason=reason)

    def test_only_a_criterion_of_the_modality(self, disagreement, jury_member):
        elsewhere = Criterion.objects.filter(competence__code="C2.1").first()
        self.refused(disagreement, elsewhere, jury_member, "n'appartient pas à la modalité")

    def test_not_in_a_cancelled_session(self, disagreement, oral_session, first, jury_member):
        ExamSession.objects.filter(pk=oral_session.pk).update(
            status=ExamSession.Status.CANCELLED, cancellation_reason="Salle inondée."
        )
        self.refused(disagreement, first, jury_member, "La session est annulée")

    def test_not_once_the_signing_of_a_deliberation_began(
        self, disagreement, first, jury, cohort, candidate, jury_member, second_jury_member
    ):
        deliberation = open_deliberation(jury, cohort, by=None)
        decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
        sign_minutes(deliberation, user=second_jury_member)
        self.refused(disagreement, first, jury_member, FROZEN)

    def test_not_once_a_deliberation_is_signed(
        self,
        disagreement,
        first,
        jury,
        cohort,
        candidate,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        deliberation = open_deliberation(jury, cohort, by=None)
        decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
        sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
        self.refused(
            disagreement, first, jury_member, "Une correction passe par un PV rectificatif"
        )

    def test_a_recorded_value_freezes_with_the_deliberation(
        self, disagreement, first, jury, cohort, candidate, jury_member, second_jury_member
    ):
        agree(disagreement, first, jury_member)
        deliberation = open_deliberation(jury, cohort, by=None)
        decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
        sign_minutes(deliberation, user=second_jury_member)
        with pytest.raises(ValidationError, match="la note retenue ne change plus"):
            agree(disagreement, first, jury_member, value=2, reason="Finalement, acquis.")
        assert AgreedScore.objects.get().value == 3
        assert len(agreement_events()) == 1


class TestProposal:
    def test_the_agreed_value_replaces_the_mean_in_the_proposal(
        self,
        disagreement,
        first,
        jury,
        cohort,
        candidate,
        trainer,
        jury_member,
    ):
        """0 and 3 average to 1.50, below the pass mark: bloc 1 is proposed not
        validated; agreed at 3, it is proposed validated."""
        written = open_session("M1.2", cohort, [trainer], lead=trainer)
        fill(written.assessments.get(), trainer, 2, submit=True)
        deliberation = open_deliberation(jury, cohort, by=None)
        enrolment = candidate.enrolments.get()

        def bloc_one():
            [row] = deliberation_table(deliberation, only=enrolment)
            cell = next(cell for cell in row.cells if cell.bloc.number == 1)
            criteria = {
                c.criterion_id: c for comp in cell.result.competences for c in comp.criteria
            }
            return cell.result, criteria[first.pk]

        proposal, criterion = bloc_one()
        assert (criterion.mean, criterion.met) == (Decimal("1.50"), False)
        assert not proposal.proposed_validated
        agree(disagreement, first, jury_member)
        proposal, criterion = bloc_one()
        assert (criterion.values, criterion.mean, criterion.met) == ((3,), Decimal("3.00"), True)
        assert proposal.proposed_validated

    def test_the_candidate_reads_the_agreed_value_once_published(
        self,
        disagreement,
        first,
        jury,
        cohort,
        candidate,
        trainer,
        jury_member,
        second_jury_member,
        admin_user,
        django_capture_on_commit_callbacks,
    ):
        """The candidate's published results follow the jury's proposal: the
        criterion agreed at 3 is met, not averaged to 1.50."""
        from evaluations.deliberations import publish_results
        from evaluations.tests.factories import decide_as_proposed, sign_all
        from portal.journeys import candidate_progress

        written = open_session("M1.2", cohort, [trainer], lead=trainer)
        fill(written.assessments.get(), trainer, 2, submit=True)
        agree(disagreement, first, jury_member)
        deliberation = open_deliberation(jury, cohort, by=None)
        enrolment = candidate.enrolments.get()
        decide_as_proposed(deliberation, enrolment, second_jury_member)
        sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            publish_results(deliberation, by=admin_user)
        bloc_one = next(entry for entry in candidate_progress(enrolment) if entry.bloc.number == 1)
        assert bloc_one.state == "validated"
        shown = {
            criterion.pk: result
            for _, _, rows in bloc_one.published
            for criterion, result, _ in rows
        }
        assert (shown[first.pk].mean, shown[first.pk].met) == (Decimal("3.00"), True)

    def test_only_the_latest_attempt_counts_and_in_constant_queries(
        self,
        disagreement,
        first,
        jury,
        cohort,
        candidate,
        jury_member,
        second_jury_member,
        django_assert_num_queries,
    ):
        agree(disagreement, first, jury_member, value=0, reason="Non acquis, d'un commun accord.")
        enrolments, enrolment = cohort.enrolments.all(), candidate.enrolments.get()
        with django_assert_num_queries(2):
            values = submitted_values(enrolments)[enrolment.pk]
        assert values[first.pk] == [0]
        # A re-sit: a new attempt, its own grids; the earlier agreement stays with
        # the earlier attempt.
        resit = open_session(
            "M1.1", cohort, [jury_member, second_jury_member], lead=jury_member, jury=jury
        ).assessments.get()
        assert resit.attempt == 2
        fill(resit, jury_member, 2, submit=True)
        fill(resit, second_jury_member, 3, submit=True)
        values = submitted_values(enrolments)[enrolment.pk]
        assert sorted(values[first.pk]) == [2, 3]


class TestSynthesisPage:
    def test_anonymous_is_sent_to_login(self, client, assessment):
        url = synthesis_url(assessment)
        for response in (client.get(url), client.post(url, {"criterion": 1})):
            assert response.status_code == 302
            assert response.url == f"/connexion/?next={url}"

    @pytest.mark.parametrize("person", ["outsider", "candidate_user"])
    def test_wrong_role_gets_403(self, request, login, disagreement, first, person):
        client = login(request.getfixturevalue(person))
        url = synthesis_url(disagreement)
        assert client.get(url).status_code == 403
        post = {"criterion": first.pk, "value": "3", "reason": REASON}
        assert client.post(url, post).status_code == 403
        assert not AgreedScore.objects.exists()

    def test_a_trainer_outside_the_session_gets_404(self, login, disagreement, trainer):
        assert login(trainer).get(synthesis_url(disagreement)).status_code == 404

    def test_an_assessor_who_does_not_lead_gets_403(
        self, login, disagreement, first, second_jury_member
    ):
        client = login(second_jury_member)
        assert client.get(synthesis_url(disagreement)).status_code == 403
        post = {"criterion": first.pk, "value": "3", "reason": REASON}
        assert client.post(synthesis_url(disagreement), post).status_code == 403
        assert not AgreedScore.objects.exists()

    def test_the_lead_before_their_own_grid_gets_403(
        self, login, assessment, first, jury_member, second_jury_member
    ):
        grade(assessment, second_jury_member, {first.pk: 3})
        grade(assessment, jury_member, {first.pk: 0}, submit=False)
        client = login(jury_member)
        assert client.get(synthesis_url(assessment)).status_code == 403
        post = {"criterion": first.pk, "value": "3", "reason": REASON}
        assert client.post(synthesis_url(assessment), post).status_code == 403
        assert not AgreedScore.objects.exists()

    def test_the_lead_records_the_agreed_value_on_the_page(
        self, login, disagreement, first, jury_member
    ):
        client = login(jury_member)
        page = client.get(synthesis_url(disagreement))
        assert page.status_code == 200
        rows = {row["criterion"].pk: row for row in page.context["rows"]}
        assert rows[first.pk]["form"] is not None
        assert [pk for pk, row in rows.items() if row["form"] is not None] == [first.pk]
        assert "Retenir cette note" in page.content.decode()
        post = {"criterion": first.pk, "value": "3", "reason": REASON}
        response = client.post(synthesis_url(disagreement), post)
        assert response.status_code == 302
        assert response.url == synthesis_url(disagreement)
        stored = AgreedScore.objects.get()
        assert (stored.criterion, stored.value, stored.recorded_by) == (first, 3, jury_member)
        shown = client.get(synthesis_url(disagreement)).content.decode()
        assert "Note retenue enregistrée" in shown

    def test_the_synthesis_shows_the_mean_and_the_agreed_value(
        self, login, disagreement, first, jury_member, admin_user
    ):
        agree(disagreement, first, jury_member)
        for user, with_form in ((admin_user, False), (jury_member, True)):
            page = login(user).get(synthesis_url(disagreement))
            assert page.status_code == 200
            row = next(r for r in page.context["rows"] if r["criterion"] == first)
            assert (row["mean"], row["agreed"].value, row["disagree"]) == (
                Decimal("1.50"),
                3,
                True,
            )
            assert (row["form"] is not None) is with_form
            text = page.content.decode()
            assert (
                "Note retenue après concertation : 3 · Maîtrisé</strong> (au lieu de la "
                "moyenne 1,50), enregistrée par Jury1"
            ) in text
            assert REASON.replace("'", "&#x27;") in text
            assert text.count('<span class="badge text-bg-success">retenue</span>') == 1
            assert text.count("moyenne</small>") == len(criteria_of(disagreement.session)) - 1
            assert ("Changer la note retenue" in text) is with_form

    def test_the_office_reads_but_does_not_record(self, login, disagreement, first, admin_user):
        client = login(admin_user)
        page = client.get(synthesis_url(disagreement))
        assert all(row["form"] is None for row in page.context["rows"])
        post = {"criterion": first.pk, "value": "3", "reason": REASON}
        refused = client.post(synthesis_url(disagreement), post)
        assert refused.status_code == 400
        assert "Seul(e) le/la responsable de la session" in refused.content.decode()
        assert not AgreedScore.objects.exists()

    def test_the_lead_is_told_why_there_is_no_form(
        self, login, disagreement, jury, cohort, candidate, jury_member, second_jury_member
    ):
        assert login(jury_member).get(synthesis_url(disagreement)).context["lead_note"] is None
        deliberation = open_deliberation(jury, cohort, by=None)
        decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
        sign_minutes(deliberation, user=second_jury_member)
        page = login(jury_member).get(synthesis_url(disagreement))
        assert page.context["lead_note"] == FROZEN
        assert all(row["form"] is None for row in page.context["rows"])
        assert "Une correction passe par un PV rectificatif." in page.content.decode()

    @pytest.mark.parametrize(
        ("criterion", "value", "reason", "message"),
        [
            ("first", "3", "", "Indiquez le motif de la note retenue."),
            ("first", "3", "   ", "Indiquez le motif de la note retenue."),
            ("first", "9", REASON, "Sélectionnez un choix valide."),
            ("first", "", REASON, "Indiquez la note retenue."),
            ("999999", "3", REASON, "n&#x27;appartient pas à la modalité évaluée"),
            ("second", "3", REASON, "ne s&#x27;écartent pas de plus d&#x27;un niveau"),
        ],
    )
    def test_a_bad_post_says_why_and_changes_nothing(
        self, login, disagreement, oral_session, jury_member, criterion, value, reason, message
    ):
        first, second = (c.pk for c in criteria_of(oral_session)[:2])
        data = {
            "criterion": {"first": first, "second": second}.get(criterion, criterion),
            "value": value,
            "reason": reason,
        }
        response = login(jury_member).post(synthesis_url(disagreement), data)
        assert response.status_code == 400
        text = response.content.decode()
        assert message in text
        assert "Rien n'a été enregistré." in text
        assert not AgreedScore.objects.exists()
        assert agreement_events() == []

    def test_a_refused_change_keeps_the_value_and_the_typed_input(
        self, login, disagreement, first, jury_member
    ):
        agree(disagreement, first, jury_member)
        client = login(jury_member)
        post = {"criterion": first.pk, "value": "2", "reason": REASON}
        response = client.post(synthesis_url(disagreement), post)
        assert response.status_code == 400
        assert "La note retenue était 3 : indiquez le motif de ce changement." in (
            response.content.decode()
        )
        row = next(r for r in response.context["rows"] if r["criterion"] == first)
        assert row["form"].is_bound and row["form"]["value"].value() == "2"
        assert AgreedScore.objects.get().value == 3

    def test_constant_queries_as_criteria_grow(
        self, login, cohort, candidate, trainer, other_trainer, admin_user
    ):
        """M2.1 has 3 criteria, M2.4 8: every one disagrees and is agreed on."""
        counts = []
        for code in ("M2.1", "M2.4"):
            session = open_session(code, cohort, [trainer, other_trainer], lead=trainer)
            assessment = session.assessments.get()
            fill(assessment, trainer, 0, submit=True)
            fill(assessment, other_trainer, 3, submit=True)
            for criterion in criteria_of(session):
                agree(assessment, criterion, trainer, value=2)
            for user in (trainer, admin_user):
                client = login(user)
                with CaptureQueriesContext(connection) as queries:
                    page = client.get(synthesis_url(assessment))
                assert page.status_code == 200
                assert sum(1 for row in page.context["rows"] if row["agreed"]) == len(
                    criteria_of(session)
                )
                counts.append((user.username, len(queries)))
        assert counts[:2] == counts[2:]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_lead_settles_a_disagreement_in_the_browser(
    page, oral_session, jury_member, second_jury_member, tmp_path
):
    assessment = oral_session.assessments.get()
    first, second = criteria_of(oral_session)[:2]
    grade(assessment, jury_member, {first.pk: 0, second.pk: 1})
    grade(assessment, second_jury_member, {first.pk: 3, second.pk: 3})
    sign_in(page, "jury1")
    page.goto(synthesis_url(assessment))
    form = page.get_by_role("form", name=f"Note retenue pour le critère {first.label}")
    form.get_by_label("Note retenue").select_option("3")
    form.get_by_label("Motif").fill(REASON)
    form.get_by_role("button", name="Retenir cette note").click()
    expect(page.get_by_role("alert")).to_contain_text("Note retenue enregistrée")
    expect(page.get_by_text("Note retenue après concertation : 3 · Maîtrisé")).to_be_visible()
    # The other disagreement still waits for its agreed value.
    expect(page.get_by_role("button", name="Retenir cette note")).to_have_count(1)
    page.screenshot(path=tmp_path / "synthese-note-retenue.png", full_page=True)
