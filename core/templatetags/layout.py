"""Template tags shared by every app's pages."""

from django import template

from core.dates import french_date

register = template.Library()


@register.inclusion_tag("core/_breadcrumbs.html")
def breadcrumbs(*trail):
    """`{% breadcrumbs "Sessions" sessions_url session.short_label session_url "Synthèse" %}`:
    label and address pairs leading to the page, then the page's own label."""
    *pairs, current = trail
    return {"links": list(zip(pairs[::2], pairs[1::2], strict=True)), "current": current}


register.filter("french_date", french_date)


@register.filter
def get_item(mapping, key):
    """`mapping|get_item:key`: a dictionary's value in a template."""
    return mapping.get(key)
