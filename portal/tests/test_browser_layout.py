"""The layout at the width of an office laptop (1,366 px), in Chromium."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from core.tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}


def page_width(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_office_navigation_fits_on_one_line_and_marks_the_current_page(page, admin_user):
    page.set_viewport_size(LAPTOP)
    sign_in(page, "admin")
    page.goto(reverse("candidates:cohorts"))
    navigation = page.get_by_role("navigation", name="Navigation principale")
    links = navigation.locator(".navbar-nav .nav-link")
    tops = {round(box["y"]) for box in (link.bounding_box() for link in links.all())}
    assert len(tops) == 1, tops
    expect(navigation.get_by_role("link", name="Promotions")).to_have_attribute(
        "aria-current", "page"
    )
    expect(navigation.locator("[aria-current=page]")).to_have_count(1)
    expect(navigation.get_by_role("link", name="CPF")).to_be_visible()
    assert page_width(page) <= LAPTOP["width"]


def test_the_competence_map_scrolls_inside_its_box_with_the_names_in_view(
    page, cohort, candidate, trainer
):
    page.set_viewport_size(LAPTOP)
    sign_in(page, "formateur")
    page.goto(reverse("portal:heatmap", args=[cohort.pk]))
    box = page.locator(".table-responsive")
    assert box.evaluate("e => e.scrollWidth > e.clientWidth")  # wider than the window
    assert page_width(page) <= LAPTOP["width"]
    name = page.get_by_role("rowheader", name=candidate.full_name)
    left = name.bounding_box()["x"]
    box.evaluate("e => { e.scrollLeft = 600 }")
    assert name.bounding_box()["x"] == left
    expect(name).to_be_visible()
