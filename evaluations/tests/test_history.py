"""An assessment's history in French sentences: the criterion by its label, the
values in the scale's words, the reason; never an action code or an id."""

import os
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from playwright.sync_api import expect

from blocks.models import CertificationVersion, Criterion
from candidates.tests.factories import PASSWORD
from core.audit import record_event
from core.history import describe_event, describe_events
from core.models import Action, AuditEvent
from evaluations.models import Grid
from evaluations.sessions import CriterionEntry, save_grid, set_presence

from .factories import criteria_of, fill, open_session

pytestmark = pytest.mark.django_db

WRITING = "sa capacité à rédiger avec clarté et précision une feuille de dépouillement"


@pytest.fixture
def case_study(cohort, candidate, trainer):
    """M1.2, the case study of C1.4 to C1.6, marked by the trainer."""
    return open_session("M1.2", cohort, [trainer], lead=trainer)


def writing_criterion(session):
    return next(c for c in criteria_of(session) if c.label == WRITING)


def save(assessment, assessor, values, *, reason="", comment="", submit=False):
    """The grid with `values` (criterion -> value or CriterionEntry)."""
    grid = Grid.objects.filter(assessment=assessment, assessor=assessor).first()
    return save_grid(
        assessment,
        assessor=assessor,
        revision=grid.revision if grid else 0,
        entries={
            pk: value if isinstance(value, CriterionEntry) else CriterionEntry(value)
            for pk, value in values.items()
        },
        overall_comment=comment,
        reason=reason,
        submit=submit,
    )


def score_events(grid):
    return AuditEvent.objects.for_object(grid).filter(action=Action.SCORE_CHANGED)


class TestScoreSentences:
    def test_a_change_after_submission_names_the_criterion_the_levels_and_the_reason(
        self, case_study, trainer
    ):
        assessment = case_study.assessments.get()
        criterion = writing_criterion(case_study)
        fill(assessment, trainer, 2, submit=True)
        grid = save(assessment, trainer, {criterion.pk: 3}, reason="erreur de saisie")
        change = score_events(grid).get(data__criterion=criterion.pk, data__new="3")
        assert describe_event(change) == (
            "Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une "
            "feuille… » Acquis → Maîtrisé, motif : erreur de saisie"
        )

    def test_a_first_mark_is_entered_and_a_mark_taken_back_is_erased(self, case_study, trainer):
        assessment = case_study.assessments.get()
        criterion = writing_criterion(case_study)
        save(assessment, trainer, {criterion.pk: 1})
        grid = save(assessment, trainer, {criterion.pk: None})
        first, erased = (describe_event(event) for event in score_events(grid).order_by("pk"))
        assert first == (
            "Note saisie : C1.4 « sa capacité à rédiger avec clarté et précision une feuille… » "
            "Partiellement acquis"
        )
        assert erased.startswith("Note effacée : C1.4 « sa capacité")
        assert erased.endswith(" (était Partiellement acquis)")

    def test_comments_read_as_added_changed_or_erased(self, case_study, trainer):
        assessment = case_study.assessments.get()
        criterion = writing_criterion(case_study)
        save(assessment, trainer, {criterion.pk: CriterionEntry(Decimal(2), "Clair.")})
        save(assessment, trainer, {criterion.pk: CriterionEntry(Decimal(2), "Clair et précis.")})
        save(assessment, trainer, {criterion.pk: CriterionEntry(Decimal(3), "")})
        grid = save(assessment, trainer, {criterion.pk: 3}, comment="Bon dossier.")
        entered, changed, with_value = (
            describe_event(event) for event in score_events(grid).order_by("pk")
        )
        subject = "C1.4 « sa capacité à rédiger avec clarté et précision une feuille… »"
        assert entered == f"Note saisie : {subject} Acquis, commentaire : « Clair. »"
        assert changed == (f"Commentaire modifié sur {subject} : « Clair. » → « Clair et précis. »")
        assert with_value == f"Note modifiée : {subject} Acquis → Maîtrisé, commentaire effacé"
        overall = AuditEvent.objects.for_object(grid).get(action=Action.GRID_COMMENT_CHANGED)
        assert describe_event(overall) == "Commentaire général ajouté : « Bon dossier. »"

    def test_a_numeric_scale_reads_as_a_mark_out_of_the_maximum(self, draft_version):
        CertificationVersion.objects.filter(pk=draft_version.pk).update(
            scale_kind=CertificationVersion.ScaleKind.NUMERIC, numeric_max=20
        )
        criterion = Criterion.objects.filter(
            competence__bloc__certification_version=draft_version, competence__code="C1.4"
        ).get(label=WRITING)
        event = AuditEvent(
            action=Action.SCORE_CHANGED,
            data={
                "criterion": criterion.pk,
                "competence": "C1.4",
                "old": "12.5",
                "new": "14",
                "reason": "copie relue",
            },
        )
        assert describe_event(event) == (
            "Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une "
            "feuille… » 12,5 / 20 → 14 / 20, motif : copie relue"
        )
        agreed = AuditEvent(
            action=Action.AGREED_SCORE_RECORDED,
            data={"criterion": criterion.pk, "competence": "C1.4", "old": None, "new": "13.5"},
        )
        agreed.data["mean"] = "13.25"
        assert describe_event(agreed).endswith("13,5 / 20 (moyenne des évaluateurs : 13,25 / 20)")

    def test_an_agreed_score_on_a_level_scale(self, case_study, referential):
        criterion = writing_criterion(case_study)
        event = AuditEvent(
            action=Action.AGREED_SCORE_RECORDED,
            data={
                "criterion": criterion.pk,
                "competence": "C1.4",
                "criterion_label": criterion.label,
                "old": "2",
                "new": "3",
                "mean": "2.5",
                "reason": "Concertation du jury",
            },
        )
        assert describe_event(event) == (
            "Note retenue après concertation : C1.4 « sa capacité à rédiger avec clarté et "
            "précision une feuille… » Acquis → Maîtrisé (moyenne des évaluateurs : 2,5), "
            "motif : Concertation du jury"
        )

    def test_a_criterion_since_gone_still_reads_without_its_id(self):
        event = AuditEvent(
            action=Action.SCORE_CHANGED,
            data={"criterion": 987654, "competence": "C1.4", "old": "2", "new": "3"},
        )
        assert describe_event(event) == "Note modifiée : C1.4 2 → 3"


class TestHistoryPage:
    def url(self, assessment):
        return reverse("evaluations:history", args=[assessment.pk])

    def test_one_readable_line_per_event(self, login, admin_user, case_study, trainer):
        assessment = case_study.assessments.get()
        criterion = writing_criterion(case_study)
        set_presence(assessment, present=False, by=admin_user)
        set_presence(assessment, present=True, by=None)
        fill(assessment, trainer, 2, submit=True)
        save(assessment, trainer, {criterion.pk: 3}, reason="erreur de saisie")
        response = login(admin_user).get(self.url(assessment))
        page = response.content.decode()
        sentences = [line.sentence for line in response.context["lines"]]
        assert sentences[:2] == ["Présence : noté(e) absent(e)", "Présence : noté(e) présent(e)"]
        assert "Grille remise" in sentences
        assert sentences[-1] == (
            "Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une "
            "feuille… » Acquis → Maîtrisé, motif : erreur de saisie"
        )
        assert "<td>Grille remise</td>" in page
        assert "Note saisie : C1.5" in page
        # Who did it, by name; nobody for the system.
        assert [line.actor for line in response.context["lines"]][:3] == [
            "Admin",
            "système",
            "Formateur",
        ]
        assert '<td class="text-nowrap">système</td>' in page
        # No action code, no key of the stored data, no criterion id.
        assert "evaluations." not in page
        lines = page.split("<tbody>")[1].split("</tbody>")[0]
        assert not re.search(r"\b(criterion|competence|old|new|reason|present)\b", lines)
        assert f"critère {criterion.pk}" not in page
        events_only = re.sub(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}(:\d{2})?", "", lines)  # no dates
        assert not re.search(rf">[^<]*\b{criterion.pk}\b[^<]*<", events_only)

    def test_constant_queries_for_2_or_20_score_changes(
        self, login, admin_user, trainer, cohort, candidate
    ):
        criteria = list(
            Criterion.objects.filter(
                competence__bloc__certification_version=cohort.certification_version
            )[:20]
        )
        assert len(criteria) == 20

        def count(n):
            session = open_session("M1.2", cohort, [trainer], lead=trainer)
            assessment = session.assessments.get()
            grid = Grid.objects.create(assessment=assessment, assessor=trainer)
            for index, criterion in enumerate(criteria[:n]):
                record_event(
                    actor=trainer if index % 2 else admin_user,
                    action=Action.SCORE_CHANGED,
                    target=grid,
                    data={
                        "criterion": criterion.pk,
                        "competence": criterion.competence.code,
                        "old": str(index % 4),
                        "new": "3",
                        "reason": "relecture",
                    },
                )
            client = login(admin_user)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(self.url(assessment))
            assert response.status_code == 200
            assert len(response.context["lines"]) == n
            return len(queries)

        count(2)  # the first page of the test fills Django's caches (content types)
        assert count(2) == count(20)

    def test_an_assessor_reads_their_own_lines_only(
        self, login, oral_session, jury_member, second_jury_member
    ):
        assessment = oral_session.assessments.get()
        fill(assessment, jury_member, 3)
        fill(assessment, second_jury_member, 1)
        response = login(second_jury_member).get(self.url(assessment))
        assert {line.actor for line in response.context["lines"]} == {"Jury2"}
        assert all(
            line.sentence.startswith("Note saisie : C1.") for line in response.context["lines"]
        )


def test_describe_events_pairs_each_event_with_its_sentence(case_study, trainer):
    assessment = case_study.assessments.get()
    grid = fill(assessment, trainer, 2, submit=True)
    events = list(AuditEvent.objects.for_object(grid).order_by("pk"))
    lines = describe_events(events)
    assert [event for event, _ in lines] == events
    assert lines[-1] == (events[-1], "Grille remise")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_history_page_in_a_browser(page, admin_user, cohort, candidate, trainer):
    session = open_session("M1.2", cohort, [trainer], lead=trainer)
    assessment = session.assessments.get()
    criterion = writing_criterion(session)
    set_presence(assessment, present=False, by=admin_user)
    set_presence(assessment, present=True, by=admin_user)
    save(
        assessment,
        trainer,
        {c.pk: CriterionEntry(Decimal(2), "") for c in criteria_of(session)}
        | {criterion.pk: CriterionEntry(Decimal(2), "Dépouillement incomplet.")},
        comment="Dossier sérieux.",
        submit=True,
    )
    save(
        assessment,
        trainer,
        {criterion.pk: CriterionEntry(Decimal(3), "Dépouillement complet, une fois relu.")},
        comment="Dossier sérieux.",
        reason="erreur de saisie",
    )
    page.goto("/connexion/")
    page.get_by_label("Nom d’utilisateur").fill("admin")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(reverse("evaluations:history", args=[assessment.pk]))
    rows = page.locator("tbody tr")
    expect(rows.last).to_contain_text(
        "Note modifiée : C1.4 « sa capacité à rédiger avec clarté et précision une feuille… » "
        "Acquis → Maîtrisé, commentaire « Dépouillement incomplet. » → « Dépouillement "
        "complet, une fois relu. », motif : erreur de saisie"
    )
    expect(rows.last).to_contain_text("Formateur")
    expect(page.get_by_role("columnheader")).to_have_text(["Date", "Par", "Événement"])
    expect(page.locator("body")).not_to_contain_text("evaluations.")
    if shots := os.environ.get("HISTORY_SHOTS"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=os.path.join(shots, "history.png"), full_page=True)
