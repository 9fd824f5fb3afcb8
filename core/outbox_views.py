"""The office's outbox: every e-mail the platform wrote, sent or failed, and
a way to send the failed ones again (core/notifications.py)."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from .models import Notification
from .notifications import retry
from .roles import ADMIN, role_required

PER_PAGE = 50


class OutboxFilterForm(forms.Form):
    """The outbox's filters, from the query string: the status and the page."""

    status = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous")] + list(Notification.Status.choices),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    kind = forms.ChoiceField(
        label="Nature",
        required=False,
        choices=[("", "Toutes")] + list(Notification.Kind.choices),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10**6)

    def values(self):
        """The valid filters (an invalid one is ignored: the whole list)."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})


@role_required(ADMIN)
def outbox(request):
    form = OutboxFilterForm(request.GET or None)
    values = form.values()
    filters = {key: values[key] for key in ("status", "kind") if values.get(key)}
    notifications = (
        Notification.objects.filter(**filters)
        .select_related("recipient")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(notifications, PER_PAGE).get_page(values.get("page") or 1)
    counts = Notification.objects.aggregate(
        pending=Count("pk", filter=Q(status=Notification.Status.PENDING)),
        failed=Count("pk", filter=Q(status=Notification.Status.FAILED)),
    )
    return render(
        request,
        "core/outbox.html",
        {
            "form": form,
            "page": page,
            "query": urlencode(filters),
            "pending": counts["pending"],
            "failed": counts["failed"],
        },
    )


@require_POST
@role_required(ADMIN)
def outbox_retry(request):
    """Send again every failed e-mail, after commit, in the background."""
    count = retry(Notification.objects.all())
    if count:
        messages.success(
            request,
            f"{count} courriel{'s' if count > 1 else ''} en échec "
            f"renvoyé{'s' if count > 1 else ''} : l'envoi se fait en arrière-plan.",
        )
    else:
        messages.info(request, "Aucun courriel en échec à renvoyer.")
    return redirect("core:outbox")
