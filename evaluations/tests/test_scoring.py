"""Scoring in the browser: sessions, grids, autosave, submission, independence,
synthesis, history, bad input. Long on purpose: each test class is one page or
service of the scoring journey, and they share the helpers at the top."""

import html
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import Criterion
from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core.models import AuditEvent
from evaluations.models import Grid, Score
from evaluations.sessions import (
    CriterionEntry,
    StaleGrid,
    change_session_status,
    save_grid,
    set_presence,
)
from evaluations.tests.factories import criteria_of, fill, open_session

pytestmark = pytest.mark.django_db


def grid_post(session, values, *, revision=0, action="save", **extra):
    data = {"revision": revision, "overall_comment": "", action: "1", **extra}
    for criterion in criteria_of(session):
        value = values.get(criterion.pk) if isinstance(values, dict) else values
        if value is not None:
            data[f"value_{criterion.pk}"] = str(value)
        data[f"comment_{criterion.pk}"] = ""
    return data


def grid_url(assessment):
    return reverse("evaluations:grid", args=[assessment.pk])


class CheckedRadios(HTMLParser):
    """The value of each checked radio button of a page, by input name."""

    def __init__(self):
        super().__init__()
        self.checked = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "radio" and "checked" in attrs:
            self.checked[attrs["name"]] = attrs["value"]


def checked_radios(html):
    parser = CheckedRadios()
    parser.feed(html)
    return parser.checked


class TestAccess:
    def test_anonymous_is_sent_to_login(self, client, oral_session):
        assessment = oral_session.assessments.get()
        for url in [
            reverse("evaluations:sessions"),
            oral_session.get_absolute_url(),
            grid_url(assessment),
            reverse("evaluations:synthesis", args=[assessment.pk]),
            reverse("evaluations:history", args=[assessment.pk]),
        ]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url == f"/connexion/?next={url}", url

    @pytest.mark.parametrize("person", ["outsider", "candidate_user"])
    def test_wrong_role_gets_403(self, request, login, oral_session, person):
        client = login(request.getfixturevalue(person))
        assessment = oral_session.assessments.get()
        for url in [reverse("evaluations:sessions"), grid_url(assessment)]:
            assert client.get(url).status_code == 403, url

    def test_someone_elses_session_and_grid_are_not_found(
        self, login, trainer, oral_session, written_session
    ):
        client = login(trainer)
        oral = oral_session.assessments.get()
        assert client.get(oral_session.get_absolute_url()).status_code == 404
        assert client.get(grid_url(oral)).status_code == 404
        assert client.get(reverse("evaluations:synthesis", args=[oral.pk])).status_code == 404
        assert client.get(reverse("evaluations:history", args=[oral.pk])).status_code == 404
        sessions = client.get(reverse("evaluations:sessions")).content.decode()
        assert "M2.1" in sessions and "M1.1" not in sessions

    def test_assessor_opens_the_grid_of_every_criterion(self, login, jury_member, oral_session):
        page = login(jury_member).get(grid_url(oral_session.assessments.get()))
        assert page.status_code == 200
        text = page.content.decode()
        assert len(criteria_of(oral_session)) == 8  # the criteria of M1.1's competences
        for criterion in criteria_of(oral_session):
            assert criterion.label.replace("'", "&#x27;") in text
        assert text.count('type="radio"') == 32  # four levels for each of the 8 criteria
        assert text.count("3 · Maîtrisé") == 8
        assert checked_radios(text) == {}

    def test_only_the_office_changes_a_session_status(self, login, jury_member, oral_session):
        url = reverse("evaluations:session_status", args=[oral_session.pk])
        assert login(jury_member).post(url, {"status": "closed"}).status_code == 403
        oral_session.refresh_from_db()
        assert oral_session.is_open


class TestSaving:
    def test_draft_saved_by_form_post_with_audit(self, login, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        first = criteria_of(oral_session)[0]
        client = login(jury_member)
        response = client.post(grid_url(assessment), grid_post(oral_session, {first.pk: 2}))
        assert response.status_code == 302
        grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
        assert grid.revision == 1 and grid.status == Grid.Status.DRAFT
        assert grid.scores.get(criterion=first).value == Decimal("2")
        client.post(grid_url(assessment), grid_post(oral_session, {first.pk: 3}, revision=1))
        events = AuditEvent.objects.for_object(grid).filter(action="evaluations.score.changed")
        assert [(e.data["old"], e.data["new"]) for e in events.order_by("pk")] == [
            (None, "2"),
            ("2", "3"),
        ]
        assert all(event.actor == jury_member for event in events)

    def test_submit_needs_every_criterion_then_locks(self, login, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        client = login(jury_member)
        first = criteria_of(oral_session)[0]
        partial = client.post(
            grid_url(assessment), grid_post(oral_session, {first.pk: 2}, action="submit")
        )
        assert partial.status_code == 400
        assert "Notez tous les critères" in partial.content.decode()
        assert "Remettre la grille</button>" in partial.content.decode()
        assert not Grid.objects.filter(status=Grid.Status.SUBMITTED).exists()
        assert not Score.objects.exists()

        client.post(grid_url(assessment), grid_post(oral_session, 2, action="submit"))
        grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
        assert grid.is_submitted and grid.submitted_at
        page = client.get(grid_url(assessment)).content.decode()
        assert "elle est verrouillée" in page
        assert "Remettre la grille</button>" not in page

        no_reason = client.post(grid_url(assessment), grid_post(oral_session, 3, revision=1))
        assert "indiquez le motif" in no_reason.content.decode()
        assert set(grid.scores.values_list("value", flat=True)) == {Decimal("2")}

        client.post(
            grid_url(assessment),
            grid_post(
                oral_session,
                {first.pk: 3} | {c.pk: 2 for c in criteria_of(oral_session)[1:]},
                revision=1,
                reason="Erreur de saisie",
            ),
        )
        assert grid.scores.get(criterion=first).value == Decimal("3")
        change = (
            AuditEvent.objects.for_object(grid).filter(action="evaluations.score.changed").first()
        )
        assert change.data["reason"] == "Erreur de saisie"
        assert (change.data["old"], change.data["new"]) == ("2", "3")
        history = client.get(reverse("evaluations:history", args=[assessment.pk])).content.decode()
        assert (
            "Note modifiée : C1.1 « sa compréhension et sa capacité à restituer ses… » "
            "Acquis → Maîtrisé, motif : Erreur de saisie"
        ) in history

    def test_a_stale_save_is_refused_and_shows_the_newer_values(
        self, login, jury_member, oral_session
    ):
        assessment = oral_session.assessments.get()
        first = criteria_of(oral_session)[0]
        client = login(jury_member)
        client.post(grid_url(assessment), grid_post(oral_session, {first.pk: 3}))
        stale = client.post(grid_url(assessment), grid_post(oral_session, {first.pk: 1}))
        text = stale.content.decode()
        assert "modifiée entre-temps" in text
        assert checked_radios(text) == {f"value_{first.pk}": "3"}
        assert Score.objects.get(criterion=first).value == Decimal("3")
        as_json = client.post(
            grid_url(assessment),
            grid_post(oral_session, {first.pk: 0}),
            headers={"X-Requested-With": "fetch"},
        )
        assert as_json.status_code == 409
        assert as_json.json()["values"][f"value_{first.pk}"] == "3"
        assert as_json.json()["revision"] == 1

    def test_autosave_answers_json(self, login, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        first = criteria_of(oral_session)[0]
        response = login(jury_member).post(
            grid_url(assessment),
            grid_post(oral_session, {first.pk: 1}),
            headers={"X-Requested-With": "fetch"},
        )
        assert response.json() == {"revision": 1, "status": "draft"}


class TestBadInput:
    def test_value_outside_the_scale(self, login, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        first = criteria_of(oral_session)[0]
        response = login(jury_member).post(
            grid_url(assessment), grid_post(oral_session, {first.pk: 7})
        )
        assert response.status_code == 400
        assert "Sélectionnez un choix valide" in response.content.decode()
        assert not Score.objects.exists()
        with pytest.raises(ValidationError, match="n'est pas un niveau de l'échelle"):
            save_grid(
                assessment,
                assessor=jury_member,
                revision=0,
                entries={first.pk: CriterionEntry(Decimal("1.5"))},
                overall_comment="",
            )

    def test_criterion_of_another_modality(self, login, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        foreign = Criterion.objects.get(competence__code="C3.1", order=1)
        data = grid_post(oral_session, 2) | {f"value_{foreign.pk}": "2"}
        response = login(jury_member).post(grid_url(assessment), data)
        assert "n&#x27;appartiennent pas à la modalité" in response.content.decode()
        assert not Score.objects.exists()
        with pytest.raises(ValidationError, match="n'appartiennent pas"):
            save_grid(
                assessment,
                assessor=jury_member,
                revision=0,
                entries={foreign.pk: CriterionEntry(2)},
                overall_comment="",
            )

    def test_closed_session(self, login, jury_member, oral_session):
        change_session_status(oral_session, status="closed", by=None, confirmed=True)
        response = login(jury_member).post(
            grid_url(oral_session.assessments.get()), grid_post(oral_session, 2)
        )
        assert response.status_code == 400
        assert "pas ouverte à la notation" in response.content.decode()
        assert not Score.objects.exists()

    def test_not_an_assessor_or_not_in_the_session(self, login, trainer, written_session, cohort):
        with pytest.raises(ValidationError, match="pas évaluateur"):
            save_grid(
                written_session.assessments.get(),
                assessor=make_outside_trainer(),
                revision=0,
                entries={},
                overall_comment="",
            )
        client = login(trainer)
        assert client.get(reverse("evaluations:grid", args=[999999])).status_code == 404
        elsewhere = open_session("M2.2", cohort, [make_outside_trainer(name="formateur-3")])
        url = grid_url(elsewhere.assessments.get())
        assert client.post(url, grid_post(elsewhere, 2)).status_code == 404
        assert not Score.objects.exists()

    def test_absent_candidate_has_no_grid(self, jury_member, oral_session):
        assessment = oral_session.assessments.get()
        set_presence(assessment, present=False, by=jury_member)
        with pytest.raises(ValidationError, match="absent"):
            fill(assessment, jury_member, 2)
        assert not Score.objects.exists()


def make_outside_trainer(name="formateur-externe"):
    from core import roles

    return make_user(name, roles.TRAINER)


class TestIndependenceAndSynthesis:
    def test_assessors_see_each_other_only_once_both_submitted(
        self, login, jury_member, second_jury_member, oral_session
    ):
        assessment = oral_session.assessments.get()
        fill(assessment, jury_member, 3, submit=True)
        fill(assessment, second_jury_member, 1)
        first_page = login(jury_member).get(grid_url(assessment)).content.decode()
        assert "Autres évaluateurs" not in first_page
        second_page = login(second_jury_member).get(grid_url(assessment)).content.decode()
        assert "Autres évaluateurs" not in second_page
        fill(assessment, second_jury_member, 1, submit=True)
        shown = login(jury_member).get(grid_url(assessment)).content.decode()
        assert "Autres évaluateurs : Jury2 1" in shown

    def test_synthesis_means_and_disagreements(
        self, login, admin_user, jury_member, second_jury_member, oral_session
    ):
        assessment = oral_session.assessments.get()
        criteria = criteria_of(oral_session)
        first, second = criteria[0], criteria[1]
        values_one = {c.pk: CriterionEntry(2) for c in criteria} | {first.pk: CriterionEntry(0)}
        values_two = {c.pk: CriterionEntry(3) for c in criteria}
        for assessor, values in ((jury_member, values_one), (second_jury_member, values_two)):
            save_grid(
                assessment,
                assessor=assessor,
                revision=0,
                entries=values,
                overall_comment="",
                submit=True,
            )
        page = login(admin_user).get(reverse("evaluations:synthesis", args=[assessment.pk]))
        rows = {row["criterion"].pk: row for row in page.context["rows"]}
        assert rows[first.pk]["mean"] == Decimal("1.50") and rows[first.pk]["disagree"]
        assert rows[second.pk]["mean"] == Decimal("2.50") and not rows[second.pk]["disagree"]
        assert page.content.decode().count("désaccord") == 1
        lead_page = login(jury_member).get(reverse("evaluations:synthesis", args=[assessment.pk]))
        assert lead_page.status_code == 200
        not_lead = login(second_jury_member).get(
            reverse("evaluations:synthesis", args=[assessment.pk])
        )
        assert not_lead.status_code == 403

    def test_drafts_do_not_count_in_the_synthesis(
        self, login, admin_user, jury_member, second_jury_member, oral_session
    ):
        assessment = oral_session.assessments.get()
        fill(assessment, jury_member, 3, submit=True)
        fill(assessment, second_jury_member, 0)
        page = login(admin_user).get(reverse("evaluations:synthesis", args=[assessment.pk]))
        assert {row["mean"] for row in page.context["rows"]} == {Decimal("3.00")}


class TestSessions:
    def test_admin_creates_a_session_with_the_right_assessors(
        self, login, admin_user, cohort, candidate, trainer, jury, jury_member
    ):
        from blocks.models import EvaluationModality

        oral = EvaluationModality.objects.get(code="M1.1")
        client = login(admin_user)
        data = {
            "modality": oral.pk,
            "cohort": cohort.pk,
            "date": "2027-04-02",
            "place": "Studio B",
            "assessors": [trainer.pk],
            "jury": jury.pk,
        }
        refused = client.post(reverse("evaluations:session_create"), data)
        assert "notée par les membres de jury" in refused.content.decode()
        no_jury = client.post(
            reverse("evaluations:session_create"),
            data | {"assessors": [jury_member.pk], "jury": ""},
        )
        assert "notée par un jury" in no_jury.content.decode()
        assert not oral.sessions.exists()
        client.post(reverse("evaluations:session_create"), data | {"assessors": [jury_member.pk]})
        session = oral.sessions.get()
        assert list(session.assessments.values_list("enrolment__candidate", flat=True)) == [
            candidate.pk
        ]
        assert session.status == "planned" and session.jury == jury

    def test_a_trainer_of_the_cohort_never_scores_its_oral(
        self, cohort, candidate, jury, second_jury_member
    ):
        cohort.trainers.add(second_jury_member)
        with pytest.raises(ValidationError, match="Conflit d'intérêts"):
            open_session("M1.1", cohort, [second_jury_member], jury=jury)

    def test_an_undeclared_jury_member_cannot_score(self, jury, jury_member, oral_session):
        seat = jury.members.get(user=jury_member)
        seat.independence_declared_at = None
        seat.save()
        with pytest.raises(ValidationError, match="Déclarez votre indépendance"):
            fill(oral_session.assessments.get(), jury_member, 2)
        assert not Score.objects.exists()

    def test_a_resit_is_a_new_attempt_and_the_first_is_kept(
        self, jury_member, second_jury_member, oral_session, cohort
    ):
        first = oral_session.assessments.get()
        fill(first, jury_member, 1, submit=True)
        again = open_session(
            "M1.1", cohort, [jury_member, second_jury_member], jury=oral_session.jury
        )
        second = again.assessments.get()
        assert (first.attempt, second.attempt) == (1, 2)
        assert second.enrolment_id == first.enrolment_id
        assert Grid.objects.get(assessment=first).is_submitted

    def test_optional_bloc_sessions_take_only_those_who_chose_it(self, cohort, candidate, trainer):
        bloc4 = cohort.certification_version.blocs.get(number=4)
        chooser = make_candidate(50)
        enrol(
            chooser, cohort, access_route=Enrolment.AccessRoute.VAE, optional_blocs=[bloc4], by=None
        )
        session = open_session("M4.3", cohort, [trainer])
        assert [a.enrolment.candidate for a in session.assessments.all()] == [chooser]


class TestQueryCounts:
    def count(self, client, url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def test_session_page_is_constant_as_everything_grows(
        self, login, admin_user, trainer, cohort, candidate
    ):
        """One candidate, one assessor, three criteria, no grid; against 31
        candidates (some absent), three assessors, eight criteria, drafts and
        submitted grids of every assessor, on a re-sit."""
        small = open_session("M2.1", cohort, [trainer], lead=trainer)
        for number in range(60, 90):
            enrol(make_candidate(number), cohort, access_route="vae", by=None)
        colleagues = [make_outside_trainer(f"formateur-{n}") for n in range(3, 5)]
        open_session("M2.4", cohort, [trainer])  # a first attempt: the large one is a re-sit
        large = open_session("M2.4", cohort, [trainer, *colleagues], lead=trainer)
        assessments = list(large.assessments.order_by("pk"))
        for assessment in assessments[:10]:
            for assessor in (trainer, *colleagues):
                fill(assessment, assessor, 2, submit=assessment.pk % 2 == 0)
        for assessment in assessments[10:15]:
            set_presence(assessment, present=False, by=trainer)
        assert (len(assessments), assessments[0].attempt) == (31, 2)
        assert len(criteria_of(small)) == 3
        assert len(criteria_of(large)) == 8
        # The lead reaches a candidate's synthesis once their own grid is in.
        for user, syntheses in ((admin_user, 31), (trainer, 5)):
            client = login(user)
            page = client.get(large.get_absolute_url()).content.decode()
            assert page.count("<strong>absent</strong>") == 5
            assert page.count(">Synthèse</a>") == syntheses
            assert self.count(client, small.get_absolute_url()) == self.count(
                client, large.get_absolute_url()
            )

    def test_grid_page_is_constant_as_criteria_and_assessors_grow(
        self, login, trainer, cohort, candidate
    ):
        """Three criteria of one competence, two assessors who submitted; against
        fifteen criteria of several competences, three assessors who all submitted
        (the others' scores and comments are shown on both), on a re-sit."""
        bloc4 = cohort.certification_version.blocs.get(number=4)
        candidate.enrolments.get().optional_blocs.add(bloc4)
        colleagues = [make_outside_trainer(f"formateur-{n}") for n in range(3, 5)]
        few = open_session("M2.1", cohort, [trainer, colleagues[0]]).assessments.get()
        for assessor in (trainer, colleagues[0]):
            fill(few, assessor, 2, submit=True)
        open_session("M4.3", cohort, [trainer])
        many = open_session("M4.3", cohort, [trainer, *colleagues]).assessments.get()
        for assessor in (trainer, *colleagues):
            grid = fill(many, assessor, 3, submit=True)
            grid.scores.update(comment=f"Vu par {assessor.username}")
        client = login(trainer)
        assert len(criteria_of(few.session)) == 3
        assert len(criteria_of(many.session)) == 15
        assert {c.competence.code for c in criteria_of(many.session)} == {
            f"C4.{n}" for n in range(7, 13)
        }
        assert many.attempt == 2
        page = client.get(grid_url(many)).content.decode()
        assert page.count("(« Vu par formateur-3 »)") == 15
        assert page.count("(« Vu par formateur-4 »)") == 15
        assert self.count(client, grid_url(few)) == self.count(client, grid_url(many))


def test_history_lists_every_change(login, admin_user, jury_member, oral_session):
    assessment = oral_session.assessments.get()
    fill(assessment, jury_member, 2, submit=True)
    page = login(admin_user).get(reverse("evaluations:history", args=[assessment.pk]))
    events = list(page.context["events"])
    assert [e.action for e in events].count("evaluations.score.changed") == 8
    assert events[-1].action == "evaluations.grid.submitted"


def test_stale_grid_service(jury_member, oral_session):
    assessment = oral_session.assessments.get()
    fill(assessment, jury_member, 2)
    with pytest.raises(StaleGrid, match="Cette grille a été modifiée entre-temps"):
        save_grid(assessment, assessor=jury_member, revision=0, entries={}, overall_comment="x")
    assert Grid.objects.get().overall_comment == ""


def test_a_numeric_scale_takes_marks_out_of_twenty(login, referential, trainer, candidate):
    import json

    from blocks.export import SHIPPED_FILE
    from blocks.services import load_referential
    from candidates.models import Cohort

    data = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    data["certification"]["version"] = "sur 20"
    data["certification"]["grading_scale"] = {
        "kind": "numeric",
        "numeric_max": 20,
        "numeric_pass_mark": 10,
    }
    version = load_referential(json.dumps(data)).version
    cohort = Cohort.objects.create(
        name="Promotion notée sur 20",
        certification_version=version,
        start_date=candidate.enrolments.get().cohort.start_date,
        end_date=candidate.enrolments.get().cohort.end_date,
    )
    enrol(candidate, cohort, access_route="vae", by=None)
    session = open_session("M2.1", cohort, [trainer])
    assessment = session.assessments.get()
    client = login(trainer)
    page = client.get(grid_url(assessment)).content.decode()
    assert 'type="number"' in page and 'type="radio"' not in page
    too_high = client.post(grid_url(assessment), grid_post(session, 25))
    assert too_high.status_code == 400
    assert (
        too_high.content.decode().count(
            "Assurez-vous que cette valeur est inférieure ou égale à 20."
        )
        == 3
    )  # each of M2.1's three criteria
    assert not Score.objects.exists()
    client.post(grid_url(assessment), grid_post(session, "12.5", action="submit"))
    grid = Grid.objects.get(assessment=assessment)
    assert grid.is_submitted
    assert set(grid.scores.values_list("value", flat=True)) == {Decimal("12.5")}


class TestOfficeViews:
    def test_session_creation_page(self, client, login, admin_user, trainer, cohort):
        url = reverse("evaluations:session_create")
        anonymous = client.get(url)
        assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
        assert login(trainer).get(url).status_code == 403
        assert login(admin_user).get(url).status_code == 200

    def test_presence_is_set_by_the_office_or_an_assessor(
        self, client, login, jury_member, trainer, outsider, oral_session
    ):
        assessment = oral_session.assessments.get()
        url = reverse("evaluations:presence", args=[assessment.pk])
        anonymous = client.post(url, {"present": "0"})
        assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
        assert login(outsider).post(url, {"present": "0"}).status_code == 403
        assert login(trainer).post(url, {"present": "0"}).status_code == 404
        assessment.refresh_from_db()
        assert assessment.present
        assert login(jury_member).post(url, {"present": "0"}).status_code == 302
        assessment.refresh_from_db()
        assert not assessment.present
        event = AuditEvent.objects.for_object(assessment).get()
        assert (event.action, event.actor) == (
            "evaluations.assessment.presence_changed",
            jury_member,
        )

    def test_session_status_moves(self, login, admin_user, oral_session):
        client = login(admin_user)
        url = reverse("evaluations:session_status", args=[oral_session.pk])
        wrong = client.post(url, {"status": "planned"}, follow=True)
        assert "Une session ouverte à la notation ne peut pas passer à « planifiée »" in (
            html.unescape(wrong.content.decode())
        )
        client.post(url, {"status": "closed", "confirm": "1"})
        oral_session.refresh_from_db()
        assert oral_session.status == "closed"
