import re
import uuid

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from blocks.models import Bloc, CertificationVersion, EvaluationModality
from candidates.models import Cohort
from core import roles
from core.people import display_name

from .models import BlocDecision, ExamSession, Jury, JuryMember
from .sessions import CriterionEntry

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
GRID_FIELD = re.compile(r"^(value|comment)_(\d+)$")


def assessor_people():
    return (
        get_user_model()
        .objects.filter(groups__name__in=[roles.TRAINER, roles.JURY_MEMBER])
        .distinct()
        .order_by("last_name", "first_name")
    )


class SessionPlanForm(forms.Form):
    """When, where and by whom a session is held: what can change until its
    first grid is handed in."""

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
    # What the convocations say beyond the date and place.
    convocation_time = forms.TimeField(
        label="Heure de convocation",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="Imprimée sur les convocations (obligatoire pour les produire).",
    )
    duration_minutes = forms.IntegerField(
        label="Durée de l'épreuve (minutes)",
        required=False,
        min_value=1,
        max_value=24 * 60,
        help_text="Imprimée sur les convocations (obligatoire pour les produire).",
    )
    convocation_instructions = forms.CharField(
        label="Consignes aux candidats",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Imprimées sur les convocations : pièces à apporter, matériel, accès.",
    )

    field_order = [
        "date",
        "place",
        "convocation_time",
        "duration_minutes",
        "convocation_instructions",
        "assessors",
        "jury",
        "lead",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = assessor_people()
        for name in ("assessors", "lead"):
            self.fields[name].queryset = people
            self.fields[name].label_from_instance = display_name

    def plan(self):
        """create_session's or edit_session's arguments."""
        return {
            **self.cleaned_data,
            "assessors": list(self.cleaned_data["assessors"]),
        }


class SessionForm(SessionPlanForm):
    modality = forms.ModelChoiceField(label="Modalité d'évaluation", queryset=None)
    cohort = forms.ModelChoiceField(label="Promotion", queryset=Cohort.objects.all())
    # Generated when the form is shown: posting it twice creates one session.
    token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    field_order = [
        "modality",
        "cohort",
        "date",
        "place",
        "convocation_time",
        "duration_minutes",
        "convocation_instructions",
        "assessors",
        "jury",
        "lead",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("token", uuid.uuid4())
        self.fields["modality"].queryset = EvaluationModality.objects.filter(
            bloc__certification_version__status="active"
        ).select_related("bloc")
        self.fields["modality"].label_from_instance = lambda m: (
            f"Bloc {m.bloc.number} · {m.code} {m.title} ({m.get_assessed_by_display()})"
        )


class BlocScheduleForm(forms.Form):
    """The promotion and the bloc whose every modality is to be planned."""

    cohort = forms.ModelChoiceField(label="Promotion", queryset=Cohort.objects.all())
    bloc = forms.ModelChoiceField(label="Bloc", queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bloc"].queryset = Bloc.objects.filter(
            certification_version__status="active"
        ).order_by("certification_version", "number")
        self.fields["bloc"].label_from_instance = lambda bloc: f"Bloc {bloc.number} · {bloc.title}"


def modality_plan_forms(modalities, data=None):
    """One SessionPlanForm per modality of a bloc, each with its own prefix."""
    forms_ = []
    for modality in modalities:
        form = SessionPlanForm(data, prefix=f"m{modality.pk}")
        form.modality = modality
        forms_.append(form)
    return forms_


class ReplaceAssessorForm(forms.Form):
    replaced = forms.ModelChoiceField(label="Évaluateur remplacé", queryset=None)
    replacement = forms.ModelChoiceField(label="Remplaçant(e)", queryset=None)
    reason = forms.CharField(
        label="Motif du remplacement",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Ses grilles remises comptent toujours ; ses brouillons sont conservés "
        "sans compter ; le remplaçant note les autres candidats.",
    )

    def __init__(self, *args, session, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replaced"].queryset = session.assessors.order_by("last_name", "first_name")
        self.fields["replacement"].queryset = assessor_people().exclude(
            pk__in=session.assessors.values("pk")
        )
        for name in ("replaced", "replacement"):
            self.fields[name].label_from_instance = display_name


class PresenceForm(forms.Form):
    """A row's presence button on the session page, and the page it was on."""

    present = forms.TypedChoiceField(choices=[("0", "absent"), ("1", "présent")], coerce="1".__eq__)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)


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
        levels = version.levels()
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
    """A new jury, or the change of one (`jury`); `version_locked` when its
    sessions or deliberations already hold it to its certification version."""

    name = forms.CharField(label="Nom du jury", max_length=150)
    certification_version = forms.ModelChoiceField(
        label="Version de la certification",
        queryset=CertificationVersion.objects.active(),
    )
    date = forms.DateField(label="Date", widget=DATE_INPUT)
    place = forms.CharField(label="Lieu", max_length=200)

    def __init__(self, *args, jury=None, version_locked=False, **kwargs):
        super().__init__(*args, **kwargs)
        if jury is None:
            return
        self.initial.update(
            name=jury.name,
            certification_version=jury.certification_version_id,
            date=jury.date,
            place=jury.place,
        )
        version = self.fields["certification_version"]
        # The jury's own version stays selectable once archived.
        version.queryset = CertificationVersion.objects.filter(
            Q(pk__in=CertificationVersion.objects.active()) | Q(pk=jury.certification_version_id)
        )
        if version_locked:
            version.disabled = True
            version.help_text = (
                "Ce jury a des sessions d'examen ou des délibérations : sa version ne change plus."
            )


REASON_HELP = "Obligatoire : le jury a déjà ouvert une délibération."


class MemberForm(forms.Form):
    """A person seated in the jury (`jury`: those seated already are not
    offered); `needs_reason` once the jury deliberates."""

    user = forms.ModelChoiceField(label="Personne", queryset=None)
    role = forms.ChoiceField(label="Rôle", choices=JuryMember.Role.choices)
    external = forms.BooleanField(
        label="Professionnel extérieur au centre de formation", required=False
    )
    organisation = forms.CharField(label="Organisme", max_length=200, required=False)

    def __init__(self, *args, jury=None, needs_reason=False, **kwargs):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(groups__name=roles.JURY_MEMBER)
        if jury is not None:
            people = people.exclude(jury_seats__jury=jury)
        self.fields["user"].queryset = people.order_by("last_name", "first_name")
        self.fields["user"].label_from_instance = display_name
        if needs_reason:
            self.fields["reason"] = forms.CharField(
                label="Motif du changement",
                required=False,
                help_text=REASON_HELP,
                widget=forms.Textarea(attrs={"rows": 2}),
            )


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
    belong to the row's form (id row-form-<enrolment>) through their `form`
    attribute."""

    def __init__(self, *args, row, **kwargs):
        # Many rows on one page: each its own element ids.
        kwargs.setdefault("auto_id", f"id_row{row['enrolment']}_%s")
        super().__init__(*args, **kwargs)
        self.row = row
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
            # Drawn by cell_controls, not by their widgets.
            self.fields[f"decision_{cell['bloc']}"] = forms.ChoiceField(
                label=f"Décision, {candidate}, bloc {number}",
                choices=BlocDecision.Decision.choices,
                initial=cell["decision"] or proposal,
            )
            self.fields[f"justification_{cell['bloc']}"] = forms.CharField(
                label=f"Justification, {candidate}, bloc {number}",
                required=False,
                initial=cell["justification"],
            )

    def field_pairs(self):
        """bloc id -> (decision field, justification field), for the cells."""
        return {
            cell["bloc"]: (self[f"decision_{cell['bloc']}"], self[f"justification_{cell['bloc']}"])
            for cell in self.row["cells"]
            if cell["state"] == "due"
        }

    def cell_controls(self, options=None):
        """bloc id -> the HTML of the bloc's decision and justification, for its
        cell: tied to the row's form by their `form` attribute, labelled for
        screen readers. Written here rather than by the widgets' templates or
        the row's template: a page has a hundred of them, and this is the
        page's longest part to draw. `options`: the decision's <option>s by
        value selected, kept from row to row of a page (the same few)."""
        form_id = f"row-form-{self.row['enrolment']}"
        options = {} if options is None else options
        controls = {}
        for bloc_id, (decision, justification) in self.field_pairs().items():
            current = decision.value()
            if current not in options:
                options[current] = format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    (
                        (value, " selected" if value == current else "", label)
                        for value, label in decision.field.choices
                    ),
                )
            text = justification.value()
            controls[bloc_id] = format_html(
                '<label class="visually-hidden" for="{}">{}</label>'
                '<select name="{}" id="{}" form="{}" class="form-select form-select-sm" '
                "required>{}</select>"
                '<label class="visually-hidden" for="{}">{}</label>'
                '<textarea name="{}" id="{}" form="{}" rows="1" '
                'class="form-control form-control-sm mt-1" '
                'placeholder="Justification, si la décision s\'écarte de la proposition">'
                "{}</textarea>",
                decision.id_for_label,
                decision.label,
                decision.html_name,
                decision.id_for_label,
                form_id,
                options[current],
                justification.id_for_label,
                justification.label,
                justification.html_name,
                justification.id_for_label,
                form_id,
                "" if text is None else text,
            )
        return controls

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


class AgreedScoreForm(forms.Form):
    """The value the assessors agreed on for one criterion where their grids
    disagree, and why: the session lead's small form on the synthesis page, one
    per disagreeing criterion (`criterion` for an empty one; a posted one finds
    its criterion in the data)."""

    criterion = forms.TypedChoiceField(
        coerce=int,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Ce critère n'appartient pas à la modalité évaluée."},
    )
    reason = forms.CharField(
        label="Motif",
        max_length=2000,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm",
                "placeholder": "Ce qui a décidé les évaluateurs",
            }
        ),
        error_messages={"required": "Indiquez le motif de la note retenue."},
    )

    def __init__(self, data=None, *, criteria, version, levels, criterion=None, **kwargs):
        key = criterion.pk if criterion is not None else (data or {}).get("criterion", "")
        kwargs.setdefault("auto_id", f"id_agreed{key if str(key).isdigit() else ''}_%s")
        if criterion is not None:
            kwargs.setdefault("initial", {"criterion": criterion.pk})
        super().__init__(data, **kwargs)
        self.fields["criterion"].choices = [(c.pk, c.label) for c in criteria]
        if version.is_numeric_scale:
            value = forms.DecimalField(
                min_value=0,
                max_value=version.numeric_max,
                decimal_places=2,
                widget=forms.NumberInput(
                    attrs={"step": "0.5", "class": "form-control form-control-sm"}
                ),
            )
        else:
            value = forms.TypedChoiceField(
                choices=[("", "—")]
                + [(str(level.value), f"{level.value} · {level.label}") for level in levels],
                coerce=int,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        value.label = "Note retenue"
        value.error_messages["required"] = "Indiquez la note retenue."
        self.fields["value"] = value
        self.order_fields(["criterion", "value", "reason"])

    @property
    def criterion_id(self):
        """The criterion this form is for (posted or given), or None."""
        key = self.data.get("criterion") if self.is_bound else self.initial.get("criterion")
        return int(key) if str(key).isdigit() else None


class ReplaceMemberForm(MemberForm):
    """Who takes a member's seat: the role stays the seat's."""

    def __init__(self, *args, member, needs_reason=False, **kwargs):
        super().__init__(*args, jury=member.jury, needs_reason=needs_reason, **kwargs)
        del self.fields["role"]
        self.fields["user"].label = "Remplaçant(e)"
        self.initial.setdefault("external", member.external)


class RecusalForm(forms.Form):
    """A member standing aside for one candidate: the office picks the member,
    a member records their own recusal (`seat`)."""

    member = forms.ModelChoiceField(label="Membre du jury", queryset=None)
    enrolment = forms.ModelChoiceField(label="Candidat", queryset=None)
    reason = forms.CharField(
        label="Motif du déport",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Par exemple : lien familial ou professionnel avec le candidat.",
    )

    def __init__(self, *args, members, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda m: display_name(m.user)
        self.fields["enrolment"].queryset = enrolments
        self.fields["enrolment"].label_from_instance = lambda e: (
            f"{e.candidate.full_name} · {e.cohort.name}"
        )


class SessionFilterForm(forms.Form):
    """The session list's filters (GET): promotion, bloc, status, dates. A
    value that is not one is left aside with its message, the others apply."""

    promotion = forms.ModelChoiceField(
        label="Promotion", queryset=Cohort.objects.none(), required=False, empty_label="Toutes"
    )
    bloc = forms.ModelChoiceField(
        label="Bloc", queryset=Bloc.objects.none(), required=False, empty_label="Tous"
    )
    statut = forms.ChoiceField(
        label="Statut",
        choices=[("", "Tous"), *ExamSession.Status.choices],
        required=False,
    )
    du = forms.DateField(
        label="Du",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    au = forms.DateField(
        label="Au",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, cohorts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["promotion"].queryset = cohorts.order_by("-start_date", "name")
        self.fields["bloc"].queryset = (
            Bloc.objects.filter(certification_version__cohorts__in=cohorts)
            .distinct()
            .order_by("certification_version", "number")
        )
        self.fields["bloc"].label_from_instance = lambda bloc: (
            f"Bloc {bloc.number} · {Truncator(bloc.title).chars(30)}"
        )
        for field in self.fields.values():
            css = "form-control" if isinstance(field, forms.DateField) else "form-select"
            field.widget.attrs.setdefault("class", css)

    def filter(self, sessions):
        self.is_valid()
        data = self.cleaned_data
        if data.get("promotion"):
            sessions = sessions.filter(cohort=data["promotion"])
        if data.get("bloc"):
            sessions = sessions.filter(modality__bloc=data["bloc"])
        if data.get("statut"):
            sessions = sessions.filter(status=data["statut"])
        if data.get("du"):
            sessions = sessions.filter(date__gte=data["du"])
        if data.get("au"):
            sessions = sessions.filter(date__lte=data["au"])
        return sessions


class DeliberationFilterForm(forms.Form):
    """The deliberation table's page: the rows still missing a decision only,
    or one candidate's row alone (`candidat`: the enrolment's id)."""

    manquantes = forms.BooleanField(required=False, label="Décisions manquantes seulement")
    candidat = forms.IntegerField(required=False, min_value=1, max_value=10**9)

    def values(self):
        """(missing only, enrolment id or None); wrong values are ignored."""
        if not self.is_valid():
            return False, None
        return self.cleaned_data["manquantes"], self.cleaned_data["candidat"]

    def query(self, page=None):
        """The query string that keeps these filters (and `page`)."""
        from urllib.parse import urlencode

        missing, candidate = self.values()
        parts = {"manquantes": "1"} if missing else {}
        if candidate:
            parts["candidat"] = str(candidate)
        if page and page > 1:
            parts["page"] = str(page)
        return urlencode(parts)
