"""The rate limit of the public verification pages (core/ratelimit.py)."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings

from core import ratelimit

pytestmark = pytest.mark.django_db


@pytest.fixture
def limited(monkeypatch):
    """30 requests a minute, counters fresh, and a minute that does not end
    in the middle of the test."""
    monkeypatch.setattr(ratelimit, "current_window", lambda: 123456)
    cache.clear()
    with override_settings(VERIFY_RATE_LIMIT=30):
        yield
    cache.clear()


def test_the_31st_verification_in_a_minute_answers_429_in_french(client, limited):
    answers = [client.get("/verifier/").status_code for _ in range(30)]
    refused = client.get("/verifier/")

    assert answers == [200] * 30
    assert refused.status_code == 429
    assert "Trop de demandes" in refused.content.decode()
    assert 'aria-label="Navigation principale"' in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= 60


def test_the_form_and_the_codes_share_one_count(client, limited):
    for _ in range(15):
        client.get("/verifier/")
    answers = [client.get("/verifier/CODE-INCONNU/").status_code for _ in range(16)]

    assert answers[:15] == [404] * 15
    assert answers[15] == 429


def test_other_pages_and_other_addresses_are_unaffected(client, limited):
    for _ in range(31):
        client.get("/verifier/")

    assert client.get("/verifier/").status_code == 429
    assert client.get("/connexion/").status_code == 200
    assert client.get("/verifier/", REMOTE_ADDR="192.0.2.7").status_code == 200


def test_the_count_starts_again_the_next_minute(client, limited, monkeypatch):
    for _ in range(31):
        client.get("/verifier/")
    monkeypatch.setattr(ratelimit, "current_window", lambda: 123457)

    assert client.get("/verifier/").status_code == 200


def test_zero_turns_the_limit_off(client, limited):
    with override_settings(VERIFY_RATE_LIMIT=0):
        answers = {client.get("/verifier/").status_code for _ in range(40)}

    assert answers == {200}


def test_client_address_ignores_forwarded_for_without_a_proxy():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    with override_settings(BEHIND_PROXY=False):
        assert ratelimit.client_ip(request) == "203.0.113.5"


def test_client_address_behind_the_proxy_is_the_one_it_added():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.1"
    )

    with override_settings(BEHIND_PROXY=True):
        assert ratelimit.client_ip(request) == "198.51.100.1"
