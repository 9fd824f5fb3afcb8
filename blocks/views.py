import mimetypes

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render

from core.roles import ADMIN, is_admin, role_required
from core.views import add_errors

from .forms import MentionsForm
from .models import Bloc, CertificationVersion, Competence, EvaluationModality
from .services import update_mentions


def versions_visible_to(user):
    """Drafts are the office's workspace: only staff see them."""
    versions = CertificationVersion.objects.all()
    return versions if user.is_staff else versions.exclude(status=CertificationVersion.Status.DRAFT)


def get_version_for_user(user, pk):
    return get_object_or_404(versions_visible_to(user), pk=pk)


@login_required
def version_list(request):
    versions = versions_visible_to(request.user).prefetch_related("blocs")
    return render(request, "blocks/version_list.html", {"versions": versions})


@login_required
def version_detail(request, pk):
    version = get_version_for_user(request.user, pk)
    blocs = version.blocs.annotate(
        activity_count=Count("activities", distinct=True),
        competence_count=Count("competences", distinct=True),
        modality_count=Count("modalities", distinct=True),
    )
    return render(
        request,
        "blocks/version_detail.html",
        {
            "version": version,
            "blocs": blocs,
            "levels": version.grading_levels.all(),
            "can_edit_mentions": is_admin(request.user),
        },
    )


@login_required
def bloc_detail(request, pk, number):
    version = get_version_for_user(request.user, pk)
    bloc = get_object_or_404(
        Bloc.objects.prefetch_related(
            Prefetch(
                "activities__competences",
                queryset=Competence.objects.prefetch_related("criteria", "modalities"),
            ),
            Prefetch(
                "modalities",
                queryset=EvaluationModality.objects.prefetch_related("competences"),
            ),
        ),
        certification_version=version,
        number=number,
    )
    return render(request, "blocks/bloc_detail.html", {"version": version, "bloc": bloc})


@role_required(ADMIN)
def version_mentions(request, pk):
    """The office fills in the printed mentions, the registration's end, the
    signature, the CDC identifiers and the blocs' official codes: a frozen
    version included."""
    version = get_object_or_404(CertificationVersion, pk=pk)
    blocs = version.blocs.order_by("number")
    form = MentionsForm(request.POST or None, request.FILES or None, instance=version, blocs=blocs)
    if request.method == "POST" and form.is_valid():
        try:
            update_mentions(
                version, values=form.values(), bloc_codes=form.bloc_codes(), by=request.user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Mentions et identifiants enregistrés.")
            return redirect(version)
    return render(request, "blocks/version_mentions.html", {"version": version, "form": form})


@role_required(ADMIN)
def version_signature(request, pk):
    """The stored signature image, for the office's page (media files are not
    served to everyone)."""
    version = get_object_or_404(CertificationVersion, pk=pk)
    if not version.signature_image:
        raise Http404
    try:
        image = version.signature_image.open("rb")
    except OSError:
        raise Http404 from None
    content_type = mimetypes.guess_type(version.signature_image.name)[0]
    return FileResponse(image, content_type=content_type)
