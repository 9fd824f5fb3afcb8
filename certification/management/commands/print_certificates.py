import io

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from pypdf import PdfWriter

from evaluations.models import Deliberation

from ...models import PrintJob
from ...printing import due_titles, print_certificates, start_print_job
from ...services import due_bloc_decisions


class Command(BaseCommand):
    help = (
        "Délivre les certificats dus par les procès-verbaux publiés d'un jury et les "
        "réunit dans un PDF à imprimer."
    )

    def add_arguments(self, parser):
        parser.add_argument("--jury", required=True, help="Nom exact du jury.")
        parser.add_argument("--out", required=True, help="Fichier PDF à écrire.")

    def handle(self, *args, jury, out, **options):
        deliberations = Deliberation.objects.effective().filter(jury__name=jury)
        if not deliberations.exists():
            raise CommandError(f"Aucun procès-verbal publié en vigueur pour le jury « {jury} ».")
        writer = PdfWriter()
        for deliberation in deliberations.select_related("jury").order_by("signed_at"):
            if not due_bloc_decisions(deliberation).exists() and not due_titles(deliberation):
                self.stdout.write(f"{deliberation} : aucun certificat à délivrer.")
                continue
            try:
                job = start_print_job(deliberation, by=None, enqueue=False)
            except ValidationError as error:
                raise CommandError(" ".join(error.messages)) from error
            print_certificates.call(job.pk)  # here and now, whatever the task backend
            job = PrintJob.objects.get(pk=job.pk)
            if job.status != PrintJob.Status.DONE:
                raise CommandError(f"Impression impossible : {job.error}")
            with job.merged_pdf.open("rb") as merged:
                writer.append(io.BytesIO(merged.read()))
            self.stdout.write(
                f"{deliberation} : {job.done} certificat(s) délivré(s) sur {job.total}, "
                f"{job.certificates.count()} dans le PDF."
            )
        with open(out, "wb") as target:
            writer.write(target)
        self.stdout.write(f"PDF écrit : {out} ({len(writer.pages)} page(s)).")
