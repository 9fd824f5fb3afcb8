import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from blocks.models import CertificationVersion
from candidates import roles
from candidates.importing import SAMPLE_FILE, apply_import
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import enrol, save_candidate, save_cohort

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
DEMO_COHORT = "Promotion 2026-2027"


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
        self.stdout.write(
            f"Promotion « {cohort} » : {cohort.enrolments.count()} inscrits "
            f"({len(plan.to_create)} ajoutés par l'import d'exemple)."
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
