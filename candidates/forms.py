from django import forms
from django.contrib.auth import get_user_model

from blocks.models import Bloc, CertificationVersion
from core import roles
from core.people import display_name

from .importing.readers import MAX_COLUMNS, MAX_ROWS
from .models import Candidate, Cohort, Enrolment
from .services import IDENTITY_FIELDS, enrol

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_IMPORT_BYTES = 5 * 1024 * 1024


class CandidateForm(forms.ModelForm):
    class Meta:
        model = Candidate
        fields = IDENTITY_FIELDS
        widgets = {"birth_date": DATE_INPUT}


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name", "certification_version", "start_date", "end_date", "trainers"]
        widgets = {
            "start_date": DATE_INPUT,
            "end_date": DATE_INPUT,
            "trainers": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certification_version"].queryset = CertificationVersion.objects.active()
        self.fields["trainers"].queryset = (
            get_user_model()
            .objects.filter(groups__name=roles.TRAINER)
            .order_by("last_name", "first_name")
        )
        self.fields["trainers"].label_from_instance = display_name


class EnrolmentForm(forms.Form):
    access_route = forms.ChoiceField(label="Voie d'accès", choices=Enrolment.AccessRoute.choices)
    optional_blocs = forms.ModelMultipleChoiceField(
        label="Blocs optionnels choisis",
        queryset=Bloc.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, cohort, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohort = cohort
        self.fields["optional_blocs"].queryset = Bloc.objects.filter(
            certification_version=cohort.certification_version, optional=True
        )

    def enrol(self, candidate, *, by):
        return enrol(
            candidate,
            self.cohort,
            access_route=self.cleaned_data["access_route"],
            optional_blocs=list(self.cleaned_data["optional_blocs"]),
            by=by,
        )


class ExistingCandidateEnrolmentForm(EnrolmentForm):
    candidate = forms.ModelChoiceField(label="Candidat", queryset=Candidate.objects.none())
    field_order = ["candidate", "access_route", "optional_blocs"]

    def __init__(self, *args, cohort, **kwargs):
        super().__init__(*args, cohort=cohort, **kwargs)
        self.fields["candidate"].queryset = Candidate.objects.exclude(enrolments__cohort=cohort)


class WithdrawalForm(forms.Form):
    reason = forms.CharField(label="Motif du retrait", widget=forms.Textarea(attrs={"rows": 3}))


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Fichier de la promotion",
        help_text=(
            "CSV (UTF-8 ou Windows-1252, séparateur ; ou ,) ou Excel .xlsx ; "
            f"5 Mo, {MAX_ROWS} lignes et {MAX_COLUMNS} colonnes au plus."
        ),
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError("Le fichier dépasse 5 Mo.")
        return file


class ConfirmImportForm(forms.Form):
    """The token of the preview to confirm; a missing or malformed one is
    answered like an expired one (the service's French message)."""

    token = forms.CharField(max_length=64)

    def token_value(self):
        return self.cleaned_data["token"] if self.is_valid() else ""
