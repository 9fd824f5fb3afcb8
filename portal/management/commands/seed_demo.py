import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from blocks.models import CertificationVersion, EvaluationModality
from candidates.importing import SAMPLE_FILE
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import apply_import, enrol, save_candidate, save_cohort
from certification.models import Certificate
from certification.services import due_bloc_decisions, issue_bloc_certificate
from core import roles
from core.models import Profile
from evaluations.deliberations import (
    open_deliberation,
    publish_results,
    record_decision,
    sign_minutes,
)
from evaluations.juries import add_member, create_jury, declare_independence
from evaluations.models import BlocDecision, ExamSession, Jury, JuryMember
from evaluations.sessions import (
    CriterionEntry,
    change_session_status,
    create_session,
    modality_criteria,
    save_grid,
)
from evaluations.standings import deliberation_table

DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    # username, first name, last name, role
    ("admin", "Alice", "Martin", roles.ADMIN),
    ("formateur", "Bruno", "Lefèvre", roles.TRAINER),
    ("formateur2", "Farida", "Benali", roles.TRAINER),
    ("jury1", "Claire", "Dubois", roles.JURY_MEMBER),
    ("jury2", "David", "Moreau", roles.JURY_MEMBER),
    ("candidat", "Emma", "Petit", roles.CANDIDATE),
]
# The organisation each trainer or jury member comes from (page « Personnes »).
DEMO_ORGANISATIONS = {
    "formateur": "CEFPF",
    "formateur2": "CEFPF",
    "jury1": "CEFPF",
    "jury2": "Les Films du Lendemain",
}
DEMO_COHORT = "Promotion 2026-2027"
DEMO_JURY = "Jury de certification 2027"


class Command(BaseCommand):
    help = (
        "Charge les données de démonstration (référentiel, comptes, promotion). Refusé hors DEBUG."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Les données de démonstration ne se chargent qu'en mode développement "
                "(DJANGO_DEBUG=1) : leurs mots de passe sont publics."
            )
        call_command("load_referential", stdout=self.stdout)
        with transaction.atomic():
            users = {
                username: self.ensure_user(username, first, last, role)
                for username, first, last, role in DEMO_USERS
            }
            cohort = self.ensure_cohort(users)
            self.ensure_demo_candidate(cohort, users["candidat"], users["admin"])
            plan = apply_import(
                cohort, SAMPLE_FILE.name, SAMPLE_FILE.read_bytes(), by=users["admin"]
            )
            jury = self.ensure_jury(cohort, users)
            sessions = self.ensure_sessions(cohort, users, jury)
            deliberation = self.ensure_deliberation(jury, cohort, users)
            certificates = self.ensure_certificates(deliberation, users)
        self.stdout.write(
            f"Promotion « {cohort} » : {cohort.enrolments.count()} inscrits "
            f"({len(plan.to_create)} ajoutés par l'import d'exemple)."
        )
        self.stdout.write(f"Sessions d'examen des blocs 1 à 3 : {sessions}.")
        self.stdout.write(
            f"Jury « {jury} » : {deliberation} signée et publiée "
            "(Emma Petit valide les blocs 1 et 3, pas le bloc 2)."
        )
        self.stdout.write(
            f"Certificats de démonstration d'Emma Petit : {', '.join(certificates)} "
            "(mentions RNCP fictives, marquées « DÉMO »)."
        )
        self.stdout.write(f"Comptes de démonstration (mot de passe « {DEMO_PASSWORD} ») :")
        for username, first, last, role in DEMO_USERS:
            self.stdout.write(f"  - {username:<11} {role} ({first} {last})")

    def ensure_user(self, username, first_name, last_name, role):
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo.invalid",
                "is_staff": role == roles.ADMIN,
                "is_superuser": role == roles.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(roles.group(role))
        if username in DEMO_ORGANISATIONS:
            Profile.objects.get_or_create(
                user=user, defaults={"organisation": DEMO_ORGANISATIONS[username]}
            )
        return user

    def ensure_cohort(self, users):
        cohort = Cohort.objects.filter(name=DEMO_COHORT).first()
        if cohort is None:
            cohort = save_cohort(
                Cohort(),
                values={
                    "name": DEMO_COHORT,
                    "certification_version": CertificationVersion.objects.active().get(),
                    "start_date": datetime.date(2026, 9, 7),
                    "end_date": datetime.date(2027, 6, 25),
                },
                trainers=[users["formateur"], users["formateur2"]],
                by=users["admin"],
            )
        return cohort

    def ensure_demo_candidate(self, cohort, user, admin):
        candidate = Candidate.objects.filter(user=user).first()
        if candidate is None:
            candidate = save_candidate(
                Candidate(user=user),
                values={
                    "birth_name": "Petit",
                    "first_names": "Emma Louise",
                    "sex": Candidate.Sex.FEMALE,
                    "birth_date": datetime.date(2001, 4, 12),
                    "birth_commune": "Lyon",
                    "birth_insee_code": "69123",
                    "email": "emma.petit@demo.invalid",
                },
                by=admin,
            )
        if not candidate.enrolments.filter(cohort=cohort).exists():
            enrol(
                candidate,
                cohort,
                access_route=Enrolment.AccessRoute.INITIAL,
                optional_blocs=list(cohort.certification_version.blocs.filter(optional=True)),
                by=admin,
            )

    def ensure_jury(self, cohort, users):
        """jury1 presides (from the centre), jury2 is an external professional."""
        jury = Jury.objects.filter(name=DEMO_JURY).first()
        if jury is None:
            jury = create_jury(
                name=DEMO_JURY,
                certification_version=cohort.certification_version,
                date=datetime.date(2026, 11, 20),
                place="CEFPF, Paris",
                by=users["admin"],
            )
            add_member(
                jury,
                user=users["jury1"],
                role=JuryMember.Role.PRESIDENT,
                external=False,
                organisation="CEFPF",
                by=users["admin"],
            )
            add_member(
                jury,
                user=users["jury2"],
                role=JuryMember.Role.MEMBER,
                external=True,
                organisation="Les Films du Lendemain",
                by=users["admin"],
            )
            for member in jury.members.select_related("user"):
                declare_independence(member, user=member.user)
        return jury

    def ensure_deliberation(self, jury, cohort, users):
        """Decisions as proposed by the scores, signed by both members, published."""
        deliberation = jury.deliberations.filter(cohort=cohort).first()
        if deliberation is not None:
            return deliberation
        deliberation = open_deliberation(jury, cohort, by=users["admin"])
        for row in deliberation_table(deliberation):
            for cell in row.cells:
                if cell.due:
                    record_decision(
                        deliberation,
                        enrolment=row.enrolment,
                        bloc=cell.bloc,
                        decision=(
                            BlocDecision.Decision.VALIDATED
                            if cell.result.proposed_validated
                            else BlocDecision.Decision.NOT_VALIDATED
                        ),
                        user=users["jury2"],
                    )
        sign_minutes(deliberation, user=users["jury2"])
        sign_minutes(deliberation, user=users["jury1"])
        return publish_results(deliberation, by=users["admin"])

    def ensure_certificates(self, deliberation, users):
        """Fictional mentions (the real ones are the certifier's to enter), then
        the demo candidate's bloc certificates."""
        version = deliberation.jury.certification_version
        if not version.rncp_code:
            version.rncp_code = "RNCP-DÉMO"
            version.registration_decision_date = datetime.date(2024, 1, 1)
            version.national_level = "DÉMO"
            version.european_level = "niveau DÉMO"
            version.nsf_codes = "DÉMO"
            version.issue_place = "Paris"
            version.signatory_name = "Signataire de démonstration"
            version.signatory_title = "Direction du CEFPF (démo)"
            version.save()
        for decision in due_bloc_decisions(deliberation).filter(
            enrolment__candidate__user=users["candidat"]
        ):
            issue_bloc_certificate(decision, by=users["admin"])
        return [
            certificate.number
            for certificate in Certificate.objects.filter(candidate__user=users["candidat"])
        ]

    def ensure_sessions(self, cohort, users, jury):
        """One session per modality of blocs 1 to 3: most scored and closed, two
        half done, one planned, and the oral M1.1 open for jury1 and jury2."""
        trainers = [users["formateur"], users["formateur2"]]
        modalities = EvaluationModality.objects.filter(
            bloc__certification_version=cohort.certification_version, bloc__number__lte=3
        ).order_by("bloc__number", "order")
        for index, modality in enumerate(modalities):
            if ExamSession.objects.filter(cohort=cohort, modality=modality).exists():
                continue
            oral = modality.assessed_by == EvaluationModality.AssessedBy.JURY
            assessors = [users["jury1"], users["jury2"]] if oral else [trainers[index % 2]]
            session = create_session(
                modality=modality,
                cohort=cohort,
                date=(
                    datetime.date(2026, 12, 10)
                    if modality.code == "M2.5"
                    else datetime.date(2026, 9, 14) + datetime.timedelta(days=7 * index)
                ),
                place="Studio 2" if oral else "Salle 104",
                assessors=assessors,
                lead=assessors[0],
                jury=jury if oral else None,
                by=users["admin"],
            )
            if modality.code == "M2.5":
                continue  # planned: nothing scored yet
            change_session_status(session, status="open", by=users["admin"])
            # The demo candidate first, so that her grids are always complete.
            assessments = sorted(
                session.assessments.select_related("enrolment__candidate"),
                key=lambda a: (a.enrolment.candidate.user_id != users["candidat"].pk, a.pk),
            )
            half_done = oral or modality.code in {"M2.3", "M2.4"}
            half = len(assessments) // 2
            for position, assessment in enumerate(assessments):
                if half_done and position >= half + (0 if oral else 2):
                    break
                for assessor in assessors:
                    submit = not half_done or position < half
                    self.score(assessment, assessor, users["candidat"], submit=submit)
            if not half_done:
                change_session_status(session, status="closed", by=users["admin"])
        return ExamSession.objects.filter(cohort=cohort).count()

    def score(self, assessment, assessor, demo_user, *, submit):
        """Plausible scores: mostly passing; the demo candidate fails bloc 2."""
        candidate = assessment.enrolment.candidate
        bloc = assessment.session.modality.bloc.number
        entries = {}
        for criterion in modality_criteria(assessment.session.modality):
            if candidate.user_id == demo_user.pk:
                value = 1 if bloc == 2 and criterion.order == 1 else 3 - criterion.order % 2
            elif candidate.pk % 4 == 0 and criterion.order == 1:
                value = 1  # one candidate in four falls short on some competences
            else:
                value = 3 if (candidate.pk + criterion.pk) % 3 == 0 else 2
            entries[criterion.pk] = CriterionEntry(value)
        save_grid(
            assessment,
            assessor=assessor,
            revision=0,
            entries=entries,
            overall_comment="Travail sérieux." if submit else "",
            submit=submit,
        )
