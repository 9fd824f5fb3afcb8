"""Exam sessions, grids and deliberations for tests, built through the services."""

import datetime
import threading

from django.db import connection

from blocks.models import Bloc, EvaluationModality
from candidates.models import Cohort
from candidates.tests.factories import fill_cohort
from evaluations.deliberations import record_decision, sign_minutes
from evaluations.juries import add_member, create_jury, declare_independence
from evaluations.models import BlocDecision, Grid
from evaluations.sessions import (
    CriterionEntry,
    change_session_status,
    create_session,
    modality_criteria,
    save_grid,
)
from evaluations.standings import deliberation_table


def open_session(code, cohort, assessors, *, lead=None, jury=None):
    session = create_session(
        modality=EvaluationModality.objects.get(
            bloc__certification_version=cohort.certification_version, code=code
        ),
        cohort=cohort,
        date=datetime.date(2027, 3, 15),
        place="Salle Lumière",
        assessors=assessors,
        lead=lead,
        jury=jury,
        by=None,
    )
    return change_session_status(session, status="open", by=None)


def criteria_of(session):
    return list(modality_criteria(session.modality))


def fill(assessment, assessor, value, *, submit=False):
    """The assessor's grid with `value` on every criterion, handed in if `submit`."""
    grid = Grid.objects.filter(assessment=assessment, assessor=assessor).first()
    return save_grid(
        assessment,
        assessor=assessor,
        revision=grid.revision if grid else 0,
        entries={c.pk: CriterionEntry(value) for c in criteria_of(assessment.session)},
        overall_comment="",
        submit=submit,
    )


def sit_bloc(cohort, number, value, *, trainer, jury):
    """Every modality of the bloc held and scored `value` on every criterion."""
    modalities = EvaluationModality.objects.filter(
        bloc__certification_version=cohort.certification_version, bloc__number=number
    )
    for modality in modalities:
        if modality.assessed_by == EvaluationModality.AssessedBy.JURY:
            assessors = [member.user for member in jury.members.all()]
            session = open_session(modality.code, cohort, assessors, jury=jury)
        else:
            assessors = [trainer]
            session = open_session(modality.code, cohort, assessors)
        for assessment in session.assessments.all():
            for assessor in assessors:
                fill(assessment, assessor, value, submit=True)


def bloc(enrolment, number):
    return Bloc.objects.get(
        certification_version=enrolment.cohort.certification_version, number=number
    )


def decide_as_proposed(deliberation, enrolment, user):
    """The jury follows the proposal on every bloc due of `enrolment`."""
    for cell in deliberation_table(deliberation, only=enrolment)[0].cells:
        if cell.due:
            record_decision(
                deliberation,
                enrolment=enrolment,
                bloc=cell.bloc,
                decision=(
                    BlocDecision.Decision.VALIDATED
                    if cell.result.proposed_validated
                    else BlocDecision.Decision.NOT_VALIDATED
                ),
                user=user,
            )


def sign_all(deliberation, jury_member, second_jury_member, capture, *, render_minutes=False):
    """jury2 signs, then the president (jury1), which closes the deliberation.

    The PV PDF is rendered after commit; only tests that read it ask for it
    (`render_minutes`), since WeasyPrint is the slowest part of the suite."""
    sign_minutes(deliberation, user=second_jury_member)
    with capture(execute=render_minutes):
        signed = sign_minutes(deliberation, user=jury_member)
    signed.refresh_from_db()
    return signed


def another_jury(version, president, member, *, name="Jury du soir"):
    """A second lawful jury of the same people, who declared their independence."""
    jury = create_jury(
        name=name,
        certification_version=version,
        date=datetime.date(2027, 6, 27),
        place="Lyon",
        by=None,
    )
    add_member(jury, user=president, role="president", external=False, by=None)
    add_member(jury, user=member, role="member", external=True, by=None)
    for seat in jury.members.all():
        declare_independence(seat, user=seat.user)
    return jury


def another_cohort(cohort, trainer, name, *, start):
    """Another promotion of `trainer` on the same version: three candidates who
    sat M2.1 and M3.1, their grids handed in."""
    other = Cohort.objects.create(
        name=name,
        certification_version=cohort.certification_version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )
    other.trainers.add(trainer)
    fill_cohort(other, 3, start=start)
    for code in ("M2.1", "M3.1"):
        session = open_session(code, other, [trainer], lead=trainer)
        for assessment in session.assessments.all():
            fill(assessment, trainer, 2, submit=True)
    return other


def at_once(*calls):
    """Run each call in its own thread and connection, released together."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes
