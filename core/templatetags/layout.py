"""Template tags shared by every app's pages."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from core.dates import french_date

register = template.Library()

LINK = mark_safe('class="nav-link"')
CURRENT_LINK = mark_safe('class="nav-link active" aria-current="page"')


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


@register.simple_tag(takes_context=True)
def nav_link(context, url_name, label):
    """One item of the navigation bar, marked as the current page when the
    address shown is the item's or below it."""
    href = reverse(url_name)
    request = context.get("request")
    current = request is not None and (
        request.path == href or (href != "/" and request.path.startswith(href))
    )
    attributes = CURRENT_LINK if current else LINK
    return format_html('<li class="nav-item"><a {} href="{}">{}</a></li>', attributes, href, label)
