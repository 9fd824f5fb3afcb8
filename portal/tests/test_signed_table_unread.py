"""The table a jury signed weighs about a kilobyte per candidate: the pages
that list deliberations, or what points to them, never read it; only the
PV's own page and files do."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certification.tests.factories import issued

pytestmark = pytest.mark.django_db


def test_pages_listing_deliberations_leave_the_signed_table_unread(
    login, decision, admin_user, candidate_user, django_capture_on_commit_callbacks
):
    issued(decision, django_capture_on_commit_callbacks)
    published = decision.deliberation
    assert published.signed_table
    pages = [
        (candidate_user, reverse("portal:candidate_home")),
        (candidate_user, reverse("portal:my_transcript")),
        (admin_user, reverse("portal:office_dashboard")),
        (admin_user, reverse("certification:certificates")),
        (admin_user, reverse("certification:cpf")),
        (admin_user, reverse("evaluations:jury", args=[published.jury_id])),
    ]
    for user, url in pages:
        client = login(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            b"".join(getattr(response, "streaming_content", [response.content]))
        assert response.status_code == 200, url
        reading = [q["sql"] for q in queries.captured_queries if "signed_table" in q["sql"]]
        assert not reading, (url, reading)

    # The PV's own page does read it: the test would see it.
    with CaptureQueriesContext(connection) as queries:
        assert login(admin_user).get(published.get_absolute_url()).status_code == 200
    assert any("signed_table" in q["sql"] for q in queries.captured_queries)
