from django.core.management.base import BaseCommand

from core.notifications import remind_expiring_invitations, resend_unsent


class Command(BaseCommand):
    help = (
        "Tâche quotidienne des courriels : rappelle leur invitation aux comptes qui n'ont "
        "pas encore choisi leur mot de passe, quelques jours avant que le lien n'expire, "
        "et renvoie les courriels en échec. À lancer une fois par jour (minuteur systemd "
        "deploy/certification-reminders.timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Rappeler les invitations qui expirent dans ce nombre de jours "
            "(par défaut INVITATION_REMINDER_DAYS, 1).",
        )

    def handle(self, *args, days=None, **options):
        reminded = remind_expiring_invitations(days=days)
        resent = resend_unsent()
        self.stdout.write(
            f"Rappels d'invitation : {reminded.queued} envoyé(s)"
            + (f", {reminded.skipped} sans adresse" if reminded.skipped else "")
            + f". Courriels renvoyés : {resent}."
        )
