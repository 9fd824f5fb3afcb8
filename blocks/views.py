from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, render

from .models import Bloc, CertificationVersion, Competence, EvaluationModality


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
        {"version": version, "blocs": blocs, "levels": version.grading_levels.all()},
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
