"""Every control of the main pages has a label and every image a text
alternative; charts come with their figures in text."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Controls(HTMLParser):
    def __init__(self):
        super().__init__()
        self.labelled = set()
        self.controls = []
        self.images = []
        self.progressbars = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.labelled.add(attrs["for"])
        if tag in {"input", "select", "textarea"} and attrs.get("type") not in {
            "hidden",
            "submit",
        }:
            self.controls.append(attrs)
        if tag == "img":
            self.images.append(attrs)
        if attrs.get("role") == "progressbar":
            self.progressbars.append(attrs)

    def unlabelled(self):
        return [
            control
            for control in self.controls
            if control.get("id") not in self.labelled
            and not control.get("aria-label")
            and not control.get("aria-labelledby")
        ]


def check(html):
    parser = Controls()
    parser.feed(html)
    assert parser.unlabelled() == []
    assert all(image.get("alt") for image in parser.images)
    assert all(bar.get("aria-label") and bar.get("aria-valuenow") for bar in parser.progressbars)
    return parser


def test_main_pages_are_labelled(
    client, login, signed, admin_user, trainer, jury_member, candidate_user, cohort
):
    check(client.get(reverse("login")).content.decode())
    check(client.get(reverse("certification:verify_form")).content.decode())
    assessment = signed.cohort.sessions.get(modality__code="M2.1").assessments.get()
    pages = [
        (admin_user, reverse("portal:office_dashboard")),
        (admin_user, reverse("certification:certificates")),
        (admin_user, reverse("candidates:cohort_import", args=[cohort.pk])),
        (admin_user, reverse("candidates:cohort_new_candidate", args=[cohort.pk])),
        (trainer, reverse("portal:trainer_dashboard")),
        (trainer, reverse("portal:heatmap", args=[cohort.pk])),
        (trainer, reverse("evaluations:grid", args=[assessment.pk])),
        (jury_member, reverse("portal:jury_dashboard")),
        (jury_member, signed.get_absolute_url()),
        (candidate_user, reverse("portal:candidate_home")),
        (candidate_user, reverse("portal:my_data")),
    ]
    for user, url in pages:
        response = login(user).get(url)
        assert response.status_code == 200, url
        check(response.content.decode())
    home = login(candidate_user).get(reverse("portal:candidate_home")).content.decode()
    # One bar for each bloc Emma takes (1 to 3; she did not choose bloc 4), each also as text.
    bars = check(home).progressbars
    assert [bar["aria-label"] for bar in bars] == [
        f"Compétences acquises, bloc {number}" for number in (1, 2, 3)
    ]
    assert home.count("compétence(s) acquise(s) sur") == 3
