from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

DEMO_PASSWORD = "demo1234"
DEMO_USERS = [
    # username, first name, last name, staff
    ("admin", "Alice", "Martin", True),
    ("formateur", "Bruno", "Lefèvre", False),
    ("jury1", "Claire", "Dubois", False),
    ("jury2", "David", "Moreau", False),
    ("candidat", "Emma", "Petit", False),
]


class Command(BaseCommand):
    help = "Charge les données de démonstration (comptes, référentiel). Refusé hors DEBUG."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Les données de démonstration ne se chargent qu'en mode développement "
                "(DJANGO_DEBUG=1) : leurs mots de passe sont publics."
            )
        call_command("load_referential", stdout=self.stdout)
        with transaction.atomic():
            for username, first_name, last_name, staff in DEMO_USERS:
                self.ensure_user(username, first_name, last_name, staff)
        self.stdout.write("Comptes de démonstration (mot de passe « demo1234 ») :")
        for username, *_ in DEMO_USERS:
            self.stdout.write(f"  - {username}")

    def ensure_user(self, username, first_name, last_name, staff):
        user, created = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@demo.invalid",
                "is_staff": staff,
                "is_superuser": staff,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
