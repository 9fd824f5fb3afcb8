"""The scoring grid's script under the conditions of a real exam day: a quick
"Remettre" right after a change, a session that expired, a page left with a
change not yet stored, a save refused; and a trainer grading a whole session
from the keyboard alone."""

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from blocks.export import SHIPPED_FILE
from blocks.services import load_referential
from candidates.models import Cohort
from candidates.services import enrol
from candidates.tests.factories import fill_cohort
from core.tests.browser import sign_in
from evaluations.models import Grid
from evaluations.sessions import CriterionEntry, change_session_status, save_grid
from evaluations.tests.factories import criteria_of, open_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_grid(page, assessment, username="jury1", groups=8):
    sign_in(page, username)
    page.goto(reverse("evaluations:grid", args=[assessment.pk]))
    expect(page.get_by_role("radiogroup")).to_have_count(groups)


def fill_some(assessment, assessor, values):
    """A draft with `values` (criterion pk -> level) and nothing else."""
    return save_grid(
        assessment,
        assessor=assessor,
        revision=0,
        entries={pk: CriterionEntry(value) for pk, value in values.items()},
        overall_comment="",
    )


def hold_autosaves(page):
    """Autosaves reach the server, but their answers are held back until the
    test calls release(): the browser sees a save still in flight."""
    held = []

    def handle(route):
        if route.request.headers.get("x-requested-with") == "fetch" and held is not None:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    def release():
        for route, response in held:
            route.fulfill(response=response)
        held.clear()

    page.route("**/grille/", handle)
    return held, release


def wait_for(page, condition):
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("la condition attendue n'est jamais arrivée")


def test_handing_in_during_an_autosave_waits_for_it_and_is_not_stale(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    groups = page.get_by_role("radiogroup")
    for index in range(7):
        groups.nth(index).get_by_text("3 · Maîtrisé").click()
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")

    held, release = hold_autosaves(page)
    groups.nth(7).get_by_text("2 · Acquis").click()
    wait_for(page, lambda: held)  # stored on the server, answer not yet back
    page.get_by_role("button", name="Remettre la grille").click()
    page.wait_for_timeout(300)
    assert len(held) == 1  # the hand-in waits for that save, sends no second one
    assert not Grid.objects.get(assessment=assessment).is_submitted
    release()

    # The only candidate of the session: back to the session page.
    expect(page.get_by_text("Toutes vos grilles sont remises.")).to_be_visible()
    grid = Grid.objects.get(assessment=assessment)
    assert grid.is_submitted
    assert sorted(grid.scores.values_list("value", flat=True)) == [2] + [3] * 7


def test_an_expired_session_is_told_apart_from_a_lost_connection(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    page.context.clear_cookies(name="sessionid")  # signed out; the CSRF cookie stays
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    expect(page.locator("#grid-alert")).to_contain_text("Votre session a expiré")
    expect(page.locator("#autosave-status")).to_have_text("Modifications non enregistrées.")
    expect(page.locator("#autosave-status")).to_have_class(re.compile(r"\btext-danger\b"))
    assert not Grid.objects.filter(assessment=assessment).exists()


def test_a_lost_connection_says_so(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    page.route("**/grille/", lambda route: route.abort())
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    expect(page.locator("#grid-alert")).to_contain_text("Connexion perdue")


def test_leaving_with_a_change_not_yet_stored_asks_first(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    held, _ = hold_autosaves(page)
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    wait_for(page, lambda: held)
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="Sessions").first.click()
    wait_for(page, lambda: dialogs)
    assert dialogs == ["beforeunload"]
    expect(page.get_by_role("radiogroup")).to_have_count(8)  # still on the grid


# --- Grading a whole session from the keyboard ----------------------------------

SHOTS = Path("/tmp/shots/grid")


def shoot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def focused(page):
    """The focused control: its name and value (a level, or a button's name)."""
    return page.evaluate(
        "() => { const e = document.activeElement;"
        " return e ? [e.name || '', e.value || '', e.closest('.criterion')"
        " ? e.closest('.criterion').dataset.criterion : ''] : null; }"
    )


def checked(page):
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('input[type=radio]:checked'))"
        ".map(r => r.name + '=' + r.value)"
    )


def count_autosaves(page):
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.headers.get("x-requested-with") == "fetch"
            else None
        ),
    )
    return posts


@pytest.fixture
def written_round(cohort, candidate, trainer):
    """M2.4 (eight criteria, written) for Emma and nine more candidates."""
    fill_cohort(cohort, 9)
    session = open_session("M2.4", cohort, [trainer], lead=trainer)
    return session, list(session.assessments.all())


def test_a_trainer_grades_ten_candidates_with_digits_and_enter(page, written_round, trainer):
    session, assessments = written_round
    criteria = criteria_of(session)
    assert (len(assessments), len(criteria)) == (10, 8)
    open_grid(page, assessments[0], username="formateur", groups=8)

    for number, assessment in enumerate(assessments):
        name = assessment.enrolment.candidate.full_name
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
        expect(page.locator("#handed-in")).to_have_text(f"{number} sur 10 remises")
        # On arrival the first criterion has the focus.
        wait_for(page, lambda: focused(page)[2] == str(criteria[0].pk))
        if number == 0:
            shoot(page, "arrival-focus")
        for index in range(len(criteria)):
            page.keyboard.press(str((number + index) % 4))
        expect(page.locator("#scored-count")).to_have_text("8")
        assert focused(page)[0] == "submit"  # "Remettre la grille" has the focus
        page.keyboard.press("Enter")
        if number < 9:
            following = assessments[number + 1].enrolment.candidate.full_name
            expect(page.get_by_text(f"Candidat suivant : {following}.")).to_be_visible()

    expect(page.get_by_text("Toutes vos grilles sont remises.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(session.modality.code)
    for number, assessment in enumerate(assessments):
        grid = Grid.objects.get(assessment=assessment, assessor=trainer)
        assert grid.is_submitted, number
        values = dict(grid.scores.values_list("criterion_id", "value"))
        assert [values[c.pk] for c in criteria] == [(number + i) % 4 for i in range(8)]


def test_arrow_keys_move_the_focus_and_never_change_a_score(page, oral_session, jury_member):
    assessment = oral_session.assessments.get()
    criteria = criteria_of(oral_session)
    fill_some(assessment, jury_member, {criteria[0].pk: 2, criteria[1].pk: 3})
    posts = count_autosaves(page)
    open_grid(page, assessment)
    before = checked(page)
    assert sorted(before) == sorted([f"value_{criteria[0].pk}=2", f"value_{criteria[1].pk}=3"])

    # The first unscored criterion has the focus, on its first level.
    wait_for(page, lambda: focused(page) == [f"value_{criteria[2].pk}", "0", str(criteria[2].pk)])
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert focused(page)[:2] == [f"value_{criteria[2].pk}", "2"]
    shoot(page, "focus-ring-on-a-level")
    page.keyboard.press("ArrowLeft")
    assert focused(page)[:2] == [f"value_{criteria[2].pk}", "1"]
    page.keyboard.press("ArrowUp")  # to the checked level of the criterion above
    assert focused(page)[:2] == [f"value_{criteria[1].pk}", "3"]
    for key in ("ArrowRight", "ArrowLeft", "ArrowLeft", "ArrowDown", "ArrowDown", "ArrowUp"):
        page.keyboard.press(key)
    page.wait_for_timeout(700)  # longer than the autosave's delay
    assert checked(page) == before
    assert posts == []
    expect(page.locator(".unsaved-mark:visible")).to_have_count(0)

    # Enter with criteria left unscored hands nothing in: it leads to the first.
    page.keyboard.press("Enter")
    expect(page.locator("#autosave-status")).to_have_text("Il reste 6 critères sans note.")
    assert focused(page)[2] == str(criteria[2].pk)
    # Space chooses the level under the focus; a digit scores and moves on.
    page.keyboard.press("ArrowRight")
    page.keyboard.press(" ")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("3")
    assert focused(page)[2] == str(criteria[4].pk)
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
    values = dict(grid.scores.values_list("criterion_id", "value"))
    assert [values.get(c.pk) for c in criteria[:5]] == [2, 3, 1, 3, None]
    assert not grid.is_submitted


def test_a_save_refused_because_the_session_closed_never_looks_saved(
    page, oral_session, jury_member, admin_user
):
    assessment = oral_session.assessments.get()
    criteria = criteria_of(oral_session)
    open_grid(page, assessment)
    page.keyboard.press("2")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    change_session_status(oral_session, status="closed", by=admin_user, confirmed=True)

    page.keyboard.press("3")  # the second criterion
    alert = page.locator("#grid-alert")
    expect(alert).to_contain_text("La session n'est pas ouverte à la notation")
    expect(alert).to_have_attribute("role", "alert")
    status = page.locator("#autosave-status")
    expect(status).to_have_text("Modifications non enregistrées.")
    expect(status).not_to_contain_text("Brouillon enregistré")
    second = page.locator(f".criterion[data-criterion='{criteria[1].pk}']")
    mark = second.locator(".unsaved-mark")
    expect(mark).to_be_visible()
    expect(mark).to_have_text("● non enregistré")
    expect(mark).to_have_class(re.compile(r"\btext-danger\b"))
    expect(second).to_have_class(re.compile(r"\bis-refused\b"))
    # The first criterion, saved before, carries no mark.
    expect(
        page.locator(f".criterion[data-criterion='{criteria[0].pk}'] .unsaved-mark")
    ).to_be_hidden()
    shoot(page, "refused-session-closed")

    # Every criterion scored, Enter tries to hand in: refused again, nothing handed in.
    for _ in range(6):
        page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.locator(".criterion.is-refused")).to_have_count(7)
    page.wait_for_timeout(300)
    expect(page.get_by_role("radiogroup")).to_have_count(8)  # still on the grid
    grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
    assert not grid.is_submitted
    assert list(grid.scores.values_list("value", flat=True)) == [2]


def test_a_refusal_of_one_criterion_is_shown_next_to_it(page, oral_session, jury_member):
    assessment = oral_session.assessments.get()
    criteria = criteria_of(oral_session)
    open_grid(page, assessment)
    page.keyboard.press("2")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    # A level the server does not know (a page older than the scale, say).
    third = page.locator(f".criterion[data-criterion='{criteria[2].pk}']")
    third.locator("input[type=radio]").last.evaluate("radio => { radio.value = '9'; }")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("9")
    error = third.locator(".criterion-error")
    expect(error).to_contain_text("9")
    expect(error).to_have_attribute("aria-live", "assertive")
    expect(error).to_have_class(re.compile(r"\btext-danger\b"))
    expect(third.locator(".unsaved-mark")).to_have_text("● non enregistré")
    expect(page.locator("#grid-alert")).to_contain_text("sous le critère concerné")
    expect(page.locator("#autosave-status")).not_to_contain_text("enregistré à")
    page.locator(f"#crit-{criteria[2].pk}").scroll_into_view_if_needed()
    shoot(page, "refused-one-criterion")
    grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
    assert list(grid.scores.values_list("value", flat=True)) == [2]

    # Choosing a real level again clears the mark once the server stored it.
    third.locator("input[type=radio]").first.evaluate("radio => radio.focus()")
    page.keyboard.press("1")
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    expect(error).to_have_text("")
    expect(third.locator(".unsaved-mark")).to_be_hidden()
    expect(page.locator("#grid-alert")).to_have_text("")


def test_on_a_numeric_scale_the_arrows_and_the_wheel_never_change_a_note(
    page, cohort, candidate, trainer
):
    data = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    data["certification"]["version"] = "sur 20"
    data["certification"]["grading_scale"] = {
        "kind": "numeric",
        "numeric_max": 20,
        "numeric_pass_mark": 10,
    }
    version = load_referential(json.dumps(data)).version
    on_twenty = Cohort.objects.create(
        name="Promotion notée sur 20",
        certification_version=version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )
    enrol(candidate, on_twenty, access_route="vae", by=None)
    session = open_session("M2.1", on_twenty, [trainer])
    assessment = session.assessments.get()
    first, second, third = criteria_of(session)
    open_grid(page, assessment, username="formateur", groups=0)
    boxes = page.locator("input[type=number]")
    expect(boxes).to_have_count(3)

    wait_for(page, lambda: focused(page)[0] == f"value_{first.pk}")
    page.keyboard.type("12.5")
    page.keyboard.press("ArrowDown")
    assert focused(page)[0] == f"value_{second.pk}"
    page.keyboard.press("ArrowUp")
    boxes.nth(0).hover()
    page.mouse.wheel(0, -300)
    page.keyboard.press("ArrowUp")  # already the first criterion: stays
    expect(boxes.nth(0)).to_have_value("12.5")
    expect(boxes.nth(1)).to_have_value("")
    # Enter goes to the first criterion still without a note, then hands in.
    page.keyboard.press("Enter")
    assert focused(page)[0] == f"value_{second.pk}"
    page.keyboard.type("14")
    page.keyboard.press("Enter")
    page.keyboard.type("9")
    page.keyboard.press("Enter")

    expect(page.get_by_text("Toutes vos grilles sont remises.")).to_be_visible()
    grid = Grid.objects.get(assessment=assessment, assessor=trainer)
    assert grid.is_submitted
    values = dict(grid.scores.values_list("criterion_id", "value"))
    assert [values[c.pk] for c in (first, second, third)] == [
        Decimal("12.5"),
        Decimal("14"),
        Decimal("9"),
    ]


def test_the_status_line_stays_on_screen_while_the_grid_scrolls(page, oral_session):
    open_grid(page, oral_session.assessments.get())
    page.set_viewport_size({"width": 1280, "height": 500})
    viewport = page.viewport_size["height"]

    for scroll in ("window.scrollTo(0, 0)", "window.scrollTo(0, document.body.scrollHeight / 2)"):
        page.evaluate(scroll)
        page.wait_for_timeout(100)
        box = page.locator(".grid-statusbar").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport, (scroll, box)
    assert page.evaluate("document.body.scrollHeight") > 2 * viewport  # a grid that scrolls
    expect(page.locator("#autosave-status")).to_have_attribute("role", "status")
