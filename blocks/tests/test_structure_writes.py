"""Writing a version's structure: a fixed, small number of queries (one bulk
insert per kind of row), the same structure as row by row, drafts only."""

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from blocks.export import SHIPPED_FILE, export_version
from blocks.models import (
    Activity,
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
    GradingLevel,
    ReferentialFrozen,
)
from blocks.services import _write_structure, duplicate_version, load_referential
from blocks.tests.factories import grown_referential
from blocks.validation import parse_referential, validate_referential

pytestmark = pytest.mark.django_db

# Measured: 20 queries to load (version, 7 bulk inserts, activation and its
# checks, audit events) and 21 to duplicate (export of the source, 7 bulk
# inserts, audit event), on SQLite and PostgreSQL. Row by row it took 200.
MAX_QUERIES = 25


def shipped_text():
    return SHIPPED_FILE.read_text(encoding="utf-8")


def rows_of(version):
    """How many rows of each kind the version owns, children by their own link."""
    return {
        "levels": GradingLevel.objects.filter(certification_version=version).count(),
        "blocs": Bloc.objects.filter(certification_version=version).count(),
        "activities": Activity.objects.filter(certification_version=version).count(),
        "competences": Competence.objects.filter(certification_version=version).count(),
        "criteria": Criterion.objects.filter(competence__certification_version=version).count(),
        "modalities": EvaluationModality.objects.filter(
            bloc__certification_version=version
        ).count(),
        "covered": EvaluationModality.competences.through.objects.filter(
            competence__certification_version=version
        ).count(),
    }


SHIPPED_ROWS = {
    "levels": 4,
    "blocs": 4,
    "activities": 11,
    "competences": 38,
    "criteria": 88,
    "modalities": 14,
    "covered": 38,
}


def test_loading_the_shipped_referential_takes_few_queries(
    empty_database, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_QUERIES):
        version = load_referential(shipped_text()).version
    assert version.status == CertificationVersion.Status.ACTIVE
    assert export_version(version) == validate_referential(parse_referential(shipped_text()))
    assert rows_of(version) == SHIPPED_ROWS


def test_loading_a_bigger_referential_takes_as_many_queries(referential):
    """The count does not grow with the referential: two more blocs, and more
    of every kind of row in each, cost no query more."""
    with CaptureQueriesContext(connection) as shipped:
        load_referential(shipped_text().replace('"version": "1"', '"version": "bis"', 1))
    with CaptureQueriesContext(connection) as grown:
        version = grown_referential("grand")
    assert len(grown) == len(shipped) <= MAX_QUERIES
    assert rows_of(version)["blocs"] == 6


def test_duplicating_a_version_takes_few_queries_and_copies_it_all(
    referential, admin_user, django_assert_max_num_queries
):
    original = export_version(referential)
    with django_assert_max_num_queries(MAX_QUERIES):
        copy = duplicate_version(referential, new_label="2", by=admin_user)
    copied = export_version(copy)
    assert copy.status == CertificationVersion.Status.DRAFT
    assert copied["blocs"] == original["blocs"]
    identity = dict(copied["certification"])
    assert identity.pop("version") == "2"
    assert identity.pop("status") == CertificationVersion.Status.DRAFT
    assert identity == {
        key: value
        for key, value in original["certification"].items()
        if key not in ("version", "status")
    }
    assert rows_of(copy) == rows_of(referential) == SHIPPED_ROWS
    # Every competence a modality covers is one of the copy's, in the same bloc.
    covers = EvaluationModality.competences.through.objects.filter(
        evaluationmodality__bloc__certification_version=copy
    )
    assert not covers.exclude(competence__bloc=F("evaluationmodality__bloc")).exists()


def test_structure_is_written_only_into_a_draft(referential):
    """Bulk inserts skip `StructureItem.save()`: the writer checks the stored
    version itself, so even a stale object of a frozen version is refused."""
    canonical = export_version(referential)
    stale = CertificationVersion.objects.get(pk=referential.pk)
    stale.status = CertificationVersion.Status.DRAFT
    with pytest.raises(ReferentialFrozen, match="est figée"), transaction.atomic():
        _write_structure(stale, canonical)
    referential.refresh_from_db()
    assert referential.status == CertificationVersion.Status.ACTIVE
    assert rows_of(referential) == SHIPPED_ROWS
