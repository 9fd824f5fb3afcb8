"""The competence map's cells, written in Python: at 300 candidates the map
has over 11,000 cells, which the template language would take most of the
page's time to render one tag at a time."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from core.links import path_maker

register = template.Library()

# state -> (class, letter, words for screen readers)
CELLS = {
    "acquired": ("hm-a", "A", "acquise"),
    "not_acquired": ("hm-n", "N", "non acquise"),
    "none": ("hm-z", "·", "pas encore évaluée"),
}


@register.simple_tag(takes_context=True)
def heatmap_cells(context, row):
    """A row's cells: the state's letter and its words, linked to the viewer's
    grid when they assess that competence."""
    render_context = context.render_context
    if "grid_path" not in render_context:  # once a page, not once a row
        render_context["grid_path"] = path_maker("evaluations:grid")
    grid_path = render_context["grid_path"]
    cells = []
    for competence, state, assessment in row.cells:
        css, letter, words = CELLS[state]
        content = f'{letter}<span class="visually-hidden">{escape(competence.code)} {words}</span>'
        if assessment:
            content = f'<a href="{grid_path(assessment)}">{content}</a>'
        cells.append(f'<td class="{css}">{content}</td>')
    return mark_safe("".join(cells))
