from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blocks.export import SHIPPED_FILE
from blocks.services import load_referential
from blocks.validation import ReferentialFileError

OUTCOMES = {
    "created": "Référentiel chargé",
    "replaced": "Référentiel remplacé (version brouillon)",
    "unchanged": "Référentiel déjà chargé, rien n'a changé",
}


class Command(BaseCommand):
    help = "Charge un référentiel (JSON) ; sans fichier, celui livré avec la plateforme."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(SHIPPED_FILE))

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Lecture impossible de {path} : {error}") from None
        try:
            result = load_referential(text)
        except ReferentialFileError as error:
            lines = "\n".join(f"  - {problem}" for problem in error.problems)
            raise CommandError(f"Fichier refusé ({path}), rien n'a été écrit :\n{lines}") from None
        self.stdout.write(f"{OUTCOMES[result.outcome]} : {result.version}.")
