"""French order of names, in SQL, on SQLite and PostgreSQL alike."""

import pytest

from candidates.models import Candidate, name_ordering
from candidates.tests.factories import make_candidate
from core.collation import sort_key

FRENCH_ORDER = ["Celik", "Çelik", "Écuyer", "Eddy", "Périer", "Perrin"]


def test_the_key_compares_letters_then_accents_then_case():
    assert sorted(["Perrin", "Périer", "Eddy", "Çelik", "Écuyer", "Celik"], key=sort_key) == (
        FRENCH_ORDER
    )
    assert sorted(["élan", "Elan", "elan"], key=sort_key) == ["elan", "Elan", "élan"]


@pytest.mark.django_db
def test_candidates_come_in_french_order_from_the_database():
    for number, name in enumerate(reversed(FRENCH_ORDER)):
        make_candidate(number, birth_name=name)
    names = Candidate.objects.order_by(*name_ordering()).values_list("birth_name", flat=True)
    assert list(names) == FRENCH_ORDER


@pytest.mark.django_db
def test_the_usage_name_sorts_in_place_of_the_birth_name_and_first_names_break_ties():
    make_candidate(1, birth_name="Zola", usage_name="Çelik", first_names="Émile")
    make_candidate(2, birth_name="Celik", first_names="Zoé")
    make_candidate(3, birth_name="Celik", first_names="Anne")
    make_candidate(4, birth_name="Écuyer", first_names="Éric")
    order = [c.full_name for c in Candidate.objects.order_by(*name_ordering())]
    assert order == ["Celik Anne", "Celik Zoé", "Çelik Émile", "Écuyer Éric"]
