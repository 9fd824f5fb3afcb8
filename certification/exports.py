"""The certificate register: what the office's list pages through and exports.

One line per certificate: number, holder (with the birth date that tells
namesakes apart), bloc or title, promotion, the jury's date, the issue date,
the status and the CPF declaration state (certification.cpf.state_of, on
passages fetched for every certificate at once). Sorted by holder in French
order, then birth date, then number. A constant number of queries whatever
the number of certificates.
"""

from django.utils import timezone

from candidates.models import name_ordering

from . import cpf
from .models import Certificate

HEADER = [
    "Numéro",
    "Nom",
    "Prénoms",
    "Date de naissance",
    "Objet",
    "Promotion",
    "Date du jury",
    "Délivré le",
    "Statut",
    "Déclaration CPF",
]


def register():
    return (
        Certificate.objects.select_related(
            "candidate",
            "bloc",
            "enrolment__cohort",
            "deliberation__jury__certification_version",
        )
        .defer("deliberation__signed_table")
        .prefetch_related(cpf._passages_prefetch())
        .order_by(*name_ordering("candidate__"), "candidate__birth_date", "year", "sequence")
    )


def subject(certificate):
    if certificate.kind == Certificate.Kind.TITLE:
        return "Titre"
    return f"Bloc {certificate.bloc.number} « {certificate.bloc.title} »"


def cpf_label(certificate):
    """Where the certificate stands with the CPF (needs `register()`'s prefetch)."""
    passages = certificate.cpf_passages
    version = certificate.deliberation.jury.certification_version
    if not (certificate.kind == Certificate.Kind.TITLE or version.declare_blocs or passages):
        return "Non concerné (bloc non déclaré)"
    state = cpf.state_of(certificate, passages)
    return cpf.State.LABELS[state] if state else "Jamais déclaré"


def register_rows(certificates):
    """The export's rows, read 500 certificates (and their passages) at a time."""
    for certificate in certificates.iterator(chunk_size=500):
        candidate = certificate.candidate
        yield [
            certificate.number,
            candidate.usage_name or candidate.birth_name,
            candidate.first_names,
            candidate.birth_date,
            subject(certificate),
            certificate.enrolment.cohort.name,
            certificate.deliberation.held_on,
            timezone.localdate(certificate.issued_at),
            certificate.get_status_display(),
            cpf_label(certificate),
        ]
