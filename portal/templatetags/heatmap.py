"""The competence map's rows, written in Python: at 300 candidates the map
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


def competence_cells(competence):
    """state -> (the cell without a link, the cell's opening and closing around
    a link): a competence's cells differ only by their state and link, so they
    are written once a page, not once a candidate."""
    cells = {}
    for state, (css, letter, words) in CELLS.items():
        content = f'{letter}<span class="visually-hidden">{escape(competence.code)} {words}</span>'
        cells[state] = (
            f'<td class="{css}">{content}</td>',
            f'<td class="{css}"><a href="',
            f'">{content}</a></td>',
        )
    return cells


@register.simple_tag
def heatmap_rows(rows, competences):
    """The map's rows (dashboards.cohort_heatmap): the candidate's name, each
    cell with the state's letter and its words, linked to the viewer's grid
    when they assess that competence, then the count of competences acquired."""
    grid_path = path_maker("evaluations:grid")
    columns = [(competence.pk, competence_cells(competence)) for competence in competences]
    total = len(competences)
    html = []
    for row in rows:
        html.append(f'<tr><th scope="row">{escape(row.name)}</th>')
        links = row.links
        for (competence_id, cells), state in zip(columns, row.states, strict=True):
            plain, link_start, link_end = cells[state]
            if competence_id in links:
                html.append(f"{link_start}{grid_path(links[competence_id])}{link_end}")
            else:
                html.append(plain)
        html.append(f"<td>{row.acquired} / {total}</td></tr>\n")
    return mark_safe("".join(html))
