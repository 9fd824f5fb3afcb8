"""The forms of the certificates' pages: every value a request carries is
read through one of them, so a bad value gets a French message, never a 500."""

from django import forms

from candidates.models import Enrolment
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
    """The office's list: a number or a name, and a status; an unknown status
    shows every certificate."""

    statut = forms.ChoiceField(choices=Certificate.Status.choices, required=False)

    def status(self):
        return self.cleaned_data.get("statut", "") if self.is_valid() else ""


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
