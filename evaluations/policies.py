"""Who may see or do what in evaluations: one answer to each question.

Pages ask to show a button or a column (and answer 403 or 404); services ask
again under their lock and refuse with the French reason. A `*_refusal`
function returns that reason, or None when the action is allowed; the facts it
needs (a seat, the signatures) are passed in, so pages that already hold them
ask no query."""

from core import roles

from .models import JuryMember

# --- Exam sessions and grids ----------------------------------------------------


def reviews_session(user, session):
    """The office and the session's lead read the synthesis, the whole history
    of each assessment and every assessor's column."""
    return roles.is_admin(user) or session.lead_id == user.pk


def review_refusal(user, session, own_grid):
    """Why the user may not yet read the other assessors' grids of a candidate
    (synthesis, whole history); `own_grid`: the user's grid for that candidate,
    or None. Whoever marks a candidate, the lead included, first hands in their
    own grid: independence."""
    if roles.is_admin(user):
        return None
    if session.lead_id != user.pk:
        return "La synthèse et l'historique complet sont réservés au bureau et au responsable."
    if own_grid is None or not own_grid.is_submitted:
        return (
            "Remettez d'abord votre propre grille pour ce candidat : vous ne voyez celles "
            "des autres évaluateurs qu'ensuite (notation indépendante)."
        )
    return None


def sets_presence(user, *, is_assessor):
    """The office and the session's assessors record who is present."""
    return roles.is_admin(user) or is_assessor


def shows_other_grids(*, assessor_count, submitted_count):
    """An assessor sees the others' scores only once every assessor of the
    session has submitted: until then each marks alone."""
    return assessor_count >= 2 and submitted_count >= assessor_count


# --- Juries and deliberations ---------------------------------------------------


def seat_refusal(seat, *, voting=True):
    """Why this seat (a JuryMember, or None) may not score or deliberate."""
    if seat is None:
        return "Vous ne siégez pas dans ce jury."
    if voting and not seat.votes:
        return "Vous ne siégez pas dans ce jury avec voix délibérative."
    if not seat.has_declared:
        return "Déclarez votre indépendance sur la page du jury avant de noter ou de délibérer."
    return None


SIGNED = (
    "Le procès-verbal est signé : les décisions sont figées. Une correction passe par "
    "un PV rectificatif."
)


def decision_refusal(deliberation, seat, *, signed_by):
    """Why this seat may not record a decision; `signed_by`: the member ids
    who signed already."""
    if deliberation.is_signed:
        return SIGNED
    if (reason := seat_refusal(seat)) is not None:
        return reason
    if signed_by:
        return "La signature du procès-verbal a commencé : les décisions ne changent plus."
    return None


def signature_refusal(deliberation, seat, *, signed_by):
    """Why this seat may not sign the minutes (experts sign too)."""
    if deliberation.is_signed:
        return SIGNED
    if (reason := seat_refusal(seat, voting=False)) is not None:
        return reason
    if seat.pk in signed_by:
        return "Vous avez déjà signé ce procès-verbal."
    return None


def rectification_refusal(user, deliberation, *, president, in_force, correction_open, cohort_busy):
    """Why the user may not open a rectifying PV of this deliberation;
    `cohort_busy`: another deliberation is open on the same promotion."""
    if not deliberation.is_signed:
        return "Seul un procès-verbal signé se rectifie."
    if not in_force:
        return "Ce procès-verbal a déjà été rectifié : rectifiez le plus récent."
    if correction_open:
        return "Un PV rectificatif de ce procès-verbal est déjà en cours."
    if cohort_busy:
        return (
            "Une délibération est en cours pour cette promotion : signez-la avant d'ouvrir un "
            "PV rectificatif (une seule délibération ouverte à la fois)."
        )
    if not roles.is_admin(user) and (president is None or president.user_id != user.pk):
        return "Seul(e) le/la président(e) du jury ou le bureau rectifie un PV."
    return None


def president_of(members):
    return next((m for m in members if m.role == JuryMember.Role.PRESIDENT), None)
