"""The office invites people from the platform, and they sign in: in Chromium."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from candidates.services import enrol
from candidates.tests.factories import make_candidate
from core.tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Un-mot-de-passe-sur-42"


def test_the_office_invites_a_jury_member_who_chooses_a_password(page, admin_user):
    sign_in(page, "admin")
    page.get_by_role("link", name="Personnes").click()
    page.get_by_role("link", name="Nouvelle personne").click()
    page.get_by_label("Prénom").fill("Claire")
    page.get_by_label("Nom*", exact=True).fill("Dubois")
    page.get_by_label("Adresse électronique").fill("claire.dubois@studio-nord.fr")
    page.get_by_label("Membre de jury").check()
    page.get_by_label("Organisme").fill("Studio Nord")
    expect(page.get_by_label("Envoyer l'invitation tout de suite")).to_be_checked()
    page.get_by_role("button", name="Créer le compte").click()

    expect(page.get_by_text("Compte de Claire Dubois créé ; invitation envoyée")).to_be_visible()
    page.get_by_role("link", name="Personnes").first.click()
    row = page.get_by_role("row").filter(has_text="Claire Dubois")
    expect(row).to_contain_text("membre de jury")
    expect(row).to_contain_text("Studio Nord")
    expect(row).to_contain_text("invitation envoyée le")

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/mot-de-passe/\S+/)", mail.outbox[0].body).group(1)
    sign_out(page)
    page.goto(link)
    page.get_by_label("Nouveau mot de passe*", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du nouveau mot de passe*", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    sign_in(page, "claire.dubois@studio-nord.fr", NEW_PASSWORD)
    expect(page).to_have_url(re.compile("/tableau-de-bord/jury/$"))


def test_the_office_invites_the_candidates_of_a_cohort_at_once(page, admin_user, cohort):
    for number, email in enumerate(["lou@example.org", "max@example.org", ""], start=1):
        enrol(make_candidate(number, email=email), cohort, access_route="vae", by=None)
    sign_in(page, "admin")
    page.goto(cohort.get_absolute_url())
    expect(
        page.get_by_text("1 candidat sans adresse électronique ne peut pas être invité")
    ).to_be_visible()
    page.get_by_role("button", name="Inviter les 2 candidats sans compte").click()

    expect(page.get_by_text("2 candidat(s) invité(s)")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("sans compte"))).to_have_count(0)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "lou@example.org",
        "max@example.org",
    ]
