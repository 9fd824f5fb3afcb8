"""A frozen version's criteria and bloc structure are read once per process (blocks.frozen)."""

import pytest

from blocks.models import EvaluationModality
from evaluations.sessions import modality_criteria
from evaluations.standings import bloc_structure

pytestmark = pytest.mark.django_db


def test_a_modalitys_criteria_are_read_once(referential, django_assert_num_queries):
    def modality():
        return EvaluationModality.objects.select_related("bloc__certification_version").get(
            bloc__certification_version=referential, code="M2.1"
        )

    first, second = modality(), modality()
    with django_assert_num_queries(1):
        criteria = modality_criteria(first)
    with django_assert_num_queries(0):
        assert modality_criteria(second) == criteria
    assert criteria and all(c.competence.modalities.filter(pk=first.pk).exists() for c in criteria)


def test_a_versions_bloc_structure_is_read_once(referential, django_assert_num_queries):
    with django_assert_num_queries(1):
        first = bloc_structure(referential)
    first[0] = "ajouté par un appelant"  # a caller's own outer dictionary
    with django_assert_num_queries(0):
        second = bloc_structure(referential)
    assert 0 not in second and second == {k: v for k, v in first.items() if k != 0}
    assert sorted(second) == sorted(referential.blocs.values_list("pk", flat=True))
