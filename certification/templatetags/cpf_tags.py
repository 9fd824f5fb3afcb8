"""The CPF declaration state of one certificate, for its detail page."""

from django import template

from certification import cpf

register = template.Library()


@register.inclusion_tag("certification/cpf_state.html")
def cpf_state(certificate):
    return {"row": cpf.row_for(certificate), "certificate": certificate}
