import re

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from blocks.models import CertificationVersion, EvaluationModality
from candidates.models import Cohort
from core import roles

from .models import BlocDecision, Jury, JuryMember
from .sessions import CriterionEntry

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
GRID_FIELD = re.compile(r"^(value|comment)_(\d+)$")


def person_label(user):
    return user.get_full_name() or user.username


class SessionForm(forms.Form):
    modality = forms.ModelChoiceField(label="Modalité d'évaluation", queryset=None)
    cohort = forms.ModelChoiceField(label="Promotion", queryset=Cohort.objects.all())
    date = forms.DateField(label="Date", widget=DATE_INPUT)
    place = forms.CharField(label="Lieu", max_length=200)
    assessors = forms.ModelMultipleChoiceField(
        label="Évaluateurs",
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text="Formateurs pour une épreuve écrite, membres de jury pour une épreuve orale.",
    )
    jury = forms.ModelChoiceField(
        label="Jury",
        queryset=Jury.objects.all(),
        required=False,
        help_text="Pour une épreuve orale : les évaluateurs sont des membres votants de ce jury.",
    )
    lead = forms.ModelChoiceField(
        label="Responsable de la session",
        queryset=None,
        required=False,
        help_text="Voit la synthèse des grilles ; doit être l'un des évaluateurs.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["modality"].queryset = EvaluationModality.objects.filter(
            bloc__certification_version__status="active"
        ).select_related("bloc")
        self.fields["modality"].label_from_instance = lambda m: (
            f"Bloc {m.bloc.number} · {m.code} {m.title} ({m.get_assessed_by_display()})"
        )
        people = (
            get_user_model()
            .objects.filter(groups__name__in=[roles.TRAINER, roles.JURY_MEMBER])
            .distinct()
            .order_by("last_name", "first_name")
        )
        for name in ("assessors", "lead"):
            self.fields[name].queryset = people
            self.fields[name].label_from_instance = person_label


class GridForm(forms.Form):
    """One field per criterion (value and comment), built from the modality's criteria."""

    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    overall_comment = forms.CharField(
        label="Commentaire général", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reason = forms.CharField(
        label="Motif de la modification",
        required=False,
        help_text="Obligatoire pour modifier une grille déjà remise.",
    )

    def __init__(self, *args, criteria, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        levels = list(version.grading_levels.all())
        for criterion in self.criteria:
            if version.is_numeric_scale:
                value = forms.DecimalField(
                    min_value=0,
                    max_value=version.numeric_max,
                    decimal_places=2,
                    required=False,
                    widget=forms.NumberInput(attrs={"step": "0.5"}),
                )
            else:
                value = forms.TypedChoiceField(
                    choices=[("", "—")] + [(str(level.value), level.label) for level in levels],
                    coerce=int,
                    empty_value=None,
                    required=False,
                    widget=forms.RadioSelect,
                )
            value.label = criterion.label
            self.fields[f"value_{criterion.pk}"] = value
            self.fields[f"comment_{criterion.pk}"] = forms.CharField(
                label="Commentaire", required=False, widget=forms.Textarea(attrs={"rows": 1})
            )

    def clean(self):
        cleaned = super().clean()
        known = {criterion.pk for criterion in self.criteria}
        foreign = sorted(
            {int(m.group(2)) for key in self.data if (m := GRID_FIELD.match(key))} - known
        )
        if foreign:
            raise forms.ValidationError(
                "Ces critères n'appartiennent pas à la modalité évaluée : "
                + ", ".join(map(str, foreign))
                + ". Rien n'a été enregistré."
            )
        return cleaned

    def entries(self):
        """Only the criteria present in the post: an autosave may send a part."""
        return {
            criterion.pk: CriterionEntry(
                self.cleaned_data.get(f"value_{criterion.pk}"),
                self.cleaned_data.get(f"comment_{criterion.pk}", ""),
            )
            for criterion in self.criteria
            if f"value_{criterion.pk}" in self.data or f"comment_{criterion.pk}" in self.data
        }


class JuryForm(forms.Form):
    name = forms.CharField(label="Nom du jury", max_length=150)
    certification_version = forms.ModelChoiceField(
        label="Version de la certification",
        queryset=CertificationVersion.objects.active(),
    )
    date = forms.DateField(label="Date", widget=DATE_INPUT)
    place = forms.CharField(label="Lieu", max_length=200)


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(label="Personne", queryset=None)
    role = forms.ChoiceField(label="Rôle", choices=JuryMember.Role.choices)
    external = forms.BooleanField(
        label="Professionnel extérieur au centre de formation", required=False
    )
    organisation = forms.CharField(label="Organisme", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(groups__name=roles.JURY_MEMBER)
            .order_by("last_name", "first_name")
        )
        self.fields["user"].label_from_instance = person_label


class OpenDeliberationForm(forms.Form):
    cohort = forms.ModelChoiceField(label="Promotion délibérée", queryset=None)
    held_on = forms.DateField(
        label="Date de la réunion du jury",
        widget=DATE_INPUT,
        help_text="Aujourd'hui par défaut ; jamais dans le futur.",
    )
    added_blocs = forms.ModelMultipleChoiceField(
        label="Blocs à délibérer pour tous",
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Chaque candidat est délibéré sur les blocs qu'il a présentés (au moins une "
        "épreuve passée depuis le dernier PV). Cochez un bloc pour le délibérer aussi pour "
        "ceux qui le suivent sans épreuve passée (validation sur dossier, par exemple).",
    )

    def __init__(self, *args, jury, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.filter(
            certification_version=jury.certification_version
        )
        self.fields["added_blocs"].queryset = jury.certification_version.blocs.order_by("number")
        self.fields["added_blocs"].label_from_instance = lambda bloc: (
            f"Bloc {bloc.number} · {bloc.title}"
        )
        self.initial.setdefault("held_on", timezone.localdate())


class RowDecisionForm(forms.Form):
    """One candidate's row of the deliberation table: a decision and a
    justification per bloc to decide. Its fields sit in the table's cells and
    belong to the row's form through their `form` attribute."""

    def __init__(self, *args, row, **kwargs):
        # Many rows on one page: each its own element ids.
        kwargs.setdefault("auto_id", f"id_row{row['enrolment']}_%s")
        super().__init__(*args, **kwargs)
        self.row = row
        form_id = f"row-form-{row['enrolment']}"
        candidate = row["candidate"]
        for cell in row["cells"]:
            if cell["state"] != "due":
                continue
            number = cell["number"]
            proposal = (
                BlocDecision.Decision.VALIDATED
                if cell["proposed_validated"]
                else BlocDecision.Decision.NOT_VALIDATED
            )
            self.fields[f"decision_{cell['bloc']}"] = forms.ChoiceField(
                label=f"Décision, {candidate}, bloc {number}",
                choices=BlocDecision.Decision.choices,
                initial=cell["decision"] or proposal,
                widget=forms.Select(attrs={"form": form_id, "class": "form-select form-select-sm"}),
            )
            self.fields[f"justification_{cell['bloc']}"] = forms.CharField(
                label=f"Justification, {candidate}, bloc {number}",
                required=False,
                initial=cell["justification"],
                widget=forms.Textarea(
                    attrs={
                        "form": form_id,
                        "rows": 1,
                        "class": "form-control form-control-sm mt-1",
                        "placeholder": "Justification, si la décision s'écarte de la proposition",
                    }
                ),
            )

    def field_pairs(self):
        """bloc id -> (decision field, justification field), for the cells."""
        return {
            cell["bloc"]: (self[f"decision_{cell['bloc']}"], self[f"justification_{cell['bloc']}"])
            for cell in self.row["cells"]
            if cell["state"] == "due"
        }

    def choices(self):
        """bloc id -> (decision, justification), once valid."""
        return {
            int(name.removeprefix("decision_")): (
                value,
                self.cleaned_data[f"justification_{name.removeprefix('decision_')}"],
            )
            for name, value in self.cleaned_data.items()
            if name.startswith("decision_")
        }
