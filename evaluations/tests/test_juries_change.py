"""Juries change: the jury edited, members added, replaced or removed until its
first PV is signed (with a reason once it deliberates), and recusals: a
member stands aside for a candidate, neither marks nor decides on them, and
the composition rules hold for that candidate without them."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Cohort, Enrolment
from candidates.tests.factories import fill_cohort, make_candidate, make_user
from core import roles
from core.models import Action, AuditEvent
from evaluations.deliberations import (
    adopt_proposals,
    open_deliberation,
    record_decision,
    sign_minutes,
)
from evaluations.juries import (
    add_member,
    composition_problems,
    composition_problems_for,
    declare_independence,
    edit_jury,
    record_recusal,
    remove_member,
    replace_member,
)
from evaluations.models import BlocDecision, ExamSession, Jury, JuryMember, Recusal
from evaluations.tests.factories import bloc, decide_as_proposed, fill, sign_all, sit_bloc

REASON = "Indisponible le jour du jury"


def last(action):
    return AuditEvent.objects.filter(action=action).first()


def seat(jury, user):
    return jury.members.get(user=user)


def close_sessions(jury):
    """The oral exams are over: the jury's members no longer assess."""
    ExamSession.objects.filter(jury=jury).update(status=ExamSession.Status.CLOSED)


@pytest.fixture
def third_jury_member(db):
    return make_user("jury3", roles.JURY_MEMBER)


@pytest.fixture
def fourth_jury_member(db):
    return make_user("jury4", roles.JURY_MEMBER)


@pytest.fixture
def emma(candidate):
    return candidate.enrolments.get()


@pytest.fixture
def two_scored(cohort, candidate, trainer, jury):
    """Emma and Nom300 Prénom300, both scored on blocs 1 to 3."""
    fill_cohort(cohort, 1, start=300)
    for number, value in ((1, 2), (2, 1), (3, 3)):
        sit_bloc(cohort, number, value, trainer=trainer, jury=jury)
    return list(cohort.enrolments.order_by("pk"))


def seated(jury, user, *, external=True, role="member", reason=REASON):
    """`user` added (with a reason, needed once the jury deliberates), independent."""
    member = add_member(jury, user=user, role=role, external=external, reason=reason, by=None)
    declare_independence(member, user=user)
    return member


def signed_deliberation(deliberation, scored, jury_member, second_jury_member, capture):
    decide_as_proposed(deliberation, scored, second_jury_member)
    return sign_all(deliberation, jury_member, second_jury_member, capture)


# --- Editing the jury ------------------------------------------------------------


class TestEditJury:
    def test_name_date_and_place_change_with_a_readable_audit(self, jury, admin_user):
        edit_jury(
            jury,
            name="Jury de printemps",
            certification_version=jury.certification_version,
            date=datetime.date(2027, 6, 21),
            place="Lyon",
            by=admin_user,
        )
        jury.refresh_from_db()
        assert (jury.name, jury.date, jury.place) == (
            "Jury de printemps",
            datetime.date(2027, 6, 21),
            "Lyon",
        )
        event = last(Action.JURY_CHANGED)
        assert event.actor == admin_user
        assert event.data == {
            "changes": [
                {"field": "nom", "old": "Jury de certification 2027", "new": "Jury de printemps"},
                {"field": "date", "old": "20/06/2027", "new": "21/06/2027"},
                {"field": "lieu", "old": "CEFPF, Paris", "new": "Lyon"},
            ]
        }

    def test_nothing_changed_records_nothing(self, jury):
        edit_jury(
            jury,
            name=jury.name,
            certification_version=jury.certification_version,
            date=jury.date,
            place=jury.place,
            by=None,
        )
        assert last(Action.JURY_CHANGED) is None

    def test_the_name_stays_unique(self, jury, referential):
        other = Jury.objects.create(
            name="Jury du soir", certification_version=referential, date=jury.date, place="Lyon"
        )
        with pytest.raises(ValidationError, match="Un jury s'appelle déjà « Jury du soir »"):
            edit_jury(
                jury,
                name=other.name,
                certification_version=referential,
                date=jury.date,
                place=jury.place,
                by=None,
            )
        jury.refresh_from_db()
        assert jury.name == "Jury de certification 2027"

    def test_the_version_changes_only_while_nothing_uses_it(self, jury, draft_version):
        edit_jury(
            jury,
            name=jury.name,
            certification_version=draft_version,
            date=jury.date,
            place=jury.place,
            by=None,
        )
        jury.refresh_from_db()
        assert jury.certification_version == draft_version
        change = last(Action.JURY_CHANGED).data["changes"][0]
        assert change["field"] == "version de la certification"
        assert change["new"] == str(draft_version)

    def test_the_version_is_kept_once_a_session_uses_the_jury(
        self, jury, oral_session, draft_version
    ):
        with pytest.raises(ValidationError, match="sa version de la certification ne change"):
            edit_jury(
                jury,
                name=jury.name,
                certification_version=draft_version,
                date=jury.date,
                place=jury.place,
                by=None,
            )
        jury.refresh_from_db()
        assert jury.certification_version != draft_version

    def test_a_jury_that_signed_a_pv_no_longer_changes(
        self,
        jury,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        signed_deliberation(
            deliberation,
            scored,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
        )
        with pytest.raises(ValidationError, match="ne se modifie plus"):
            edit_jury(
                jury,
                name="Autre nom",
                certification_version=jury.certification_version,
                date=jury.date,
                place=jury.place,
                by=None,
            )


# --- Adding, replacing, removing members ----------------------------------------


class TestAddMember:
    def test_the_audit_names_the_person_and_the_role(self, jury, third_jury_member, admin_user):
        add_member(jury, user=third_jury_member, role="member", external=True, by=admin_user)
        assert last(Action.JURY_MEMBER_ADDED).data == {
            "member": "Jury3",
            "role": "Membre",
            "external": True,
        }

    def test_once_the_jury_deliberates_a_reason_is_required(
        self, jury, deliberation, third_jury_member
    ):
        with pytest.raises(ValidationError, match="indiquez le motif"):
            add_member(jury, user=third_jury_member, role="member", external=True, by=None)
        assert not jury.members.filter(user=third_jury_member).exists()
        add_member(
            jury, user=third_jury_member, role="member", external=True, reason=REASON, by=None
        )
        assert last(Action.JURY_MEMBER_ADDED).data["reason"] == REASON

    def test_refused_once_the_first_pv_is_signed(
        self,
        jury,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        third_jury_member,
        django_capture_on_commit_callbacks,
    ):
        signed_deliberation(
            deliberation,
            scored,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
        )
        with pytest.raises(ValidationError, match="composition est arrêtée"):
            add_member(
                jury, user=third_jury_member, role="member", external=True, reason=REASON, by=None
            )

    def test_the_trainer_of_the_deliberated_promotion_is_refused(self, jury, deliberation, cohort):
        teacher = make_user("formatrice-jury", roles.JURY_MEMBER)
        cohort.trainers.add(teacher)
        with pytest.raises(ValidationError, match="Conflit d'intérêts"):
            add_member(jury, user=teacher, role="member", external=True, reason=REASON, by=None)


class TestReplaceMember:
    def test_the_newcomer_takes_the_presidency_and_declares_before_deciding(
        self, jury, deliberation, scored, jury_member, third_jury_member, admin_user
    ):
        close_sessions(jury)
        president = seat(jury, jury_member)
        newcomer = replace_member(
            president, user=third_jury_member, external=True, reason=REASON, by=admin_user
        )
        assert newcomer.role == JuryMember.Role.PRESIDENT
        assert not newcomer.has_declared
        assert not jury.members.filter(user=jury_member).exists()
        assert last(Action.JURY_MEMBER_REPLACED).data == {
            "replaced": "Jury1",
            "replacement": "Jury3",
            "role": "Président(e)",
            "external": True,
            "reason": REASON,
        }
        with pytest.raises(ValidationError, match="Déclarez votre indépendance"):
            decide_as_proposed(deliberation, scored, third_jury_member)
        declare_independence(newcomer, user=third_jury_member)
        decide_as_proposed(deliberation, scored, third_jury_member)
        assert deliberation.decisions.count() == 3

    def test_after_a_deliberation_opened_a_reason_is_required(
        self, jury, deliberation, third_jury_member, fourth_jury_member
    ):
        third = seated(jury, third_jury_member)
        with pytest.raises(ValidationError, match="indiquez le motif"):
            replace_member(third, user=fourth_jury_member, external=True, reason="  ", by=None)
        assert jury.members.filter(user=third_jury_member).exists()
        assert not jury.members.filter(user=fourth_jury_member).exists()

    def test_before_any_deliberation_no_reason_is_needed(
        self, jury, second_jury_member, third_jury_member
    ):
        replace_member(
            seat(jury, second_jury_member), user=third_jury_member, external=True, by=None
        )
        assert last(Action.JURY_MEMBER_REPLACED).data["reason"] == ""
        assert composition_problems(list(jury.members.all())) == []

    def test_refused_once_the_first_pv_is_signed(
        self,
        jury,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        third_jury_member,
        django_capture_on_commit_callbacks,
    ):
        signed_deliberation(
            deliberation,
            scored,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
        )
        with pytest.raises(ValidationError, match="composition est arrêtée"):
            replace_member(
                seat(jury, second_jury_member),
                user=third_jury_member,
                external=True,
                reason=REASON,
                by=None,
            )
        assert jury.members.filter(user=second_jury_member).exists()

    def test_an_assessor_of_an_open_session_keeps_their_seat(
        self, jury, oral_session, second_jury_member, third_jury_member
    ):
        with pytest.raises(ValidationError, match="évalue encore"):
            replace_member(
                seat(jury, second_jury_member), user=third_jury_member, external=True, by=None
            )
        assert jury.members.filter(user=second_jury_member).exists()

    def test_someone_already_seated_cannot_take_another_seat(
        self, jury, jury_member, second_jury_member
    ):
        with pytest.raises(ValidationError, match="siège déjà"):
            replace_member(seat(jury, second_jury_member), user=jury_member, external=True, by=None)

    def test_the_recusals_leave_with_the_seat(
        self, jury, emma, second_jury_member, third_jury_member
    ):
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=emma,
            reason="Sa cousine",
            by=second_jury_member,
        )
        replace_member(
            seat(jury, second_jury_member), user=third_jury_member, external=True, by=None
        )
        assert not Recusal.objects.exists()
        assert last(Action.JURY_MEMBER_REPLACED).data["recusals_ended"] == ["Petit Emma Louise"]


class TestRemoveMember:
    def test_a_member_leaves_and_the_composition_is_checked_again(
        self, login, admin_user, jury, second_jury_member
    ):
        remove_member(seat(jury, second_jury_member), by=admin_user)
        assert last(Action.JURY_MEMBER_REMOVED).data == {
            "member": "Jury2",
            "role": "Membre",
            "reason": "",
        }
        page = login(admin_user).get(jury.get_absolute_url()).content.decode()
        assert "Composition incomplète" in page
        assert "au moins deux membres votants" in page

    def test_the_president_is_replaced_not_removed(self, jury, jury_member):
        with pytest.raises(ValidationError, match="remplacez-le/la"):
            remove_member(seat(jury, jury_member), by=None)
        assert jury.members.filter(user=jury_member).exists()

    def test_after_a_deliberation_opened_a_reason_is_required(
        self, jury, deliberation, third_jury_member
    ):
        third = seated(jury, third_jury_member)
        with pytest.raises(ValidationError, match="indiquez le motif"):
            remove_member(third, by=None)
        remove_member(third, reason=REASON, by=None)
        assert last(Action.JURY_MEMBER_REMOVED).data["reason"] == REASON

    def test_a_member_who_signed_the_open_pv_stays(
        self, jury, deliberation, scored, second_jury_member, third_jury_member
    ):
        third = seated(jury, third_jury_member)
        decide_as_proposed(deliberation, scored, second_jury_member)
        sign_minutes(deliberation, user=third_jury_member)
        with pytest.raises(ValidationError, match="a signé le procès-verbal"):
            remove_member(third, reason=REASON, by=None)
        with pytest.raises(ValidationError, match="a signé le procès-verbal"):
            replace_member(
                third,
                user=make_user("jury5", roles.JURY_MEMBER),
                external=True,
                reason=REASON,
                by=None,
            )
        assert jury.members.filter(user=third_jury_member).exists()

    def test_an_assessor_of_an_open_session_stays(self, jury, oral_session, second_jury_member):
        with pytest.raises(ValidationError, match="évalue encore"):
            remove_member(seat(jury, second_jury_member), by=None)

    def test_refused_once_the_first_pv_is_signed(
        self,
        jury,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        signed_deliberation(
            deliberation,
            scored,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
        )
        with pytest.raises(ValidationError, match="composition est arrêtée"):
            remove_member(seat(jury, second_jury_member), reason=REASON, by=None)


# --- Recusals -------------------------------------------------------------------


class TestRecordRecusal:
    def test_the_office_records_it_with_a_readable_audit(
        self, jury, emma, second_jury_member, admin_user
    ):
        recusal = record_recusal(
            seat(jury, second_jury_member), enrolment=emma, reason="Sa cousine", by=admin_user
        )
        assert (recusal.reason, recusal.recorded_by) == ("Sa cousine", admin_user)
        assert last(Action.RECUSAL_RECORDED).data == {
            "member": "Jury2",
            "candidate": "Petit Emma Louise",
            "reason": "Sa cousine",
        }

    def test_a_member_records_their_own_not_anothers(
        self, jury, emma, jury_member, second_jury_member
    ):
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=emma,
            reason="Sa cousine",
            by=second_jury_member,
        )
        with pytest.raises(ValidationError, match="Seuls le bureau et le membre concerné"):
            record_recusal(
                seat(jury, jury_member), enrolment=emma, reason="Voisin", by=second_jury_member
            )
        assert Recusal.objects.count() == 1

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_reason_is_required(self, jury, emma, second_jury_member, admin_user, reason):
        with pytest.raises(ValidationError, match="Indiquez le motif du déport"):
            record_recusal(
                seat(jury, second_jury_member), enrolment=emma, reason=reason, by=admin_user
            )
        assert not Recusal.objects.exists()

    def test_once_per_member_and_candidate(self, jury, emma, second_jury_member, admin_user):
        member = seat(jury, second_jury_member)
        record_recusal(member, enrolment=emma, reason="Sa cousine", by=admin_user)
        with pytest.raises(ValidationError, match="déjà déporté"):
            record_recusal(member, enrolment=emma, reason="Encore", by=admin_user)

    def test_only_for_a_candidate_of_the_jurys_certification(
        self, jury, draft_version, second_jury_member, admin_user
    ):
        elsewhere = Cohort.objects.create(
            name="Autre version",
            certification_version=draft_version,
            start_date=datetime.date(2026, 9, 1),
            end_date=datetime.date(2027, 6, 30),
        )
        enrolment = Enrolment.objects.create(
            candidate=make_candidate(700), cohort=elsewhere, access_route="vae"
        )
        with pytest.raises(ValidationError, match="n'est pas inscrit dans une promotion"):
            record_recusal(
                seat(jury, second_jury_member), enrolment=enrolment, reason="x", by=admin_user
            )


class TestRecusalEffects:
    def test_composition_without_the_recused_members(self, jury, second_jury_member):
        members = list(jury.members.all())
        assert composition_problems(members) == []
        problems = composition_problems_for(members, {seat(jury, second_jury_member).pk})
        assert any("collégial" in problem for problem in problems)
        assert any("extérieurs" in problem for problem in problems)

    def test_a_recused_member_cannot_mark_that_candidate(
        self, jury, oral_session, emma, jury_member, second_jury_member
    ):
        assessment = oral_session.assessments.get(enrolment=emma)
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=emma,
            reason="Sa cousine",
            by=second_jury_member,
        )
        with pytest.raises(ValidationError, match="déporté\\(e\\) pour Petit Emma Louise"):
            fill(assessment, second_jury_member, 2)
        assert not assessment.grids.filter(assessor=second_jury_member).exists()
        fill(assessment, jury_member, 2)  # the other members still mark

    def test_a_recused_member_cannot_decide_for_that_candidate(
        self, jury, deliberation, scored, jury_member, second_jury_member
    ):
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=scored,
            reason="Sa cousine",
            by=second_jury_member,
        )
        with pytest.raises(ValidationError, match="déporté\\(e\\) pour Petit Emma Louise"):
            record_decision(
                deliberation,
                enrolment=scored,
                bloc=bloc(scored, 1),
                decision=BlocDecision.Decision.VALIDATED,
                user=second_jury_member,
            )
        assert not deliberation.decisions.exists()
        decide_as_proposed(deliberation, scored, jury_member)
        assert deliberation.decisions.count() == 3

    def test_adopting_the_proposals_leaves_the_recused_rows_to_the_others(
        self, login, jury, cohort, two_scored, jury_member, second_jury_member
    ):
        emma, other = two_scored
        deliberation = open_deliberation(jury, cohort, by=None)
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=emma,
            reason="Sa cousine",
            by=second_jury_member,
        )
        page = login(second_jury_member).post(
            reverse("evaluations:adopt", args=[deliberation.pk]), follow=True
        )
        text = page.content.decode()
        assert "3 décision(s) enregistrée(s)" in text
        assert "Vous vous êtes déporté(e) pour Petit Emma Louise" in text
        assert set(deliberation.decisions.values_list("enrolment", flat=True)) == {other.pk}
        assert adopt_proposals(deliberation, user=jury_member) == 3
        assert deliberation.decisions.filter(enrolment=emma, decided_by=jury_member).count() == 3

    def test_signing_is_refused_while_a_candidates_composition_is_unlawful(
        self,
        login,
        jury,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        third_jury_member,
        django_capture_on_commit_callbacks,
    ):
        """A jury of two voting members, one of whom stands aside for Emma:
        without them, Emma's jury is one person. A third, external member
        makes it lawful again."""
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=scored,
            reason="Sa cousine",
            by=second_jury_member,
        )
        decide_as_proposed(deliberation, scored, jury_member)
        with pytest.raises(ValidationError) as refused:
            sign_minutes(deliberation, user=second_jury_member)
        text = " ".join(refused.value.messages)
        assert "Petit Emma Louise (sans Jury2, déporté(e))" in text
        assert "collégial" in text
        assert not deliberation.signatures.exists()

        page = login(jury_member).get(deliberation.get_absolute_url()).content.decode()
        assert "Déport : Jury2" in page
        assert "composition irrégulière pour ce candidat" in page

        seated(jury, third_jury_member)
        sign_minutes(deliberation, user=second_jury_member)
        sign_minutes(deliberation, user=third_jury_member)
        with django_capture_on_commit_callbacks(execute=False):
            signed = sign_minutes(deliberation, user=jury_member)
        assert signed.is_signed

    def test_signing_checks_the_composition_as_it_stands(
        self, jury, deliberation, scored, second_jury_member
    ):
        decide_as_proposed(deliberation, scored, second_jury_member)
        JuryMember.objects.filter(jury=jury, user=second_jury_member).update(external=False)
        with pytest.raises(ValidationError, match="composition du jury n'est plus régulière"):
            sign_minutes(deliberation, user=second_jury_member)

    def test_the_deliberation_page_leaves_the_recused_row_without_a_form(
        self, login, jury, deliberation, scored, second_jury_member
    ):
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=scored,
            reason="Sa cousine",
            by=second_jury_member,
        )
        page = login(second_jury_member).get(deliberation.get_absolute_url())
        [row] = page.context["rows"]
        assert row["form"] is None
        assert row["i_stand_aside"]
        assert "Vous vous êtes déporté(e)" in page.content.decode()


# --- Pages ----------------------------------------------------------------------


class TestPages:
    def urls(self, jury, member):
        return {
            "edit": reverse("evaluations:jury_edit", args=[jury.pk]),
            "replace": reverse("evaluations:jury_replace_member", args=[jury.pk, member.pk]),
            "remove": reverse("evaluations:jury_remove_member", args=[jury.pk, member.pk]),
        }

    def test_access(
        self, client, login, jury, second_jury_member, trainer, outsider, admin_user, emma
    ):
        member = seat(jury, second_jury_member)
        urls = self.urls(jury, member)
        recuse = reverse("evaluations:jury_recuse", args=[jury.pk])
        for url in [*urls.values(), recuse]:
            anonymous = client.post(url)
            assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}"), url
        for url in urls.values():
            for person in (second_jury_member, trainer, outsider):
                assert login(person).get(url).status_code == 403, url
            assert login(admin_user).get(url).status_code == 200, url
        for person in (trainer, outsider):
            assert login(person).post(recuse).status_code == 403
        stranger = make_user("jury9", roles.JURY_MEMBER)
        assert login(stranger).post(recuse, {"reason": "x"}).status_code == 404
        assert login(admin_user).get(recuse).status_code == 405

    def test_a_seat_of_another_jury_is_not_found(self, login, jury, referential, admin_user):
        other = Jury.objects.create(
            name="Autre", certification_version=referential, date=jury.date, place="Lyon"
        )
        member = jury.members.first()
        url = reverse("evaluations:jury_replace_member", args=[other.pk, member.pk])
        assert login(admin_user).get(url).status_code == 404

    def test_the_office_sees_the_buttons_a_member_does_not(
        self, login, jury, jury_member, second_jury_member, admin_user
    ):
        office = login(admin_user).get(jury.get_absolute_url()).content.decode()
        assert office.count(">Remplacer<") == 2
        assert office.count(">Retirer<") == 1  # not the president
        assert reverse("evaluations:jury_edit", args=[jury.pk]) in office
        assert "Enregistrer un déport" in office
        member = login(second_jury_member).get(jury.get_absolute_url()).content.decode()
        assert ">Remplacer<" not in member
        assert reverse("evaluations:jury_edit", args=[jury.pk]) not in member
        assert "Me déporter pour un candidat" in member

    def test_editing_through_the_page(self, login, jury, admin_user):
        url = reverse("evaluations:jury_edit", args=[jury.pk])
        client = login(admin_user)
        form = client.get(url).context["forms"][0]
        assert form.initial["name"] == jury.name
        response = client.post(
            url,
            {
                "name": "Jury renommé",
                "certification_version": jury.certification_version_id,
                "date": "2027-06-22",
                "place": "Marseille",
            },
        )
        assert response.status_code == 302
        jury.refresh_from_db()
        assert (jury.name, jury.place) == ("Jury renommé", "Marseille")

    def test_a_bad_edit_says_why_and_changes_nothing(self, login, jury, referential, admin_user):
        Jury.objects.create(
            name="Pris", certification_version=referential, date=jury.date, place="Lyon"
        )
        url = reverse("evaluations:jury_edit", args=[jury.pk])
        client = login(admin_user)
        taken = client.post(
            url,
            {
                "name": "Pris",
                "certification_version": referential.pk,
                "date": "2027-06-22",
                "place": "Lyon",
            },
        )
        assert taken.status_code == 200
        assert "Un jury s&#x27;appelle déjà « Pris »" in taken.content.decode()
        empty = client.post(url, {"name": "", "date": "pas une date"})
        assert empty.status_code == 200
        assert "Ce champ est obligatoire" in empty.content.decode()
        jury.refresh_from_db()
        assert (jury.name, jury.place) == ("Jury de certification 2027", "CEFPF, Paris")

    def test_the_version_field_is_locked_once_a_session_uses_the_jury(
        self, login, jury, oral_session, admin_user, draft_version
    ):
        url = reverse("evaluations:jury_edit", args=[jury.pk])
        client = login(admin_user)
        assert client.get(url).context["forms"][0].fields["certification_version"].disabled
        client.post(
            url,
            {
                "name": jury.name,
                "certification_version": draft_version.pk,
                "date": "2027-06-20",
                "place": "Lyon",
            },
        )
        jury.refresh_from_db()
        assert jury.certification_version_id != draft_version.pk
        assert jury.place == "Lyon"

    def test_replacing_through_the_page_needs_a_reason_once_deliberating(
        self, login, jury, deliberation, admin_user, third_jury_member, fourth_jury_member
    ):
        third = seated(jury, third_jury_member)
        url = reverse("evaluations:jury_replace_member", args=[jury.pk, third.pk])
        client = login(admin_user)
        form = client.get(url).context["forms"][0]
        assert "role" not in form.fields and "reason" in form.fields
        refused = client.post(url, {"user": fourth_jury_member.pk, "external": "on"})
        assert refused.status_code == 200
        assert "indiquez le motif" in refused.content.decode()
        assert jury.members.filter(user=third_jury_member).exists()
        done = client.post(
            url, {"user": fourth_jury_member.pk, "external": "on", "reason": REASON}, follow=True
        )
        assert "Jury3 est remplacé(e) par Jury4" in done.content.decode()
        assert jury.members.filter(user=fourth_jury_member, role="member").exists()
        assert client.post(url, {"user": "x"}).status_code == 404  # the seat is gone

    def test_a_bad_replacement_post_says_why(self, login, jury, second_jury_member, admin_user):
        url = reverse(
            "evaluations:jury_replace_member", args=[jury.pk, seat(jury, second_jury_member).pk]
        )
        response = login(admin_user).post(url, {"user": "abc"})
        assert response.status_code == 200
        assert "Sélectionnez un choix valide" in response.content.decode()
        assert jury.members.count() == 2

    def test_removing_through_the_page(
        self, login, jury, jury_member, second_jury_member, admin_user
    ):
        client = login(admin_user)
        president = reverse(
            "evaluations:jury_remove_member", args=[jury.pk, seat(jury, jury_member).pk]
        )
        refused = client.post(president, {"reason": "x"})
        assert refused.status_code == 200
        assert "ne se retire pas seul(e)" in refused.content.decode()
        url = reverse(
            "evaluations:jury_remove_member", args=[jury.pk, seat(jury, second_jury_member).pk]
        )
        page = client.post(url, {"reason": ""}, follow=True).content.decode()
        assert "Jury2 ne siège plus dans ce jury." in page
        assert "Composition incomplète" in page
        assert jury.members.count() == 1

    def test_adding_through_the_page_needs_a_reason_once_deliberating(
        self, login, jury, deliberation, admin_user, third_jury_member
    ):
        client = login(admin_user)
        assert "reason" in client.get(jury.get_absolute_url()).context["member_form"].fields
        url = reverse("evaluations:jury_add_member", args=[jury.pk])
        data = {"user": third_jury_member.pk, "role": "member", "external": "on"}
        page = client.post(url, data, follow=True).content.decode()
        assert "indiquez le motif" in page
        assert not jury.members.filter(user=third_jury_member).exists()
        client.post(url, {**data, "reason": REASON})
        assert jury.members.filter(user=third_jury_member).exists()

    def test_a_member_records_their_own_recusal(
        self, login, jury, emma, jury_member, second_jury_member
    ):
        client = login(second_jury_member)
        url = reverse("evaluations:jury_recuse", args=[jury.pk])
        form = client.get(jury.get_absolute_url()).context["recusal_form"]
        assert list(form.fields["member"].queryset) == [seat(jury, second_jury_member)]
        assert list(form.fields["enrolment"].queryset) == [emma]
        someone_else = client.post(
            url,
            {"member": seat(jury, jury_member).pk, "enrolment": emma.pk, "reason": "x"},
            follow=True,
        )
        assert "Choisissez le membre et le candidat" in someone_else.content.decode()
        assert not Recusal.objects.exists()
        no_reason = client.post(
            url,
            {"member": seat(jury, second_jury_member).pk, "enrolment": emma.pk, "reason": " "},
            follow=True,
        )
        assert "indiquez le motif du déport" in no_reason.content.decode()
        garbage = client.post(url, {"member": "a", "enrolment": "b", "reason": "c"}, follow=True)
        assert garbage.status_code == 200
        assert not Recusal.objects.exists()
        done = client.post(
            url,
            {
                "member": seat(jury, second_jury_member).pk,
                "enrolment": emma.pk,
                "reason": "Sa cousine",
            },
            follow=True,
        ).content.decode()
        assert "Déport enregistré : Jury2 ne note ni ne délibère pour Petit Emma Louise." in done
        assert "Sa cousine" in done
        again = client.post(
            url,
            {"member": seat(jury, second_jury_member).pk, "enrolment": emma.pk, "reason": "Bis"},
            follow=True,
        ).content.decode()
        assert "Jury2 est déjà déporté(e) pour Petit Emma Louise." in again
        assert Recusal.objects.count() == 1

    def test_the_jury_page_flags_an_unlawful_composition_for_a_candidate(
        self, login, jury, emma, second_jury_member, admin_user
    ):
        record_recusal(
            seat(jury, second_jury_member),
            enrolment=emma,
            reason="Sa cousine",
            by=second_jury_member,
        )
        page = login(admin_user).get(jury.get_absolute_url()).content.decode()
        assert "Sans les membres déportés, composition irrégulière pour ce candidat" in page

    def test_the_jury_page_asks_as_many_queries_for_more_members_and_recusals(
        self, login, jury, cohort, emma, admin_user, jury_member, second_jury_member
    ):
        def count(user):
            client = login(user)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(jury.get_absolute_url()).status_code == 200
            return len(queries)

        few = {user: count(user) for user in (admin_user, jury_member)}
        fill_cohort(cohort, 4, start=400)
        members = [
            seated(jury, make_user(f"jury{n}", roles.JURY_MEMBER), external=n % 2 == 0)
            for n in range(5, 9)
        ]
        enrolments = list(cohort.enrolments.filter(status=Enrolment.Status.ENROLLED))
        for member, enrolment in zip(members, enrolments, strict=False):
            record_recusal(member, enrolment=enrolment, reason="Lien familial", by=member.user)
        record_recusal(seat(jury, jury_member), enrolment=emma, reason="Voisin", by=jury_member)
        many = {user: count(user) for user in (admin_user, jury_member)}
        assert Recusal.objects.count() == 5
        assert many == few
