import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Candidate, Enrolment
from candidates.tests.factories import bulk_enrol
from certification.models import Certificate
from certification.tests.factories import issued
from evaluations.deliberations import open_deliberation, publish_results, rectify
from evaluations.models import BlocDecision, Deliberation, Score
from evaluations.standings import missing_decision_counts, missing_decisions
from evaluations.tests.factories import (
    another_cohort,
    another_jury,
    decide_as_proposed,
    fill,
    open_session,
    sign_all,
    sit_bloc,
)

pytestmark = pytest.mark.django_db

PAGES = {
    "office": (reverse("portal:office_dashboard"), {"admin_user"}),
    "trainer": (reverse("portal:trainer_dashboard"), {"trainer"}),
    "jury": (reverse("portal:jury_dashboard"), {"jury_member"}),
    "candidate": (reverse("portal:candidate_home"), {"candidate_user"}),
    "data": (reverse("portal:my_data"), {"candidate_user"}),
    "data_json": (reverse("portal:my_data_json"), {"candidate_user"}),
}
PEOPLE = ["admin_user", "trainer", "jury_member", "candidate_user", "outsider"]


@pytest.mark.parametrize("page", PAGES)
def test_each_dashboard_for_every_role(request, client, login, candidate, jury, page):
    url, allowed = PAGES[page]
    anonymous = client.get(url)
    assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
    for person in PEOPLE:
        status = login(request.getfixturevalue(person)).get(url).status_code
        assert status == (200 if person in allowed else 403), (person, status)


@pytest.mark.parametrize(
    ("person", "landing"),
    [
        ("admin_user", "portal:office_dashboard"),
        ("trainer", "portal:trainer_dashboard"),
        ("jury_member", "portal:jury_dashboard"),
        ("candidate_user", "portal:candidate_home"),
    ],
)
def test_each_role_lands_on_its_dashboard(request, login, candidate, person, landing):
    response = login(request.getfixturevalue(person)).get(reverse("home"))
    assert response.url == reverse(landing)


def test_heatmap_access(client, login, cohort, admin_user, trainer, other_trainer, jury_member):
    url = reverse("portal:heatmap", args=[cohort.pk])
    anonymous = client.get(url)
    assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
    assert login(admin_user).get(url).status_code == 200
    assert login(trainer).get(url).status_code == 200
    assert login(other_trainer).get(url).status_code == 404
    assert login(jury_member).get(url).status_code == 403


def bloc_cards(home):
    """bloc number -> (state line, progress line) of its card on the candidate's home."""

    def text(html):
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())

    cards = {}
    for card in re.findall(r'<div class="card-body">(.*?)</div></div></div>', home, re.S):
        number = int(re.match(r"\s*<h3 class=\"h6\">Bloc (\d+) ·", card).group(1))
        state = re.search(r'<p class="mb-1">(.*?)</p>', card, re.S).group(1)
        progress = re.search(r'<p class="small mb-0">(.*?)</p>', card, re.S)
        cards[number] = (text(state), text(progress.group(1)) if progress else None)
    return cards


class TestCandidateSeesOnlyPublished:
    def test_nothing_before_publication(self, login, signed, candidate_user):
        client = login(candidate_user)
        home = client.get(reverse("portal:candidate_home")).content.decode()
        assert "décision publiée :" not in home
        assert "Validé" not in home
        assert bloc_cards(home) == {
            1: ("En cours", "0 compétence(s) acquise(s) sur 6 (résultats non encore publiés)"),
            2: ("En cours", "0 compétence(s) acquise(s) sur 12 (résultats non encore publiés)"),
            3: ("En cours", "0 compétence(s) acquise(s) sur 3 (résultats non encore publiés)"),
            4: ("Non choisi (optionnel)", None),
        }
        data = client.get(reverse("portal:my_data_json")).json()
        assert data["decisions_publiees"] == []
        assert all(item["notes_publiees"] == [] for item in data["evaluations"])
        assert data["evaluations"]  # the assessments themselves are hers to see

    def test_after_publication_with_scores_and_comments(
        self, login, signed, candidate_user, admin_user
    ):
        Score.objects.filter(criterion__competence__code="C1.4").update(
            comment="Dépouillement clair"
        )
        publish_results(signed, by=admin_user)
        client = login(candidate_user)
        home = client.get(reverse("portal:candidate_home")).content.decode()
        assert bloc_cards(home) == {
            1: ("Validé · décision publiée : validé", "6 compétence(s) acquise(s) sur 6"),
            2: ("À repasser · décision publiée : non validé", "0 compétence(s) acquise(s) sur 12"),
            3: ("Validé · décision publiée : validé", "3 compétence(s) acquise(s) sur 3"),
            4: ("Non choisi (optionnel)", None),
        }
        assert "Dépouillement clair" in home
        data = client.get(reverse("portal:my_data_json")).json()
        assert [(d["bloc"], d["decision"]) for d in data["decisions_publiees"]] == [
            (1, "Validé"),
            (2, "Non validé"),
            (3, "Validé"),
        ]
        published = {
            item["modalite"].split()[0]: item["notes_publiees"] for item in data["evaluations"]
        }
        # One note per criterion and assessor: M1.1 by the two jury members, the rest by
        # the trainer; 61 in all.
        assert {code: len(notes) for code, notes in published.items()} == {
            "M1.1": 8 * 2,
            "M1.2": 8,
            "M2.1": 3,
            "M2.2": 6,
            "M2.3": 4,
            "M2.4": 8,
            "M2.5": 7,
            "M3.1": 3,
            "M3.2": 3,
            "M3.3": 3,
        }
        commented = [
            (code, note["competence"], note["commentaire"])
            for code, notes in published.items()
            for note in notes
            if note["commentaire"]
        ]
        # C1.4 has two criteria, scored by the trainer in M1.2.
        assert commented == [("M1.2", "C1.4", "Dépouillement clair")] * 2

    def test_a_later_resit_stays_hidden_until_its_own_publication(
        self, login, signed, candidate_user, admin_user, cohort, trainer
    ):

        publish_results(signed, by=admin_user)
        resit = open_session("M2.1", cohort, [trainer]).assessments.get()
        fill(resit, trainer, 0, submit=True)
        data = login(candidate_user).get(reverse("portal:my_data_json")).json()
        attempts = [e for e in data["evaluations"] if e["modalite"].startswith("M2.1 ")]
        # Both sessions are on the same day: their order in the export is not fixed.
        assert sorted((e["tentative"], len(e["notes_publiees"])) for e in attempts) == [
            (1, 3),
            (2, 0),
        ]


def test_the_export_holds_nothing_of_anyone_else(login, signed, candidate_user, admin_user, cohort):
    other = Candidate.objects.create(
        birth_name="Autre",
        first_names="Personne",
        sex="M",
        birth_date=datetime.date(1999, 9, 9),
        birth_country="Belgique",
        email="autre@example.org",
    )
    Enrolment.objects.create(candidate=other, cohort=cohort, access_route="vae")
    publish_results(signed, by=admin_user)
    response = login(candidate_user).get(reverse("portal:my_data_json"))
    assert response["Content-Disposition"] == 'attachment; filename="mes-donnees.json"'
    text = json.dumps(response.json(), ensure_ascii=False)
    assert "Petit" in text and "emma.petit@example.org" in text
    assert "Autre" not in text and "autre@example.org" not in text and "1999" not in text


def test_candidate_downloads_a_certificate_from_home(
    login, decision, candidate_user, django_capture_on_commit_callbacks
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    home = login(candidate_user).get(reverse("portal:candidate_home")).content.decode()
    assert reverse("certification:certificate_pdf", args=[certificate.number]) in home


def test_office_numbers_link_to_their_lists(login, signed, admin_user):
    page = login(admin_user).get(reverse("portal:office_dashboard"))
    # Emma sat 10 modalities (blocs 1 to 3): 11 grids handed in, M1.1's by the two
    # jury members; the sessions are on 15 March 2027, still to come. The signed PV
    # to publish, nothing to issue before that. Each line is in test_office_todo.py.
    numbers = {
        "cohorts": 1,
        "enrolled": 1,
        "grids_submitted": 11,
        "grids_draft": 0,
        "open_sessions": 10,
        "sessions_to_open": 0,
        "sessions_to_close": 0,
        "late_sessions": 0,
        "late_grids": 0,
        "undeclared_members": 0,
        "deliberations_deciding": 0,
        "deliberations_signing": 0,
        "to_publish": 1,
        "to_issue": 0,
        "to_print": 0,
        "print_failures": 0,
        "valid_certificates": 0,
        "revoked": 0,
        "failed_emails": 0,
        "cpf": {"late": 0, "due_soon": 0, "to_correct": 0, "to_declare": 0},
    }
    assert page.context["numbers"] == numbers
    publish_results(signed, by=admin_user)
    page = login(admin_user).get(reverse("portal:office_dashboard"))
    # Published: blocs 1 and 3 to issue.
    assert page.context["numbers"] == numbers | {"to_publish": 0, "to_issue": 2}
    text = page.content.decode()
    for name in (
        "candidates:cohorts",
        "evaluations:sessions",
        "evaluations:juries",
        "certification:certificates",
        "certification:cpf",
        "core:outbox",
        "portal:statistics",
    ):
        assert f'href="{reverse(name)}' in text


def dashboard_pages(cohort, admin_user, trainer, jury_member, candidate_user):
    return [
        (admin_user, reverse("portal:office_dashboard")),
        (trainer, reverse("portal:trainer_dashboard")),
        (trainer, reverse("portal:heatmap", args=[cohort.pk])),
        (jury_member, reverse("portal:jury_dashboard")),
        (candidate_user, reverse("portal:candidate_home")),
        (candidate_user, reverse("portal:my_data")),
        (candidate_user, reverse("portal:my_data_json")),
    ]


def query_counts(login, pages):
    found = {}
    for user, url in pages:
        client = login(user)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        found[url] = len(queries)
    return found


def test_dashboards_and_heatmap_queries_stay_constant_as_everything_grows(
    login,
    signed,
    cohort,
    candidate,
    admin_user,
    trainer,
    jury_member,
    second_jury_member,
    candidate_user,
    django_capture_on_commit_callbacks,
):
    """10 candidates, one published deliberation, one certificate, Emma's sessions
    sat once, one open deliberation (a rectifying PV); against 300 candidates,
    another promotion of the same trainer with its own sessions and grids, a re-sit,
    a second jury of the same member, a second published deliberation in force, more
    certificates. The number of open deliberations is left alone: see the next test."""
    bulk_enrol(cohort, 9, 1000)
    publish_results(signed, by=admin_user)
    issued(signed.decisions.get(bloc__number=1), django_capture_on_commit_callbacks)
    rectify(signed, reason="Relecture du bloc 2", user=jury_member)
    pages = dashboard_pages(cohort, admin_user, trainer, jury_member, candidate_user)
    with_ten = query_counts(login, pages)

    bulk_enrol(cohort, 290, 2000)
    evening = another_cohort(cohort, trainer, "Promotion du soir", start=3000)
    resit = open_session("M2.1", cohort, [trainer]).assessments.get(enrolment__candidate=candidate)
    fill(resit, trainer, 3, submit=True)
    deliberation = open_deliberation(
        another_jury(cohort.certification_version, jury_member, second_jury_member),
        evening,
        by=None,
    )
    for enrolment in evening.enrolments.all():
        decide_as_proposed(deliberation, enrolment, second_jury_member)
    sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
    publish_results(deliberation, by=admin_user)
    issued(signed.decisions.get(bloc__number=3), django_capture_on_commit_callbacks)

    assert cohort.enrolments.count() == 300
    assert Deliberation.objects.in_force().count() == 2
    assert Deliberation.objects.filter(status=Deliberation.Status.OPEN).count() == 1
    assert Certificate.objects.count() == 2
    assert query_counts(login, pages) == with_ten


def test_jury_dashboard_queries_stay_constant_as_open_deliberations_grow(
    login, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    """One open deliberation of the member's, against three (other promotions, another jury);
    in each, the candidates sat a bloc, so decisions are due."""
    open_session("M2.1", cohort, [trainer])
    open_deliberation(jury, cohort, by=None)
    url = reverse("portal:jury_dashboard")
    client = login(jury_member)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    evening = another_jury(cohort.certification_version, jury_member, second_jury_member)
    for number, name in enumerate(("Promotion du soir", "Promotion du samedi")):
        other = another_cohort(cohort, trainer, name, start=3000 + 10 * number)
        open_deliberation(evening, other, by=None)
    page = client.get(url).content.decode()
    assert page.count("décision(s) à prendre") == 3
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(three) == len(one)


def test_a_trainer_sees_no_oral_result_before_its_pv_is_published(
    login, signed, cohort, trainer, admin_user, django_capture_on_commit_callbacks
):
    from blocks.models import Competence, EvaluationModality
    from evaluations.deliberations import publish_results

    url = reverse("portal:heatmap", args=[cohort.pk])

    def states(user):
        row = login(user).get(url).context["rows"][0]
        return {competence.code: state for competence, state, _ in row.cells}

    oral_only = set(
        Competence.objects.filter(
            modalities__assessed_by=EvaluationModality.AssessedBy.JURY, bloc__number=1
        )
        .exclude(modalities__assessed_by=EvaluationModality.AssessedBy.TRAINERS)
        .values_list("code", flat=True)
    )
    assert oral_only
    assert {states(admin_user)[code] for code in oral_only} == {"acquired"}
    assert {states(trainer)[code] for code in oral_only} == {"none"}
    with django_capture_on_commit_callbacks(execute=True):
        publish_results(signed, by=admin_user)
    assert {states(trainer)[code] for code in oral_only} == {"acquired"}


def test_heatmap_states_and_links(login, published, cohort, trainer):
    page = login(trainer).get(reverse("portal:heatmap", args=[cohort.pk]))
    row = page.context["rows"][0]
    states = {competence.code: state for competence, state, _ in row.cells}
    # Emma: blocs 1 and 3 scored at the passing mark or above, bloc 2 below, bloc 4 not taken.
    assert {code for code, state in states.items() if state == "acquired"} == {
        *(f"C1.{n}" for n in range(1, 7)),
        *(f"C3.{n}" for n in range(1, 4)),
    }
    assert {code for code, state in states.items() if state == "not_acquired"} == {
        f"C2.{n}" for n in range(1, 13)
    }
    assert {code for code, state in states.items() if state == "none"} == {
        f"C4.{n}" for n in range(1, 18)
    }
    links = {competence.code: link for competence, _, link in row.cells}
    m21 = cohort.sessions.get(modality__code="M2.1").assessments.get()
    assert links["C2.1"] == m21.pk
    assert links["C1.1"] is None  # the trainer does not score the oral M1.1
    text = page.content.decode()
    assert reverse("evaluations:grid", args=[m21.pk]) in text
    assert '<span class="visually-hidden">C1.1 acquise</span>' in text
    assert '<span class="visually-hidden">C2.1 non acquise</span>' in text
    assert '<span class="visually-hidden">C4.1 pas encore évaluée</span>' in text
    assert "<td>9 / 38</td>" in text


def test_the_jury_dashboard_counts_every_assessor_of_an_oral(
    login, cohort, candidate, jury, jury_member, second_jury_member
):
    open_session("M1.1", cohort, [jury_member, second_jury_member], jury=jury)
    page = login(jury_member).get(reverse("portal:jury_dashboard")).content.decode()
    assert "0 grille(s) remise(s) pour 1 candidat(s) et 2 évaluateur(s)" in page


def test_the_trainer_dashboard_counts_grids_over_present_candidates_and_assessors(
    login, cohort, candidate, trainer, other_trainer
):
    """Three candidates, one absent, two assessors: four grids expected; one handed
    in counts, a draft does not. Another session of theirs is counted on its own."""
    from evaluations.sessions import set_presence

    bulk_enrol(cohort, 2, 1000)
    session = open_session("M2.1", cohort, [trainer, other_trainer])
    first, second, absent = session.assessments.order_by("pk")
    set_presence(absent, present=False, by=trainer)
    fill(first, trainer, 3, submit=True)
    fill(second, other_trainer, 3)
    other = open_session("M2.2", cohort, [trainer])
    for assessment in other.assessments.all():
        fill(assessment, trainer, 3, submit=True)
    page = login(trainer).get(reverse("portal:trainer_dashboard"))
    progress = {
        session.modality.code: (session.submitted_count, session.expected, session.percent)
        for session in page.context["sessions"]
    }
    assert progress == {"M2.1": (1, 4, 25), "M2.2": (3, 3, 100)}
    assert "1 grille(s) remise(s) sur 4 attendue(s) (25 %)" in page.content.decode()


def assert_counts_match_the_table():
    """The dashboard's count of missing decisions is the table's, for every open one."""
    open_ones = Deliberation.objects.filter(status=Deliberation.Status.OPEN)
    counts = missing_decision_counts(open_ones)
    expected = {d.pk: len(missing_decisions(d)) for d in open_ones}
    assert counts == expected
    return counts


def test_the_count_of_missing_decisions_follows_the_table(
    login,
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    django_capture_on_commit_callbacks,
):
    from blocks.models import Bloc

    bulk_enrol(cohort, 3, 1000)
    version = cohort.certification_version
    bloc_4 = Bloc.objects.get(certification_version=version, number=4)
    chooser = cohort.enrolments.exclude(candidate=candidate).first()
    chooser.optional_blocs.add(bloc_4)
    # Nothing sat: nothing due.
    first = open_deliberation(jury, cohort, by=None)
    assert assert_counts_match_the_table() == {first.pk: 0}
    first.delete()
    # Blocs 1 and 2 sat by all four, bloc 4 added by the office (taken by one only).
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    sit_bloc(cohort, 2, 1, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None, added_blocs=[bloc_4])
    assert assert_counts_match_the_table() == {deliberation.pk: 4 * 2 + 1}
    # Some decisions taken.
    emma = candidate.enrolments.get()
    decide_as_proposed(deliberation, emma, second_jury_member)
    assert assert_counts_match_the_table() == {deliberation.pk: 3 * 2 + 1}
    for enrolment in cohort.enrolments.exclude(pk=emma.pk):
        decide_as_proposed(deliberation, enrolment, second_jury_member)
    assert assert_counts_match_the_table() == {deliberation.pk: 0}
    # Signed: bloc 1 capitalised, bloc 2 failed; a re-sit of bloc 2 and a new sit of
    # bloc 3 come to a second deliberation, the attempts decided earlier do not.
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    assert BlocDecision.objects.filter(deliberation=signed, decision="validated").exists()
    # Bloc 1 added by the office: capitalised, not due.
    bloc_1 = Bloc.objects.get(certification_version=version, number=1)
    second = open_deliberation(jury, cohort, by=None, added_blocs=[bloc_1])
    assert assert_counts_match_the_table() == {second.pk: 0}
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    resit = open_session("M2.1", cohort, [trainer]).assessments.get(enrolment=emma)
    fill(resit, trainer, 3, submit=True)
    counts = assert_counts_match_the_table()
    assert counts[second.pk] == 4 + 4  # the re-sit session seats the whole promotion
    # A rectifying PV of the first instead (one open at a time per promotion).
    second.delete()
    rectifying = rectify(signed, reason="Relecture du bloc 2", user=jury_member)
    counts = assert_counts_match_the_table()
    assert set(counts) == {rectifying.pk}
    # Another promotion, another jury.
    evening = another_cohort(cohort, trainer, "Promotion du soir", start=3000)
    other = open_deliberation(
        another_jury(cohort.certification_version, jury_member, second_jury_member),
        evening,
        by=None,
    )
    counts = assert_counts_match_the_table()
    assert counts[other.pk] == 3 * 2
    page = login(jury_member).get(reverse("portal:jury_dashboard"))
    assert [missing for _, missing, _ in page.context["deliberations"]] == [
        counts[d.pk] for d, _, _ in page.context["deliberations"]
    ]


def test_the_heatmap_follows_the_results_rules(login, published, cohort, trainer, admin_user, jury):
    """The heatmap's shortcut (sums against the mark, only criteria with values, blocs
    nobody sat skipped) gives the states of the results module, cell by cell; here with
    two assessors of an oral apart (means of 1.5 and exactly 2, the passing mark)."""
    from candidates.models import Enrolment
    from evaluations import results
    from evaluations.standings import bloc_structure, submitted_values, version_rules

    bulk_enrol(cohort, 2, 1000)
    oral = open_session("M1.1", cohort, [m.user for m in jury.members.all()], jury=jury)
    for number, assessment in enumerate(oral.assessments.order_by("pk")):
        for member, value in zip(jury.members.all(), (1, 2 + number % 2), strict=True):
            fill(assessment, member.user, value, submit=True)
    version = cohort.certification_version
    rules, structure = version_rules(version), bloc_structure(version)
    enrolled = cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
    for user in (admin_user, trainer):
        values = submitted_values(enrolled, for_trainers=user == trainer)
        for row in login(user).get(reverse("portal:heatmap", args=[cohort.pk])).context["rows"]:
            for competence, state, _ in row.cells:
                criteria = structure[competence.bloc_id][competence.pk]
                result = results.competence_result(
                    competence.pk,
                    [
                        results.criterion_result(c, values[row.enrolment_id].get(c, []), rules)
                        for c in criteria
                    ],
                    rules,
                )
                expected = (
                    "acquired" if result.acquired else "not_acquired" if result.assessed else "none"
                )
                assert state == expected, (user, row.enrolment, competence.code)
