from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from candidates.importing import ImportRefused
from candidates.models import Cohort
from candidates.services import apply_import


class Command(BaseCommand):
    help = (
        "Importe les candidats d'une promotion depuis un fichier .csv ou .xlsx : "
        "tout le fichier, ou rien s'il contient une erreur."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cohort", required=True, help="Nom exact de la promotion.")
        parser.add_argument("file", help="Fichier .csv ou .xlsx des candidats.")

    def handle(self, *args, cohort, file, **options):
        try:
            promotion = Cohort.objects.get(name=cohort)
        except Cohort.DoesNotExist:
            known = ", ".join(
                f"« {name} »" for name in Cohort.objects.values_list("name", flat=True)
            )
            raise CommandError(
                f"Promotion inconnue : « {cohort} »."
                + (f" Promotions existantes : {known}." if known else " Aucune promotion créée.")
            ) from None
        path = Path(file)
        try:
            content = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Lecture impossible de {path} : {error}") from None
        try:
            plan = apply_import(promotion, path.name, content, by=None)
        except ImportRefused as refused:
            lines = "\n".join(f"  - {problem}" for problem in refused.problems)
            raise CommandError(f"Fichier refusé, rien n'a été écrit :\n{lines}") from None
        self.stdout.write(
            f"Import dans la promotion « {promotion} » terminé :\n"
            f"  créés : {len(plan.to_create)}\n"
            f"  inscrits existants : {len(plan.to_enrol_existing)}\n"
            f"  déjà inscrits : {len(plan.already_enrolled)}"
        )
