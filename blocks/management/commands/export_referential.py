from django.core.management.base import BaseCommand, CommandError

from blocks.export import dump_referential, export_version
from blocks.models import CertificationVersion


class Command(BaseCommand):
    help = "Affiche un référentiel chargé au format JSON du fichier de référentiel."

    def add_arguments(self, parser):
        parser.add_argument(
            "--version-label",
            help="Libellé de la version à exporter (par défaut : la seule version, ou l'active).",
        )

    def handle(self, *args, version_label=None, **options):
        versions = CertificationVersion.objects.all()
        if version_label:
            versions = versions.filter(version=version_label)
        elif versions.count() > 1:
            versions = versions.active()
        versions = list(versions[:2])
        if len(versions) != 1:
            raise CommandError(
                "Précisez la version à exporter avec --version-label."
                if versions
                else "Aucune version de certification ne correspond."
            )
        self.stdout.write(dump_referential(export_version(versions[0])), ending="")
