"""Template tags shared by every app's pages."""

from django import template

register = template.Library()


@register.inclusion_tag("core/_breadcrumbs.html")
def breadcrumbs(*trail):
    """`{% breadcrumbs "Sessions" sessions_url session.short_label session_url "Synthèse" %}`:
    label and address pairs leading to the page, then the page's own label."""
    *pairs, current = trail
    return {"links": list(zip(pairs[::2], pairs[1::2], strict=True)), "current": current}
