"""People for tests: users of each role and candidates, built through the services."""

import datetime

from django.contrib.auth import get_user_model

from blocks.models import Bloc
from candidates.models import Candidate, Enrolment
from candidates.services import enrol
from core import roles

PASSWORD = "motdepasse-de-test"


def make_user(username, role=None, **extra):
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, first_name=username.capitalize(), **extra
    )
    if role:
        user.groups.add(roles.group(role))
    return user


def make_candidate(number, **extra):
    values = {
        "birth_name": f"Nom{number}",
        "first_names": f"Prénom{number}",
        "sex": Candidate.Sex.MALE,
        "birth_date": datetime.date(2000, 1, 1) + datetime.timedelta(days=number),
        "birth_country": "Belgique",
        **extra,
    }
    return Candidate.objects.create(**values)


def fill_cohort(cohort, count, start=100):
    """`count` more candidates in the cohort, each having chosen the optional bloc 4."""
    bloc4 = Bloc.objects.get(certification_version=cohort.certification_version, number=4)
    for number in range(start, start + count):
        enrol(
            make_candidate(number),
            cohort,
            access_route=Enrolment.AccessRoute.VAE,
            optional_blocs=[bloc4],
            by=None,
        )


def bulk_enrol(cohort, count, start):
    """`count` candidates enrolled in one insert each: for tests of size, not of rules."""
    candidates = Candidate.objects.bulk_create(
        Candidate(
            birth_name=f"Masse{n}",
            first_names=f"Prénom{n}",
            sex="F",
            birth_date=datetime.date(1990, 1, 1) + datetime.timedelta(days=n),
            birth_country="Suisse",
        )
        for n in range(start, start + count)
    )
    Enrolment.objects.bulk_create(
        Enrolment(candidate=c, cohort=cohort, access_route="vae") for c in candidates
    )
