"""The session page's candidate rows, written in Python: fifty rows of links,
presence buttons and grid states took the template language most of the
page's time, one lookup at a time."""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def session_rows(context, rows):
    """Each row of the session page (views.sessions.session_detail builds
    them): the candidate, the attempt, presence, the viewer's grid and, for
    those who review the session, every assessor's grid and the links."""
    if not rows:
        return mark_safe('<tr><td colspan="6">Aucun candidat dans cette session.</td></tr>')
    csrf = escape(context.get("csrf_token", ""))
    page = context["page"].number
    page_field = f'<input type="hidden" name="page" value="{page}">' if page > 1 else ""
    count = context["criteria_count"]
    lines = []
    for row in rows:
        name = escape(row["name"])
        cells = [name]
        if row["convocation"]:
            cells.append(
                f' · <a class="small" href="{row["convocation"]}" '
                f'aria-label="Convocation de {name} (PDF)">convocation</a>'
            )
        html = [f"<tr><td>{''.join(cells)}</td><td>{row['attempt']}</td><td>"]
        html.append("présent" if row["present"] else "<strong>absent</strong>")
        if context["sets_presence"]:
            html.append(
                f'<form method="post" action="{row["presence"]}" class="d-inline">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
                f'<input type="hidden" name="present" value="{0 if row["present"] else 1}">'
                f'{page_field}<button class="btn btn-link btn-sm p-0 ms-1">'
                f"{'noter absent' if row['present'] else 'noter présent'}</button></form>"
            )
        html.append("</td>")
        if context["is_assessor"]:
            html.append(f"<td>{_own_grid(row, count)}</td>")
        if context["can_review"]:
            html.extend(f"<td>{_grid_state(cell, count)}</td>" for cell in row["grids"])
            synthesis = f'<a href="{row["synthesis"]}">Synthèse</a> · ' if row["synthesis"] else ""
            html.append(f'<td>{synthesis}<a href="{row["history"]}">Historique</a></td>')
        html.append("</tr>")
        lines.append("".join(html))
    return mark_safe("\n".join(lines))


def _own_grid(row, count):
    if not row["present"]:
        return "—"
    if row["not_marking"] == "replaced":
        return "notée par l'évaluateur remplacé"
    if row["not_marking"] == "recused":
        return "vous vous êtes déporté(e)"
    mine = row["mine"]
    if mine == "remise":
        state = "remise"
    elif mine is not None:
        state = f"{mine} / {count} notés"
    else:
        state = "à noter"
    return f'<a href="{row["grid"]}">{state}</a>'


def _grid_state(cell, count):
    if cell == "remise":
        return '<span class="badge text-bg-success">remise</span>'
    return "—" if cell is None else f"{cell} / {count}"
