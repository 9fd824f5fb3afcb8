"""The procès-verbal of a signed deliberation, as PDF bytes (Django template
rendered by WeasyPrint). Called once, after commit; the file is then kept."""

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML

from .models import JuryMember
from .standings import deliberation_table


def render_minutes(deliberation):
    jury = deliberation.jury
    members = list(jury.members.select_related("user").order_by(*JuryMember.SEATING_ORDER))
    signed_at = {s.member_id: s.signed_at for s in deliberation.signatures.all()}
    html = render_to_string(
        "evaluations/minutes_pdf.html",
        {
            "deliberation": deliberation,
            "jury": jury,
            "version": jury.certification_version,
            "members": members,
            "signatures": [(m, signed_at.get(m.pk)) for m in members],
            "rows": deliberation_table(deliberation),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
