"""The office's pages of the CPF declaration to the Caisse des Dépôts."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.forms import ReasonForm
from core.roles import ADMIN, role_required
from core.views import report_refusal

from . import cpf
from .models import Certificate, DeclarationFlow, DeclaredPassage

# --- Forms: every value a request carries is read through one of them ------------


class StateFilterForm(forms.Form):
    LATE, DUE_SOON = "late", "due_soon"
    CHOICES = [
        ("", "Tous"),
        (LATE, "En retard"),
        (DUE_SOON, f"À déclarer sous {cpf.DUE_SOON_DAYS} jours"),
        *cpf.State.LABELS.items(),
    ]

    etat = forms.ChoiceField(
        label="État",
        choices=CHOICES,
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(label="Numéro ou nom", max_length=100, required=False)

    def keep(self, row):
        wanted = self.cleaned_data.get("etat", "") if self.is_valid() else ""
        if wanted == self.LATE:
            return row.late
        if wanted == self.DUE_SOON:
            return row.due_soon
        return not wanted or row.state == wanted

    def query(self):
        return self.cleaned_data.get("q", "").strip() if self.is_valid() else ""


class GenerateForm(forms.Form):
    """The certificates to declare; none chosen: every one to declare."""

    certificates = forms.ModelMultipleChoiceField(
        queryset=Certificate.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": "Un certificat choisi n'est plus à déclarer : rechargez la page.",
            "invalid_pk_value": "Sélection invalide.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["certificates"].queryset = cpf.declarable()


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Résultat du traitement", choices=DeclaredPassage.Outcome.choices
    )
    reason = forms.CharField(
        label="Motif du rejet (donné par la CDC)",
        max_length=1000,
        required=False,
        widget=forms.TextInput,
    )


class OutcomeFileForm(forms.Form):
    file = forms.FileField(
        label="Fichier CSV de la CDC (id technique;statut;motif)",
        help_text="Statut : accepté ou rejeté (ou les codes de la CDC) ; "
        "le motif est obligatoire pour un rejet.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > cpf.CSV_MAX_BYTES:
            raise ValidationError(
                f"Le fichier dépasse {cpf.CSV_MAX_BYTES // 1024} Ko : découpez-le."
            )
        return upload


def correction_form(data=None):
    return ReasonForm(data, label="Correction faite auprès de la CDC (date, moyen, référence)")


# --- Pages ------------------------------------------------------------------------


@role_required(ADMIN)
def declaration_list(request):
    return _list_page(request)


def _list_page(request, *, problems=(), status=200):
    search = StateFilterForm(request.GET)
    certificates = cpf.awarded()
    if query := search.query():
        certificates = certificates.filter(
            Q(number__icontains=query)
            | Q(candidate__birth_name__icontains=query)
            | Q(candidate__usage_name__icontains=query)
        )
    every = cpf.rows(certificates)
    shown = [row for row in every if search.keep(row)]
    return render(
        request,
        "certification/cpf_list.html",
        {
            "rows": shown,
            "search": search,
            "to_send": [row for row in every if row.to_send],
            "late": sum(row.late for row in every),
            "due_soon": sum(row.due_soon for row in every),
            "to_correct": sum(row.state == cpf.State.TO_CORRECT for row in every),
            "flows": DeclarationFlow.objects.select_related("generated_by")[:20],
            "problems": problems,
            "due_soon_days": cpf.DUE_SOON_DAYS,
        },
        status=status,
    )


@require_POST
@role_required(ADMIN)
def declaration_generate(request):
    form = GenerateForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("certification:cpf")
    chosen = form.cleaned_data["certificates"]
    try:
        flows = cpf.generate_flows(certificates=list(chosen) or None, by=request.user)
    except cpf.Incomplete as incomplete:
        messages.error(
            request,
            "Aucun flux n'a été généré : complétez d'abord les données ci-dessous.",
        )
        return _list_page(request, problems=incomplete.problems)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect("certification:cpf")
    for flow in flows:
        messages.success(
            request,
            f"Flux n° {flow.number} généré et validé par le schéma de la CDC : "
            "téléchargez-le et déposez-le sur l'espace des certificateurs.",
        )
    return redirect("certification:cpf_flow", number=flows[0].number)


def _get_flow(number):
    return get_object_or_404(DeclarationFlow.objects.select_related("generated_by"), number=number)


@role_required(ADMIN)
def flow_detail(request, number):
    flow = _get_flow(number)
    passages = list(
        flow.passages.select_related("certificate__candidate", "outcome_recorded_by").order_by(
            "technical_id"
        )
    )
    later = set(
        DeclaredPassage.objects.filter(
            certificate__in=[passage.certificate_id for passage in passages],
            flow__number__gt=flow.number,
        ).values_list("certificate_id", flat=True)
    )
    for passage in passages:
        passage.declared_again = passage.certificate_id in later
    return render(
        request,
        "certification/cpf_flow.html",
        {
            "flow": flow,
            "passages": passages,
            "outcome_choices": DeclaredPassage.Outcome.choices,
            "file_form": OutcomeFileForm(),
            "counts": {
                outcome: sum(p.outcome == outcome for p in passages)
                for outcome in DeclaredPassage.Outcome.values
            },
        },
    )


@role_required(ADMIN)
def flow_xml(request, number):
    flow = _get_flow(number)
    if not flow.xml:
        raise Http404("Fichier introuvable.")
    return FileResponse(
        flow.xml.open("rb"),
        as_attachment=True,
        content_type="application/xml",
        filename=f"{flow.flow_id}.xml",
    )


@require_POST
@role_required(ADMIN)
def passage_outcome(request, pk):
    passage = get_object_or_404(DeclaredPassage.objects.select_related("flow"), pk=pk)
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez un résultat : accepté, rejeté ou en attente.")
        return redirect("certification:cpf_flow", number=passage.flow.number)
    try:
        changed = cpf.record_outcome(
            passage,
            outcome=form.cleaned_data["outcome"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as error:
        report_refusal(request, error)
    else:
        if changed:
            messages.success(request, f"Résultat enregistré pour {passage.technical_id}.")
        else:
            messages.info(request, f"{passage.technical_id} : rien n'a changé.")
    return redirect("certification:cpf_flow", number=passage.flow.number)


@require_POST
@role_required(ADMIN)
def flow_outcomes_csv(request, number):
    flow = _get_flow(number)
    form = OutcomeFileForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("certification:cpf_flow", number=flow.number)
    try:
        changed = cpf.record_outcomes_csv(
            flow, data=form.cleaned_data["file"].read(cpf.CSV_MAX_BYTES + 1), by=request.user
        )
    except ValidationError as error:
        messages.error(request, "Fichier refusé : aucun résultat n'a été enregistré.")
        report_refusal(request, error)
    else:
        messages.success(request, f"{changed} résultat(s) enregistré(s) depuis le fichier.")
    return redirect("certification:cpf_flow", number=flow.number)


@require_POST
@role_required(ADMIN)
def certificate_correction(request, number):
    if "\x00" in number:
        raise Http404("Certificat introuvable.")
    certificate = get_object_or_404(Certificate, number=number)
    try:
        cpf.note_correction(certificate, note=correction_form(request.POST).text(), by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request, f"Correction de la déclaration du certificat n° {number} consignée."
        )
    return redirect(f"{reverse('certification:cpf')}?etat={cpf.State.CORRECTED}")
