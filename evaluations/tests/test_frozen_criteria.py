"""A frozen version's modality criteria are read once per process (blocks.frozen)."""

import pytest

from blocks.models import EvaluationModality
from evaluations.sessions import modality_criteria

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
