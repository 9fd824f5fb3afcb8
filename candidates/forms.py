from django import forms
from django.contrib.auth import get_user_model

from blocks.models import Bloc, CertificationVersion
from core import roles
from core.people import display_name

from .importing.readers import MAX_COLUMNS, MAX_ROWS
from .models import Candidate, Cohort, Enrolment
from .services import IDENTITY_FIELDS, REGISTRATION_FIELDS, enrol

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


class RegistrationFields(forms.Form):
    """An enrolment's registration data: the type of VAE is asked for a VAE
    route only, and refused for another."""

    access_route = forms.ChoiceField(label="Voie d'accès", choices=Enrolment.AccessRoute.choices)
    vae_route = forms.ChoiceField(
        label="Type de VAE",
        choices=[("", "—"), *Enrolment.VaeRoute.choices],
        required=False,
        help_text="Uniquement pour une inscription par la VAE.",
    )
    registration_initiative = forms.ChoiceField(
        label="Inscription à l'initiative de",
        choices=[("", "—"), *Enrolment.Initiative.choices],
        required=False,
    )
    registration_date = forms.DateField(
        label="Date d'inscription à la certification", required=False, widget=DATE_INPUT
    )

    def clean(self):
        cleaned = super().clean()
        route, vae_route = cleaned.get("access_route"), cleaned.get("vae_route")
        if route == Enrolment.AccessRoute.VAE and not vae_route and "vae_route" not in self.errors:
            self.add_error("vae_route", "Pour une inscription par la VAE, précisez le type de VAE.")
        if route and route != Enrolment.AccessRoute.VAE and vae_route:
            self.add_error(
                "vae_route", "Le type de VAE ne se renseigne que pour une inscription par la VAE."
            )
        return cleaned

    def registration(self):
        return {field: self.cleaned_data[field] for field in REGISTRATION_FIELDS}


class RegistrationForm(RegistrationFields):
    """The office corrects the registration data of an enrolment."""

    def __init__(self, *args, enrolment, **kwargs):
        kwargs.setdefault(
            "initial", {field: getattr(enrolment, field) for field in REGISTRATION_FIELDS}
        )
        super().__init__(*args, **kwargs)


class EnrolmentForm(RegistrationFields):
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
            optional_blocs=list(self.cleaned_data["optional_blocs"]),
            **self.registration(),
            by=by,
        )


class ExistingCandidateEnrolmentForm(EnrolmentForm):
    candidate = forms.ModelChoiceField(label="Candidat", queryset=Candidate.objects.none())
    field_order = ["candidate", "access_route", "vae_route", "optional_blocs"]

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


class CivilStatusReportForm(forms.Form):
    """A candidate's report of an error in their civil status."""

    message = forms.CharField(
        label="L'erreur et la bonne information",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CivilStatusAnswerForm(forms.Form):
    """The office's answer, which closes a report."""

    answer = forms.CharField(
        label="Réponse au candidat",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
