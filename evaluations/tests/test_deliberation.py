"""Juries and deliberation: composition, decisions, minutes, capitalisation,
rectification, publication, and their pages. Long on purpose: one class per
stage of a deliberation, sharing the fixtures of evaluations/tests/fixtures.py."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.models import Enrolment
from candidates.services import enrol, withdraw
from candidates.tests.factories import make_candidate, make_user
from core import roles
from core.models import AuditEvent
from core.tests.pdf import pdf_words
from evaluations.deliberations import (
    open_deliberation,
    publish_results,
    record_decision,
    rectify,
    sign_minutes,
)
from evaluations.juries import add_member, composition_problems, create_jury
from evaluations.models import BlocDecision, Deliberation, JuryMember
from evaluations.standings import deliberation_table
from evaluations.tests.factories import (
    bloc,
    decide_as_proposed,
    fill,
    open_session,
    sign_all,
    sit_bloc,
)

pytestmark = pytest.mark.django_db

VALIDATED = BlocDecision.Decision.VALIDATED
NOT_VALIDATED = BlocDecision.Decision.NOT_VALIDATED


def pdf_text(deliberation):
    deliberation.refresh_from_db()
    with deliberation.minutes_pdf.open("rb") as stored:
        return pdf_words(stored.read())


class TestComposition:
    def test_rules_of_a_lawful_jury(self, jury):
        members = list(jury.members.all())
        assert composition_problems(members) == []
        president, member = sorted(members, key=lambda m: m.role != JuryMember.Role.PRESIDENT)
        assert "au moins deux membres votants" in composition_problems([president])[0]
        member.role = JuryMember.Role.EXPERT
        assert "au moins deux membres votants" in composition_problems([president, member])[0]
        member.role, member.external = JuryMember.Role.MEMBER, False
        assert "professionnels extérieurs" in composition_problems([president, member])[0]
        president.role = JuryMember.Role.MEMBER
        member.external = True
        assert "président(e)" in composition_problems([president, member])[0]

    def test_second_president_and_non_jury_people_are_refused(
        self, jury, referential, trainer, admin_user
    ):
        someone = make_user("jury3", roles.JURY_MEMBER)
        with pytest.raises(ValidationError, match="déjà un\\(e\\) président"):
            add_member(jury, user=someone, role="president", external=True, by=admin_user)
        with pytest.raises(ValidationError, match="n'a pas le rôle de membre de jury"):
            add_member(jury, user=trainer, role="member", external=True, by=admin_user)
        assert jury.members.count() == 2

    def test_deliberation_needs_a_lawful_jury(self, referential, cohort, jury_member):
        lonely = create_jury(
            name="Jury incomplet",
            certification_version=referential,
            date=cohort.start_date,
            place="Paris",
            by=None,
        )
        add_member(lonely, user=jury_member, role="president", external=True, by=None)
        with pytest.raises(ValidationError, match="collégial"):
            open_deliberation(lonely, cohort, by=None)
        assert not Deliberation.objects.exists()

    def test_a_trainer_of_the_cohort_never_deliberates_on_it(
        self, jury, cohort, second_jury_member
    ):
        cohort.trainers.add(second_jury_member)
        with pytest.raises(ValidationError, match="Conflit d'intérêts"):
            open_deliberation(jury, cohort, by=None)


class TestDecisions:
    def test_proposals_follow_the_scores(self, deliberation, scored):
        cells = deliberation_table(deliberation)[0].cells
        assert [(c.bloc.number, c.due) for c in cells] == [
            (1, True),
            (2, True),
            (3, True),
            (4, False),
        ]
        assert [c.result.proposed_validated for c in cells[:3]] == [True, False, True]
        assert cells[1].result.acquired_count == 0

    def test_departing_from_the_proposal_needs_a_justification(
        self, deliberation, scored, second_jury_member
    ):
        with pytest.raises(ValidationError, match="justification écrite est obligatoire"):
            record_decision(
                deliberation,
                enrolment=scored,
                bloc=bloc(scored, 2),
                decision=VALIDATED,
                user=second_jury_member,
            )
        assert not BlocDecision.objects.exists()
        decision = record_decision(
            deliberation,
            enrolment=scored,
            bloc=bloc(scored, 2),
            decision=VALIDATED,
            justification="Stage probant en production, compétences démontrées.",
            user=second_jury_member,
        )
        assert decision.proposed_validated is False and decision.is_validated
        postponed = record_decision(
            deliberation,
            enrolment=scored,
            bloc=bloc(scored, 2),
            decision=BlocDecision.Decision.POSTPONED,
            user=second_jury_member,
        )
        assert postponed.pk == decision.pk and postponed.justification == ""
        event = AuditEvent.objects.filter(action="evaluations.decision.recorded").first()
        assert event.data["old"][0] == "validated" and event.data["new"][0] == "postponed"

    def test_only_declared_voting_members_decide(self, deliberation, scored, jury, admin_user):
        expert = make_user("expert", roles.JURY_MEMBER)
        add_member_anyway(jury, expert)
        for user, reason in [(expert, "voix délibérative"), (admin_user, "ne siégez pas")]:
            with pytest.raises(ValidationError, match=reason):
                record_decision(
                    deliberation,
                    enrolment=scored,
                    bloc=bloc(scored, 1),
                    decision=VALIDATED,
                    user=user,
                )
        seat = jury.members.get(role="member")
        seat.independence_declared_at = None
        seat.save()
        with pytest.raises(ValidationError, match="Déclarez votre indépendance"):
            record_decision(
                deliberation,
                enrolment=scored,
                bloc=bloc(scored, 1),
                decision=VALIDATED,
                user=seat.user,
            )
        assert not BlocDecision.objects.exists()


def add_member_anyway(jury, user):
    """An expert without a vote, seated after the deliberation opened."""
    from django.utils import timezone

    JuryMember.objects.create(
        jury=jury, user=user, role=JuryMember.Role.EXPERT, independence_declared_at=timezone.now()
    )


class TestMinutes:
    def test_signing_freezes_and_produces_the_pv(
        self,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        with pytest.raises(ValidationError, match="3 décision\\(s\\) de bloc manquent"):
            sign_minutes(deliberation, user=jury_member)
        decide_as_proposed(deliberation, scored, second_jury_member)
        record_decision(
            deliberation,
            enrolment=scored,
            bloc=bloc(scored, 3),
            decision=BlocDecision.Decision.POSTPONED,
            justification="Dossier de stage à compléter.",
            user=second_jury_member,
        )
        with pytest.raises(ValidationError, match="Chaque membre du jury signe avant"):
            sign_minutes(deliberation, user=jury_member)
        signed = sign_all(
            deliberation,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
            render_minutes=True,
        )
        assert signed.is_signed and signed.signed_at
        with pytest.raises(ValidationError, match="décisions sont figées"):
            record_decision(
                signed,
                enrolment=scored,
                bloc=bloc(scored, 1),
                decision=NOT_VALIDATED,
                justification="x",
                user=second_jury_member,
            )
        text = pdf_text(signed)
        for expected in [
            f"Procès-verbal de délibération n° {signed.pk}",
            "Jury « Jury de certification 2027 »",
            "Jury1 Président(e)",
            "Jury2 Membre Professionnel extérieur (Les Films du Lendemain)",
            # One line per candidate, a column per bloc; the departure as a numbered note.
            "Petit Emma Louise né(e) le 12 avril 2001 Validé Non validé Ajourné [1] "
            "proposition : validé Non choisi",
            "[1] Petit Emma Louise, bloc 3 : ajourné (proposition : validé). "
            "Dossier de stage à compléter.",
            "Signatures",
        ]:
            assert expected in text, expected
        assert signed.minutes_pdf.name.endswith(f"pv-{signed.pk}.pdf")

    def test_rectifying_pv_keeps_the_original(
        self,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        trainer,
        django_capture_on_commit_callbacks,
    ):
        decide_as_proposed(deliberation, scored, second_jury_member)
        original = sign_all(
            deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
        )
        with pytest.raises(ValidationError, match="motif"):
            rectify(original, reason=" ", user=jury_member)
        with pytest.raises(ValidationError, match="président"):
            rectify(original, reason="Erreur", user=second_jury_member)
        correction = rectify(original, reason="Erreur matérielle sur le bloc 2", user=jury_member)
        assert correction.rectifies == original and not correction.is_signed
        assert correction.decisions.count() == original.decisions.count() == 3
        record_decision(
            correction,
            enrolment=scored,
            bloc=bloc(scored, 2),
            decision=VALIDATED,
            justification="Note de l'étude de cas mal reportée.",
            user=second_jury_member,
        )
        assert set(Deliberation.objects.in_force()) == {original}
        corrected = sign_all(
            correction,
            jury_member,
            second_jury_member,
            django_capture_on_commit_callbacks,
            render_minutes=True,
        )
        assert set(Deliberation.objects.in_force()) == {corrected}
        original.refresh_from_db()
        assert original.is_signed
        assert original.decisions.get(bloc__number=2).decision == NOT_VALIDATED
        text = pdf_text(corrected)
        assert f"Procès-verbal rectificatif n° {corrected.pk}" in text
        assert f"rectifie le procès-verbal n° {original.pk}" in text
        assert "Erreur matérielle sur le bloc 2" in text

    def test_publication_only_after_signature(
        self,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        admin_user,
        django_capture_on_commit_callbacks,
    ):
        with pytest.raises(ValidationError, match="signé"):
            publish_results(deliberation, by=admin_user)
        decide_as_proposed(deliberation, scored, second_jury_member)
        signed = sign_all(
            deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
        )
        published = publish_results(signed, by=admin_user)
        assert published.published_at
        with pytest.raises(ValidationError, match="déjà publiés"):
            publish_results(signed, by=admin_user)


class TestCapitalisation:
    def test_validated_blocs_stay_acquired_and_resits_take_the_others(
        self,
        deliberation,
        scored,
        cohort,
        trainer,
        jury,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        decide_as_proposed(deliberation, scored, second_jury_member)
        sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)

        # A later session of bloc 1 no longer takes her; one of bloc 2 does, as a new attempt.
        assert not open_session("M1.2", cohort, [trainer]).assessments.exists()
        resit = open_session("M2.1", cohort, [trainer]).assessments.get()
        assert resit.enrolment == scored and resit.attempt == 2
        sit_bloc_again = [
            open_session(code, cohort, [trainer]).assessments.get()
            for code in ("M2.2", "M2.3", "M2.4", "M2.5")
        ]
        for assessment in [resit, *sit_bloc_again]:
            fill(assessment, trainer, 3, submit=True)

        second = open_deliberation(jury, cohort, by=None)
        cells = deliberation_table(second)[0].cells
        assert [(c.bloc.number, c.capitalised, c.due) for c in cells[:3]] == [
            (1, True, False),
            (2, False, True),
            (3, True, False),
        ]
        assert cells[1].result.proposed_validated  # the re-sit's scores replace the first ones
        with pytest.raises(ValidationError, match="capitalisation"):
            record_decision(
                second,
                enrolment=scored,
                bloc=bloc(scored, 1),
                decision=VALIDATED,
                user=second_jury_member,
            )


def competence_outcomes(page):
    """competence code -> (outcome, criteria met, criteria) from a drill-down page."""
    headers = re.findall(r'<h2 class="h6 mb-0">(.*?)</h2>', page)
    outcomes = {}
    for header in headers:
        text = re.sub(r"<[^>]+>", "", header)
        match = re.fullmatch(
            r"(C\d\.\d+) .* · (acquise|non acquise|non évaluée) \((\d+)/(\d+) critères atteints\)",
            text,
        )
        assert match, text
        code, state, met, total = match.groups()
        outcomes[code] = (state, int(met), int(total))
    return outcomes


class TestPages:
    def urls(self, deliberation, enrolment):
        return [
            reverse("evaluations:juries"),
            reverse("evaluations:jury", args=[deliberation.jury_id]),
            deliberation.get_absolute_url(),
            reverse(
                "evaluations:deliberation_candidate",
                args=[deliberation.pk, enrolment.pk, bloc(enrolment, 1).pk],
            ),
        ]

    def test_role_matrix(
        self, client, login, deliberation, scored, trainer, outsider, admin_user, jury_member
    ):
        urls = self.urls(deliberation, scored)
        for url in urls:
            anonymous = client.get(url)
            assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}"), url
        for person in (trainer, outsider):
            for url in urls:
                assert login(person).get(url).status_code == 403, url
        stranger = make_user("jury9", roles.JURY_MEMBER)
        assert login(stranger).get(urls[2]).status_code == 404
        assert login(stranger).get(urls[1]).status_code == 404
        assert login(stranger).get(urls[3]).status_code == 404
        assert "Jury de certification 2027</a>" not in login(stranger).get(urls[0]).content.decode()
        assert "Jury de certification 2027</a>" in login(jury_member).get(urls[0]).content.decode()
        for person in (admin_user, jury_member):
            for url in urls:
                assert login(person).get(url).status_code == 200, url

    def test_drill_down_shows_competences_and_comments(
        self, login, deliberation, scored, jury_member
    ):
        from evaluations.models import Score

        Score.objects.filter(criterion__competence__code="C1.2").update(comment="Bonne écoute")
        client = login(jury_member)
        page = client.get(self.urls(deliberation, scored)[3]).content.decode()
        # Emma scored 2 (Acquis) everywhere in bloc 1: every competence is acquired.
        outcomes = competence_outcomes(page)
        assert list(outcomes) == [f"C1.{n}" for n in range(1, 7)]
        assert {state for state, _, _ in outcomes.values()} == {"acquise"}
        assert all(met == total for _, met, total in outcomes.values())
        assert sum(total for _, _, total in outcomes.values()) == 16
        assert "Proposition : <strong>validé</strong> · 6 compétence(s) acquise(s) sur 6" in page
        assert "Bonne écoute" in page
        # And 1 (Partiellement acquis) everywhere in bloc 2: none is.
        failed = reverse(
            "evaluations:deliberation_candidate",
            args=[deliberation.pk, scored.pk, bloc(scored, 2).pk],
        )
        page = client.get(failed).content.decode()
        outcomes = competence_outcomes(page)
        assert list(outcomes) == [f"C2.{n}" for n in range(1, 13)]
        assert {state for state, _, _ in outcomes.values()} == {"non acquise"}
        assert {met for _, met, _ in outcomes.values()} == {0}
        assert (
            "Proposition : <strong>non validé</strong> · 0 compétence(s) acquise(s) sur 12" in page
        )

    def test_deciding_and_signing_through_the_pages(
        self,
        login,
        deliberation,
        scored,
        jury_member,
        second_jury_member,
        admin_user,
        django_capture_on_commit_callbacks,
    ):
        client = login(second_jury_member)
        decide = reverse("evaluations:decide", args=[deliberation.pk])
        row = {
            "enrolment": scored.pk,
            **{f"decision_{bloc(scored, number).pk}": "validated" for number in (1, 2, 3)},
        }
        refused = client.post(decide, row, follow=True)
        assert "Bloc 2 : La décision s&#x27;écarte de la proposition" in refused.content.decode()
        assert not deliberation.decisions.exists()  # the row is written whole or not at all
        row[f"decision_{bloc(scored, 2).pk}"] = "not_validated"
        saved = client.post(decide, row, follow=True)
        assert "Décisions enregistrées : Petit Emma Louise." in saved.content.decode()
        assert dict(deliberation.decisions.values_list("bloc__number", "decision")) == {
            1: "validated",
            2: "not_validated",
            3: "validated",
        }
        client.post(reverse("evaluations:sign", args=[deliberation.pk]))
        with django_capture_on_commit_callbacks(execute=True):
            login(jury_member).post(reverse("evaluations:sign", args=[deliberation.pk]))
        deliberation.refresh_from_db()
        assert deliberation.is_signed
        page = login(jury_member).get(deliberation.get_absolute_url()).content.decode()
        status = re.sub(r"<[^>]+>", "", page).lower()
        assert "pv signé le" in status and "signée signée" not in status
        pdf = login(jury_member).get(reverse("evaluations:minutes", args=[deliberation.pk]))
        assert pdf["Content-Type"] == "application/pdf"
        assert b"".join(pdf.streaming_content).startswith(b"%PDF")
        assert (
            login(jury_member)
            .post(reverse("evaluations:publish", args=[deliberation.pk]))
            .status_code
            == 403
        )
        login(admin_user).post(reverse("evaluations:publish", args=[deliberation.pk]))
        deliberation.refresh_from_db()
        assert deliberation.published_at

    def test_deliberation_page_queries_stay_constant(
        self,
        login,
        deliberation,
        scored,
        cohort,
        trainer,
        jury,
        admin_user,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        """Emma alone, three blocs scored once, no decision, two members; against
        nine candidates (one withdrawn) having chosen bloc 4 or not, every bloc
        re-sat, blocs capitalised from a signed deliberation, decisions recorded,
        a third member and a signature."""

        def count(user, page):
            client = login(user)
            client.get(page.get_absolute_url())  # blocks.frozen reads first
            with CaptureQueriesContext(connection) as queries:
                assert client.get(page.get_absolute_url()).status_code == 200
            return len(queries)

        few = {user: count(user, deliberation) for user in (admin_user, jury_member)}

        decide_as_proposed(deliberation, scored, second_jury_member)
        sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
        bloc4 = bloc(scored, 4)
        for number in range(200, 208):
            enrol(
                make_candidate(number),
                cohort,
                access_route=Enrolment.AccessRoute.VAE,
                optional_blocs=[bloc4] if number % 2 else [],
                by=None,
            )
        for number, value in ((1, 3), (2, 2), (3, 1), (4, 2)):
            sit_bloc(cohort, number, value, trainer=trainer, jury=jury)
        withdrawn = cohort.enrolments.get(candidate__birth_name="Nom207")
        withdraw(withdrawn, reason="Abandon", by=None)
        add_member_anyway(jury, make_user("expert", roles.JURY_MEMBER))
        second = open_deliberation(jury, cohort, by=None)
        for enrolment in cohort.enrolments.filter(status=Enrolment.Status.ENROLLED):
            decide_as_proposed(second, enrolment, second_jury_member)
        sign_minutes(second, user=second_jury_member)

        rows = deliberation_table(second)
        assert len(rows) == 8
        emma = next(row for row in rows if row.enrolment == scored)
        assert [(c.bloc.number, c.capitalised) for c in emma.cells if c.capitalised] == [
            (1, True),
            (3, True),
        ]
        # 7 active newcomers × 3 mandatory blocs, bloc 4 for 3 of them, Emma's bloc 2.
        assert BlocDecision.objects.filter(deliberation=second).count() == 3 * 7 + 3 + 1
        assert second.signatures.count() == 1
        assert jury.members.count() == 3
        assert {user: count(user, second) for user in (admin_user, jury_member)} == few


class TestJuryOffice:
    def test_creating_and_composing_a_jury_through_the_pages(
        self, client, login, admin_user, referential, jury_member, second_jury_member, cohort
    ):
        url = reverse("evaluations:jury_create")
        anonymous = client.get(url)
        assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
        assert login(jury_member).get(url).status_code == 403
        office = login(admin_user)
        office.post(
            url,
            {
                "name": "Jury de printemps",
                "certification_version": referential.pk,
                "date": "2027-04-10",
                "place": "Paris",
            },
        )
        jury = referential.juries.get(name="Jury de printemps")
        add = reverse("evaluations:jury_add_member", args=[jury.pk])
        assert login(jury_member).post(add, {}).status_code == 403
        office = login(admin_user)
        office.post(add, {"user": jury_member.pk, "role": "president", "organisation": "CEFPF"})
        office.post(add, {"user": second_jury_member.pk, "role": "member", "external": "on"})
        page = office.get(jury.get_absolute_url()).content.decode()
        assert "Composition conforme" in page
        assert "ne peut pas délibérer" not in page
        declare = reverse("evaluations:jury_declare", args=[jury.pk])
        login(jury_member).post(declare)
        assert jury.members.get(user=jury_member).has_declared
        assert not jury.members.get(user=second_jury_member).has_declared
        assert login(admin_user).post(declare).status_code == 403
        open_url = reverse("evaluations:jury_open", args=[jury.pk])
        missing_date = login(admin_user).post(open_url, {"cohort": cohort.pk}, follow=True)
        assert "la date de la réunion" in missing_date.content.decode()
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        future = login(admin_user).post(
            open_url, {"cohort": cohort.pk, "held_on": tomorrow.isoformat()}, follow=True
        )
        assert "ne peut pas être dans le futur" in future.content.decode()
        assert not jury.deliberations.exists()
        bloc2 = referential.blocs.get(number=2)
        response = login(admin_user).post(
            open_url,
            {"cohort": cohort.pk, "held_on": "2026-11-20", "added_blocs": [bloc2.pk]},
        )
        deliberation = jury.deliberations.get()
        assert response.url == deliberation.get_absolute_url()
        assert deliberation.held_on == datetime.date(2026, 11, 20)
        assert list(deliberation.added_blocs.all()) == [bloc2]

    def test_an_unlawful_jury_cannot_be_opened_from_its_page(
        self, login, admin_user, referential, jury_member, cohort
    ):
        jury = create_jury(
            name="Jury seul",
            certification_version=referential,
            date=cohort.start_date,
            place="Paris",
            by=None,
        )
        add_member(jury, user=jury_member, role="president", external=True, by=None)
        page = login(admin_user).get(jury.get_absolute_url()).content.decode()
        assert "Composition incomplète : ce jury ne peut pas délibérer." in page
        assert "Composition conforme" not in page
        response = login(admin_user).post(
            reverse("evaluations:jury_open", args=[jury.pk]),
            {"cohort": cohort.pk, "held_on": timezone.localdate().isoformat()},
            follow=True,
        )
        assert "collégial" in response.content.decode()
        assert not jury.deliberations.exists()


def test_rectifying_through_the_page(
    login,
    deliberation,
    scored,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    decide_as_proposed(deliberation, scored, second_jury_member)
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    url = reverse("evaluations:rectify", args=[signed.pk])
    refused = login(second_jury_member).post(url, {"reason": "Erreur"}, follow=True)
    assert "Seul(e) le/la président(e) du jury ou le bureau rectifie un PV." in (
        refused.content.decode()
    )
    empty = login(jury_member).post(url, {"reason": ""}, follow=True)
    assert "Indiquez le motif" in empty.content.decode()
    assert not Deliberation.objects.filter(rectifies=signed).exists()
    response = login(jury_member).post(url, {"reason": "Erreur de report"})
    correction = Deliberation.objects.get(rectifies=signed)
    assert response.url == correction.get_absolute_url()
    page = login(jury_member).get(correction.get_absolute_url()).content.decode()
    assert f'Rectifie le <a href="{signed.get_absolute_url()}">PV n° {signed.pk}</a>' in page
