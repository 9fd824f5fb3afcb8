"""The forms of the certificates' pages: every value a request carries is
read through one of them, so a bad value gets a French message, never a 500."""

from django import forms
from django.db.models import Q

from candidates.models import Cohort, Enrolment
from core.forms import SearchForm
from evaluations.models import BlocDecision, Deliberation

from .models import Certificate

VERIFICATION_CODE = r"^[A-Za-z0-9_-]+$"


class VerificationForm(forms.Form):
    code = forms.RegexField(
        label="Code de vérification",
        regex=VERIFICATION_CODE,
        max_length=64,
        strip=True,
        error_messages={
            "invalid": "Un code de vérification ne contient que des lettres, "
            "des chiffres, « - » et « _ »."
        },
    )


class CertificateSearchForm(SearchForm):
    """The register's filters: a number or a name, a status, a promotion, a
    year of issue. A value that is not one (an unknown status, "²" as a year)
    is left aside, the other filters still apply."""

    q = forms.CharField(label="Numéro ou nom", required=False, max_length=100)
    statut = forms.ChoiceField(
        label="Statut", choices=[("", "Tous")] + Certificate.Status.choices, required=False
    )
    promotion = forms.ModelChoiceField(
        label="Promotion",
        queryset=Cohort.objects.order_by("-start_date", "name"),
        required=False,
        empty_label="Toutes",
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    annee = forms.IntegerField(label="Année", min_value=2000, max_value=2999, required=False)

    def query(self):
        self.is_valid()
        return self.cleaned_data.get("q", "")

    def status(self):
        self.is_valid()
        return self.cleaned_data.get("statut", "")

    def filter(self, certificates):
        """`certificates` narrowed to what the valid filters ask for."""
        if status := self.status():
            certificates = certificates.filter(status=status)
        if cohort := self.cleaned_data.get("promotion"):
            certificates = certificates.filter(enrolment__cohort=cohort)
        if year := self.cleaned_data.get("annee"):
            certificates = certificates.filter(year=year)
        if query := self.query():
            certificates = certificates.filter(
                Q(number__icontains=query)
                | Q(candidate__birth_name__icontains=query)
                | Q(candidate__usage_name__icontains=query)
            )
        return certificates


class IssueForm(forms.Form):
    """Issue a bloc certificate (`decision`) or a title (`enrolment`)."""

    decision = forms.ModelChoiceField(queryset=BlocDecision.objects.all(), required=False)
    enrolment = forms.ModelChoiceField(queryset=Enrolment.objects.all(), required=False)

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not (cleaned.get("decision") or cleaned.get("enrolment")):
            raise forms.ValidationError("Choisissez la décision ou l'inscription à certifier.")
        return cleaned


class PrintForm(forms.Form):
    deliberation = forms.ModelChoiceField(
        label="Procès-verbal publié",
        queryset=Deliberation.objects.effective().select_related("jury", "cohort"),
        empty_label=None,
    )


PDF_MAX_BYTES = 10 * 1024 * 1024  # 10 Mo, as nginx's client_max_body_size
TOO_LARGE = "Ce fichier dépasse 10 Mo : ce n'est pas un certificat."


class PdfCheckForm(forms.Form):
    """A PDF dropped on the public verification page, to compare with the
    issued document. Anything but a PDF of at most 10 Mo gets a French message."""

    document = forms.FileField(
        label="Document PDF à contrôler",
        help_text="Le fichier PDF du certificat, tel qu'il vous a été remis (10 Mo au plus).",
        error_messages={
            "required": "Choisissez le fichier PDF à contrôler.",
            "empty": "Ce fichier est vide.",
            "invalid": "Aucun fichier reçu : choisissez le fichier PDF à contrôler.",
        },
    )

    def clean_document(self):
        document = self.cleaned_data["document"]
        if document.size > PDF_MAX_BYTES:
            raise forms.ValidationError(TOO_LARGE)
        document.seek(0)
        head = document.read(1024)
        document.seek(0)
        if b"%PDF-" not in head:
            raise forms.ValidationError("Ce fichier n'est pas un PDF.")
        return document

    def data_bytes(self):
        document = self.cleaned_data["document"]
        document.seek(0)
        return document.read()


LEGAL_BASIS_LABEL = "Fondement juridique de la délivrance"
LEGAL_BASIS_HELP = (
    "La décision du jury est postérieure à la fin de l'enregistrement au RNCP : citez le texte "
    "ou la mesure qui permet de délivrer ce certificat (mesure transitoire, renouvellement en "
    "cours…). Il est conservé avec le certificat et dans l'historique."
)


class LegalBasisForm(forms.Form):
    """The legal basis of a certificate issued for a jury decision taken after
    the registration's end; the service refuses an empty one in French."""

    legal_basis = forms.CharField(
        label=LEGAL_BASIS_LABEL,
        help_text=LEGAL_BASIS_HELP,
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def text(self):
        return self.cleaned_data.get("legal_basis", "") if self.is_valid() else ""


class IssueWithLegalBasisForm(IssueForm, LegalBasisForm):
    """The issue form asked again with the legal basis, the decision or the
    enrolment carried hidden."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].widget = forms.HiddenInput()
        self.fields["enrolment"].widget = forms.HiddenInput()
