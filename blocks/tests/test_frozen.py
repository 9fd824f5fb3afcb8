"""A frozen version's structure is read once per process; a draft's every time."""

import datetime

import pytest

from blocks.models import CertificationVersion, GradingLevel

pytestmark = pytest.mark.django_db


def fresh(version):
    """The version as another request of the same process would load it."""
    return CertificationVersion.objects.get(pk=version.pk)


def test_an_active_versions_levels_are_read_once(referential, django_assert_num_queries):
    first, second = fresh(referential), fresh(referential)
    with django_assert_num_queries(1):
        levels = first.levels()
    with django_assert_num_queries(0):
        assert second.levels() == levels
    assert [level.value for level in levels] == sorted(level.value for level in levels)


def test_a_drafts_levels_are_read_every_time(draft_version, django_assert_num_queries):
    draft = fresh(draft_version)
    draft.levels()
    GradingLevel.objects.filter(certification_version=draft).update(label="Renommé")
    again = fresh(draft_version)
    with django_assert_num_queries(1):
        assert {level.label for level in again.levels()} == {"Renommé"}


def test_a_rebuilt_database_under_the_same_ids_is_read_again(
    referential, django_assert_num_queries
):
    fresh(referential).levels()
    rebuilt = fresh(referential)
    rebuilt.created_at += datetime.timedelta(seconds=1)
    with django_assert_num_queries(1):
        rebuilt.levels()
